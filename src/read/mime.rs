//! MIME: turn raw message bytes into a [`Report`] (parse, unwrap, decrypt).
//!
//! This module owns the walk over a message's MIME tree with mail-parser:
//! PGP/MIME encrypted (RFC 3156 §4) and signed (§5) parts, inline
//! ASCII-armored PGP blocks in text parts, encrypted attachments
//! (`*.asc`, `*.pgp`, `*.gpg`), attached public keys and `Autocrypt:` headers,
//! HTML converted to text, and protected headers (the inner Subject).
//! Cryptography itself is delegated to [`crate::read::crypto`]. It never classifies
//! and never writes anywhere.

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};
use serde::{Deserialize, Serialize};

use crate::config::Limits;
use crate::domain::status::{Encryption, SigStatus, SmimePart};
use crate::read::crypto::{self, FoundKey, PgpKind, SigResult, TeamKeys};

/// One attachment, decrypted when it was encrypted and we could.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Attachment {
    pub name: Option<String>,
    pub content_type: String,
    pub size: usize,
    /// The attachment arrived encrypted (and `data` is the plaintext when decrypted).
    pub encrypted: bool,
    #[serde(skip)]
    pub data: Vec<u8>,
}

/// Everything triaged reads out of one message.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    pub from_addr: Option<String>,
    pub from_name: Option<String>,
    pub reply_to: Option<String>,
    pub return_path: Option<String>,
    pub to: Vec<String>,
    /// The outer Subject header (for encrypted mail usually "..." or similar).
    pub outer_subject: Option<String>,
    /// The subject a reader sees: the protected (inner) Subject when present.
    pub subject: Option<String>,
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub date: Option<i64>,
    pub auto_submitted: Option<String>,
    pub precedence: Option<String>,
    pub list_id: Option<String>,
    /// Another sign of a machine-written message: a report (RFC 6522: a bounce, a read
    /// receipt), a vacation responder's `X-Autoreply`, or Microsoft's
    /// `X-Auto-Response-Suppress` asking for no automatic answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatic: Option<String>,
    pub encryption: Encryption,
    pub encrypted_parts: usize,
    pub decrypted_parts: usize,
    pub decrypt_errors: Vec<String>,
    pub signatures: Vec<SigResult>,
    /// Team certificate that decrypted the message.
    pub team_key: Option<String>,
    /// Hashes of the session keys that opened its encrypted parts (replay detection).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub session_keys: Vec<String>,
    /// The From inside the encryption (protected headers), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inner_from: Option<String>,
    /// All body text, decrypted, plain text preferred over HTML.
    pub text: String,
    pub attachments: Vec<Attachment>,
    /// Not read back from JSON: keys travel as armor and are parsed again.
    #[serde(skip_deserializing)]
    pub keys: Vec<FoundKey>,
    /// Things the walk noticed (limits reached, parts skipped).
    pub notes: Vec<String>,
    /// What each content part (text piece or attachment) was protected by, in
    /// reading order: an honest answer to "was this message signed / encrypted?"
    /// when only some of it was (Johnny-you-are-fired, EFAIL-style mixing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coverage: Vec<PartCover>,
    /// Why the From address cannot be answered automatically (ambiguous or
    /// malformed: several From headers or mailboxes, a quoted local part, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_problem: Option<String>,
    /// X-Loop header values (RFC-less but universal loop marker of autoresponders).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub x_loop: Vec<String>,
    /// S/MIME parts seen (`encrypted`, `signed`): recognised, never read as OpenPGP.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub smime: Vec<SmimePart>,
}

/// One content part and the protection it arrived under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartCover {
    /// `text` or the attachment's name (or content type).
    pub part: String,
    pub bytes: usize,
    pub encrypted: bool,
    pub signed: bool,
}

/// At most this many parts are listed (the counts stay exact).
const MAX_COVER_LIST: usize = 64;

impl Report {
    /// The message's signature status; `partial` when a good signature covers only
    /// some of the content parts (the unsigned rest must not borrow its trust).
    pub fn signature_status(&self) -> SigStatus {
        let s = crypto::summarize(&self.signatures);
        if s == SigStatus::Good && self.coverage.iter().any(|c| !c.signed) {
            SigStatus::Partial
        } else {
            s
        }
    }

    /// Some content arrived encrypted and some did not.
    pub(crate) fn partly_encrypted(&self) -> bool {
        self.coverage.iter().any(|c| c.encrypted) && self.coverage.iter().any(|c| !c.encrypted)
    }
}

/// The outcome of reading one message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Ok,
    /// Encrypted, and no part could be decrypted.
    Undecryptable(String),
    /// Not a parseable message at all.
    Unparseable(String),
    /// Not read within its limits (size, decrypted size, reader memory, time budget):
    /// the headers are kept and `case retry` may read it again with other limits.
    Oversize(String),
}

#[derive(Debug, Clone)]
pub struct Analysis {
    pub report: Report,
    pub status: Status,
}

/// Reads a raw message: parse, decrypt, verify, collect text, attachments and keys.
///
/// Never panics on hostile input that mail-parser and sequoia survive; the
/// caller still guards with `catch_unwind`.
pub fn analyze(raw: &[u8], team: &TeamKeys, limits: &Limits) -> Analysis {
    let budget =
        std::time::Duration::from_secs(u64::try_from(limits.time_budget.secs()).unwrap_or(0));
    let deadline = std::time::Instant::now() + budget;
    let mut cut_notes = Vec::new();
    let capped = cap_header_lines(raw, limits.max_header_line.0, &mut cut_notes);
    let raw: &[u8] = &capped;
    let mut a = analyze_passes(raw, team, limits, deadline);
    a.report.notes.splice(0..0, cut_notes);
    a
}

