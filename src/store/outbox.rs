//! The outbox table and the SLA's reads: queueing composed mail, the sender's due
//! rows and outcomes, the questions the silence rules ask (one ack per case, rate
//! limit), and the digest's and sweep's views of open cases.

use super::Cached;
use super::Db;
use super::exec;
use anyhow::{Context, Result};
use rusqlite::{OptionalExtension, params};

use super::{event, now};
use crate::domain::status::OutboxKind;

/// A composed message to queue.
pub struct NewOutgoing<'a> {
    pub case_id: Option<i64>,
    pub trigger_message: Option<i64>,
    pub kind: OutboxKind,
    pub recipient: &'a str,
    pub message_id: &'a str,
    pub subject: &'a str,
    pub body: &'a [u8],
    /// For acks: the requirements the ack said were missing (comma-separated).
    pub missing: Option<&'a str>,
    pub at: i64,
    /// For replies: the operator who wrote it, and the template it started from.
    pub author: Option<&'a str>,
    pub template: Option<&'a str>,
}

/// Queues a message; None when an identical Message-ID is queued already.
pub(crate) fn queue_mail(conn: Db<'_>, m: &NewOutgoing<'_>) -> Result<Option<i64>> {
    let conn = conn.0;
    let n = conn
        .cached_exec(
            "INSERT OR IGNORE INTO outbox (case_id, trigger_message, kind, recipient, message_id, subject, body, state, attempts, \
             next_attempt_at, created_at, missing, author, template) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'queued', 0, ?8, ?8, ?9, ?10, ?11)",
            params![
                m.case_id,
                m.trigger_message,
                m.kind,
                m.recipient,
                m.message_id,
                m.subject,
                m.body,
                m.at,
                m.missing,
                m.author,
                m.template
            ],
        )
        .with_context(|| format!("queueing the {}", m.kind))?;
    Ok((n > 0).then(|| conn.last_insert_rowid()))
}

/// The last ack or rejection of a case: Some(what it said was missing) when there is
/// one (the inner None: queued before migration 0009 recorded it).
pub(crate) fn last_ack_missing(conn: Db<'_>, case_id: i64) -> Result<Option<Option<String>>> {
    let conn = conn.0;
    conn.cached_row(
        "SELECT missing FROM outbox WHERE case_id = ?1 AND kind IN ('ack', 'rejection') ORDER BY id DESC LIMIT 1",
        [case_id],
        |r| r.get::<_, Option<String>>(0),
    )
    .optional()
    .context("looking up earlier acks")
}

/// Acks and rejections queued to `recipient` since `since`.
pub(crate) fn acks_to_since(conn: Db<'_>, recipient: &str, since: i64) -> Result<i64> {
    let conn = conn.0;
    conn.cached_row(
        "SELECT COUNT(*) FROM outbox WHERE recipient = ?1 AND kind IN ('ack', 'rejection') AND created_at > ?2",
        params![recipient, since],
        |r| r.get(0),
    )
    .context("counting recent acks")
}

/// The armored keys learned from any case whose reporter is `address` (and the keys of
/// `case_id` itself), newest first, at most 32: a key belongs to the address, so a
/// reporter's later reports are answered encrypted too.
pub(crate) fn reporter_keys_of_address(
    conn: Db<'_>,
    case_id: i64,
    address: &str,
) -> Result<Vec<String>> {
    let conn = conn.0;
    let mut stmt = conn
        .prepare_cached(
            "SELECT k.armored FROM reporter_keys k \
             WHERE k.case_id = ?1 OR k.case_id IN (SELECT id FROM cases WHERE reporter = ?2) \
             ORDER BY k.id DESC LIMIT 32",
        )
        .context("reading the reporter's keys")?;
    let rows = stmt
        .query_map(params![case_id, address], |r| r.get(0))
        .context("reading the reporter's keys")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("reading the reporter's keys")?;
    Ok(rows)
}

