//! Delivery status notifications (RFC 3464, inside an RFC 6522 `multipart/report`):
//! what a bounce says about which message, to whom, and why. Read receipts (message
//! disposition notifications, RFC 8098) read into the same shape: the recipient, what
//! their client did with the message (`displayed`, `deleted`, …) and its Message-ID.
//!
//! A mail server that cannot deliver an ack sends the team a report: one block of
//! fields about the report (`Reporting-MTA`) and one per recipient (`Final-Recipient`,
//! `Action`, `Status`, `Diagnostic-Code`), followed by the returned message or its
//! headers. Read here: the fields, and the returned message's Message-ID, which names
//! the outbox row that bounced (`ingest` matches it). SMTPUTF8 reports
//! (`message/global-delivery-status`, RFC 6533) read the same.
//!
//! Feedback reports (ARF, RFC 5965: a provider's spam complaint; RFC 6591: a DMARC
//! failure report) read into the same shape too, with their fields in
//! [`DeliveryReport::feedback`] and no recipient block: they say what a receiver
//! thought of a message, and which one.

use serde::{Deserialize, Serialize};

/// What a delivery status notification says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryReport {
    /// The `Reporting-MTA` (without its `dns;` type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporting_mta: Option<String>,
    /// One entry per recipient block.
    #[serde(default)]
    pub recipients: Vec<DsnRecipient>,
    /// The Message-ID of the returned message (or of its returned headers), without
    /// angle brackets.
    #[serde(default)]
    pub original_message_ids: Vec<String>,
    /// The fields of a feedback report (RFC 5965 / 6591), when this is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<Feedback>,
}

/// What a feedback report (`message/feedback-report`) says about the message it
/// carries. Values are kept as the receiver wrote them (capped).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    /// `abuse`, `fraud`, `virus`, `other`, `not-spam` (RFC 5965) or `auth-failure`
    /// (RFC 6591: a DMARC/DKIM/SPF failure report), lower case.
    pub feedback_type: String,
    /// The software that wrote the report (`User-Agent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// `Original-Mail-From`: the envelope sender of the reported message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_mail_from: Option<String>,
    /// `Original-Rcpt-To`: whom it was for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_rcpt_to: Option<String>,
    /// `Source-IP`: where the receiver got it from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip: Option<String>,
    /// `Reported-Domain`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reported_domain: Option<String>,
    /// `Auth-Failure` (RFC 6591): `dmarc`, `spf`, `signature`, `bodyhash`, ….
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_failure: Option<String>,
    /// `Delivery-Result` (RFC 6591): `delivered`, `spam`, `policy`, `reject`, `other`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_result: Option<String>,
}

/// One recipient's block of a delivery status notification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DsnRecipient {
    /// `Final-Recipient` (else `Original-Recipient`), without its `rfc822;` type; empty
    /// when a plain-text notice does not say it in fields.
    pub recipient: String,
    /// `failed`, `delayed`, `delivered`, `relayed` or `expanded` (lower case).
    pub action: String,
    /// The status code (`5.2.2`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The remote server's words (`Diagnostic-Code`, without its `smtp;` type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostic: Option<String>,
    /// The server that gave them (`Remote-MTA`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_mta: Option<String>,
}

/// RFC 8098's disposition types.
const MDN_TYPES: [&str; 4] = ["displayed", "deleted", "dispatched", "processed"];

/// Most recipient blocks kept (a report about a mailing list can name thousands).
const MAX_RECIPIENTS: usize = 32;
/// Longest field value kept, in characters.
const MAX_VALUE: usize = 500;