fn analyze_passes(
    raw: &[u8],
    team: &TeamKeys,
    limits: &Limits,
    deadline: std::time::Instant,
) -> Analysis {
    let first = analyze_with(raw, team, limits, &[], deadline);
    // A signature by a key that the message itself carries (signed-then-encrypted
    // with the key attached inside) can only be checked once we have the key: rerun.
    let unknown = first
        .report
        .signatures
        .iter()
        .any(|s| s.status == SigStatus::UnknownKey);
    if unknown && !first.report.keys.is_empty() {
        let extra: Vec<_> = first.report.keys.iter().map(|k| k.cert.clone()).collect();
        let mut second = analyze_with(raw, team, limits, &extra, deadline);
        second.report.keys = first.report.keys;
        return second;
    }
    first
}

fn analyze_with(
    raw: &[u8],
    team: &TeamKeys,
    limits: &Limits,
    extra: &[sequoia_openpgp::Cert],
    deadline: std::time::Instant,
) -> Analysis {
    analyze_walk(raw, team, limits, extra, deadline, None)
}

/// A message read as a stream (`read::stream`): `raw` is the message with its large
/// encrypted block replaced by [`STREAMED_BLOCK`] (and its body cut, when `cut`), and
/// `streamed` is what decrypting that block from the file gave. Everything else (headers,
/// structure, coverage, signatures, notes) is read as for any message.
pub(crate) fn analyze_streamed(
    raw: &[u8],
    team: &TeamKeys,
    limits: &Limits,
    streamed: Option<std::result::Result<crypto::Decrypted, String>>,
    cut: bool,
) -> Analysis {
    let budget =
        std::time::Duration::from_secs(u64::try_from(limits.time_budget.secs()).unwrap_or(0));
    let deadline = std::time::Instant::now() + budget;
    let mut cut_notes = Vec::new();
    let capped = cap_header_lines(raw, limits.max_header_line.0, &mut cut_notes);
    let mut a = analyze_walk(
        &capped,
        team,
        limits,
        &[],
        deadline,
        Some(Streamed {
            decrypted: streamed,
            cut,
        }),
    );
    a.report.notes.splice(0..0, cut_notes);
    a
}

/// Stands in for an encrypted block that was decrypted as a stream (an armored block,
/// so the MIME walk finds it where the real one stood).
pub(crate) const STREAMED_BLOCK: &str =
    "-----BEGIN PGP MESSAGE-----\r\n\r\ntriaged-streamed-block\r\n-----END PGP MESSAGE-----\r\n";
const STREAMED_MARK: &[u8] = b"triaged-streamed-block";

/// What [`analyze_streamed`] hands the walk.
struct Streamed {
    decrypted: Option<std::result::Result<crypto::Decrypted, String>>,
    /// The body or the decrypted content was read only in part: signatures over a
    /// part are not checked (they would fail on the missing rest).
    cut: bool,
}

fn analyze_walk(
    raw: &[u8],
    team: &TeamKeys,
    limits: &Limits,
    extra: &[sequoia_openpgp::Cert],
    deadline: std::time::Instant,
    streamed: Option<Streamed>,
) -> Analysis {
    let Some(msg) = MessageParser::default().parse(raw) else {
        return Analysis {
            report: Report {
                encryption: Encryption::None,
                ..Report::default()
            },
            status: Status::Unparseable("mail-parser could not read any header or body".into()),
        };
    };
    let known = [
        "from",
        "sender",
        "to",
        "date",
        "message-id",
        "subject",
        "received",
        "content-type",
    ];
    let has_known = msg
        .headers()
        .iter()
        .any(|h| known.iter().any(|k| h.name().eq_ignore_ascii_case(k)));
    if !has_known {
        return Analysis {
            report: Report {
                encryption: Encryption::None,
                ..Report::default()
            },
            status: Status::Unparseable(
                "no RFC 5322 header (From, Date, Subject, Message-ID, ...) found: not an email message".into(),
            ),
        };
    }
    let mut w = Walker {
        team,
        extra: extra.to_vec(),
        limits,
        report: Report::default(),
        parts_seen: 0,
        inline_blocks: 0,
        mime_blocks: 0,
        attachment_blocks: 0,
        deadline,
        timed_out: false,
        attachments_dropped: 0,
        ctx_encrypted: false,
        ctx_signed: false,
        covered: 0,
        smime_blocks: 0,
        forwarded: 0,
        streamed,
        legacy: None,
    };
    w.headers(&msg);
    w.autocrypt(&msg);
    w.walk_part(&msg, 0, 0);
    if w.attachments_dropped > 0 {
        w.report.notes.push(format!(
            "more than limits.max_attachments ({}): {} attachment(s) not stored (they stay in the raw message)",
            limits.max_attachments, w.attachments_dropped
        ));
    }
    let timed_out = w.timed_out;
    let mut report = w.report;
    report.encryption = if w.mime_blocks > 0 {
        Encryption::PgpMime
    } else if w.inline_blocks > 0 {
        Encryption::Inline
    } else if w.attachment_blocks > 0 {
        Encryption::Attachment
    } else if w.smime_blocks > 0 {
        Encryption::Smime
    } else {
        Encryption::None
    };
    if report.partly_encrypted() {
        let clear: Vec<&str> = report
            .coverage
            .iter()
            .filter(|c| !c.encrypted)
            .map(|c| c.part.as_str())
            .collect();
        report.notes.push(format!(
            "partial encryption: {} of {} content parts arrived unencrypted ({}); the rest was {}",
            clear.len(),
            report.coverage.len(),
            clear.join(", "),
            report.encryption
        ));
        report.encryption = Encryption::Partial;
    }
    if crypto::summarize(&report.signatures) == SigStatus::Good
        && report.coverage.iter().any(|c| !c.signed)
    {
        let unsigned: Vec<&str> = report
            .coverage
            .iter()
            .filter(|c| !c.signed)
            .map(|c| c.part.as_str())
            .collect();
        report.notes.push(format!(
            "partial signature: {} of {} content parts are not covered by the signature ({})",
            unsigned.len(),
            report.coverage.len(),
            unsigned.join(", ")
        ));
    }
    // Trimmed in place: no second copy of a large text.
    let end = report.text.trim_end().len();
    report.text.truncate(end);
    let start = report.text.len() - report.text.trim_start().len();
    report.text.drain(..start);
    // A good signature by someone other than the From address proves less than it
    // seems: compared exactly (normalised, without case) against every valid user id
    // of the signer, never as a substring; such a signature is not `good`.
    if let Some(from) = report.from_addr.clone() {
        for sg in report
            .signatures
            .iter_mut()
            .filter(|sg| sg.status == SigStatus::Good)
        {
            if !sg
                .emails
                .iter()
                .any(|e| e.eq_ignore_ascii_case(from.trim()))
            {
                let who = sg
                    .user_id
                    .clone()
                    .unwrap_or_else(|| "an unnamed key".into());
                sg.status = SigStatus::SignerMismatch;
                sg.detail = Some(format!(
                    "valid signature by {who}, whose user ids do not include the From address {from}"
                ));
                report.notes.push(format!(
                    "signature-mismatch: signed by {who}, but From is {from}"
                ));
            }
        }
    }
    if report.subject.is_none() {
        // A placeholder written by a client that hides the real Subject inside the
        // encryption never becomes the case's subject.
        report.subject = report
            .outer_subject
            .clone()
            .filter(|s| !is_subject_placeholder(s));
    }
    let bomb = report
        .decrypt_errors
        .iter()
        .find(|e| e.contains("max_decrypted_size"))
        .cloned();
    let status = if timed_out {
        Status::Oversize(format!(
            "time budget: reading took longer than limits.time_budget ({}); the parts after that were not read",
            limits.time_budget
        ))
    } else if let Some(e) = bomb.filter(|_| report.decrypted_parts == 0) {
        // A compression bomb (or a huge plaintext) is not "undecryptable": it is oversize.
        Status::Oversize(format!("oversize: {e}"))
    } else if report.encrypted_parts > 0 && report.decrypted_parts == 0 {
        Status::Undecryptable(
            report
                .decrypt_errors
                .first()
                .cloned()
                .unwrap_or_else(|| "decryption failed".into()),
        )
    } else {
        Status::Ok
    };
    Analysis { report, status }
}