/// A queued row due for sending.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: i64,
    pub case_id: Option<i64>,
    pub kind: OutboxKind,
    pub recipient: String,
    pub message_id: String,
    pub body: Vec<u8>,
    pub attempts: i64,
}

/// Up to 100 rows due now, oldest first.
pub(crate) fn due_rows(conn: Db<'_>) -> Result<Vec<Due>> {
    let conn = conn.0;
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, case_id, kind, recipient, message_id, body, attempts FROM outbox \
             WHERE state = 'queued' AND next_attempt_at <= ?1 ORDER BY id LIMIT 100",
        )
        .context("preparing the outbox query")?;
    let rows = stmt
        .query_map([now()], |r| {
            Ok(Due {
                id: r.get(0)?,
                case_id: r.get(1)?,
                kind: r.get(2)?,
                recipient: r.get(3)?,
                message_id: r.get(4)?,
                body: r.get(5)?,
                attempts: r.get(6)?,
            })
        })
        .context("reading the outbox")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("reading the outbox")?;
    Ok(rows)
}

/// The server took a row: mark it sent, stop the ack clock for an ack, record the event.
pub(crate) fn record_sent(conn: Db<'_>, row: &Due, reply: &str) -> Result<()> {
    let conn = conn.0;
    exec(conn,
        "UPDATE outbox SET state = 'sent', sent_at = ?2, server_reply = ?3, attempts = attempts + 1 WHERE id = ?1",
        params![row.id, now(), reply],
    )
    .context("recording a sent message")?;
    if let Some(case_id) = row.case_id {
        if row.kind.acknowledges() {
            exec(
                conn,
                "UPDATE cases SET acked_at = COALESCE(acked_at, ?2) WHERE id = ?1",
                params![case_id, now()],
            )
            .context("recording the ack time")?;
        }
        if row.kind.responds() {
            // Only a reply a person wrote, actually accepted by the server, keeps the
            // response promise; the first one is what `sla` and `stats` report.
            exec(conn,
                "UPDATE cases SET responded_at = ?2, responded_by = ?3 WHERE id = ?1 AND responded_by IS NULL \
                 AND (responded_at IS NULL OR responded_at > ?2)",
                params![case_id, now(), row.id],
            )
            .context("recording the response time")?;
        }
        event(
            Db(conn),
            Some(case_id),
            "triaged",
            crate::domain::status::EventKind::sent(row.kind),
            Some(&format!(
                "to {} as <{}>: {reply}",
                row.recipient, row.message_id
            )),
        )?;
    }
    Ok(())
}

/// Sending a row failed: count the attempt, keep the error, retry after `wait` seconds.
pub(crate) fn record_send_failure(conn: Db<'_>, row: &Due, error: &str, wait: i64) -> Result<()> {
    let conn = conn.0;
    exec(conn,
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, next_attempt_at = ?3 WHERE id = ?1",
        params![row.id, error, now() + wait],
    )
    .context("recording a failed send")?;
    if let Some(case_id) = row.case_id {
        event(
            Db(conn),
            Some(case_id),
            "triaged",
            crate::domain::status::EventKind::SendFailed,
            Some(&format!("{error}; retry in {wait} s")),
        )?;
    }
    Ok(())
}

/// The server refused a row for good (a 5xx reply): it is marked failed and never
/// retried; the case's event says why.
pub(crate) fn record_refused(conn: Db<'_>, row: &Due, error: &str) -> Result<()> {
    let conn = conn.0;
    exec(conn,
        "UPDATE outbox SET state = 'failed', failed_at = ?2, last_error = ?3, attempts = attempts + 1 WHERE id = ?1",
        params![row.id, now(), error],
    )
    .context("recording a refused message")?;
    if let Some(case_id) = row.case_id {
        event(
            Db(conn),
            Some(case_id),
            "triaged",
            crate::domain::status::EventKind::SendRefused,
            Some(&format!(
                "{} to {} refused for good, not retried: {error}",
                row.kind, row.recipient
            )),
        )?;
    }
    Ok(())
}

