//! The writes of intake and `case retry`, each a named function taking plain values:
//! cases, messages (raw bytes first), attachments, reporter keys, session-key hashes.
//! Sealing at rest happens before these are called: what arrives here is what is
//! stored.

use super::Cached;
use super::Db;
use super::exec;
use anyhow::{Context, Result};
use rusqlite::{OptionalExtension, params};

use super::large::{self, Side};
use super::{event, now};
use crate::domain::status::{Encryption, SigStatus};

/// A new case as intake creates it.
pub struct NewCase<'a> {
    pub public_id: &'a str,
    pub year: i32,
    pub seq: i64,
    pub state: crate::domain::case::State,
    pub state_reason: Option<&'a str>,
    pub reporter: Option<&'a str>,
    pub reporter_name: Option<&'a str>,
    /// Possibly sealed (`sealed:` + armor).
    pub subject: Option<&'a str>,
    pub mailbox: &'a str,
    pub policy: &'a str,
    pub signature: SigStatus,
    pub arrived_at: i64,
    pub ack_due: i64,
    pub followup_due: Option<i64>,
}

/// Inserts a case; returns its row id.
pub(crate) fn create_case(conn: Db<'_>, c: &NewCase<'_>) -> Result<i64> {
    let conn = conn.0;
    exec(conn,
        "INSERT INTO cases (public_id, year, seq, state, state_reason, reporter, reporter_name, subject, \
         mailbox, policy, signature, arrived_at, created_at, updated_at, ack_due, followup_due) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, ?14, ?15)",
        params![
            c.public_id,
            c.year,
            c.seq,
            c.state,
            c.state_reason,
            c.reporter,
            c.reporter_name,
            c.subject,
            c.mailbox,
            c.policy,
            c.signature,
            c.arrived_at,
            now(),
            c.ack_due,
            c.followup_due,
        ],
    )
    .context("creating the case")?;
    Ok(conn.last_insert_rowid())
}

/// A follow-up arrived: the case was updated now.
pub(crate) fn touch_case(conn: Db<'_>, case_id: i64) -> Result<()> {
    let conn = conn.0;
    exec(
        conn,
        "UPDATE cases SET updated_at = ?2 WHERE id = ?1",
        params![case_id, now()],
    )
    .context("touching the case")?;
    Ok(())
}

/// Clears a case's clocks (acknowledgment, response, resolution): for mail that owes
/// nothing (a report about mail triaged did not send, a DMARC or TLS report), closed
/// as it arrives. It then counts in no SLA figure; reopened, it has no deadline.
pub(crate) fn clear_clocks(conn: Db<'_>, case_id: i64) -> Result<()> {
    exec(
        conn.0,
        "UPDATE cases SET ack_due = NULL, followup_due = NULL, resolve_due = NULL WHERE id = ?1",
        params![case_id],
    )
    .context("clearing the case's clocks")?;
    Ok(())
}

/// The classification's outcome on the case row: severity, the policy's deadlines,
/// and the credit the report asks for (only while the team has not set one).
pub(crate) fn set_case_verdict(
    conn: Db<'_>,
    case_id: i64,
    severity: crate::domain::status::Severity,
    deadlines: (i64, Option<i64>, Option<i64>),
    credit: Option<&crate::domain::disclosure::Credit>,
) -> Result<()> {
    let conn = conn.0;
    let (ack_due, followup_due, resolve_due) = deadlines;
    exec(conn,
        "UPDATE cases SET severity = ?2, ack_due = ?3, followup_due = ?4, resolve_due = ?5 WHERE id = ?1",
        params![case_id, severity, ack_due, followup_due, resolve_due],
    )
    .context("recording the severity")?;
    if let Some(c) = credit {
        let json = serde_json::to_string(c).context("serialising the credit")?;
        exec(
            conn,
            "UPDATE cases SET credit = ?2 WHERE id = ?1 AND credit IS NULL",
            params![case_id, json],
        )
        .context("recording the credit asked for")?;
    }
    Ok(())
}