struct Walker<'a> {
    team: &'a TeamKeys,
    extra: Vec<sequoia_openpgp::Cert>,
    limits: &'a Limits,
    report: Report,
    parts_seen: usize,
    inline_blocks: usize,
    mime_blocks: usize,
    attachment_blocks: usize,
    /// When the message's `limits.time_budget` is spent.
    deadline: std::time::Instant,
    timed_out: bool,
    attachments_dropped: usize,
    /// The part being read arrived inside an encryption layer.
    ctx_encrypted: bool,
    /// The part being read is covered by a signature (of whatever status).
    ctx_signed: bool,
    /// Content parts seen (the coverage list is capped; the summary is not).
    covered: usize,
    /// S/MIME encrypted parts (application/pkcs7-mime enveloped-data).
    smime_blocks: usize,
    /// How many message/rfc822 parts enclose the part being read.
    forwarded: usize,
    /// Set when the message is read as a stream (see [`analyze_streamed`]).
    streamed: Option<Streamed>,
    /// The text part being read, when it declares a charset other than UTF-8 and holds
    /// OpenPGP armor: its bytes before charset conversion, so a clear-signed block is
    /// verified over the bytes that were signed, and decrypted text is read in that
    /// charset ([`LegacyText`]).
    legacy: Option<LegacyText>,
}

/// A text part in a legacy charset (ISO-8859-1, windows-1252, KOI8-R …) that holds
/// OpenPGP armor. mail-parser hands its text over as UTF-8; a clear signature covers
/// the original bytes, and the plaintext of an inline encrypted block is in the
/// sender's charset, so both are read from here.
struct LegacyText {
    /// The part's body, transfer encoding removed, charset not converted.
    raw: Vec<u8>,
    /// How far the blocks already read reach into `raw` (armor markers are ASCII in
    /// every charset this is used for, so blocks come in the same order as in the text).
    pos: usize,
    decode: mail_parser::decoders::charsets::DecoderFnc,
}

impl LegacyText {
    /// The next armored block of `raw` that starts with `begin` and ends with `end`.
    fn next_block(&mut self, begin: &[u8], end: &[u8]) -> Option<&[u8]> {
        let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
        let start = self.pos + find(self.raw.get(self.pos..)?, begin)?;
        let stop = start + find(self.raw.get(start..)?, end)? + end.len();
        self.pos = stop;
        self.raw.get(start..stop)
    }

    /// Bytes in this part's charset as text (valid UTF-8 is taken as it is: a client
    /// that declared Latin-1 may still have sent UTF-8 inside the armor).
    fn text(&self, bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap_or_else(|e| (self.decode)(e.as_bytes()))
    }
}

/// The charset decoder of a text part that declares a charset other than UTF-8 or
/// US-ASCII (and which mail-parser knows).
fn legacy_charset(
    part: &mail_parser::MessagePart<'_>,
) -> Option<mail_parser::decoders::charsets::DecoderFnc> {
    let cs = part
        .content_type()?
        .attribute("charset")?
        .trim()
        .to_ascii_lowercase();
    if matches!(cs.as_str(), "utf-8" | "utf8" | "us-ascii" | "ascii" | "") {
        return None;
    }
    mail_parser::decoders::charsets::map::charset_decoder(cs.as_bytes())
}