/// Mail to a reporter the server refused for good, and the team not told yet.
pub struct Refusal {
    pub outbox_id: i64,
    pub case_id: i64,
    pub case: String,
    pub recipient: String,
    pub message_id: String,
    pub kind: OutboxKind,
    pub error: String,
}

/// Refusals the team has not been told of (at most 100).
pub(crate) fn refused_untold(conn: Db<'_>) -> Result<Vec<Refusal>> {
    let mut stmt = conn
        .0
        .prepare_cached(
            "SELECT o.id, o.case_id, c.public_id, o.recipient, o.message_id, o.kind, COALESCE(o.last_error, '') \
             FROM outbox o JOIN cases c ON c.id = o.case_id \
             WHERE o.state = 'failed' AND o.told_at IS NULL AND o.kind IN ('ack', 'rejection', 'reply') \
             ORDER BY o.id LIMIT 100",
        )
        .context("reading refused mail")?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Refusal {
                outbox_id: r.get(0)?,
                case_id: r.get(1)?,
                case: r.get(2)?,
                recipient: r.get(3)?,
                message_id: r.get(4)?,
                kind: r.get(5)?,
                error: r.get(6)?,
            })
        })
        .context("reading refused mail")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("reading refused mail")?;
    Ok(rows)
}

/// The team was told of a refusal (or there is no team to tell).
pub(crate) fn mark_refusal_told(conn: Db<'_>, outbox_id: i64) -> Result<()> {
    conn.0
        .cached_exec(
            "UPDATE outbox SET told_at = ?2 WHERE id = ?1",
            params![outbox_id, now()],
        )
        .context("recording that the team was told")?;
    Ok(())
}

/// The Message-IDs of a case's thread, oldest first: every message received and every
/// mail sent to the reporter (acks, rejections, replies), for `References`.
pub(crate) fn thread_message_ids(conn: Db<'_>, case_id: i64) -> Result<Vec<String>> {
    let mut stmt = conn
        .0
        .prepare_cached(
            "SELECT message_id, at FROM ( \
               SELECT message_id, arrived_at AS at, id AS ord, 0 AS src FROM messages WHERE case_id = ?1 AND message_id IS NOT NULL \
               UNION ALL \
               SELECT message_id, COALESCE(sent_at, created_at) AS at, id AS ord, 1 AS src FROM outbox \
               WHERE case_id = ?1 AND kind IN ('ack', 'rejection', 'reply') AND state != 'failed') \
             ORDER BY at, src, ord",
        )
        .context("reading the thread's Message-IDs")?;
    let rows = stmt
        .query_map([case_id], |r| r.get::<_, String>(0))
        .context("reading the thread's Message-IDs")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("reading the thread's Message-IDs")?;
    Ok(rows)
}

/// The Message-ID of the reporter's latest message in a case (what a reply answers).
pub(crate) fn last_reporter_message_id(
    conn: Db<'_>,
    case_id: i64,
    reporter: &str,
) -> Result<Option<String>> {
    conn.0
        .cached_row(
            "SELECT message_id FROM messages WHERE case_id = ?1 AND lower(from_addr) = lower(?2) \
             AND message_id IS NOT NULL ORDER BY arrived_at DESC, id DESC LIMIT 1",
            params![case_id, reporter],
            |r| r.get(0),
        )
        .optional()
        .context("reading the reporter's last message")
}

