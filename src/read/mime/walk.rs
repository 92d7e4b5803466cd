//! The walk itself: one part at a time, depth first, within the message's limits.
//!
//! Owns [`Walker::walk_part`] (the dispatch on a part's type), the coverage list (which
//! content part was encrypted and/or signed), the time budget and the attachment cap.
//! What each kind of part holds is read by the sibling modules.

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

use crate::domain::status::{SigStatus, SmimePart};
use crate::read::crypto::{self, PgpKind, SigResult};

use super::headers::{cap_subject, strip_legacy_display, strip_legacy_display_html};
use super::text::{LegacyText, RawBlocks, armor_left_unencoded, legacy_charset, transfer_decoded};
use super::{Attachment, MAX_COVER_LIST, PartCover, Walker};

impl Walker<'_> {
    /// Is the time budget spent? Notes it once; the walk then reads nothing more.
    pub(super) fn out_of_time(&mut self) -> bool {
        if !self.timed_out && std::time::Instant::now() >= self.deadline {
            self.timed_out = true;
            self.report.notes.push(format!(
                "limits.time_budget ({}) spent: the remaining parts were not read",
                self.limits.time_budget
            ));
        }
        self.timed_out
    }

    /// Stores an attachment unless `limits.max_attachments` are stored already.
    pub(super) fn push_attachment(&mut self, a: Attachment) {
        if self.report.attachments.len() >= self.limits.max_attachments {
            self.attachments_dropped += 1;
        } else {
            self.report.attachments.push(a);
        }
    }

    /// Records one content part under the protection in force where it was read.
    pub(super) fn cover(&mut self, part: &str, bytes: usize) {
        if bytes == 0 {
            return;
        }
        self.covered += 1;
        let (encrypted, signed) = (self.ctx_encrypted, self.ctx_signed);
        let list = &mut self.report.coverage;
        if list.len() < MAX_COVER_LIST {
            list.push(PartCover {
                part: part.chars().filter(|c| !c.is_control()).take(80).collect(),
                bytes,
                encrypted,
                signed,
            });
        } else if let Some(last) = list.last_mut() {
            // Past the cap one entry stands for the rest: protected only if all were.
            last.part = format!("{} more parts", self.covered - MAX_COVER_LIST + 1);
            last.bytes += bytes;
            last.encrypted &= encrypted;
            last.signed &= signed;
        }
    }

    /// Runs `f` with the protection context changed, then restores it.
    pub(super) fn within(&mut self, encrypted: bool, signed: bool, f: impl FnOnce(&mut Self)) {
        let saved = (self.ctx_encrypted, self.ctx_signed);
        self.ctx_encrypted |= encrypted;
        self.ctx_signed |= signed;
        f(self);
        (self.ctx_encrypted, self.ctx_signed) = saved;
    }

    /// Appends a text (trimmed). An owned text that starts the report is moved, not
    /// copied: a large decrypted report is held once.
    pub(super) fn push_text(&mut self, t: std::borrow::Cow<'_, str>) {
        let trimmed = t.trim();
        if trimmed.is_empty() {
            return;
        }
        if !self.report.text.is_empty() {
            self.report.text.push_str("\n\n");
            self.report.text.push_str(trimmed);
            return;
        }
        let (start, end) = (t.len() - t.trim_start().len(), t.trim_end().len());
        let mut owned = t.into_owned();
        owned.truncate(end);
        owned.drain(..start);
        self.report.text = owned;
    }

    pub(super) fn walk_part(&mut self, msg: &Message<'_>, idx: usize, depth: usize) {
        if self.out_of_time() {
            return;
        }
        self.parts_seen += 1;
        if self.parts_seen > self.limits.max_mime_parts {
            if self.parts_seen == self.limits.max_mime_parts + 1 {
                self.report.notes.push(format!(
                    "more than limits.max_mime_parts ({}) MIME parts; the rest was not read",
                    self.limits.max_mime_parts
                ));
            }
            return;
        }
        if depth > self.limits.max_mime_depth {
            self.report.notes.push(format!(
                "MIME nesting deeper than limits.max_mime_depth ({}); inner parts not read",
                self.limits.max_mime_depth
            ));
            return;
        }
        let Some(part) = msg.parts.get(idx) else {
            return;
        };
        let ct = part.content_type();
        let ctype = lower(ct.map(|c| c.ctype()));
        let sub = lower(ct.and_then(|c| c.subtype()));
        // Header protection: `protected-headers="v1"` (Thunderbird, Enigmail, neomutt) or
        // RFC 9788's `hp="cipher"` / `hp="clear"` on the cryptographic payload.
        if ct.is_some_and(|c| {
            c.attribute("protected-headers").is_some() || c.attribute("hp").is_some()
        }) {
            self.protected_headers(part);
        }
        // RFC 9788 §4.5.3: a main body part that begins with a copy of the protected
        // headers for clients that cannot show them ("Subject: …" and a blank line, or an
        // HTML div) marks it `hp-legacy-display="1"`; inside the protection that copy is
        // not the reporter's text.
        let legacy_display = (self.ctx_encrypted || self.ctx_signed)
            && self.forwarded == 0
            && ct
                .and_then(|c| c.attribute("hp-legacy-display"))
                .map(str::trim)
                == Some("1");
        if self.in_report > 0 {
            // A delivery report's parts: its fields, and the returned headers (RFC 3464).
            match (ctype.as_str(), sub.as_str()) {
                ("message", "delivery-status" | "global-delivery-status") => {
                    let text = String::from_utf8_lossy(part.contents());
                    if let Some(d) = self.report.delivery.as_mut() {
                        d.read_fields(&text);
                    }
                }
                ("message", "disposition-notification" | "global-disposition-notification") => {
                    let text = String::from_utf8_lossy(part.contents());
                    if let Some(d) = self.report.delivery.as_mut() {
                        d.read_mdn_fields(&text);
                    }
                }
                ("message", "feedback-report") => {
                    let text = String::from_utf8_lossy(part.contents());
                    if let Some(d) = self.report.delivery.as_mut() {
                        d.read_feedback_fields(&text);
                    }
                }
                ("text", "rfc822-headers") | ("message", "global-headers") => {
                    let text = String::from_utf8_lossy(part.contents());
                    if let Some(d) = self.report.delivery.as_mut() {
                        d.read_returned_headers(&text);
                    }
                    return;
                }
                _ => {}
            }
        }
        if ctype == "text" && sub == "rfc822-headers" && !is_attachment(part) {
            // The "legacy display" part of header protection (Thunderbird, Enigmail):
            // a copy of the protected headers for old readers, not body text.
            return;
        }
        match &part.body {
            PartType::Multipart(children) => match sub.as_str() {
                // A delivery report: RFC 6522's multipart/report, or any multipart with a
                // delivery-status part (OpenSMTPD sends multipart/mixed); or a read
                // receipt (RFC 8098). Only the message's own: not one forwarded to us or
                // inside an encryption (mail servers never encrypt their reports).
                _ if self.forwarded == 0
                    && !self.ctx_encrypted
                    && self.in_report == 0
                    && (is_report_type(&lower(ct.and_then(|c| c.attribute("report-type"))))
                        || children.iter().any(|&c| {
                            msg.parts.get(c as usize).is_some_and(|p| {
                                let t = p.content_type();
                                lower(t.map(|t| t.ctype())) == "message"
                                    && is_report_type(&lower(t.and_then(|t| t.subtype())))
                            })
                        })) =>
                {
                    self.report.delivery.get_or_insert_default();
                    self.in_report += 1;
                    for &c in children {
                        self.walk_part(msg, c as usize, depth + 1);
                    }
                    self.in_report -= 1;
                }
                "encrypted" => {
                    let payload = children
                        .iter()
                        .filter_map(|&c| msg.parts.get(c as usize))
                        .find(|p| crypto::sniff(p.contents()) == PgpKind::Message)
                        .map(|p| p.contents().to_vec());
                    match payload {
                        Some(data) => {
                            self.mime_blocks += 1;
                            self.decrypt_entity(&data, depth, true);
                        }
                        None => {
                            // A clear-signed text where the encrypted message belongs (a
                            // signature spoofing attempt, or a client's mistake): read and
                            // verified as sent, and said to be unencrypted.
                            let cleartext = children
                                .iter()
                                .filter_map(|&c| msg.parts.get(c as usize))
                                .find(|p| crypto::sniff(p.contents()) == PgpKind::SignedCleartext);
                            if let Some(p) = cleartext {
                                self.report.notes.push(
                                    "multipart/encrypted held no encrypted message but a clear-signed text: read as sent, not encrypted".into(),
                                );
                                self.text(String::from_utf8_lossy(p.contents()), depth + 1);
                                return;
                            }
                            self.report.encrypted_parts += 1;
                            self.report
                                .decrypt_errors
                                .push("multipart/encrypted without an OpenPGP message part".into());
                        }
                    }
                }
                "signed"
                    if lower(ct.and_then(|c| c.attribute("protocol")))
                        .contains("pkcs7-signature") =>
                {
                    // S/MIME: recognised and said so, not mistaken for a bad OpenPGP signature.
                    self.report.smime.push(SmimePart::Signed);
                    self.report.signatures.push(SigResult {
                        status: SigStatus::Smime,
                        signer: None,
                        user_id: None,
                        detail: Some(
                            "S/MIME (X.509) signature: not checked, triaged verifies OpenPGP signatures only"
                                .into(),
                        ),
                        emails: Vec::new(),
                    });
                    if let Some(&first) = children.first() {
                        self.walk_part(msg, first as usize, depth + 1);
                    }
                }
                "signed" => {
                    let before = self.report.signatures.len();
                    self.verify_multipart_signed(msg, idx, children, ct);
                    let signed = self.report.signatures.len() > before;
                    if let Some(&first) = children.first() {
                        self.within(false, signed, |w| {
                            w.walk_part(msg, first as usize, depth + 1)
                        });
                    }
                }
                "alternative" => {
                    let plain = children.iter().find(|&&c| {
                        msg.parts
                            .get(c as usize)
                            .is_some_and(|p| matches!(p.body, PartType::Text(_)))
                    });
                    match plain {
                        Some(&c) => self.walk_part(msg, c as usize, depth + 1),
                        None => {
                            for &c in children.iter().rev().take(1) {
                                self.walk_part(msg, c as usize, depth + 1);
                            }
                        }
                    }
                }
                "mixed" => match mixed_up_payload(msg, children) {
                    // "Mixed-up" PGP/MIME (Exchange rewrites multipart/encrypted as
                    // multipart/mixed): repaired and read as PGP/MIME, as Delta Chat and
                    // Thunderbird do, so the inner MIME entity, signature and protected
                    // headers are read instead of an attachment.
                    Some((data, text)) => {
                        self.report.notes.push(
                            "mixed-up PGP/MIME (multipart/encrypted rewritten as multipart/mixed by a server): repaired and read as PGP/MIME".into(),
                        );
                        // The server's own text beside it (Proton Mail Bridge writes
                        // "Empty Message") is read too, as the unencrypted text it is.
                        if let Some(t) = text {
                            self.walk_part(msg, t as usize, depth + 1);
                        }
                        self.mime_blocks += 1;
                        self.decrypt_entity(&data, depth, true);
                    }
                    None => {
                        for &c in children {
                            self.walk_part(msg, c as usize, depth + 1);
                        }
                    }
                },
                _ => {
                    for &c in children {
                        self.walk_part(msg, c as usize, depth + 1);
                    }
                }
            },
            PartType::Text(t) => {
                // Declared quoted-printable (mail-parser keeps the raw text when it
                // cannot decode it, so its own `encoding` may already say none).
                let declared_qp = part.encoding == mail_parser::Encoding::QuotedPrintable
                    || part
                        .content_transfer_encoding()
                        .is_some_and(|e| e.trim().eq_ignore_ascii_case("quoted-printable"));
                let unencoded = (declared_qp && t.contains("-----BEGIN PGP MESSAGE-----"))
                    .then(|| {
                        msg.raw_message()
                            .get(part.offset_body as usize..part.offset_end as usize)
                    })
                    .flatten()
                    .filter(|raw| armor_left_unencoded(raw))
                    .map(|raw| RawBlocks {
                        raw: raw.to_vec(),
                        pos: 0,
                    });
                let saved_unencoded = std::mem::replace(&mut self.unencoded, unencoded);
                if is_attachment(part) {
                    self.binary_unless_cut(msg, part, t.as_bytes(), depth);
                } else if let Some(decode) =
                    legacy_charset(part).filter(|_| t.contains("-----BEGIN PGP "))
                    && let Some(raw) = transfer_decoded(msg, part)
                {
                    let saved = self.legacy.replace(LegacyText {
                        raw,
                        pos: 0,
                        decode,
                    });
                    self.text(std::borrow::Cow::Borrowed(t.as_ref()), depth);
                    self.legacy = saved;
                } else {
                    let body: &str = if legacy_display {
                        strip_legacy_display(t)
                    } else {
                        t
                    };
                    // format=flowed (Thunderbird, Apple Mail): the lines as typed. Not
                    // where OpenPGP armor is, whose clear signatures cover the lines sent.
                    let flowed = sub == "plain"
                        && lower(ct.and_then(|c| c.attribute("format"))) == "flowed"
                        && !body.contains("-----BEGIN PGP ");
                    if flowed {
                        let delsp = lower(ct.and_then(|c| c.attribute("delsp"))) == "yes";
                        let text = crate::read::flowed::unflow(body, delsp);
                        self.text(std::borrow::Cow::Owned(text), depth);
                    } else {
                        self.text(std::borrow::Cow::Borrowed(body), depth);
                    }
                }
                self.unencoded = saved_unencoded;
            }
            PartType::Html(h) => {
                if is_attachment(part) {
                    self.binary_unless_cut(msg, part, h.as_bytes(), depth);
                } else {
                    let h = if legacy_display {
                        strip_legacy_display_html(h)
                    } else {
                        std::borrow::Cow::Borrowed(h.as_ref())
                    };
                    let t = crate::read::html::to_text(&h);
                    self.text(std::borrow::Cow::Owned(t), depth);
                }
            }
            PartType::Binary(b) | PartType::InlineBinary(b) => {
                if ctype == "application" && sub == "pgp-encrypted" && b.len() < 64 {
                    return; // the "Version: 1" control part of PGP/MIME
                }
                if ctype == "application" && sub == "pgp-signature" {
                    return; // handled by multipart/signed
                }
                if ctype == "application"
                    && matches!(sub.as_str(), "pkcs7-signature" | "x-pkcs7-signature")
                {
                    return; // the S/MIME detached signature, recorded with its multipart/signed
                }
                if ctype == "application" && matches!(sub.as_str(), "pkcs7-mime" | "x-pkcs7-mime") {
                    self.smime_part(part);
                    return;
                }
                self.binary_unless_cut(msg, part, b, depth);
            }
            PartType::Message(inner) if self.in_report > 0 => {
                // The message a delivery report returns is mail someone sent (an ack
                // of ours, usually encrypted to the reporter): its Message-ID says
                // which; its body is not read.
                if let Some(d) = self.report.delivery.as_mut() {
                    match inner.message_id() {
                        Some(id) => d.add_original(id),
                        None => {
                            d.read_returned_headers(&String::from_utf8_lossy(inner.raw_message()))
                        }
                    }
                }
                let what = match self.report.delivery.as_ref() {
                    Some(d) if d.feedback.is_some() => "feedback report: the reported message",
                    _ => "delivery report: the returned message",
                };
                self.report.notes.push(format!("{what} was not read"));
            }
            PartType::Message(inner) => {
                // A forwarded message's headers (protected or not) are not ours.
                self.forwarded += 1;
                self.walk_part(inner, 0, depth + 1);
                self.forwarded -= 1;
            }
        }
    }

    /// Parses decrypted bytes as a MIME entity and walks it; takes its protected headers.
    pub(super) fn walk_bytes(&mut self, bytes: &[u8], depth: usize) {
        match MessageParser::default().parse(bytes) {
            Some(inner) if !inner.headers().is_empty() => {
                if let Some(s) = inner.subject() {
                    self.report.subject = Some(cap_subject(s, &mut self.report.notes));
                }
                if let Some(a) = inner.from().and_then(|a| a.first())
                    && let Some(addr) = a.address()
                {
                    self.report.inner_from = Some(addr.to_ascii_lowercase());
                }
                if self.report.from_addr.is_none()
                    && let Some(a) = inner.from().and_then(|a| a.first())
                {
                    self.report.from_addr = a.address().map(|s| s.to_ascii_lowercase());
                }
                self.autocrypt(&inner);
                self.walk_part(&inner, 0, depth);
            }
            _ => {
                self.text(String::from_utf8_lossy(bytes), depth);
            }
        }
    }
}