impl DeliveryReport {
    /// Reads the fields of a `message/delivery-status` part into this report.
    pub fn read_fields(&mut self, text: &str) {
        for (i, block) in blocks(text).into_iter().enumerate() {
            let get = |name: &str| {
                block
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.clone())
            };
            if i == 0 && get("Reporting-MTA").is_some() {
                self.reporting_mta = get("Reporting-MTA").map(|v| untyped(&v));
                continue;
            }
            let Some(recipient) = get("Final-Recipient").or_else(|| get("Original-Recipient"))
            else {
                continue;
            };
            if self.recipients.len() >= MAX_RECIPIENTS {
                break;
            }
            self.recipients.push(DsnRecipient {
                recipient: untyped(&recipient),
                // RFC 3464 requires Action; a server that leaves it out still gives a
                // Status, whose class says it (5: failed, 4: delayed, 2: delivered).
                action: get("Action")
                    .map(|a| a.to_ascii_lowercase())
                    .or_else(|| match get("Status")?.trim().split('.').next()? {
                        "5" => Some("failed".to_string()),
                        "4" => Some("delayed".to_string()),
                        "2" => Some("delivered".to_string()),
                        _ => None,
                    })
                    .unwrap_or_default(),
                status: get("Status"),
                diagnostic: get("Diagnostic-Code").map(|v| untyped(&v)),
                remote_mta: get("Remote-MTA").map(|v| untyped(&v)),
            });
        }
    }

    /// Reads the fields of a `message/disposition-notification` part (RFC 8098): the
    /// recipient, the disposition type as the action, the original Message-ID.
    pub fn read_mdn_fields(&mut self, text: &str) {
        let Some(block) = blocks(text).into_iter().next() else {
            return;
        };
        let get = |name: &str| {
            block
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        if let Some(id) = get("Original-Message-ID") {
            self.add_original(&id);
        }
        self.reporting_mta = get("Reporting-UA").map(|v| untyped(&v));
        // "manual-action/MDN-sent-manually; displayed" (modifiers after a '/').
        let action = get("Disposition")
            .and_then(|d| d.split_once(';').map(|(_, t)| t.to_string()))
            .map(|t| {
                t.split('/')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            })
            .filter(|t| MDN_TYPES.contains(&t.as_str()))
            .unwrap_or_else(|| "displayed".into());
        if self.recipients.len() < MAX_RECIPIENTS {
            self.recipients.push(DsnRecipient {
                recipient: get("Final-Recipient")
                    .map(|v| untyped(&v))
                    .unwrap_or_default(),
                action,
                status: None,
                diagnostic: None,
                remote_mta: None,
            });
        }
    }

    /// Reads the fields of a `message/feedback-report` part (RFC 5965, 6591).
    pub fn read_feedback_fields(&mut self, text: &str) {
        let Some(block) = blocks(text).into_iter().next() else {
            return;
        };
        let get = |name: &str| {
            block
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        let addr = |v: String| v.trim().trim_matches(['<', '>']).trim().to_string();
        if self.reporting_mta.is_none() {
            self.reporting_mta = get("Reporting-MTA").map(|v| untyped(&v));
        }
        self.feedback = Some(Feedback {
            feedback_type: get("Feedback-Type")
                .unwrap_or_else(|| "other".into())
                .to_ascii_lowercase(),
            user_agent: get("User-Agent"),
            original_mail_from: get("Original-Mail-From").map(addr),
            original_rcpt_to: get("Original-Rcpt-To").map(addr),
            source_ip: get("Source-IP"),
            reported_domain: get("Reported-Domain"),
            auth_failure: get("Auth-Failure").map(|v| v.to_ascii_lowercase()),
            delivery_result: get("Delivery-Result").map(|v| v.to_ascii_lowercase()),
        });
    }

    /// A read receipt (RFC 8098) rather than a delivery report.
    pub fn is_read_receipt(&self) -> bool {
        self.feedback.is_none() && self.action().is_some_and(|a| MDN_TYPES.contains(&a))
    }

    /// What kind of mail this is, when it names no mail of ours and is closed.
    pub fn nothing_owed(&self) -> crate::domain::status::NothingOwed {
        use crate::domain::status::NothingOwed;
        match &self.feedback {
            Some(f) if f.feedback_type == "auth-failure" => NothingOwed::AuthFailure,
            Some(_) => NothingOwed::Complaint,
            None if self.is_read_receipt() => NothingOwed::ReadReceipt,
            None => NothingOwed::DeliveryReport,
        }
    }

    /// What kind of report this is, with its article: "a delivery report", "a read
    /// receipt", "a complaint (feedback report, RFC 5965)", ….
    pub fn kind_words(&self) -> &'static str {
        match &self.feedback {
            Some(f) if f.feedback_type == "auth-failure" => {
                "an authentication failure report (RFC 6591)"
            }
            Some(f) if f.feedback_type == "not-spam" => "a not-spam feedback report (RFC 5965)",
            Some(_) => "a complaint (feedback report, RFC 5965)",
            None if self.is_read_receipt() => "a read receipt",
            None => "a delivery report",
        }
    }

    /// Adds the Message-ID found in returned headers (`text/rfc822-headers`,
    /// `message/global-headers`, or the head of a returned message).
    pub fn read_returned_headers(&mut self, text: &str) {
        let head = text.split("\n\n").next().unwrap_or_default();
        let head = head.split("\r\n\r\n").next().unwrap_or_default();
        if let Some(block) = blocks(head).into_iter().next()
            && let Some((_, v)) = block
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case("Message-ID"))
        {
            self.add_original(v);
        }
    }

    /// Adds one returned Message-ID (brackets and spaces trimmed; empty ones ignored).
    pub fn add_original(&mut self, id: &str) {
        let id = id.trim().trim_matches(['<', '>']).trim();
        if !id.is_empty()
            && self.original_message_ids.len() < 4
            && !self.original_message_ids.iter().any(|x| x == id)
        {
            self.original_message_ids.push(id.to_string());
        }
    }

    /// The worst of the recipients' actions: `failed` before `delayed` before anything
    /// else; `None` when no recipient block was read.
    pub fn action(&self) -> Option<&str> {
        ["failed", "delayed"]
            .into_iter()
            .find(|a| self.recipients.iter().any(|r| r.action == *a))
            .or_else(|| self.recipients.first().map(|r| r.action.as_str()))
    }

    /// One line for people: "5.2.2 <bob@example.org>: Recipient address rejected:
    /// Mailbox quota exceeded (mx2.example.net)", for the first recipient with the worst
    /// action.
    pub fn summary(&self) -> String {
        if let Some(f) = &self.feedback {
            return f.summary(self.reporting_mta.as_deref());
        }
        let worst = self.action();
        let Some(r) = self
            .recipients
            .iter()
            .find(|r| Some(r.action.as_str()) == worst)
        else {
            return "a delivery status notification without recipient fields".into();
        };
        let mut s = if r.action.is_empty() {
            "no action given".to_string()
        } else {
            r.action.clone()
        };
        if !r.recipient.is_empty() {
            s.push_str(&format!(" for {}", r.recipient));
        }
        if let Some(st) = &r.status {
            s.push_str(&format!(", status {st}"));
        }
        if let Some(d) = &r.diagnostic {
            s.push_str(&format!(": {d}"));
        }
        if let Some(m) = r.remote_mta.as_ref().or(self.reporting_mta.as_ref()) {
            s.push_str(&format!(" (reported by {m})"));
        }
        s
    }
}

