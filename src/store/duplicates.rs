//! The duplicate index (migration 0006): each case's comparison features and the
//! keys they are looked up by. What the features are and how they are scored is
//! `judge::duplicates`; the lookup that combines both is `ingest::intake`.

use super::Db;
use super::exec;
use anyhow::{Context, Result};
use rusqlite::{OptionalExtension, params};

use crate::domain::findings::Features;

/// Records a case's features (replacing earlier ones).
pub(crate) fn index_duplicate(
    conn: Db<'_>,
    case_id: i64,
    f: &Features,
    keys: &[(&'static str, String)],
) -> Result<()> {
    let conn = conn.0;
    conn.prepare_cached("DELETE FROM dup_keys WHERE case_id = ?1")
        .context("preparing the key cleanup")?
        .execute([case_id])
        .context("clearing duplicate keys")?;
    let mut ins = conn
        .prepare_cached("INSERT OR IGNORE INTO dup_keys (case_id, kind, key) VALUES (?1, ?2, ?3)")
        .context("preparing duplicate keys")?;
    for (kind, key) in keys {
        ins.execute(params![case_id, kind, key])
            .context("storing a duplicate key")?;
    }
    let sig: Vec<String> = f.sig.iter().map(|v| format!("{v:016x}")).collect();
    exec(conn,
        "INSERT INTO dup_sigs (case_id, sig, classes, paths, ids, products) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT(case_id) DO UPDATE SET sig = ?2, classes = ?3, paths = ?4, ids = ?5, products = ?6",
        params![
            case_id,
            sig.join(","),
            serde_json::to_string(&f.classes).unwrap_or_default(),
            serde_json::to_string(&f.paths).unwrap_or_default(),
            serde_json::to_string(&f.ids).unwrap_or_default(),
            serde_json::to_string(&f.products).unwrap_or_default(),
        ],
    )
    .context("storing the duplicate signature")?;
    Ok(())
}

pub(crate) fn duplicate_features(conn: Db<'_>, case_id: i64) -> Result<Option<Features>> {
    let conn = conn.0;
    let row: Option<(String, String, String, String, String)> = conn
        .prepare_cached(
            "SELECT sig, classes, paths, ids, products FROM dup_sigs WHERE case_id = ?1",
        )
        .context("preparing the signature query")?
        .query_row([case_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()
        .context("reading a duplicate signature")?;
    Ok(row.map(|(sig, classes, paths, ids, products)| Features {
        products: serde_json::from_str(&products).unwrap_or_default(),
        sig: sig
            .split(',')
            .filter_map(|h| u64::from_str_radix(h, 16).ok())
            .collect(),
        classes: serde_json::from_str(&classes).unwrap_or_default(),
        paths: serde_json::from_str(&paths).unwrap_or_default(),
        ids: serde_json::from_str(&ids).unwrap_or_default(),
    }))
}

/// Cases sharing an index key with `case_id` (at most `limit`, most recent keys first).
pub(crate) fn duplicate_candidates(
    conn: Db<'_>,
    case_id: i64,
    keys: &[(&'static str, String)],
    limit: usize,
) -> Result<Vec<i64>> {
    let conn = conn.0;
    let mut candidates = std::collections::BTreeSet::new();
    let mut q = conn
        .prepare_cached(
            "SELECT case_id FROM dup_keys WHERE kind = ?1 AND key = ?2 AND case_id != ?3 LIMIT 50",
        )
        .context("preparing the duplicate lookup")?;
    for (kind, key) in keys {
        let ids = q
            .query_map(params![kind, key, case_id], |r| r.get::<_, i64>(0))
            .context("looking up duplicates")?;
        for id in ids {
            candidates.insert(id.context("reading a candidate")?);
        }
        // Bounded work per report, however many near-identical reports exist.
        if candidates.len() >= limit {
            break;
        }
    }
    Ok(candidates.into_iter().collect())
}

/// The public id of a case that may still be duplicated: not merged, not a
/// duplicate or spam itself, arrived after `since`.
pub(crate) fn live_case(conn: Db<'_>, id: i64, since: i64) -> Result<Option<String>> {
    let conn = conn.0;
    conn.prepare_cached(
        "SELECT public_id FROM cases WHERE id = ?1 AND merged_into IS NULL \
         AND state NOT IN ('duplicate', 'spam') AND arrived_at > ?2",
    )
    .context("preparing the candidate query")?
    .query_row(params![id, since], |r| r.get(0))
    .optional()
    .context("reading a candidate case")
}