/// Mail we sent, recognised by its Message-ID when a copy comes back through the
/// mailbox (Cc or Bcc to the team, a Sent folder that is watched): (case, kind).
pub(crate) fn own_mail_by_message_id(
    conn: Db<'_>,
    message_id: &str,
) -> Result<Option<(Option<i64>, crate::domain::status::OutboxKind)>> {
    conn.0
        .cached_row(
            "SELECT case_id, kind FROM outbox WHERE message_id = ?1",
            [message_id.trim_matches(['<', '>', ' '])],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .context("looking up our own mail")
}

/// A delivery report says a sent row could not be delivered: the row becomes `failed`
/// (as a `5xx` at sending would have made it), so the SLA sweep tells the team once.
/// Only a `sent` row changes; the same report read again changes nothing and returns
/// `None`. Returns the row's case, kind and recipient.
pub(crate) fn record_bounce(
    conn: Db<'_>,
    message_id: &str,
    why: &str,
) -> Result<Option<(Option<i64>, OutboxKind, String)>> {
    conn.0
        .cached_row(
            "UPDATE outbox SET state = 'failed', failed_at = ?2, last_error = ?3 \
             WHERE message_id = ?1 AND state = 'sent' RETURNING case_id, kind, recipient",
            params![message_id.trim_matches(['<', '>', ' ']), now(), why],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .context("recording a bounce")
}

/// A sent row was copied to the Sent folder.
pub(crate) fn record_copied(conn: Db<'_>, id: i64) -> Result<()> {
    let conn = conn.0;
    exec(
        conn,
        "UPDATE outbox SET copied_at = ?2 WHERE id = ?1",
        params![id, now()],
    )
    .context("recording the Sent copy")?;
    Ok(())
}

/// Is a message of this kind and subject queued already (today's digest)?
pub(crate) fn queued_with_subject(conn: Db<'_>, kind: OutboxKind, subject: &str) -> Result<bool> {
    let conn = conn.0;
    let n: i64 = conn
        .cached_row(
            "SELECT COUNT(*) FROM outbox WHERE kind = ?1 AND subject = ?2",
            params![kind, subject],
            |r| r.get(0),
        )
        .context("checking the outbox")?;
    Ok(n > 0)
}

/// Has this case a queued or sent message of this kind (an escalation)?
pub(crate) fn case_has_mail(conn: Db<'_>, case_id: i64, kind: OutboxKind) -> Result<bool> {
    let conn = conn.0;
    let n: i64 = conn
        .cached_row(
            "SELECT COUNT(*) FROM outbox WHERE case_id = ?1 AND kind = ?2",
            params![case_id, kind],
            |r| r.get(0),
        )
        .context("checking escalations")?;
    Ok(n > 0)
}

/// Has this case an event of this kind (a recorded breach)?
pub(crate) fn case_has_event(
    conn: Db<'_>,
    case_id: i64,
    kind: crate::domain::status::EventKind,
) -> Result<bool> {
    let conn = conn.0;
    let n: i64 = conn
        .cached_row(
            "SELECT COUNT(*) FROM events WHERE case_id = ?1 AND kind = ?2",
            params![case_id, kind],
            |r| r.get(0),
        )
        .context("checking breaches")?;
    Ok(n > 0)
}

/// Open cases by state (the digest).
pub(crate) fn open_counts_by_state(conn: Db<'_>) -> Result<Vec<(String, i64)>> {
    let conn = conn.0;
    let mut stmt = conn
        .prepare_cached("SELECT state, COUNT(*) FROM cases WHERE state NOT IN ('closed', 'rejected', 'duplicate', 'spam') GROUP BY state ORDER BY state")
        .context("counting cases")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .context("counting cases")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("counting cases")?;
    Ok(rows)
}

/// Open deadlines between `from` and `to`: (case, `ack` or `follow-up`, due).
pub(crate) fn deadlines_between(
    conn: Db<'_>,
    from: i64,
    to: i64,
) -> Result<Vec<(String, String, i64)>> {
    let conn = conn.0;
    let mut stmt = conn
        .prepare_cached(
            "SELECT public_id, CASE WHEN acked_at IS NULL THEN 'ack' ELSE 'follow-up' END, \
             CASE WHEN acked_at IS NULL THEN ack_due ELSE followup_due END AS due FROM cases \
             WHERE state NOT IN ('closed', 'rejected', 'duplicate', 'spam', 'imported') \
             AND ((acked_at IS NULL AND ack_due BETWEEN ?1 AND ?2) OR (acked_at IS NOT NULL AND responded_at IS NULL AND followup_due BETWEEN ?1 AND ?2)) \
             ORDER BY due",
        )
        .context("listing deadlines")?;
    let rows = stmt
        .query_map(params![from, to], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .context("listing deadlines")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("listing deadlines")?;
    Ok(rows)
}

/// Breaches recorded since `since`: (case, kind, when).
pub(crate) fn breaches_since(conn: Db<'_>, since: i64) -> Result<Vec<(String, String, i64)>> {
    let conn = conn.0;
    let mut stmt = conn
        .prepare_cached("SELECT c.public_id, e.kind, e.at FROM events e JOIN cases c ON c.id = e.case_id WHERE e.kind LIKE 'breach-%' AND e.at > ?1 ORDER BY e.at")
        .context("listing breaches")?;
    let rows = stmt
        .query_map([since], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .context("listing breaches")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("listing breaches")?;
    Ok(rows)
}

/// Mail closed as it arrived (it owed nothing) since `since`: how many of each kind.
pub(crate) fn closed_on_arrival_since(
    conn: Db<'_>,
    since: i64,
) -> Result<Vec<(crate::domain::status::NothingOwed, i64)>> {
    let mut stmt = conn
        .0
        .prepare_cached(
            "SELECT detail, COUNT(*) FROM events WHERE kind = 'closed-on-arrival' AND at > ?1 \
             GROUP BY detail ORDER BY COUNT(*) DESC, detail",
        )
        .context("counting mail closed on arrival")?;
    let rows = stmt
        .query_map([since], |r| {
            Ok((r.get::<_, Option<String>>(0)?, r.get::<_, i64>(1)?))
        })
        .context("counting mail closed on arrival")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("counting mail closed on arrival")?;
    rows.into_iter()
        .map(|(kind, n)| {
            let kind = kind.unwrap_or_default();
            kind.parse()
                .map(|k| (k, n))
                .map_err(|e| anyhow::anyhow!("reading a closed-on-arrival event: {e}"))
        })
        .collect()
}

/// Receivers' feedback about mail we sent (`feedback-report` events) since `since`:
/// the case and when.
pub(crate) fn feedback_since(conn: Db<'_>, since: i64) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn
        .0
        .prepare_cached(
            "SELECT c.public_id, e.at FROM events e JOIN cases c ON c.id = e.case_id \
             WHERE e.kind = 'feedback-report' AND e.at > ?1 ORDER BY e.at",
        )
        .context("listing feedback reports")?;
    let rows = stmt
        .query_map([since], |r| Ok((r.get(0)?, r.get(1)?)))
        .context("listing feedback reports")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("listing feedback reports")?;
    Ok(rows)
}

/// The clocks of an open case, for the SLA sweep.
pub struct Clocks {
    pub id: i64,
    pub public_id: String,
    pub arrived_at: i64,
    pub ack_due: Option<i64>,
    pub acked_at: Option<i64>,
    pub followup_due: Option<i64>,
    pub responded_at: Option<i64>,
}

/// Every open case's clocks.
pub(crate) fn sweep_clocks(conn: Db<'_>) -> Result<Vec<Clocks>> {
    let conn = conn.0;
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, public_id, arrived_at, ack_due, acked_at, followup_due, responded_at FROM cases \
             WHERE state NOT IN ('closed', 'rejected', 'duplicate', 'spam', 'imported')",
        )
        .context("preparing the SLA sweep")?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Clocks {
                id: r.get(0)?,
                public_id: r.get(1)?,
                arrived_at: r.get(2)?,
                ack_due: r.get(3)?,
                acked_at: r.get(4)?,
                followup_due: r.get(5)?,
                responded_at: r.get(6)?,
            })
        })
        .context("reading cases for the sweep")?
        .collect::<rusqlite::Result<Vec<_>>>()
        .context("reading cases for the sweep")?;
    Ok(rows)
}
