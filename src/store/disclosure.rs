//! The disclosure columns of a case (CVE, CWE, CVSS, versions, package, embargo,
//! advisory URL, credit) and the embargo and resolution clocks the sweep reads.

use super::Cached;
use anyhow::{Context, Result};
use rusqlite::params;

use super::{Db, event};
use crate::domain::disclosure::{Credit, Disclosure};
use crate::domain::status::EventKind;

/// The disclosure facts and the credit of a case.
pub(crate) fn disclosure_of(conn: Db<'_>, case_id: i64) -> Result<(Disclosure, Option<Credit>)> {
    let conn = conn.0;
    conn.cached_row(
        "SELECT cve_ids, cwe_ids, cvss, affected, fixed_in, package, ecosystem, embargo_until, advisory_url, credit \
         FROM cases WHERE id = ?1",
        [case_id],
        |r| {
            let list = |i: usize| -> rusqlite::Result<Vec<String>> {
                Ok(r.get::<_, Option<String>>(i)?
                    .and_then(|s| serde_json::from_str(&s).ok())
                    .unwrap_or_default())
            };
            let d = Disclosure {
                cve_ids: list(0)?,
                cwe_ids: list(1)?,
                cvss: r.get(2)?,
                affected: r.get(3)?,
                fixed_in: r.get(4)?,
                package: r.get(5)?,
                ecosystem: r.get(6)?,
                embargo_until: r.get(7)?,
                advisory_url: r.get(8)?,
            };
            let credit = r
                .get::<_, Option<String>>(9)?
                .and_then(|s| serde_json::from_str(&s).ok());
            Ok((d, credit))
        },
    )
    .context("reading the disclosure facts")
}

/// Writes the disclosure facts and the credit of a case (the whole set, as `case set`
/// merged it), with an event naming what changed.
pub(crate) fn set_disclosure(
    conn: Db<'_>,
    case_id: i64,
    d: &Disclosure,
    credit: Option<&Credit>,
    actor: &str,
    changed: &str,
) -> Result<()> {
    let list = |v: &Vec<String>| -> Result<Option<String>> {
        if v.is_empty() {
            Ok(None)
        } else {
            serde_json::to_string(v)
                .map(Some)
                .context("serialising ids")
        }
    };
    let credit = credit
        .map(serde_json::to_string)
        .transpose()
        .context("serialising the credit")?;
    conn.0
        .cached_exec(
            "UPDATE cases SET cve_ids = ?2, cwe_ids = ?3, cvss = ?4, affected = ?5, fixed_in = ?6, package = ?7, \
             ecosystem = ?8, embargo_until = ?9, advisory_url = ?10, credit = ?11, updated_at = ?12 WHERE id = ?1",
            params![
                case_id,
                list(&d.cve_ids)?,
                list(&d.cwe_ids)?,
                d.cvss,
                d.affected,
                d.fixed_in,
                d.package,
                d.ecosystem,
                d.embargo_until,
                d.advisory_url,
                credit,
                super::now()
            ],
        )
        .context("recording the disclosure facts")?;
    event(
        conn,
        Some(case_id),
        actor,
        EventKind::Disclosure,
        Some(changed),
    )?;
    Ok(())
}

/// The resolution deadline and embargo of an open case, for the sweep.
pub struct LaterClocks {
    pub id: i64,
    pub public_id: String,
    pub arrived_at: i64,
    pub resolve_due: Option<i64>,
    pub embargo_until: Option<String>,
}

/// Open cases with a resolution deadline or an embargo.
pub(crate) fn later_clocks(conn: Db<'_>) -> Result<Vec<LaterClocks>> {
    let mut stmt = conn
        .0
        .prepare_cached(
            "SELECT id, public_id, arrived_at, resolve_due, embargo_until FROM cases \
             WHERE state NOT IN ('closed', 'rejected', 'duplicate', 'spam', 'imported') \
             AND (resolve_due IS NOT NULL OR embargo_until IS NOT NULL)",
        )
        .context("preparing the resolution and embargo sweep")?;
    let rows = stmt
        .query_map([], |r| {
            Ok(LaterClocks {
                id: r.get(0)?,
                public_id: r.get(1)?,
                arrived_at: r.get(2)?,
                resolve_due: r.get(3)?,
                embargo_until: r.get(4)?,
            })
        })
        .context("reading cases for the sweep")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("reading cases for the sweep")?;
    Ok(rows)
}
