//! Statuses read from a message, as typed values: the signature status
//! ([`SigStatus`]), what encryption it arrived in ([`Encryption`]), whether it
//! could be read ([`ReadStatus`]) and how severe the report is ([`Severity`]). Each has one spelling, used in SQL (ToSql/FromSql),
//! JSON (serde) and text (Display/FromStr); the spellings are the stable words of
//! README's "JSON fields".

use std::fmt;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

/// Declares a string-valued enum: `as_str`, `ALL`, Display, FromStr, serde, ToSql, FromSql.
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($s => Ok($name::$v),)+
                    other => Err(format!(
                        "{other:?} is not a {}; use one of: {}",
                        stringify!($name),
                        [$($s),+].join(", ")
                    )),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }

        /// Comparing with the word, for callers of the library API and tests (triaged's
        /// own decisions compare typed values).
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $name {
            fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
                v.as_str()?
                    .parse()
                    .map_err(|e: String| FromSqlError::Other(e.into()))
            }
        }
    };
}

string_enum! {
    /// What a message's signatures say, summarised (README "Signature words").
    SigStatus {
        /// Verifies, by a valid key whose user ids name the From address, over every part.
        Good = "good",
        /// A good signature that covers only some of the content parts.
        Partial = "partial",
        /// Does not verify: the message may have been altered.
        Bad = "bad",
        /// By a key we do not have.
        UnknownKey = "unknown-key",
        /// By an expired or revoked key.
        InvalidKey = "invalid-key",
        /// Mathematically valid, but made with (or by a key bound with) an algorithm the
        /// standard policy no longer accepts, e.g. SHA-1: not `bad`, not trusted either.
        WeakAlgorithm = "weak-algorithm",
        /// Valid, but by a key none of whose user ids is the From address.
        SignerMismatch = "signer-mismatch",
        /// An S/MIME signature, not checked.
        Smime = "smime",
        Unsigned = "unsigned",
    }
}

string_enum! {
    /// How a message arrived encrypted.
    Encryption {
        None = "none",
        PgpMime = "pgp-mime",
        Inline = "inline",
        Attachment = "attachment",
        /// Some content parts encrypted, some not.
        Partial = "partial",
        Smime = "smime",
    }
}

#[allow(clippy::derivable_impls)] // the macro derives a fixed set
impl Default for Encryption {
    fn default() -> Self {
        Encryption::None
    }
}

string_enum! {
    /// Whether a message could be read.
    ReadStatus {
        Ok = "ok",
        Undecryptable = "undecryptable",
        Unparseable = "unparseable",
    }
}

string_enum! {
    /// The kind of a stored finding: a field of the classifier's findings, the policy's
    /// verdict, or a likely duplicate.
    FindingKind {
        Poc = "poc",
        Versions = "versions",
        Impact = "impact",
        ReproSteps = "repro_steps",
        FixSuggestion = "fix_suggestion",
        CveIds = "cve_ids",
        CweIds = "cwe_ids",
        GhsaIds = "ghsa_ids",
        Credit = "credit",
        LowEffort = "low_effort",
        Policy = "policy",
        Duplicate = "duplicate",
    }
}

string_enum! {
    /// How bad a report is, lowest first (the order `--sort severity` uses, reversed).
    Severity {
        None = "none",
        Low = "low",
        Medium = "medium",
        High = "high",
        Critical = "critical",
    }
}

string_enum! {
    /// What an outbox row is.
    OutboxKind {
        /// The acknowledgment of a report.
        Ack = "ack",
        /// The polite refusal under `reject_low_effort`.
        Rejection = "rejection",
        /// The team's daily digest.
        Digest = "digest",
        /// The team is told an acknowledgment deadline is near.
        EscalationAck = "escalation-ack",
        /// The team is told a detailed-response deadline is near.
        EscalationFollowup = "escalation-followup",
        /// The team is told a policy's resolution deadline is near.
        EscalationResolve = "escalation-resolve",
        /// The team is told an embargo ends soon.
        EmbargoReminder = "embargo-reminder",
        /// An operator's answer to the reporter (`case reply`).
        Reply = "reply",
        /// The team is told a mail was refused for good (5xx).
        SendFailedNotice = "send-failed-notice",
    }
}

