//! Headers: what the outer and the protected (RFC 9788) headers say.
//!
//! Owns the header fields a case needs (addresses, Message-ID, threading, RFC 3834 and
//! its vendor look-alikes), `Autocrypt:` keys, the inner Subject of a protected-headers
//! part and its legacy display element, and the caps on header lines and subjects.

use mail_parser::{Message, MimeHeaders};

use crate::read::crypto::{self, FoundKey};

use super::Walker;
use super::walk::id_list;

impl Walker<'_> {
    pub(super) fn headers(&mut self, msg: &Message<'_>) {
        let raw = msg.raw_message();
        let value = |h: &mail_parser::Header<'_>| {
            String::from_utf8_lossy(
                raw.get(h.offset_start as usize..h.offset_end as usize)
                    .unwrap_or_default(),
            )
            .trim()
            .to_string()
        };
        let named = |n: &str| -> Vec<String> {
            msg.headers()
                .iter()
                .filter(|h| h.name().eq_ignore_ascii_case(n))
                .map(value)
                .collect()
        };
        let froms = named("from");
        let x_loop = named("x-loop");
        let r = &mut self.report;
        r.x_loop = x_loop;
        if let Some(a) = msg.from().and_then(|a| a.first()) {
            r.from_addr = a.address().map(|s| s.trim().to_ascii_lowercase());
            r.from_name = a.name().map(str::to_string);
        }
        // The address we may answer comes from a strict RFC 5322 reading of every
        // From header; mail-parser's lenient reading stays for display only.
        let refs: Vec<&str> = froms.iter().map(String::as_str).collect();
        match crate::read::address::sender(&refs) {
            Ok(m) => {
                r.from_problem = m.unanswerable();
                r.from_addr = Some(m.addr());
            }
            Err(e) if !froms.is_empty() => r.from_problem = Some(e),
            Err(_) => {}
        }
        r.reply_to = msg
            .reply_to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .map(|s| s.trim().to_ascii_lowercase());
        r.return_path = msg
            .header_raw("Return-Path")
            .map(|s| s.trim().to_string())
            .or_else(|| id_list(msg.return_path()).into_iter().next());
        if let Some(to) = msg.to() {
            r.to = to
                .iter()
                .filter_map(|a| a.address().map(|s| s.to_ascii_lowercase()))
                .collect();
        }
        r.outer_subject = msg.subject().map(|s| cap_subject(s, &mut r.notes));
        r.message_id = msg.message_id().map(str::to_string);
        r.in_reply_to = id_list(msg.in_reply_to());
        r.references = id_list(msg.references());
        r.date = msg.date().map(|d| d.to_timestamp());
        r.auto_submitted = msg
            .header_raw("Auto-Submitted")
            .map(|s| s.trim().to_string());
        r.precedence = msg.header_raw("Precedence").map(|s| s.trim().to_string());
        r.list_id = msg.header_raw("List-Id").map(|s| s.trim().to_string());
        if r.list_id.is_some() {
            r.list_post = msg.header_raw("List-Post").and_then(list_post_mailto);
        }
        let strict = |h: &str| {
            let values = named(&h.to_ascii_lowercase());
            let refs: Vec<&str> = values.iter().map(String::as_str).collect();
            if refs.is_empty() {
                return None;
            }
            let m = crate::read::address::sender(&refs).ok()?;
            Some(super::OriginalSender {
                header: h.to_string(),
                addr: m.addr(),
                name: m.name.clone(),
                problem: m.unanswerable(),
            })
        };
        r.original_from = strict("X-Original-From");
        r.reply_to_sender = strict("Reply-To");
        r.automatic = automatic_marker(msg);
    }

    /// `Autocrypt: addr=...; [prefer-encrypt=mutual;] keydata=BASE64`
    pub(super) fn autocrypt(&mut self, msg: &Message<'_>) {
        let Some(h) = msg.header_raw("Autocrypt") else {
            return;
        };
        // Autocrypt Level 1: the header counts only when its addr= is the From address,
        // and not at all when it has an unknown critical attribute (one without `_`).
        let mut keydata = None;
        let mut addr = None;
        let mut unknown_critical = false;
        for attr in h.split(';') {
            let attr = attr.trim();
            if let Some(v) = attr.strip_prefix("keydata=") {
                let b64: Vec<u8> = v.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
                keydata = mail_parser::decoders::base64::base64_decode(&b64);
            } else if let Some(v) = attr.strip_prefix("addr=") {
                addr = Some(v.trim().to_ascii_lowercase());
            } else if let Some((name, _)) = attr.split_once('=')
                && !name.trim().starts_with('_')
                && name.trim() != "prefer-encrypt"
            {
                unknown_critical = true;
            }
        }
        let from = self.report.from_addr.as_deref();
        if unknown_critical || addr.is_none() || addr.as_deref() != from {
            if keydata.is_some() {
                self.report.notes.push(format!(
                    "Autocrypt header ignored: {}",
                    if unknown_critical {
                        "it has an unknown critical attribute".to_string()
                    } else {
                        format!(
                            "its addr= ({}) is not the From address",
                            addr.as_deref().unwrap_or("none")
                        )
                    }
                ));
            }
            return;
        }
        if let Some(bytes) = keydata {
            for k in self.read_certs(&bytes, crypto::KeySource::Autocrypt) {
                self.add_key(k);
            }
        }
    }

    /// Reads keys within `limits.max_key_*`, noting what was cut.
    pub(super) fn read_certs(&mut self, data: &[u8], source: crypto::KeySource) -> Vec<FoundKey> {
        let lim = crypto::KeyLimits {
            user_ids: self.limits.max_key_user_ids,
            subkeys: self.limits.max_key_subkeys,
            ..crypto::KeyLimits::default()
        };
        let (keys, note) = crypto::read_certs_limited(data, source, &lim);
        if let Some(n) = note {
            self.report.notes.push(n);
        }
        keys
    }

    pub(super) fn add_key(&mut self, k: FoundKey) {
        // The team's own key pasted into a report (or attached "for reference") is not
        // the reporter's key: an ack must never be encrypted to ourselves only.
        if self
            .team
            .fingerprints()
            .iter()
            .any(|f| f.eq_ignore_ascii_case(&k.fingerprint))
        {
            self.report.notes.push(format!(
                "the team's own key {} was in the message: not taken as the reporter's key",
                k.fingerprint
            ));
            return;
        }
        if !self
            .report
            .keys
            .iter()
            .any(|x| x.fingerprint == k.fingerprint)
        {
            self.extra.push(k.cert.clone());
            self.report.keys.push(k);
        }
    }

    /// Header protection (`protected-headers="v1"` on a part inside the encryption or
    /// the signature, as Thunderbird, Delta Chat, neomutt and the LAMPS header-protection
    /// draft write it): the part's Subject and From are the message's real ones. Parts
    /// are walked outside in, so the innermost protected part wins. Ignored outside any
    /// protection (anyone can write the attribute) and inside forwarded messages.
    pub(super) fn protected_headers(&mut self, part: &mail_parser::MessagePart<'_>) {
        if !(self.ctx_encrypted || self.ctx_signed) || self.forwarded > 0 {
            return;
        }
        let header = |name: &str| {
            part.headers
                .iter()
                .find(|h| h.name.as_str().eq_ignore_ascii_case(name))
        };
        if let Some(s) = header("subject").and_then(|h| h.value.as_text()) {
            self.report.subject = Some(cap_subject(s, &mut self.report.notes));
        }
        if let Some(addr) = header("from")
            .and_then(|h| h.value.as_address())
            .and_then(|a| a.first())
            .and_then(|a| a.address())
        {
            self.report.inner_from = Some(addr.to_ascii_lowercase());
        }
    }
}