/// Records `other` as the likely duplicate noted for this case; false when it was
/// noted already (so the event is written once per pair).
pub(crate) fn note_duplicate(conn: Db<'_>, case_id: i64, other: &str) -> Result<bool> {
    let conn = conn.0;
    let n = conn
        .cached_exec(
            "UPDATE cases SET duplicate_noted = ?2 WHERE id = ?1 AND duplicate_noted IS NOT ?2",
            params![case_id, other],
        )
        .context("noting a likely duplicate")?;
    Ok(n > 0)
}

/// The first other message opened by the same session key: (its sender, its case).
pub(crate) fn session_key_seen(
    conn: Db<'_>,
    hash: &str,
    message_row: i64,
) -> Result<Option<(Option<String>, String)>> {
    let conn = conn.0;
    conn.cached_row(
        "SELECT s.from_addr, c.public_id FROM session_keys s JOIN cases c ON c.id = s.case_id \
         WHERE s.hash = ?1 AND s.message_id != ?2 ORDER BY s.message_id LIMIT 1",
        params![hash, message_row],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .optional()
    .context("looking up a session key")
}

/// Records that a session key opened this message.
pub(crate) fn record_session_key(
    conn: Db<'_>,
    hash: &str,
    message_row: i64,
    case_id: i64,
    from: Option<&str>,
) -> Result<()> {
    let conn = conn.0;
    exec(conn,
        "INSERT OR IGNORE INTO session_keys (hash, message_id, case_id, from_addr) VALUES (?1, ?2, ?3, ?4)",
        params![hash, message_row, case_id, from],
    )
    .context("recording a session key")?;
    Ok(())
}

/// A message's raw bytes as intake has them.
#[derive(Clone, Copy)]
pub enum RawBytes<'a> {
    /// In memory.
    Held(&'a [u8]),
    /// In a file of this many bytes (a message read as a stream): copied into the store
    /// a piece at a time.
    File(&'a std::path::Path, u64),
}

/// A message as stored: the raw bytes and what was read from them (sealed or not).
pub struct NewMessage<'a> {
    pub case_id: i64,
    pub sha256: &'a str,
    pub message_id: Option<&'a str>,
    pub mailbox: &'a str,
    pub source_pos: &'a str,
    pub arrived_at: i64,
    pub size: i64,
    pub raw: RawBytes<'a>,
    pub raw_sealed: bool,
    pub from_addr: Option<&'a str>,
    pub outer_subject: Option<&'a str>,
    pub subject: Option<&'a str>,
    /// JSON lists.
    pub in_reply_to: &'a str,
    pub refs: &'a str,
    pub encryption: Encryption,
    pub status: crate::domain::status::ReadStatus,
    pub status_reason: Option<&'a str>,
    pub signature: SigStatus,
    /// JSON.
    pub signatures: &'a str,
    pub team_key: Option<&'a str>,
    pub body_text: &'a str,
    /// JSON.
    pub notes: &'a str,
    pub sealed: bool,
    /// JSON.
    pub coverage: &'a str,
}

/// Inserts a message; returns its row id.
pub(crate) fn insert_message(conn: Db<'_>, m: &NewMessage<'_>) -> Result<i64> {
    let conn = conn.0;
    // Large values are written in place after the row exists (store::large).
    let big_raw = match m.raw {
        RawBytes::Held(b) => large::is_large(b.len()),
        RawBytes::File(..) => true,
    };
    let big_text = large::is_large(m.body_text.len());
    let raw: &[u8] = match m.raw {
        RawBytes::Held(b) if !big_raw => b,
        _ => &[],
    };
    let body_text: Option<&str> = if big_text { None } else { Some(m.body_text) };
    exec(conn,
        "INSERT INTO messages (case_id, sha256, message_id, mailbox, source_pos, arrived_at, received_at, size, raw, \
         from_addr, outer_subject, subject, in_reply_to, refs, encryption, status, status_reason, signature, \
         signatures, team_key, body_text, notes, processed_at, sealed, raw_sealed, coverage) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?7, ?23, ?24, ?25)",
        params![
            m.case_id,
            m.sha256,
            m.message_id,
            m.mailbox,
            m.source_pos,
            m.arrived_at,
            now(),
            m.size,
            raw,
            m.from_addr,
            m.outer_subject,
            m.subject,
            m.in_reply_to,
            m.refs,
            m.encryption,
            m.status,
            m.status_reason,
            m.signature,
            m.signatures,
            m.team_key,
            body_text,
            m.notes,
            m.sealed as i64,
            m.raw_sealed as i64,
            m.coverage,
        ],
    )
    .context("storing the message")?;
    let id = conn.last_insert_rowid();
    match m.raw {
        RawBytes::Held(b) if big_raw => {
            large::put(conn, Side::MessageRaw, id, b).context("storing the raw message")?;
        }
        RawBytes::File(path, len) => {
            let f = std::fs::File::open(path)
                .with_context(|| format!("opening {} to store the raw message", path.display()))?;
            large::put_reader(conn, Side::MessageRaw, id, std::io::BufReader::new(f), len)
                .with_context(|| format!("storing the raw message from {}", path.display()))?;
        }
        RawBytes::Held(_) => {}
    }
    if big_text {
        large::put(conn, Side::MessageText, id, m.body_text.as_bytes())
            .context("storing the message text")?;
    }
    Ok(id)
}

/// What `case retry` re-read from a stored message.
pub struct RereadMessage<'a> {
    pub id: i64,
    pub subject: Option<&'a str>,
    pub encryption: Encryption,
    pub status: crate::domain::status::ReadStatus,
    pub status_reason: Option<&'a str>,
    pub signature: SigStatus,
    pub signatures: &'a str,
    pub team_key: Option<&'a str>,
    pub body_text: &'a str,
    pub notes: &'a str,
    pub from_addr: Option<&'a str>,
    pub sealed: bool,
    pub coverage: &'a str,
}