string_enum! {
    /// Where an outbox row is in its life.
    OutboxState {
        /// Waiting for its next attempt.
        Queued = "queued",
        /// The server took it.
        Sent = "sent",
        /// The server refused it for good (a 5xx reply); never retried.
        Failed = "failed",
    }
}

string_enum! {
    /// Whether a report carries a proof of concept.
    PocStatus {
        Present = "present",
        /// The report says it has one but does not include it.
        Claimed = "claimed",
        Absent = "absent",
    }
}

string_enum! {
    /// Where a severity comes from.
    SeveritySource {
        /// A valid CVSS vector in the report, scored.
        Cvss = "cvss",
        /// The report names a severity.
        Stated = "stated",
        /// Estimated from the vulnerability class and scope.
        Estimated = "estimated",
        None = "none",
    }
}

string_enum! {
    /// Whether the reported version is in a supported row of the policy's table.
    VersionSupport {
        Supported = "supported",
        Unsupported = "unsupported",
        Unknown = "unknown",
    }
}

string_enum! {
    /// What an audit event records (the `kind` of the events table). Events are an
    /// append-only log for people: no decision reads them back.
    EventKind {
        Created = "created",
        Quarantined = "quarantined",
        Classified = "classified",
        ClassifyFailed = "classify-failed",
        FollowUp = "follow-up",
        StillMissing = "still-missing",
        State = "state",
        PossibleDuplicate = "possible-duplicate",
        ReplaySuspected = "replay-suspected",
        ReporterKey = "reporter-key",
        Retried = "retried",
        AckQueued = "ack-queued",
        AckSuppressed = "ack-suppressed",
        Escalated = "escalated",
        BreachAck = "breach-ack",
        BreachFollowup = "breach-followup",
        AckSent = "ack-sent",
        RejectionSent = "rejection-sent",
        DigestSent = "digest-sent",
        EscalationAckSent = "escalation-ack-sent",
        EscalationFollowupSent = "escalation-followup-sent",
        SendFailed = "send-failed",
        /// A mail the server refused for good (5xx): not retried.
        SendRefused = "send-refused",
        ReplyQueued = "reply-queued",
        ReplySent = "reply-sent",
        /// Our own mail came back through the mailbox (a Cc, Bcc or Sent copy).
        OwnCopy = "own-copy",
        /// A mail server reported that mail we sent could not be delivered (a bounce,
        /// RFC 3464): the row is `failed` and the team is told.
        Bounced = "bounced",
        /// A mail server reported that mail we sent is delayed (it keeps trying).
        DeliveryDelayed = "delivery-delayed",
        /// The recipient's client reported what it did with mail we sent (RFC 8098).
        ReadReceipt = "read-receipt",
        /// A receiver's feedback report about mail we sent (RFC 5965: marked as spam;
        /// RFC 6591: it failed DMARC, DKIM or SPF there).
        FeedbackReport = "feedback-report",
        /// Mail that owes nothing was closed as it arrived; the detail is its
        /// [`NothingOwed`] kind (the digest counts them).
        ClosedOnArrival = "closed-on-arrival",
        EscalationResolveSent = "escalation-resolve-sent",
        EmbargoReminderSent = "embargo-reminder-sent",
        SendFailedNoticeSent = "send-failed-notice-sent",
        /// Disclosure facts or the credit were set (`case set`).
        Disclosure = "disclosure",
        BreachResolve = "breach-resolve",
        Note = "note",
        Assigned = "assigned",
        Merged = "merged",
        DuplicateMerged = "duplicate-merged",
    }
}