/// Cuts header lines (of the header block only) longer than `max` bytes, noting each cut.
/// The stored raw message is never changed; this is only what the parser reads.
pub(super) fn cap_header_lines<'a>(
    raw: &'a [u8],
    max: u64,
    notes: &mut Vec<String>,
) -> std::borrow::Cow<'a, [u8]> {
    let max = usize::try_from(max).unwrap_or(usize::MAX).max(78);
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .into_iter()
        .chain(raw.windows(2).position(|w| w == b"\n\n"))
        .min()
        .unwrap_or(raw.len());
    let (head, tail) = raw.split_at_checked(head_end).unwrap_or((raw, &[]));
    if head.split(|&b| b == b'\n').all(|l| l.len() <= max) {
        return std::borrow::Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    for (i, line) in head.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        if line.len() > max {
            let name_end = line.iter().position(|&b| b == b':').unwrap_or(0).min(40);
            notes.push(format!(
                "header line {} ({}...) is {} bytes, longer than limits.max_header_line ({max} bytes): cut",
                i + 1,
                String::from_utf8_lossy(line.get(..name_end).unwrap_or(line)),
                line.len()
            ));
            out.extend_from_slice(line.get(..max).unwrap_or(line));
            if line.ends_with(b"\r") {
                out.push(b'\r');
            }
        } else {
            out.extend_from_slice(line);
        }
    }
    out.extend_from_slice(tail);
    std::borrow::Cow::Owned(out)
}

