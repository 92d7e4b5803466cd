//! SLA: the sweep that escalates to the team before a promise is broken and
//! records breaches, and the daily digest. Both are queued in the outbox (signed
//! with the team key, composed by [`crate::reply::outbox::compose`]).

use anyhow::{Context, Result};
use rusqlite::{Connection, params};

use crate::config::Config;
use crate::read::crypto::TeamKeys;
use crate::store::{self, now, rfc3339};

use crate::reply::outbox::{compose, new_message_id};

/// The daily digest: open cases by state, deadlines in the next 24 h, recent breaches.
pub fn digest_text(conn: &Connection) -> Result<String> {
    let t = now();
    let mut out = format!("triaged digest, {}\n\nOpen cases by state:\n", rfc3339(t));
    let mut stmt = conn
        .prepare("SELECT state, COUNT(*) FROM cases WHERE state NOT IN ('closed', 'rejected', 'duplicate', 'spam') GROUP BY state ORDER BY state")
        .context("counting cases")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .context("counting cases")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("counting cases")?;
    if rows.is_empty() {
        out.push_str("  (none)\n");
    }
    for (s, n) in rows {
        out.push_str(&format!("  {s:<14} {n}\n"));
    }
    out.push_str("\nDeadlines in the next 24 hours:\n");
    let mut stmt = conn
        .prepare(
            "SELECT public_id, CASE WHEN acked_at IS NULL THEN 'ack' ELSE 'follow-up' END, \
             CASE WHEN acked_at IS NULL THEN ack_due ELSE followup_due END AS due FROM cases \
             WHERE state NOT IN ('closed', 'rejected', 'duplicate', 'spam', 'imported') \
             AND ((acked_at IS NULL AND ack_due BETWEEN ?1 AND ?2) OR (acked_at IS NOT NULL AND responded_at IS NULL AND followup_due BETWEEN ?1 AND ?2)) \
             ORDER BY due",
        )
        .context("listing deadlines")?;
    let rows = stmt
        .query_map(params![t, t + 86_400], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .context("listing deadlines")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("listing deadlines")?;
    if rows.is_empty() {
        out.push_str("  (none)\n");
    }
    for (id, clock, due) in rows {
        out.push_str(&format!("  {id}  {clock} due {}\n", rfc3339(due)));
    }
    out.push_str("\nBreaches in the last 24 hours:\n");
    let mut stmt = conn
        .prepare("SELECT c.public_id, e.kind, e.at FROM events e JOIN cases c ON c.id = e.case_id WHERE e.kind LIKE 'breach-%' AND e.at > ?1 ORDER BY e.at")
        .context("listing breaches")?;
    let rows = stmt
        .query_map([t - 86_400], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .context("listing breaches")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("listing breaches")?;
    if rows.is_empty() {
        out.push_str("  (none)\n");
    }
    for (id, kind, at) in rows {
        out.push_str(&format!("  {id}  {kind} recorded {}\n", rfc3339(at)));
    }
    Ok(out)
}

/// Queues today's digest to the team (once per day).
pub fn enqueue_digest(conn: &Connection, cfg: &Config, keys: &TeamKeys) -> Result<Option<i64>> {
    let Some(team) = cfg.outbox.team.clone() else {
        return Ok(None);
    };
    let from = cfg
        .outbox
        .from
        .clone()
        .unwrap_or_else(|| "security@localhost".into());
    let day = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let subject = format!("triaged digest {day}");
    let sent_today: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'digest' AND subject = ?1",
            [&subject],
            |r| r.get(0),
        )
        .context("checking today's digest")?;
    if sent_today > 0 {
        return Ok(None);
    }
    let message_id = new_message_id(&format!("digest.{day}"), &from)?;
    let body = digest_text(conn)?;
    let composed = compose(keys, &from, &team, &subject, &message_id, None, &body, None)?;
    let n = conn
        .execute(
            "INSERT OR IGNORE INTO outbox (case_id, trigger_message, kind, recipient, message_id, subject, body, state, attempts, next_attempt_at, created_at) \
             VALUES (NULL, NULL, 'digest', ?1, ?2, ?3, ?4, 'queued', 0, ?5, ?5)",
            params![team, message_id, subject, composed.bytes, now()],
        )
        .context("queueing the digest")?;
    Ok((n > 0).then(|| conn.last_insert_rowid()))
}

/// The SLA sweep: escalate to the team when `escalate_at` of a window has passed
/// without the promised answer, and record breaches. Idempotent per case and clock.
pub fn sweep(conn: &Connection, cfg: &Config, keys: &TeamKeys) -> Result<usize> {
    let t = now();
    let mut n = 0;
    let mut stmt = conn
        .prepare(
            "SELECT id, public_id, arrived_at, ack_due, acked_at, followup_due, responded_at, state FROM cases \
             WHERE state NOT IN ('closed', 'rejected', 'duplicate', 'spam', 'imported')",
        )
        .context("preparing the SLA sweep")?;
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        i64,
        String,
        i64,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        String,
    )> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })
        .context("reading cases for the sweep")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("reading cases for the sweep")?;
    drop(stmt);
    for (id, public, arrived, ack_due, acked, fu_due, responded, _state) in rows {
        for (clock, due, done) in [("ack", ack_due, acked), ("followup", fu_due, responded)] {
            let (Some(due), None) = (due, done) else {
                continue;
            };
            let warn_at = arrived + ((due - arrived) as f64 * cfg.outbox.escalate_at) as i64;
            if t >= due {
                let seen: i64 = conn
                    .query_row(
                        "SELECT COUNT(*) FROM events WHERE case_id = ?1 AND kind = ?2",
                        params![id, format!("breach-{clock}")],
                        |r| r.get(0),
                    )
                    .context("checking breaches")?;
                if seen == 0 {
                    store::event(
                        conn,
                        Some(id),
                        "triaged",
                        &format!("breach-{clock}"),
                        Some(&format!("the {clock} deadline {} passed", rfc3339(due))),
                    )?;
                    n += 1;
                }
            }
            if t >= warn_at {
                let kind = format!("escalation-{clock}");
                let exists: i64 = conn
                    .query_row(
                        "SELECT COUNT(*) FROM outbox WHERE case_id = ?1 AND kind = ?2",
                        params![id, kind],
                        |r| r.get(0),
                    )
                    .context("checking escalations")?;
                let Some(team) = cfg.outbox.team.clone() else {
                    continue;
                };
                if exists > 0 || !keys.can_sign() {
                    continue;
                }
                let from = cfg
                    .outbox
                    .from
                    .clone()
                    .unwrap_or_else(|| "security@localhost".into());
                let message_id = new_message_id(&format!("{public}.{kind}"), &from)?;
                let left = due - t;
                let body = format!(
                    "Case {public}: the {} deadline is {} ({}).\n\nArrived: {}\n\nSee: triaged case show {public}\n",
                    if clock == "ack" {
                        "acknowledgment"
                    } else {
                        "detailed response"
                    },
                    rfc3339(due),
                    if left > 0 {
                        format!("{} h {} min left", left / 3600, (left % 3600) / 60)
                    } else {
                        format!("overdue by {} h {} min", -left / 3600, (-left % 3600) / 60)
                    },
                    rfc3339(arrived)
                );
                let subject = format!("[{public}] SLA escalation: {clock} due {}", rfc3339(due));
                let composed =
                    compose(keys, &from, &team, &subject, &message_id, None, &body, None)?;
                conn.execute(
                    "INSERT OR IGNORE INTO outbox (case_id, trigger_message, kind, recipient, message_id, subject, body, state, attempts, next_attempt_at, created_at) \
                     VALUES (?1, NULL, ?2, ?3, ?4, ?5, ?6, 'queued', 0, ?7, ?7)",
                    params![id, kind, team, message_id, subject, composed.bytes, t],
                )
                .context("queueing an escalation")?;
                store::event(
                    conn,
                    Some(id),
                    "triaged",
                    "escalated",
                    Some(&format!("{clock} due {} -> {team}", rfc3339(due))),
                )?;
                n += 1;
            }
        }
    }
    Ok(n)
}
