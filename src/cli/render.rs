//! Render: the public JSON of `case list --json` and `case show --json` (README "JSON
//! fields (stable)"). These types, not the store's rows, are what the CLI prints, so a
//! storage change cannot rename a public field; `tests/golden.rs` checks the result.

use serde::Serialize;

use crate::domain::case::State;
use crate::domain::status::{Encryption, ReadStatus, Severity, SigStatus};
use crate::domain::time::rfc3339;
use crate::store::{AttachmentRow, CaseRow, EventRow, KeyRow, MessageRow};

/// One case.
#[derive(Debug, Serialize)]
pub struct CaseJson<'a> {
    pub id: &'a str,
    pub state: State,
    pub state_reason: Option<&'a str>,
    pub reporter: Option<&'a str>,
    pub reporter_name: Option<&'a str>,
    pub subject: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub subject_sealed: bool,
    pub mailbox: &'a str,
    pub policy: &'a str,
    pub signature: SigStatus,
    pub severity: Option<Severity>,
    pub arrived_at: String,
    pub created_at: String,
    pub updated_at: String,
    pub ack_due: Option<String>,
    pub followup_due: Option<String>,
    pub acked_at: Option<String>,
    pub responded_at: Option<String>,
    pub messages: i64,
    pub encryption: Option<Encryption>,
    pub assignee: Option<&'a str>,
    pub merged_into: Option<&'a str>,
    pub possible_duplicate_of: Option<&'a serde_json::Value>,
}

pub fn case(c: &CaseRow) -> CaseJson<'_> {
    CaseJson {
        id: &c.id_public,
        state: c.state,
        state_reason: c.state_reason.as_deref(),
        reporter: c.reporter.as_deref(),
        reporter_name: c.reporter_name.as_deref(),
        subject: c.subject.as_deref(),
        subject_sealed: c.subject_sealed,
        mailbox: &c.mailbox,
        policy: &c.policy,
        signature: c.signature,
        severity: c.severity,
        arrived_at: rfc3339(c.arrived_at),
        created_at: rfc3339(c.created_at),
        updated_at: rfc3339(c.updated_at),
        ack_due: c.ack_due.map(rfc3339),
        followup_due: c.followup_due.map(rfc3339),
        acked_at: c.acked_at.map(rfc3339),
        responded_at: c.responded_at.map(rfc3339),
        messages: c.messages,
        encryption: c.encryption,
        assignee: c.assignee.as_deref(),
        merged_into: c.merged_into.as_deref(),
        possible_duplicate_of: c.possible_duplicate_of.as_ref(),
    }
}

/// One stored message (never its raw bytes or text).
#[derive(Debug, Serialize)]
pub struct MessageJson<'a> {
    pub sha256: &'a str,
    pub message_id: Option<&'a str>,
    pub mailbox: &'a str,
    pub source_pos: Option<&'a str>,
    pub arrived_at: String,
    pub size: i64,
    pub from: Option<&'a str>,
    pub subject: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub subject_sealed: bool,
    pub encryption: Encryption,
    pub status: ReadStatus,
    pub status_reason: Option<&'a str>,
    pub signature: SigStatus,
    pub signatures: &'a [crate::domain::status::SigResult],
    pub team_key: Option<&'a str>,
    pub notes: &'a serde_json::Value,
    pub coverage: &'a serde_json::Value,
    pub attachments: Vec<AttachmentJson<'a>>,
}

#[derive(Debug, Serialize)]
pub struct AttachmentJson<'a> {
    pub name: Option<&'a str>,
    pub content_type: &'a str,
    pub size: i64,
    pub encrypted: bool,
}

fn attachment(a: &AttachmentRow) -> AttachmentJson<'_> {
    AttachmentJson {
        name: a.name.as_deref(),
        content_type: &a.content_type,
        size: a.size,
        encrypted: a.encrypted,
    }
}

pub fn message(m: &MessageRow) -> MessageJson<'_> {
    MessageJson {
        sha256: &m.sha256,
        message_id: m.message_id.as_deref(),
        mailbox: &m.mailbox,
        source_pos: m.source_pos.as_deref(),
        arrived_at: rfc3339(m.arrived_at),
        size: m.size,
        from: m.from.as_deref(),
        subject: m.subject.as_deref(),
        subject_sealed: m.subject_sealed,
        encryption: m.encryption,
        status: m.status,
        status_reason: m.status_reason.as_deref(),
        signature: m.signature,
        signatures: &m.signatures,
        team_key: m.team_key.as_deref(),
        notes: &m.notes,
        coverage: &m.coverage,
        attachments: m.attachments.iter().map(attachment).collect(),
    }
}

/// One audit event.
#[derive(Debug, Serialize)]
pub struct EventJson<'a> {
    pub at: String,
    pub actor: &'a str,
    pub kind: &'a str,
    pub detail: Option<&'a str>,
}

pub fn event(e: &EventRow) -> EventJson<'_> {
    EventJson {
        at: rfc3339(e.at),
        actor: &e.actor,
        kind: e.kind.as_str(),
        detail: e.detail.as_deref(),
    }
}

/// One reporter key seen in a case.
#[derive(Debug, Serialize)]
pub struct KeyJson<'a> {
    pub fingerprint: &'a str,
    pub user_ids: &'a [String],
    pub source: crate::domain::status::KeySource,
}

pub fn key(k: &KeyRow) -> KeyJson<'_> {
    KeyJson {
        fingerprint: &k.fingerprint,
        user_ids: &k.user_ids,
        source: k.source,
    }
}

/// One mail triaged queued or sent for a case (`case show --json` "sent").
#[derive(Debug, Serialize)]
pub struct SentJson<'a> {
    pub kind: crate::domain::status::OutboxKind,
    pub to: &'a str,
    /// Sent at, or queued at while not sent.
    pub at: String,
    pub message_id: &'a str,
    pub state: crate::domain::status::OutboxState,
    pub author: Option<&'a str>,
    pub error: Option<&'a str>,
}

pub fn sent(s: &crate::store::SentRow) -> SentJson<'_> {
    SentJson {
        kind: s.kind,
        to: &s.recipient,
        at: rfc3339(s.at),
        message_id: &s.message_id,
        state: s.state,
        author: s.author.as_deref(),
        error: s.last_error.as_deref(),
    }
}
