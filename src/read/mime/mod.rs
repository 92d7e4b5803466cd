//! MIME: turn raw message bytes into a [`Report`] (parse, unwrap, decrypt).
//!
//! This module owns the walk over a message's MIME tree with mail-parser:
//! PGP/MIME encrypted (RFC 3156 §4) and signed (§5) parts, inline
//! ASCII-armored PGP blocks in text parts, encrypted attachments
//! (`*.asc`, `*.pgp`, `*.gpg`), attached public keys and `Autocrypt:` headers,
//! HTML converted to text, and protected headers (the inner Subject).
//! Cryptography itself is delegated to [`crate::read::crypto`]. It never classifies
//! and never writes anywhere.
//!
//! This file holds the result types and the entry points; the walk is in `walk`, and
//! what each kind of part holds is read by `headers`, `pgp`, `text` and `binary`
//! (each an `impl Walker` block over the one `Walker` state defined here).

use mail_parser::MessageParser;
use serde::{Deserialize, Serialize};

use crate::config::Limits;
use crate::domain::status::{Encryption, SigStatus, SmimePart};
use crate::read::crypto::{self, FoundKey, SigResult, TeamKeys};

mod binary;
mod headers;
mod pgp;
mod text;
mod walk;

use headers::{cap_header_lines, is_subject_placeholder};
use text::LegacyText;

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
    /// A delivery status notification (RFC 3464: a bounce, a delay warning): what it
    /// says and which message it returns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<crate::read::dsn::DeliveryReport>,
    /// On list mail (a `List-Id`): the list's posting address (`List-Post: <mailto:…>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_post: Option<String>,
    /// `X-Original-From` (Google Groups names the sender there when it rewrites From),
    /// read as strictly as From. Used only for a mailbox's own list (`mailbox.list_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_from: Option<OriginalSender>,
    /// `Reply-To`, read as strictly as From (one mailbox, or nothing). Never answered on
    /// its own: used only where the mailbox says a relay puts the sender there (the
    /// team's list that rewrites From, a web form in `mailbox.form_from`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to_sender: Option<OriginalSender>,
    /// A machine report about the domain's mail (DMARC aggregate, SMTP TLS, another
    /// `multipart/report`): not a vulnerability report, nothing is owed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine: Option<crate::read::machine::MachineReport>,
}

/// The sender a relay names when From is its own address (a list that rewrote From, a
/// web form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginalSender {
    /// The header it came from (`X-Original-From` or `Reply-To`).
    pub header: String,
    /// The address, lower case.
    pub addr: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Why it cannot be answered automatically (as for From), if so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
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
        in_report: 0,
        streamed,
        legacy: None,
        unencoded: None,
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
    if report.delivery.is_none() {
        report.delivery = crate::read::dsn::plain_bounce(&report);
    }
    report.machine = crate::read::machine::recognise(&msg, &report);
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
    /// Inside a delivery report (`multipart/report; report-type=delivery-status`): the
    /// returned message is our own mail, its Message-ID read, its body not.
    in_report: usize,
    /// Set when the message is read as a stream (see [`analyze_streamed`]).
    streamed: Option<Streamed>,
    /// The text part being read, when it declares a charset other than UTF-8 and holds
    /// OpenPGP armor: its bytes before charset conversion, so a clear-signed block is
    /// verified over the bytes that were signed, and decrypted text is read in that
    /// charset ([`LegacyText`]).
    legacy: Option<LegacyText>,
    /// The text part being read, when it is declared quoted-printable but its OpenPGP
    /// armor was sent unencoded: its raw bytes, from which encrypted blocks are taken
    /// ([`text::armor_left_unencoded`]).
    unencoded: Option<text::RawBlocks>,
}