/// A part's body with its transfer encoding removed (base64, quoted-printable), its
/// charset left as it is.
fn transfer_decoded(msg: &Message<'_>, part: &mail_parser::MessagePart<'_>) -> Option<Vec<u8>> {
    let raw = msg
        .raw_message()
        .get(part.offset_body as usize..part.offset_end as usize)?;
    match part.encoding {
        mail_parser::Encoding::None => Some(raw.to_vec()),
        mail_parser::Encoding::QuotedPrintable => {
            mail_parser::decoders::quoted_printable::quoted_printable_decode(raw)
        }
        mail_parser::Encoding::Base64 => mail_parser::decoders::base64::base64_decode(raw),
    }
}

/// The `Charset:` armor header of an ASCII-armored block (RFC 4880 6.2), as a decoder.
fn armor_charset(armored: &[u8]) -> Option<mail_parser::decoders::charsets::DecoderFnc> {
    let head = armored.get(..armored.len().min(1024))?;
    let text = std::str::from_utf8(head).ok()?;
    text.lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case("charset")
                .then(|| v.trim().to_ascii_lowercase())
        })
        .filter(|cs| !matches!(cs.as_str(), "utf-8" | "utf8" | "us-ascii"))
        .and_then(|cs| mail_parser::decoders::charsets::map::charset_decoder(cs.as_bytes()))
}

fn lower(s: Option<&str>) -> String {
    s.unwrap_or("").to_ascii_lowercase()
}

fn id_list(v: &mail_parser::HeaderValue<'_>) -> Vec<String> {
    if let Some(list) = v.as_text_list() {
        list.iter().map(|s| s.to_string()).collect()
    } else if let Some(t) = v.as_text() {
        vec![t.to_string()]
    } else {
        Vec::new()
    }
}