impl Feedback {
    /// One line for people: "Feedback-Type: auth-failure (Auth-Failure: dmarc), about
    /// mail from sharepoint@domain.de sent from 10.10.10.10, delivery result: reject
    /// (reported by Lotus Domino)".
    fn summary(&self, reporting_mta: Option<&str>) -> String {
        let mut s = format!("Feedback-Type: {}", self.feedback_type);
        if let Some(a) = &self.auth_failure {
            s.push_str(&format!(" (Auth-Failure: {a})"));
        }
        match (&self.original_mail_from, &self.reported_domain) {
            (Some(f), _) => s.push_str(&format!(", about mail from {f}")),
            (None, Some(d)) => s.push_str(&format!(", about mail of {d}")),
            (None, None) => s.push_str(", about a message"),
        }
        if let Some(t) = &self.original_rcpt_to {
            s.push_str(&format!(" to {t}"));
        }
        if let Some(ip) = &self.source_ip {
            s.push_str(&format!(" sent from {ip}"));
        }
        if let Some(r) = &self.delivery_result {
            s.push_str(&format!(", delivery result: {r}"));
        }
        if let Some(by) = self.user_agent.as_deref().or(reporting_mta) {
            s.push_str(&format!(" (reported by {by})"));
        }
        s
    }
}