/// The OpenPGP payload of a "mixed-up" PGP/MIME message: a multipart/mixed whose parts
/// are an `application/pgp-encrypted` control part, one OpenPGP message, and at most
/// one text/plain part (empty where Exchange leaves it, "Empty Message" from Proton
/// Mail Bridge); the text part's index is returned when it holds more than white space.
/// Anything else is a real multipart/mixed and is read part by part.
fn mixed_up_payload(msg: &Message<'_>, children: &[u32]) -> Option<(Vec<u8>, Option<u32>)> {
    if !(2..=3).contains(&children.len()) {
        return None;
    }
    let (mut control, mut payload, mut text, mut other) = (0, None, None, 0);
    for &c in children {
        let Some(p) = msg.parts.get(c as usize) else {
            other += 1;
            continue;
        };
        let ct = p.content_type();
        let t = (
            lower(ct.map(|c| c.ctype())),
            lower(ct.and_then(|c| c.subtype())),
        );
        match (t.0.as_str(), t.1.as_str()) {
            ("application", "pgp-encrypted") if p.contents().len() < 64 => control += 1,
            _ if crypto::sniff(p.contents()) == PgpKind::Message && payload.is_none() => {
                payload = Some(p.contents().to_vec())
            }
            ("text", "plain") if text.is_none() && !is_attachment(p) => {
                text = Some((!p.contents().iter().all(u8::is_ascii_whitespace)).then_some(c))
            }
            _ => other += 1,
        }
    }
    if control != 1 || other != 0 {
        return None;
    }
    payload.map(|data| (data, text.flatten()))
}

fn is_attachment(part: &mail_parser::MessagePart<'_>) -> bool {
    part.content_disposition()
        .is_some_and(|d| d.is_attachment())
        || part.attachment_name().is_some()
}

pub(super) fn lower(s: Option<&str>) -> String {
    s.unwrap_or("").to_ascii_lowercase()
}

pub(super) fn id_list(v: &mail_parser::HeaderValue<'_>) -> Vec<String> {
    if let Some(list) = v.as_text_list() {
        list.iter().map(|s| s.to_string()).collect()
    } else if let Some(t) = v.as_text() {
        vec![t.to_string()]
    } else {
        Vec::new()
    }
}

/// A report type (or part subtype) that says what became of a message: a delivery
/// status (RFC 3464, 6533), a disposition notification (RFC 8098) or a receiver's
/// feedback (RFC 5965, 6591).
fn is_report_type(t: &str) -> bool {
    t.ends_with("delivery-status")
        || t.ends_with("disposition-notification")
        || t == "feedback-report"
}