/// Longest subject kept (characters). A subject is a line for people; a 10 MB
/// folded one is an attack on the store (it would be kept in three columns).
pub(crate) const MAX_SUBJECT: usize = 998;

/// `List-Post: <https://…/post>, <mailto:security@example.org>` → the mailto address,
/// lower case, without a `?subject=` query. `NO` (RFC 2369: posting not allowed) and
/// web-only values give nothing.
fn list_post_mailto(v: &str) -> Option<String> {
    let lower = v.to_ascii_lowercase();
    let at = lower.find("<mailto:")?;
    let rest = lower.get(at + "<mailto:".len()..)?;
    let end = rest.find(['>', '?'])?;
    let addr = rest.get(..end)?.trim();
    (addr.contains('@') && !addr.contains(char::is_whitespace)).then(|| addr.to_string())
}

/// A machine-written message that no header of RFC 3834 marks: a `multipart/report`
/// (RFC 6522: delivery status, read receipts, abuse feedback), a vacation responder's
/// `X-Autoreply` / `X-Autorespond`, or `X-Auto-Response-Suppress: All` / `AutoReply`
/// (Exchange: the sender asks not to be answered automatically).
fn automatic_marker(msg: &Message<'_>) -> Option<String> {
    if let Some(ct) = msg.content_type()
        && ct.ctype().eq_ignore_ascii_case("multipart")
        && ct
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    {
        return Some(format!(
            "multipart/report; report-type={}",
            ct.attribute("report-type").unwrap_or("?")
        ));
    }
    for name in ["X-Autoreply", "X-Autorespond", "X-Autoresponder"] {
        if let Some(v) = msg.header_raw(name).map(str::trim)
            && !matches!(v.to_ascii_lowercase().as_str(), "no" | "false" | "0")
        {
            return Some(format!("{name}: {v}"));
        }
    }
    if let Some(v) = msg.header_raw("X-Auto-Response-Suppress").map(str::trim)
        && v.split([',', ' '])
            .any(|t| t.eq_ignore_ascii_case("all") || t.eq_ignore_ascii_case("autoreply"))
    {
        return Some(format!("X-Auto-Response-Suppress: {v}"));
    }
    None
}