/// A bounce without a delivery-status part: the plain-text notices some servers still
/// send (Exim's "Mail delivery failed: returning message to sender", Yahoo's "Failure
/// Notice"), with the returned message's headers pasted into the text. Taken as one
/// only when a mail system sent it (From `mailer-daemon@`, `postmaster@`,
/// `mail-daemon@`) as automatic mail (a null Return-Path or `Auto-Submitted`); the
/// returned Message-IDs are the `Message-ID:` lines of the text. It names no recipient
/// fields; a notice that says it will keep trying is a delay, anything else a failure.
/// (A report can only ever act on mail of ours whose Message-ID it names.)
pub fn plain_bounce(r: &crate::read::mime::Report) -> Option<DeliveryReport> {
    let from = r.from_addr.as_deref()?;
    let local = from
        .split('@')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !matches!(
        local.as_str(),
        "mailer-daemon" | "postmaster" | "mail-daemon"
    ) {
        return None;
    }
    let null_path = r
        .return_path
        .as_deref()
        .is_some_and(|p| p.trim().trim_matches(['<', '>']).trim().is_empty());
    if !null_path && r.auto_submitted.is_none() {
        return None;
    }
    let mut d = DeliveryReport::default();
    for line in r.text.lines().take(5_000) {
        let line = line.trim_start_matches(['>', ' ']);
        if let Some((name, v)) = line.split_once(':')
            && name.eq_ignore_ascii_case("Message-ID")
            && v.contains('@')
        {
            d.add_original(v);
        }
    }
    if d.original_message_ids.is_empty() {
        return None;
    }
    let lower = r.text.to_ascii_lowercase();
    let delayed = [
        "delayed",
        "still undelivered",
        "will continue to try",
        "will keep trying",
        "warning: message",
    ]
    .iter()
    .any(|w| lower.contains(w));
    d.recipients.push(DsnRecipient {
        recipient: String::new(),
        action: if delayed { "delayed" } else { "failed" }.into(),
        status: None,
        diagnostic: r
            .subject
            .clone()
            .or_else(|| r.outer_subject.clone())
            .map(|s| format!("plain-text notice: {s}")),
        remote_mta: None,
    });
    d.reporting_mta = Some(from.to_string());
    Some(d)
}

/// `rfc822; bob@example.org` → `bob@example.org`, `dns; mx.example` → `mx.example`.
fn untyped(v: &str) -> String {
    match v.split_once(';') {
        Some((t, rest)) if !t.trim().is_empty() && !t.contains(' ') => rest.trim().to_string(),
        _ => v.trim().to_string(),
    }
}