string_enum! {
    /// What a message that owes nothing was, when it was closed as it arrived.
    NothingOwed {
        /// A bounce or delay warning about mail triaged did not send (backscatter).
        DeliveryReport = "delivery-report",
        /// A read receipt (RFC 8098) about mail triaged did not send.
        ReadReceipt = "read-receipt",
        /// A feedback report (RFC 5965) about other mail: a spam, fraud or virus complaint.
        Complaint = "complaint",
        /// A DMARC/DKIM/SPF failure report (RFC 6591) about other mail.
        AuthFailure = "auth-failure",
        /// A DMARC aggregate report (RFC 7489 §7.2).
        DmarcAggregate = "dmarc-aggregate",
        /// An SMTP TLS report (RFC 8460).
        TlsReport = "tls-report",
        /// Another `multipart/report` (RFC 6522).
        MailSystemReport = "mail-system-report",
    }
}

string_enum! {
    /// Where a public key was found.
    KeySource {
        /// A key file attached to the report.
        Attachment = "attachment",
        /// An armored key block in the text.
        Inline = "inline",
        /// The report's Autocrypt header.
        Autocrypt = "autocrypt",
        /// The configured reporter keyring.
        Keyring = "keyring",
        /// `triaged keys import`.
        Import = "import",
        /// The key published for the team (`security-txt` checks).
        Published = "published",
    }
}

string_enum! {
    /// An S/MIME part recognised in a message (never read: triaged reads OpenPGP).
    SmimePart {
        Encrypted = "encrypted",
        Signed = "signed",
    }
}

impl EventKind {
    /// The event of a sent outbox row (`ack-sent`, `digest-sent`, ...).
    pub fn sent(kind: OutboxKind) -> EventKind {
        match kind {
            OutboxKind::Ack => EventKind::AckSent,
            OutboxKind::Rejection => EventKind::RejectionSent,
            OutboxKind::Digest => EventKind::DigestSent,
            OutboxKind::EscalationAck => EventKind::EscalationAckSent,
            OutboxKind::EscalationFollowup => EventKind::EscalationFollowupSent,
            OutboxKind::EscalationResolve => EventKind::EscalationResolveSent,
            OutboxKind::EmbargoReminder => EventKind::EmbargoReminderSent,
            OutboxKind::Reply => EventKind::ReplySent,
            OutboxKind::SendFailedNotice => EventKind::SendFailedNoticeSent,
        }
    }
}

impl OutboxKind {
    /// Mail to the reporter that stops the acknowledgment clock when sent.
    pub(crate) fn acknowledges(self) -> bool {
        matches!(self, OutboxKind::Ack | OutboxKind::Rejection)
    }

    /// Mail to the reporter written by a person: its sending stops the response clock
    /// (an automatic ack never does).
    pub(crate) fn responds(self) -> bool {
        matches!(self, OutboxKind::Reply)
    }
}

/// The outcome of one signature.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SigResult {
    pub status: SigStatus,
    /// Fingerprint of the signer's certificate when known, else the issuer's key id.
    pub signer: Option<String>,
    /// The signer's first user id when the certificate is known.
    pub user_id: Option<String>,
    /// Human-readable detail (never key material).
    pub detail: Option<String>,
    /// The normalised e-mail addresses of the signer's valid user ids (good signatures).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_round_trips_through_text_json_and_sql() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        for s in SigStatus::ALL {
            assert_eq!(s.as_str().parse::<SigStatus>().unwrap(), *s);
            let j = serde_json::to_string(s).unwrap();
            assert_eq!(j, format!("\"{s}\""));
            assert_eq!(serde_json::from_str::<SigStatus>(&j).unwrap(), *s);
            let back: SigStatus = conn.query_row("SELECT ?1", [s], |r| r.get(0)).unwrap();
            assert_eq!(back, *s);
        }
        for e in Encryption::ALL {
            assert_eq!(e.as_str().parse::<Encryption>().unwrap(), *e);
        }
        assert!(
            "sealed"
                .parse::<ReadStatus>()
                .unwrap_err()
                .contains("ok, undecryptable")
        );
        // Tables pad these words: Display honours width and alignment.
        assert_eq!(format!("[{:<8}]", SigStatus::Good), "[good    ]");
    }
}