/// Replaces what was read from a message with a new reading.
pub(crate) fn update_reread_message(conn: Db<'_>, m: &RereadMessage<'_>) -> Result<()> {
    let conn = conn.0;
    let big_text = large::is_large(m.body_text.len());
    let body_text: Option<&str> = if big_text { None } else { Some(m.body_text) };
    if big_text {
        large::put(conn, Side::MessageText, m.id, m.body_text.as_bytes())
            .context("storing the re-read text")?;
    } else {
        large::remove(conn, Side::MessageText, m.id)?;
    }
    exec(conn,
        "UPDATE messages SET subject = ?2, encryption = ?3, status = ?4, status_reason = ?5, signature = ?6, \
         signatures = ?7, team_key = ?8, body_text = ?9, notes = ?10, processed_at = ?11, from_addr = ?12, sealed = ?13, coverage = ?14 WHERE id = ?1",
        params![
            m.id,
            m.subject,
            m.encryption,
            m.status,
            m.status_reason,
            m.signature,
            m.signatures,
            m.team_key,
            body_text,
            m.notes,
            now(),
            m.from_addr,
            m.sealed as i64,
            m.coverage,
        ],
    )
    .context("updating a re-read message")?;
    Ok(())
}

/// A quarantined case that now reads: its state, reason, subject and signature.
pub(crate) fn lift_quarantine(
    conn: Db<'_>,
    case_id: i64,
    state: crate::domain::case::State,
    reason: Option<&str>,
    subject: Option<&str>,
    signature: SigStatus,
) -> Result<()> {
    let conn = conn.0;
    exec(conn,
        "UPDATE cases SET state = ?2, state_reason = ?3, subject = ?4, signature = ?5, updated_at = ?6 WHERE id = ?1",
        params![case_id, state, reason, subject, signature, now()],
    )
    .context("updating the case after retry")?;
    Ok(())
}

/// One attachment of a message (content sealed or not).
pub struct NewAttachment<'a> {
    pub name: Option<&'a str>,
    pub content_type: &'a str,
    pub size: i64,
    pub encrypted: bool,
    pub content: &'a [u8],
    pub sealed: bool,
}