/// RFC 9788 §4.5.3.2: the legacy display element of a text/plain part, header lines
/// ("Subject: …") up to the first blank line, removed. A part that does not begin that
/// way is left as it is.
pub(super) fn strip_legacy_display(t: &str) -> &str {
    let mut rest = t;
    let mut fields = 0;
    loop {
        let (line, after) = match rest.find('\n') {
            Some(i) => (
                rest.get(..i).unwrap_or_default(),
                rest.get(i + 1..).unwrap_or_default(),
            ),
            None => return t,
        };
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            return if fields > 0 { after } else { t };
        }
        let is_field = line.split_once(':').is_some_and(|(name, _)| {
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
        // A folded continuation line belongs to the field above it.
        let continues = fields > 0 && line.starts_with([' ', '\t']);
        if !is_field && !continues {
            return t;
        }
        fields += usize::from(is_field);
        rest = after;
    }
}

/// RFC 9788 §4.5.3.3: the legacy display element of a text/html part, the `div` of
/// class `header-protection-legacy-display`, removed (its `pre` holds no `div`).
pub(super) fn strip_legacy_display_html(h: &str) -> std::borrow::Cow<'_, str> {
    let lower = h.to_ascii_lowercase();
    let Some(class_at) = lower.find("header-protection-legacy-display") else {
        return std::borrow::Cow::Borrowed(h);
    };
    let Some(start) = lower.get(..class_at).and_then(|b| b.rfind("<div")) else {
        return std::borrow::Cow::Borrowed(h);
    };
    let Some(end) = lower
        .get(class_at..)
        .and_then(|a| a.find("</div"))
        .map(|i| class_at + i)
        .and_then(|i| lower.get(i..).and_then(|a| a.find('>')).map(|j| i + j + 1))
    else {
        return std::borrow::Cow::Borrowed(h);
    };
    match (h.get(..start), h.get(end..)) {
        (Some(a), Some(b)) => std::borrow::Cow::Owned(format!("{a}{b}")),
        _ => std::borrow::Cow::Borrowed(h),
    }
}

/// Outer subjects that clients with header protection put in place of the real one
/// (Thunderbird, neomutt and the LAMPS draft: "...", Enigmail: "Encrypted Message",
/// pEp: "pEp" / "p≡p", Delta Chat: "[...]").
pub(super) fn is_subject_placeholder(s: &str) -> bool {
    let t = s.trim();
    ["...", "…", "[...]", "encrypted message", "pep", "p≡p"]
        .iter()
        .any(|p| t.eq_ignore_ascii_case(p))
}

pub(super) fn cap_subject(s: &str, notes: &mut Vec<String>) -> String {
    match s.char_indices().nth(MAX_SUBJECT) {
        None => s.to_string(),
        Some((cut, _)) => {
            notes.push(format!(
                "the Subject is {} bytes long: only its first {MAX_SUBJECT} characters are kept",
                s.len()
            ));
            s.get(..cut).unwrap_or(s).to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_legacy_display_element_is_removed_and_nothing_else() {
        // RFC 9788 Appendix E.1's text, and the same with a folded field.
        let t = "Subject: Dinner plans\r\n\r\nLet's meet at Rama's Roti Shop at 8pm.\r\n";
        assert_eq!(
            strip_legacy_display(t),
            "Let's meet at Rama's Roti Shop at 8pm.\r\n"
        );
        let t = "Subject: a long\n subject\nTo: bob@example.net\n\nBody.\n";
        assert_eq!(strip_legacy_display(t), "Body.\n");
        // Text that does not begin with header lines keeps every line.
        for t in [
            "Hello: this is how I start.\nThe bug is in /login.\n\nmore\n",
            "\nSubject: late\n\nBody\n",
            "Subject: no blank line after it",
            "Steps to reproduce:\n1. log in\n\nmore\n",
        ] {
            assert_eq!(strip_legacy_display(t), t, "{t:?}");
        }
        let h = "<html><body>\n<div class=\"header-protection-legacy-display\">\n<pre>Subject: Dinner plans</pre>\n</div>\n<p>Let's meet.</p></body></html>";
        let out = strip_legacy_display_html(h);
        assert!(
            !out.contains("Dinner plans") && out.contains("<p>Let's meet.</p>"),
            "{out}"
        );
        let plain = "<p>No legacy display here.</p>";
        assert_eq!(strip_legacy_display_html(plain), plain);
    }
}