impl Walker<'_> {
    /// Is the time budget spent? Notes it once; the walk then reads nothing more.
    fn out_of_time(&mut self) -> bool {
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
    fn push_attachment(&mut self, a: Attachment) {
        if self.report.attachments.len() >= self.limits.max_attachments {
            self.attachments_dropped += 1;
        } else {
            self.report.attachments.push(a);
        }
    }

    fn headers(&mut self, msg: &Message<'_>) {
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
        r.automatic = automatic_marker(msg);
    }

    /// `Autocrypt: addr=...; [prefer-encrypt=mutual;] keydata=BASE64`
    fn autocrypt(&mut self, msg: &Message<'_>) {
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
    fn read_certs(&mut self, data: &[u8], source: crypto::KeySource) -> Vec<FoundKey> {
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

    fn add_key(&mut self, k: FoundKey) {
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

    /// Records one content part under the protection in force where it was read.
    fn cover(&mut self, part: &str, bytes: usize) {
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
    fn within(&mut self, encrypted: bool, signed: bool, f: impl FnOnce(&mut Self)) {
        let saved = (self.ctx_encrypted, self.ctx_signed);
        self.ctx_encrypted |= encrypted;
        self.ctx_signed |= signed;
        f(self);
        (self.ctx_encrypted, self.ctx_signed) = saved;
    }

    /// Appends a text (trimmed). An owned text that starts the report is moved, not
    /// copied: a large decrypted report is held once.
    fn push_text(&mut self, t: std::borrow::Cow<'_, str>) {
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

    fn walk_part(&mut self, msg: &Message<'_>, idx: usize, depth: usize) {
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
        if ctype == "text" && sub == "rfc822-headers" && !is_attachment(part) {
            // The "legacy display" part of header protection (Thunderbird, Enigmail):
            // a copy of the protected headers for old readers, not body text.
            return;
        }
        match &part.body {
            PartType::Multipart(children) => match sub.as_str() {
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
                    Some(data) => {
                        self.report.notes.push(
                            "mixed-up PGP/MIME (multipart/encrypted rewritten as multipart/mixed by a server): repaired and read as PGP/MIME".into(),
                        );
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
            PartType::Message(inner) => {
                // A forwarded message's headers (protected or not) are not ours.
                self.forwarded += 1;
                self.walk_part(inner, 0, depth + 1);
                self.forwarded -= 1;
            }
        }
    }

    /// Header protection (`protected-headers="v1"` on a part inside the encryption or
    /// the signature, as Thunderbird, Delta Chat, neomutt and the LAMPS header-protection
    /// draft write it): the part's Subject and From are the message's real ones. Parts
    /// are walked outside in, so the innermost protected part wins. Ignored outside any
    /// protection (anyone can write the attribute) and inside forwarded messages.
    fn protected_headers(&mut self, part: &mail_parser::MessagePart<'_>) {
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

    /// application/pkcs7-mime: S/MIME encrypted (enveloped-data) or opaque-signed
    /// (signed-data). triaged reads OpenPGP only; either is recorded for what it is.
    fn smime_part(&mut self, part: &mail_parser::MessagePart<'_>) {
        let smime_type = lower(part.content_type().and_then(|c| c.attribute("smime-type")));
        if smime_type.contains("signed-data") || smime_type.contains("certs-only") {
            self.report.smime.push(SmimePart::Signed);
            self.report.signatures.push(SigResult {
                status: SigStatus::Smime,
                signer: None,
                user_id: None,
                detail: Some(
                    "S/MIME opaque-signed message: its content is inside the signature and was not read (triaged reads OpenPGP only)".into(),
                ),
                emails: Vec::new(),
            });
            self.report.notes.push(
                "S/MIME opaque-signed (application/pkcs7-mime; smime-type=signed-data): content not read".into(),
            );
        } else {
            // enveloped-data, authEnveloped-data, or no smime-type (smime.p7m).
            self.report.smime.push(SmimePart::Encrypted);
            self.smime_blocks += 1;
            self.report.encrypted_parts += 1;
            self.report.decrypt_errors.push(
                "S/MIME encrypted (application/pkcs7-mime): triaged reads OpenPGP only; the reporter was asked to encrypt to the team's OpenPGP key".into(),
            );
        }
    }

    fn verify_multipart_signed(
        &mut self,
        msg: &Message<'_>,
        idx: usize,
        children: &[u32],
        ct: Option<&mail_parser::ContentType<'_>>,
    ) {
        let Some(part) = msg.parts.get(idx) else {
            return;
        };
        let Some(boundary) = ct.and_then(|c| c.attribute("boundary")) else {
            return;
        };
        let raw = msg.raw_message();
        let (start, end) = (part.offset_body as usize, part.offset_end as usize);
        let Some(body) = raw.get(start..end.min(raw.len())) else {
            return;
        };
        if self.streamed.as_ref().is_some_and(|s| s.cut) {
            self.report.notes.push(
                "multipart/signed not checked: the message was read only in part (above limits.stream_above), and a signature over a part would fail".into(),
            );
            return;
        }
        let pieces = split_multipart(body, boundary);
        let sig = children
            .get(1)
            .and_then(|&c| msg.parts.get(c as usize))
            .map(|p| p.contents().to_vec());
        match (pieces.first(), sig) {
            (Some(content), Some(sig)) => {
                let canon = to_crlf(content);
                match crypto::verify_detached(self.team, &self.extra, &sig, &canon) {
                    Ok(s) => self.report.signatures.extend(s),
                    Err(e) => self.report.signatures.push(SigResult {
                        status: SigStatus::Bad,
                        signer: None,
                        user_id: None,
                        detail: Some(format!("cannot check the PGP/MIME signature: {e}")),
                        emails: Vec::new(),
                    }),
                }
            }
            _ => self
                .report
                .notes
                .push("multipart/signed without content and signature parts".into()),
        }
    }

    /// Decrypts an OpenPGP message that holds a MIME entity (PGP/MIME) or plain text.
    fn decrypt_entity(&mut self, data: &[u8], depth: usize, pgp_mime: bool) -> bool {
        self.report.encrypted_parts += 1;
        if self.out_of_time() {
            return false;
        }
        let streamed = self
            .streamed
            .as_mut()
            .filter(|_| {
                data.windows(STREAMED_MARK.len())
                    .any(|w| w == STREAMED_MARK)
            })
            .and_then(|s| s.decrypted.take());
        let decrypted = match streamed {
            Some(d) => d.map_err(|e| anyhow::anyhow!(e)),
            None => crypto::decrypt(
                self.team,
                &self.extra,
                data,
                self.limits.max_decrypted_size.0,
                self.limits.max_pkesks,
            ),
        };
        match decrypted {
            Ok(d) => {
                if d.encrypted {
                    self.report.decrypted_parts += 1;
                } else {
                    // A signed-only or bare literal message is not encryption, wherever it sits.
                    self.report.encrypted_parts -= 1;
                    if pgp_mime {
                        self.mime_blocks -= 1;
                    } else {
                        self.inline_blocks -= 1;
                    }
                    self.report.notes.push(format!(
                        "an OpenPGP message {} was not encrypted ({}): read as unencrypted",
                        if pgp_mime {
                            "inside multipart/encrypted"
                        } else {
                            "in the text"
                        },
                        if d.signatures.is_empty() {
                            "bare literal data"
                        } else {
                            "signed only"
                        }
                    ));
                }
                self.report.session_keys.extend(d.session_key_hash.clone());
                let signed = !d.signatures.is_empty();
                self.report.signatures.extend(d.signatures);
                if self.report.team_key.is_none() {
                    self.report.team_key = d.team_key;
                }
                let plaintext = d.plaintext;
                self.within(d.encrypted, signed, |w| {
                    // PGP/MIME holds a MIME entity; one without any header (some
                    // clients, hand-made mail) is read as the text it is, not dropped.
                    if looks_like_mime(&plaintext) {
                        w.walk_bytes(&plaintext, depth + 1);
                    } else {
                        // Inline plaintext is in the sender's charset: the armor's
                        // `Charset:` header, else the enclosing part's (a legacy
                        // charset), else UTF-8. Valid UTF-8 is moved, not copied (a large
                        // report is held once).
                        let decode = (!pgp_mime)
                            .then(|| armor_charset(data))
                            .flatten()
                            .or_else(|| w.legacy.as_ref().filter(|_| !pgp_mime).map(|l| l.decode));
                        match (String::from_utf8(plaintext), decode) {
                            (Ok(t), _) => w.text(std::borrow::Cow::Owned(t), depth + 1),
                            (Err(e), Some(decode)) => {
                                // Clear-signed text inside is verified over these bytes.
                                let raw = e.into_bytes();
                                let t = decode(&raw);
                                let saved = w.legacy.replace(LegacyText {
                                    raw,
                                    pos: 0,
                                    decode,
                                });
                                w.text(std::borrow::Cow::Owned(t), depth + 1);
                                w.legacy = saved;
                            }
                            (Err(e), None) => {
                                let t = String::from_utf8_lossy(e.as_bytes()).into_owned();
                                w.text(std::borrow::Cow::Owned(t), depth + 1);
                            }
                        }
                    }
                });
                true
            }
            Err(e) => {
                self.report.decrypt_errors.push(format!("{e:#}"));
                false
            }
        }
    }

    /// Parses decrypted bytes as a MIME entity and walks it; takes its protected headers.
    fn walk_bytes(&mut self, bytes: &[u8], depth: usize) {
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

    /// A text part: decrypt inline PGP blocks, verify clear-signed blocks, lift keys.
    fn text(&mut self, t: std::borrow::Cow<'_, str>, depth: usize) {
        if !t.contains("-----BEGIN PGP ") {
            self.cover("text", t.trim().len());
            self.push_text(t);
            return;
        }
        let mut out = String::new();
        let mut rest: &str = &t;
        while let Some((before, block)) = rest
            .find("-----BEGIN PGP ")
            .and_then(|start| rest.split_at_checked(start))
        {
            self.cover("text", before.trim().len());
            out.push_str(before);
            let (kind, end_marker) = if block.starts_with("-----BEGIN PGP MESSAGE-----") {
                ("message", "-----END PGP MESSAGE-----")
            } else if block.starts_with("-----BEGIN PGP SIGNED MESSAGE-----") {
                ("signed", "-----END PGP SIGNATURE-----")
            } else if block.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----") {
                ("key", "-----END PGP PUBLIC KEY BLOCK-----")
            } else {
                ("other", "-----")
            };
            let Some(end) = block
                .find(end_marker)
                .filter(|_| kind != "other")
                .map(|e| e + end_marker.len())
            else {
                // Unterminated or unknown armor: keep it as text.
                let (marker, after) = block.split_at_checked(15).unwrap_or((block, ""));
                self.cover("text", marker.len());
                out.push_str(marker);
                rest = after;
                continue;
            };
            let (armored, after) = block.split_at_checked(end).unwrap_or((block, ""));
            match kind {
                "message" => {
                    if let Some(l) = self.legacy.as_mut() {
                        l.next_block(b"-----BEGIN PGP MESSAGE-----", b"-----END PGP MESSAGE-----");
                    }
                    self.inline_blocks += 1;
                    let saved = std::mem::take(&mut self.report.text);
                    let ok = self.decrypt_entity(armored.as_bytes(), depth, false);
                    let inner = std::mem::replace(&mut self.report.text, saved);
                    if ok && out.is_empty() {
                        out = inner;
                    } else if ok {
                        out.reserve_exact(inner.len() + after.len());
                        out.push_str(&inner);
                    } else {
                        // Partly readable: the text around the block is kept and shown,
                        // the block is marked where it stood.
                        out.push_str("[encrypted block that could not be decrypted]");
                        self.report.notes.push(
                            "partly readable: an inline encrypted block could not be decrypted; the text around it is kept and the block is marked \"[encrypted block that could not be decrypted]\"".into(),
                        );
                    }
                }
                "signed" if self.streamed.as_ref().is_some_and(|s| s.cut) => {
                    self.report.notes.push(
                        "clear-signed text not checked: the message was read only in part (above limits.stream_above)".into(),
                    );
                    out.push_str(armored);
                }
                "signed" => {
                    // In a legacy charset the signature covers the part's own bytes.
                    let original = self.legacy.as_mut().and_then(|l| {
                        l.next_block(
                            b"-----BEGIN PGP SIGNED MESSAGE-----",
                            b"-----END PGP SIGNATURE-----",
                        )
                        .map(<[u8]>::to_vec)
                    });
                    let verified = crypto::verify_inline(
                        self.team,
                        &self.extra,
                        original.as_deref().unwrap_or(armored.as_bytes()),
                        self.limits.max_decrypted_size.0,
                    );
                    match verified {
                        Ok((content, sigs)) => {
                            let signed = !sigs.is_empty();
                            self.report.signatures.extend(sigs);
                            let content = match self.legacy.as_ref() {
                                Some(l) => std::borrow::Cow::Owned(l.text(content)),
                                None => String::from_utf8_lossy(&content),
                            };
                            self.within(false, signed, |w| w.cover("text", content.trim().len()));
                            out.push_str(&content);
                        }
                        Err(e) => {
                            self.report.signatures.push(SigResult {
                                status: SigStatus::Bad,
                                signer: None,
                                user_id: None,
                                detail: Some(format!("cannot check the clear-signed text: {e}")),
                                emails: Vec::new(),
                            });
                            self.cover("text", armored.len());
                            out.push_str(armored);
                        }
                    }
                }
                _ => {
                    for k in self.read_certs(armored.as_bytes(), crypto::KeySource::Inline) {
                        self.add_key(k);
                    }
                }
            }
            rest = after;
        }
        self.cover("text", rest.trim().len());
        out.push_str(rest);
        self.push_text(std::borrow::Cow::Owned(out));
    }

    /// [`Walker::binary`], unless the message was read only in part (a stream) and this
    /// attachment runs to the end of what was read: a cut file is not stored as if whole.
    fn binary_unless_cut(
        &mut self,
        msg: &Message<'_>,
        part: &mail_parser::MessagePart<'_>,
        data: &[u8],
        depth: usize,
    ) {
        let cut = self.streamed.as_ref().is_some_and(|s| s.cut)
            && part.offset_end as usize >= msg.raw_message().len();
        if cut {
            self.report.notes.push(format!(
                "attachment {} continues beyond the part read (message read as a stream): not stored as an attachment (it is in the stored raw message)",
                crate::domain::terminal_safe(part.attachment_name().unwrap_or("(unnamed)"))
            ));
            return;
        }
        self.binary(part, data, depth);
    }

    /// An attachment: keys are lifted, encrypted attachments decrypted.
    fn binary(&mut self, part: &mail_parser::MessagePart<'_>, data: &[u8], depth: usize) {
        let name = part.attachment_name().map(str::to_string);
        let ct = part
            .content_type()
            .map(|c| match c.subtype() {
                Some(s) => format!("{}/{}", c.ctype(), s),
                None => c.ctype().to_string(),
            })
            .unwrap_or_else(|| "application/octet-stream".into())
            .to_ascii_lowercase();
        let kind = crypto::sniff(data);
        if ct == "application/pgp-keys" || kind == PgpKind::PublicKey {
            for k in self.read_certs(data, crypto::KeySource::Attachment) {
                self.add_key(k);
            }
            self.push_attachment(Attachment {
                name,
                content_type: ct,
                size: data.len(),
                encrypted: false,
                data: data.to_vec(),
            });
            return;
        }
        let lname = name.as_deref().unwrap_or("").to_ascii_lowercase();
        let pgp_name = [".asc", ".pgp", ".gpg"].iter().any(|e| lname.ends_with(e));
        if kind == PgpKind::Message
            && (pgp_name
                || ct == "application/pgp-encrypted"
                || ct == "application/octet-stream"
                || ct.starts_with("text/"))
        {
            self.report.encrypted_parts += 1;
            self.attachment_blocks += 1;
            if self.out_of_time() {
                return;
            }
            match crypto::decrypt(
                self.team,
                &self.extra,
                data,
                self.limits.max_decrypted_size.0,
                self.limits.max_pkesks,
            ) {
                Ok(d) => {
                    if d.encrypted {
                        self.report.decrypted_parts += 1;
                    } else {
                        self.report.encrypted_parts -= 1;
                        self.attachment_blocks -= 1;
                    }
                    self.report.session_keys.extend(d.session_key_hash.clone());
                    let signed = !d.signatures.is_empty();
                    self.report.signatures.extend(d.signatures);
                    if self.report.team_key.is_none() {
                        self.report.team_key = d.team_key;
                    }
                    let plain_name = name.as_deref().map(|n| {
                        let l = n.to_ascii_lowercase();
                        if [".asc", ".pgp", ".gpg"].iter().any(|e| l.ends_with(e)) {
                            n.get(..n.len() - 4).unwrap_or(n).to_string()
                        } else {
                            n.to_string()
                        }
                    });
                    let label = plain_name.clone().unwrap_or_else(|| "attachment".into());
                    self.within(d.encrypted, signed, |w| {
                        if looks_like_mime(&d.plaintext) && plain_name.is_none() {
                            w.walk_bytes(&d.plaintext, depth + 1);
                        } else {
                            w.cover(&label, d.plaintext.len());
                        }
                    });
                    self.push_attachment(Attachment {
                        content_type: guess_type(plain_name.as_deref(), &d.plaintext),
                        name: plain_name,
                        size: d.plaintext.len(),
                        encrypted: true,
                        data: d.plaintext,
                    });
                }
                Err(e) => {
                    self.report.decrypt_errors.push(format!(
                        "attachment {}: {e:#}",
                        name.as_deref().unwrap_or("(unnamed)")
                    ));
                    self.push_attachment(Attachment {
                        name,
                        content_type: ct,
                        size: data.len(),
                        encrypted: true,
                        data: data.to_vec(),
                    });
                }
            }
            return;
        }
        self.cover(name.as_deref().unwrap_or(&ct), data.len());
        self.push_attachment(Attachment {
            name,
            content_type: ct,
            size: data.len(),
            encrypted: false,
            data: data.to_vec(),
        });
    }
}

/// Cuts header lines (of the header block only) longer than `max` bytes, noting each cut.
/// The stored raw message is never changed; this is only what the parser reads.
fn cap_header_lines<'a>(
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

/// The OpenPGP payload of a "mixed-up" PGP/MIME message: a multipart/mixed whose parts
/// are an `application/pgp-encrypted` control part, one OpenPGP message, and at most
/// one empty text/plain part (the shape Exchange leaves). Anything else is a real
/// multipart/mixed and is read part by part.
fn mixed_up_payload(msg: &Message<'_>, children: &[u32]) -> Option<Vec<u8>> {
    if !(2..=3).contains(&children.len()) {
        return None;
    }
    let (mut control, mut payload, mut other) = (0, None, 0);
    for p in children.iter().filter_map(|&c| msg.parts.get(c as usize)) {
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
            ("text", "plain") if p.contents().iter().all(u8::is_ascii_whitespace) => {}
            _ => other += 1,
        }
    }
    (control == 1 && other == 0).then_some(payload).flatten()
}

/// Outer subjects that clients with header protection put in place of the real one
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
fn strip_legacy_display(t: &str) -> &str {
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
fn strip_legacy_display_html(h: &str) -> std::borrow::Cow<'_, str> {
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

/// (Thunderbird, neomutt and the LAMPS draft: "...", Enigmail: "Encrypted Message",
/// pEp: "pEp" / "p≡p", Delta Chat: "[...]").
fn is_subject_placeholder(s: &str) -> bool {
    let t = s.trim();
    ["...", "…", "[...]", "encrypted message", "pep", "p≡p"]
        .iter()
        .any(|p| t.eq_ignore_ascii_case(p))
}

fn cap_subject(s: &str, notes: &mut Vec<String>) -> String {
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

fn is_attachment(part: &mail_parser::MessagePart<'_>) -> bool {
    part.content_disposition()
        .is_some_and(|d| d.is_attachment())
        || part.attachment_name().is_some()
}

/// Does a decrypted payload start with a MIME header block naming a Content-Type?
fn looks_like_mime(b: &[u8]) -> bool {
    let head = String::from_utf8_lossy(b.get(..2048).unwrap_or(b));
    let Some(first) = head.lines().next() else {
        return false;
    };
    let is_header = |l: &str| {
        l.split_once(':').is_some_and(|(n, _)| {
            !n.is_empty() && n.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
        })
    };
    if !is_header(first) {
        return false;
    }
    head.split("\n\n")
        .next()
        .unwrap_or("")
        .to_ascii_lowercase()
        .contains("content-type:")
}

fn guess_type(name: Option<&str>, data: &[u8]) -> String {
    let ext = name
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "py" => "text/x-python",
        "sh" => "text/x-shellscript",
        "html" | "htm" => "text/html",
        "js" => "text/javascript",
        "txt" | "md" => "text/plain",
        "json" => "application/json",
        "zip" => "application/zip",
        "pcap" | "pcapng" => "application/vnd.tcpdump.pcap",
        _ if std::str::from_utf8(data).is_ok() => "text/plain",
        _ => "application/octet-stream",
    }
    .into()
}

/// Converts bare LF line endings to CRLF (RFC 3156 §5: the signed part is canonical).
pub(crate) fn to_crlf(b: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.len() + b.len() / 32);
    let mut prev = 0u8;
    for &c in b {
        if c == b'\n' && prev != b'\r' {
            out.push(b'\r');
        }
        out.push(c);
        prev = c;
    }
    out
}

/// Splits a multipart body into its parts' raw bytes (RFC 2046 §5.1.1): the
/// line break before a delimiter belongs to the delimiter.
pub(crate) fn split_multipart<'a>(body: &'a [u8], boundary: &str) -> Vec<&'a [u8]> {
    let delim = format!("--{boundary}");
    let delim = delim.as_bytes();
    // (start of delimiter line, first byte after it, closing?)
    let mut marks: Vec<(usize, usize, bool)> = Vec::new();
    let mut i = 0;
    while i < body.len() {
        let eol = body
            .get(i..)
            .unwrap_or_default()
            .iter()
            .position(|&c| c == b'\n')
            .map(|p| i + p)
            .unwrap_or(body.len());
        let line = body.get(i..eol).unwrap_or_default();
        if let Some(rest) = line.strip_prefix(delim) {
            let closing = rest.starts_with(b"--");
            let tail = if closing {
                rest.get(2..).unwrap_or_default()
            } else {
                rest
            };
            if tail.iter().all(|c| c.is_ascii_whitespace()) {
                marks.push((i, (eol + 1).min(body.len()), closing));
            }
        }
        i = eol + 1;
    }
    let mut out = Vec::new();
    for w in marks.windows(2) {
        let [(_, s, closing), (next, _, _)] = w else {
            continue;
        };
        if *closing {
            break;
        }
        let (s, mut e) = (*s, *next);
        if e > s && body.get(e - 1) == Some(&b'\n') {
            e -= 1;
            if e > s && body.get(e - 1) == Some(&b'\r') {
                e -= 1;
            }
        }
        out.push(body.get(s..e.max(s)).unwrap_or_default());
    }
    out
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

    #[test]
    fn split_respects_crlf_before_delimiter() {
        let body = b"preamble\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1\r\nsig\r\n--b1--\r\n";
        let parts = split_multipart(body, "b1");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], b"Content-Type: text/plain\r\n\r\nhello");
        assert_eq!(parts[1], b"sig");
    }

    #[test]
    fn split_ignores_lookalike_lines() {
        let body = b"--b1\nA\n--b1x\n--b1\nB\n--b1--\n";
        let parts = split_multipart(body, "b1");
        assert_eq!(parts, vec![&b"A\n--b1x"[..], &b"B"[..]]);
    }

    #[test]
    fn crlf_canonical() {
        assert_eq!(to_crlf(b"a\nb\r\nc"), b"a\r\nb\r\nc");
    }

    #[test]
    fn mime_sniffing() {
        assert!(looks_like_mime(b"Content-Type: text/plain\n\nhi"));
        assert!(looks_like_mime(
            b"Subject: x\nContent-Type: multipart/mixed; boundary=a\n\n--a"
        ));
        assert!(!looks_like_mime(b"Hello team,\nContent-Type: nope"));
        assert!(!looks_like_mime(b"Hi: there\n\nbody"));
    }

    #[test]
    fn the_armor_charset_header_names_the_plaintext_charset() {
        let armored = b"-----BEGIN PGP MESSAGE-----\nVersion: old\nCharset: ISO-8859-1\n\nhQEMA\n-----END PGP MESSAGE-----\n";
        let decode = super::armor_charset(armored).expect("a decoder for ISO-8859-1");
        assert_eq!(decode(b"Sicherheitsl\xfccke"), "Sicherheitslücke");
        // UTF-8, no header, or a header after the blank line: nothing to convert.
        for a in [
            &b"-----BEGIN PGP MESSAGE-----\nCharset: utf-8\n\nhQ\n"[..],
            b"-----BEGIN PGP MESSAGE-----\n\nhQ\n",
            b"-----BEGIN PGP MESSAGE-----\n\nCharset: ISO-8859-1\n",
        ] {
            assert!(super::armor_charset(a).is_none());
        }
    }

    #[test]
    fn legacy_text_blocks_are_taken_in_order() {
        let raw = b"a -----BEGIN PGP SIGNED MESSAGE-----1-----END PGP SIGNATURE----- b \
                    -----BEGIN PGP MESSAGE-----x-----END PGP MESSAGE----- \
                    -----BEGIN PGP SIGNED MESSAGE-----2\xfc-----END PGP SIGNATURE-----"
            .to_vec();
        let decode =
            mail_parser::decoders::charsets::map::charset_decoder(b"iso-8859-1").expect("latin-1");
        let mut l = super::LegacyText {
            raw,
            pos: 0,
            decode,
        };
        let signed = |l: &mut super::LegacyText| {
            l.next_block(
                b"-----BEGIN PGP SIGNED MESSAGE-----",
                b"-----END PGP SIGNATURE-----",
            )
            .map(<[u8]>::to_vec)
        };
        assert!(signed(&mut l).is_some_and(|b| b.windows(1).any(|w| w == b"1")));
        assert!(
            l.next_block(b"-----BEGIN PGP MESSAGE-----", b"-----END PGP MESSAGE-----")
                .is_some()
        );
        let second = signed(&mut l).expect("the second signed block");
        assert_eq!(
            l.text(second),
            "-----BEGIN PGP SIGNED MESSAGE-----2ü-----END PGP SIGNATURE-----"
        );
        assert!(signed(&mut l).is_none());
        // Valid UTF-8 inside is taken as it is.
        assert_eq!(l.text("ü".as_bytes().to_vec()), "ü");
    }
}