/// Replaces a message's attachments.
pub(crate) fn replace_attachments(
    conn: Db<'_>,
    message_row: i64,
    atts: &[NewAttachment<'_>],
) -> Result<()> {
    let conn = conn.0;
    exec(
        conn,
        "DELETE FROM attachments WHERE message_id = ?1",
        [message_row],
    )
    .context("clearing attachments")?;
    for a in atts {
        let big = large::is_large(a.content.len());
        let content: &[u8] = if big { &[] } else { a.content };
        exec(conn,
            "INSERT INTO attachments (message_id, name, content_type, size, encrypted, content, sealed) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                message_row,
                a.name,
                a.content_type,
                a.size,
                a.encrypted as i64,
                content,
                a.sealed as i64
            ],
        )
        .context("storing an attachment")?;
        if big {
            let id = conn.last_insert_rowid();
            large::put(conn, Side::AttachmentContent, id, a.content)
                .context("storing an attachment's content")?;
        }
    }
    Ok(())
}

/// Records a reporter key seen in a case (once per case and fingerprint), with an event.
pub(crate) fn add_reporter_key(
    conn: Db<'_>,
    case_id: i64,
    fingerprint: &str,
    user_ids_json: &str,
    source: crate::domain::status::KeySource,
    armored: &str,
) -> Result<()> {
    let conn = conn.0;
    let n = conn
        .cached_exec(
            "INSERT OR IGNORE INTO reporter_keys (case_id, fingerprint, user_ids, source, armored, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![case_id, fingerprint, user_ids_json, source, armored, now()],
        )
        .context("storing a reporter key")?;
    if n > 0 {
        event(
            Db(conn),
            Some(case_id),
            "triaged",
            crate::domain::status::EventKind::ReporterKey,
            Some(&format!("{fingerprint} from {source}")),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::status::SigStatus;

    fn case(conn: Db<'_>, n: i64) -> i64 {
        create_case(
            conn,
            &NewCase {
                public_id: &format!("SEC-2026-{n:04}"),
                year: 2026,
                seq: n,
                state: crate::domain::case::State::New,
                state_reason: None,
                reporter: Some("r@example.net"),
                reporter_name: None,
                subject: Some("s"),
                mailbox: "security",
                policy: "default",
                signature: SigStatus::Unsigned,
                arrived_at: 1,
                ack_due: 2,
                followup_due: None,
            },
        )
        .unwrap()
    }

    #[test]
    fn a_likely_duplicate_is_noted_once_per_other_case() {
        let store = crate::store::Store::open_in_memory().unwrap();
        let id = case(store.db(), 1);
        assert!(note_duplicate(store.db(), id, "SEC-2026-0007").unwrap());
        assert!(!note_duplicate(store.db(), id, "SEC-2026-0007").unwrap());
        assert!(note_duplicate(store.db(), id, "SEC-2026-0008").unwrap());
    }

    #[test]
    fn the_last_ack_remembers_what_it_said_was_missing() {
        use crate::store::{NewOutgoing, last_ack_missing, queue_mail};
        let store = crate::store::Store::open_in_memory().unwrap();
        let id = case(store.db(), 1);
        assert_eq!(last_ack_missing(store.db(), id).unwrap(), None);
        let m = |mid: &'static str, missing: &'static str| NewOutgoing {
            case_id: Some(id),
            trigger_message: None,
            kind: crate::domain::status::OutboxKind::Ack,
            recipient: "r@example.net",
            message_id: mid,
            subject: "[SEC-2026-0001] Report received",
            body: b"x",
            missing: Some(missing),
            at: 5,
            author: None,
            template: None,
        };
        queue_mail(store.db(), &m("a@x", "poc,versions")).unwrap();
        assert_eq!(
            last_ack_missing(store.db(), id).unwrap(),
            Some(Some("poc,versions".into()))
        );
        queue_mail(store.db(), &m("b@x", "")).unwrap();
        assert_eq!(
            last_ack_missing(store.db(), id).unwrap(),
            Some(Some(String::new()))
        );
        // The same Message-ID twice is one row.
        assert!(queue_mail(store.db(), &m("b@x", "")).unwrap().is_none());
    }
}