/// The field blocks of a delivery-status body: blank-line separated groups of
/// `Name: value` fields, continuation lines folded into their field.
fn blocks(text: &str) -> Vec<Vec<(String, String)>> {
    let mut out: Vec<Vec<(String, String)>> = Vec::new();
    let mut cur: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, v)) = cur.last_mut()
                && v.chars().count() < MAX_VALUE
            {
                v.push(' ');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((n, v)) = line.split_once(':')
            && !n.is_empty()
            && !n.contains(' ')
        {
            cur.push((
                n.trim().to_string(),
                v.trim().chars().take(MAX_VALUE).collect(),
            ));
        }
        if out.len() > MAX_RECIPIENTS + 1 {
            break;
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_receipt_gives_its_recipient_disposition_and_original_message() {
        let mut d = DeliveryReport::default();
        d.read_mdn_fields(
            "Reporting-UA: pc.example.net; Outlook 16.0\r\nFinal-Recipient: rfc822; rita@example.net\r\n\
             Original-Message-ID: <SEC-2026-0001.ack.f00@example.test>\r\n\
             Disposition: automatic-action/MDN-sent-automatically; deleted/expired\r\n",
        );
        assert!(d.is_read_receipt());
        assert_eq!(d.action(), Some("deleted"));
        assert_eq!(
            d.original_message_ids,
            ["SEC-2026-0001.ack.f00@example.test"]
        );
        assert_eq!(d.recipients[0].recipient, "rita@example.net");
        assert!(
            d.summary().starts_with("deleted for rita@example.net"),
            "{}",
            d.summary()
        );
        // A bounce is not a read receipt.
        let mut b = DeliveryReport::default();
        b.read_fields("Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; x@y\nAction: failed\n");
        assert!(!b.is_read_receipt());
    }

    /// The fields of a Postfix bounce (two recipients, a folded diagnostic).
    const POSTFIX: &str = "Reporting-MTA: dns; relay01.example.org\n\
X-Postfix-Queue-ID: C06EAE01B0\n\
Arrival-Date: Sat, 25 Jun 2022 21:35:23 -0400 (CDT)\n\
\n\
Final-Recipient: rfc822; bob@example.org\n\
Original-Recipient: rfc822;bob@example.org\n\
Action: failed\n\
Status: 5.2.2\n\
Remote-MTA: dns; mx2.example.net\n\
Diagnostic-Code: smtp; 552 5.2.2 <bob@example.org>: Recipient address\n    rejected: Mailbox quota exceeded\n\
\n\
Final-Recipient: rfc822; carol@example.net\n\
Action: delayed\n\
Status: 4.4.1\n";

    #[test]
    fn a_postfix_report_gives_each_recipient_its_action_status_and_words() {
        let mut d = DeliveryReport::default();
        d.read_fields(POSTFIX);
        assert_eq!(d.reporting_mta.as_deref(), Some("relay01.example.org"));
        assert_eq!(d.recipients.len(), 2);
        let bob = &d.recipients[0];
        assert_eq!(bob.recipient, "bob@example.org");
        assert_eq!(bob.action, "failed");
        assert_eq!(bob.status.as_deref(), Some("5.2.2"));
        assert_eq!(
            bob.diagnostic.as_deref(),
            Some("552 5.2.2 <bob@example.org>: Recipient address rejected: Mailbox quota exceeded")
        );
        assert_eq!(bob.remote_mta.as_deref(), Some("mx2.example.net"));
        assert_eq!(d.action(), Some("failed"));
        let s = d.summary();
        assert!(
            s.starts_with("failed for bob@example.org, status 5.2.2: 552")
                && s.ends_with("(reported by mx2.example.net)"),
            "{s}"
        );
    }

    #[test]
    fn a_delay_only_report_is_delayed_and_no_fields_is_no_action() {
        let mut d = DeliveryReport::default();
        d.read_fields("Reporting-MTA: dns; a.example\n\nFinal-Recipient: rfc822; x@y.example\nAction: Delayed\nStatus: 4.4.7\n");
        assert_eq!(d.action(), Some("delayed"));
        let mut none = DeliveryReport::default();
        none.read_fields("this is not a report\n");
        assert_eq!(none.action(), None);
        assert!(none.summary().contains("without recipient fields"));
        // A recipient block without Action (MimeKit's test bounce): its Status class
        // says what happened; without either, the summary says so, not a blank.
        let mut bare = DeliveryReport::default();
        bare.read_fields("Reporting-MTA: dns; a.example\n\nFinal-Recipient: rfc822; x@y.example\nStatus: 5.0.0\n");
        assert_eq!(bare.action(), Some("failed"));
        let mut late = DeliveryReport::default();
        late.read_fields("Final-Recipient: rfc822; x@y.example\nStatus: 4.4.1\n");
        assert_eq!(late.action(), Some("delayed"));
        let mut blank = DeliveryReport::default();
        blank
            .read_fields("Reporting-MTA: dns; a.example\n\nFinal-Recipient: rfc822; x@y.example\n");
        assert_eq!(
            blank.summary(),
            "no action given for x@y.example (reported by a.example)"
        );
    }

    fn report(
        from: &str,
        return_path: Option<&str>,
        auto: bool,
        text: &str,
    ) -> crate::read::mime::Report {
        crate::read::mime::Report {
            from_addr: Some(from.into()),
            return_path: return_path.map(str::to_string),
            auto_submitted: auto.then(|| "auto-replied".to_string()),
            subject: Some("Mail delivery failed: returning message to sender".into()),
            text: text.into(),
            ..Default::default()
        }
    }

    const EXIM_TEXT: &str = "This message was created automatically by mail delivery software.\n\n\
A message that you sent could not be delivered to one or more of\nits recipients. This is a permanent error.\n\n\
------ This is a copy of the message, including all the headers. ------\n\n\
From: security@example.test\nTo: gina@gone.test\nMessage-ID: <SEC-2026-0001.reply.abc@example.test>\nSubject: Re: x\n";

    #[test]
    fn a_plain_text_bounce_from_a_mail_system_names_the_returned_message() {
        let d = plain_bounce(&report(
            "mailer-daemon@mx.example",
            Some("<>"),
            false,
            EXIM_TEXT,
        ))
        .expect("a bounce");
        assert_eq!(
            d.original_message_ids,
            vec!["SEC-2026-0001.reply.abc@example.test".to_string()]
        );
        assert_eq!(d.action(), Some("failed"));
        assert_eq!(
            d.summary(),
            "failed: plain-text notice: Mail delivery failed: returning message to sender (reported by mailer-daemon@mx.example)"
        );
        // Auto-Submitted instead of a null Return-Path; a delay warning.
        let delayed = EXIM_TEXT.replace(
            "This is a permanent error.",
            "Warning: message still undelivered after 4 hours.",
        );
        let d = plain_bounce(&report("MAILER-DAEMON@mx.example", None, true, &delayed)).unwrap();
        assert_eq!(d.action(), Some("delayed"));
    }

    #[test]
    fn a_person_or_mail_that_is_not_automatic_is_no_plain_bounce() {
        // A reporter pasting our headers into a report is not a bounce.
        assert!(plain_bounce(&report("rita@example.net", Some("<>"), true, EXIM_TEXT)).is_none());
        // A mail system's address, but neither a null Return-Path nor Auto-Submitted.
        assert!(
            plain_bounce(&report(
                "postmaster@mx.example",
                Some("<postmaster@mx.example>"),
                false,
                EXIM_TEXT
            ))
            .is_none()
        );
        // No returned Message-ID: nothing to match.
        assert!(
            plain_bounce(&report(
                "mailer-daemon@mx.example",
                Some("<>"),
                true,
                "Undeliverable."
            ))
            .is_none()
        );
    }

    /// RFC 6522's layout as Postfix sends it, with the returned message encrypted (our
    /// ack to the reporter): the fields and Message-ID are read, the returned message is
    /// not decrypted (it is not to us) and the report is not an undecryptable message.
    #[test]
    fn a_multipart_report_returning_an_encrypted_message_reads_without_decrypting_it() {
        let raw = "From: MAILER-DAEMON@relay.example (Mail Delivery System)\r\n\
To: security@example.test\r\nSubject: Undelivered Mail Returned to Sender\r\n\
Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n\
--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you that your message could not be delivered.\r\n\
--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.example\r\n\r\n\
Final-Recipient: rfc822; rita@example.net\r\nAction: failed\r\nStatus: 5.2.2\r\n\
Diagnostic-Code: smtp; 552 5.2.2 Mailbox quota exceeded\r\n\r\n\
--B\r\nContent-Type: message/rfc822\r\n\r\n\
From: security@example.test\r\nTo: rita@example.net\r\nSubject: ...\r\n\
Message-ID: <SEC-2026-0007.ack.f00@example.test>\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"E\"\r\n\r\n\
--E\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\
--E\r\nContent-Type: application/octet-stream\r\n\r\n\
-----BEGIN PGP MESSAGE-----\r\n\r\nwV4DAAAAAAAAAAASAQdA\r\n-----END PGP MESSAGE-----\r\n--E--\r\n\
--B--\r\n";
        let a = crate::read::mime::analyze(
            raw.as_bytes(),
            &crate::read::crypto::TeamKeys::empty(),
            &crate::config::Limits::default(),
        );
        let d = a.report.delivery.expect("a delivery report");
        assert_eq!(
            d.original_message_ids,
            vec!["SEC-2026-0007.ack.f00@example.test".to_string()]
        );
        assert_eq!(d.recipients[0].recipient, "rita@example.net");
        assert_eq!(d.action(), Some("failed"));
        assert!(
            a.report.decrypt_errors.is_empty(),
            "{:?}",
            a.report.decrypt_errors
        );
        assert_eq!(a.status, crate::read::mime::Status::Ok);
    }

    #[test]
    fn returned_headers_give_the_message_id_and_only_from_the_head() {
        let mut d = DeliveryReport::default();
        d.read_returned_headers(
            "Return-Path: <security@example.test>\nMessage-ID:\n <SEC-2026-0001.ack.abc@example.test>\nSubject: x\n\nMessage-ID: <body@x>\n",
        );
        d.add_original("<SEC-2026-0001.ack.abc@example.test>");
        d.add_original("  ");
        assert_eq!(
            d.original_message_ids,
            vec!["SEC-2026-0001.ack.abc@example.test".to_string()]
        );
    }
}
