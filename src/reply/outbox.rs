//! Outbox: what we send, when we stay silent, and the durable queue.
//!
//! This module owns outgoing mail: deciding whether a report may be answered
//! automatically (RFC 3834 and loop rules, per-sender rate limit, one ack per
//! case), writing the acknowledgment (case id, arrival, next promise, what the
//! policy still needs, version support, signature status), composing it as
//! RFC 3156 PGP/MIME — multipart/signed, or signed-and-encrypted with protected
//! headers when the reporter's key is valid — with a stable Message-ID, and
//! queueing it in the same transaction as the case. `send_due` delivers queued
//! rows (file or SMTP via lettre), records the server's reply, and retries with
//! backoff. `sweep` escalates to the team before a deadline is breached.
//!
//! Who receives the ack: the From address of the report. Reply-To is ignored (a
//! forged Reply-To must not turn triaged into a relay for unsolicited mail), and
//! the Return-Path is only used to recognise bounces (null sender: no ack).

use anyhow::{Context, Result};

use crate::config::Config;
use crate::domain::status::{OutboxKind, SigStatus};
use crate::judge::policy::Verdict;
use crate::read::crypto::{self, TeamKeys};
use crate::read::mime::Report;
use crate::store::{self, now, rfc3339};

/// Why an automatic answer must not be sent, or None when it may.
pub fn silence_reason(r: &Report, cfg: &Config, own: &[String]) -> Option<String> {
    if let Some(a) = &r.auto_submitted {
        let v = a
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if v != "no" {
            return Some(format!(
                "Auto-Submitted: {a} (RFC 3834: never answer automatic mail)"
            ));
        }
    }
    if let Some(p) = &r.precedence {
        let v = p.trim().to_ascii_lowercase();
        if ["bulk", "list", "junk", "auto_reply"].contains(&v.as_str()) {
            return Some(format!("Precedence: {p} (bulk or list mail)"));
        }
    }
    if let Some(l) = &r.list_id {
        return Some(format!("List-Id: {l} (mailing-list mail)"));
    }
    if let Some(m) = &r.machine {
        return Some(format!("{} (machine-written)", m.describe()));
    }
    if let Some(a) = &r.automatic {
        return Some(format!("{a} (an automatic message)"));
    }
    if let Some(rp) = &r.return_path
        && rp.trim_matches(['<', '>', ' ']).is_empty()
    {
        return Some("null Return-Path (a bounce or an automatic message)".into());
    }
    let Some(from) = &r.from_addr else {
        return Some("no From address".into());
    };
    if let Some(p) = &r.from_problem {
        return Some(format!("ambiguous sender: {p}"));
    }
    // mailer-daemon+tag@, MAILER-DAEMON@: the role, whatever the sub-address.
    let local = from
        .rsplit_once('@')
        .map_or(from.as_str(), |(l, _)| l)
        .split('+')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if [
        "mailer-daemon",
        "postmaster",
        "noreply",
        "no-reply",
        "donotreply",
        "do-not-reply",
        "bounce",
        "bounces",
        "nobody",
    ]
    .contains(&local.as_str())
        || local.starts_with("owner-")
        || local.ends_with("-request")
    {
        return Some(format!("automated sender {from}"));
    }
    let mut ours: Vec<String> = own.iter().map(|a| a.to_ascii_lowercase()).collect();
    ours.extend(cfg.outbox.from.iter().map(|a| a.to_ascii_lowercase()));
    ours.extend(cfg.outbox.team.iter().map(|a| a.to_ascii_lowercase()));
    ours.extend(
        cfg.mailboxes
            .iter()
            .filter_map(|m| m.address.clone())
            .map(|a| a.to_ascii_lowercase()),
    );
    if ours.iter().any(|a| a == from) {
        return Some(format!("mail from our own address {from} (loop)"));
    }
    // X-Loop: set by autoresponders and list software (and by our own acks) to the
    // address the mail already passed through; ours there means a loop.
    if let Some(l) = r.x_loop.iter().find(|l| {
        let l = l.to_ascii_lowercase();
        ours.iter().any(|a| !a.is_empty() && l.contains(a.as_str()))
    }) {
        return Some(format!("X-Loop: {l} (it already passed through us)"));
    }
    None
}

/// Keeps a header value on one line and free of anything that could start a new header.
fn header_safe(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .chars()
        .take(200)
        .collect()
}

fn ascii(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii() && (!c.is_control() || c == '\n') {
                c
            } else {
                '?'
            }
        })
        .collect()
}

fn requirement_text(r: &str) -> &'static str {
    match r {
        "poc" => {
            "a proof of concept: code, an HTTP request, or exact inputs that demonstrate the issue"
        }
        "versions" => "the affected versions (for example \"<= 2.4.1\" or a commit)",
        "impact" => "the impact: what an attacker gains, and under which conditions",
        "repro_steps" => "step-by-step instructions to reproduce the issue",
        "fix_suggestion" => "a patch or concrete steps to remediate the issue",
        _ => "more information",
    }
}

fn signature_text(status: SigStatus) -> &'static str {
    match status {
        SigStatus::Good => "your message was signed and the signature is valid",
        SigStatus::Bad => {
            "your message was signed, but the signature DID NOT verify: it may have been altered"
        }
        SigStatus::UnknownKey => {
            "your message was signed by a key we do not have; attach your public key to verify it"
        }
        SigStatus::InvalidKey => "your message was signed by a key that is expired or revoked",
        SigStatus::WeakAlgorithm => {
            "your message was signed with an algorithm we no longer accept (such as SHA-1), so the signature cannot vouch for it; please sign with a current OpenPGP client"
        }
        SigStatus::SignerMismatch => {
            "your message carries a valid signature, but by a key whose user ids do not name your From address, so we cannot tell that you signed it"
        }
        SigStatus::Smime => {
            "your message carries an S/MIME signature; we verify OpenPGP signatures only, so it was not checked"
        }
        SigStatus::Partial => {
            "only part of your message was signed (the signature is valid for that part); the unsigned parts were read as unsigned"
        }
        SigStatus::Unsigned => "your message was not signed",
    }
}

/// Everything the ack text needs.
pub struct AckFacts<'a> {
    pub case_id: &'a str,
    pub arrived_at: i64,
    pub verdict: Option<&'a Verdict>,
    pub signature: SigStatus,
    pub undecryptable: bool,
    pub team_fingerprint: Option<String>,
    /// Quoted only when the ack is encrypted to the reporter.
    pub report_subject: Option<&'a str>,
    pub encrypted: bool,
    pub not_encrypted_because: Option<String>,
    pub from: &'a str,
    /// Some of the report arrived unencrypted beside encrypted parts.
    pub partly_encrypted: bool,
    /// The report was S/MIME encrypted (not readable: we read OpenPGP).
    pub smime_encrypted: bool,
    /// Who made a valid signature that does not name the From address (user id and
    /// fingerprint); said only when the ack is encrypted to the reporter.
    pub other_signer: Option<String>,
}

/// The text of an acknowledgment (or a rejection under `reject_low_effort`).
pub fn ack_text(f: &AckFacts<'_>) -> String {
    let mut t = String::new();
    t.push_str("Hello,\n\nthis is an automatic reply from the security team's triage system.\n\n");
    t.push_str(&format!("Case:      {}\n", f.case_id));
    t.push_str(&format!("Received:  {}\n", rfc3339(f.arrived_at)));
    t.push_str(&format!("Signature: {}\n", signature_text(f.signature)));
    if f.encrypted
        && let Some(who) = &f.other_signer
    {
        t.push_str(&format!("Signed by: {who}\n"));
    }
    if f.encrypted
        && let Some(s) = f.report_subject
    {
        t.push_str(&format!(
            "Subject:   {}\n",
            s.chars()
                .filter(|c| !c.is_control())
                .take(120)
                .collect::<String>()
        ));
    }
    if f.partly_encrypted {
        t.push_str("Encryption: only part of your message was encrypted; the rest crossed the network readable by anyone on the way\n");
    }
    t.push('\n');
    if f.undecryptable && f.smime_encrypted {
        t.push_str("Your message was encrypted with S/MIME (X.509 certificates). This team reads OpenPGP only, so we could not read it. ");
        match &f.team_fingerprint {
            Some(fp) => t.push_str(&format!(
                "Please send it again encrypted to our OpenPGP key ({fp}, attached to this message as an Autocrypt header) and keep the case id in the subject.\n\n"
            )),
            None => t.push_str("Please send it again encrypted to our OpenPGP key and keep the case id in the subject.\n\n"),
        }
    } else if f.undecryptable {
        t.push_str("We could not decrypt your message. ");
        match &f.team_fingerprint {
            Some(fp) => t.push_str(&format!(
                "Please encrypt it again to our current key ({fp}, attached to this message as an Autocrypt header) and reply keeping the case id in the subject.\n\n"
            )),
            None => t.push_str("Please encrypt it again to our current key and reply keeping the case id in the subject.\n\n"),
        }
    } else if let Some(v) = f.verdict {
        if v.next_state == crate::domain::case::State::Rejected {
            t.push_str("Your message was not accepted as a vulnerability report under our security policy:\n");
            t.push_str("it does not contain the technical detail we need to act on it.\n\n");
            t.push_str("A report we can act on contains:\n");
            let mut req: Vec<&str> = v.missing.iter().map(|m| requirement_text(m)).collect();
            if req.is_empty() {
                req.push(requirement_text("poc"));
                req.push(requirement_text("impact"));
            }
            for r in req {
                t.push_str(&format!("  - {r}\n"));
            }
            t.push_str("\nYou are welcome to send a new report with these details.\n\n");
        } else {
            if let Some(f) = &v.deadlines.followup_due {
                t.push_str(&format!(
                    "Next step: the team will send you a detailed response by {f}.\n\n"
                ));
            }
            if v.missing.is_empty() {
                t.push_str("Your report contains everything our policy asks for.\n\n");
            } else {
                t.push_str("To assess your report we still need:\n");
                for m in &v.missing {
                    t.push_str(&format!("  - {}\n", requirement_text(m)));
                }
                if v.poc_claimed_not_included {
                    t.push_str("  (you mention a proof of concept: please include it; we do not pay for reports before triage)\n");
                }
                t.push('\n');
            }
            if v.version.status == crate::domain::status::VersionSupport::Unsupported {
                // The reported version is read from the report: quoted only when encrypted.
                let which = match v.version.reported.as_deref() {
                    Some(r) if f.encrypted => format!("The version you reported ({r})"),
                    _ => "The version you reported".to_string(),
                };
                t.push_str(&format!(
                    "{which} is not supported under the project's security policy"
                ));
                if let Some(row) = &v.version.row {
                    t.push_str(&format!(" (policy: {} is not supported)", row.range));
                }
                if v.supported.is_empty() {
                    t.push_str(".\n");
                } else {
                    t.push_str(&format!(". Supported: {}.\n", v.supported.join(", ")));
                }
                t.push_str("Please check whether the issue exists in a supported release and tell us in your reply.\n\n");
            }
            if let Some(credit) = &v.credit {
                if credit == "anonymous" {
                    t.push_str("Credit: as you asked, you will not be named in the advisory.\n\n");
                } else if f.encrypted {
                    t.push_str(&format!(
                        "Credit: the advisory will credit you as \"{}\", as you asked.\n\n",
                        credit
                            .chars()
                            .filter(|c| !c.is_control())
                            .take(80)
                            .collect::<String>()
                    ));
                } else {
                    t.push_str(
                        "Credit: the advisory will credit you as you asked in your report.\n\n",
                    );
                }
            }
        }
    }
    t.push_str(&format!(
        "Please reply to this message and keep [{}] in the subject so that your answer joins the case.\n",
        f.case_id
    ));
    if let Some(why) = &f.not_encrypted_because {
        t.push_str(&format!(
            "\nThis reply is signed but not encrypted: {why}.\n"
        ));
    } else if !f.encrypted {
        t.push_str("\nThis reply is signed but not encrypted (we have no valid key of yours); it does not quote your report.\n");
    }
    t.push_str(&format!(
        "\n-- \nSecurity team <{}> (automatic acknowledgment)\n",
        f.from
    ));
    ascii(&t)
}

/// Wraps text at 76 columns for a 7-bit text/plain part (lines are short already).
fn crlf(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\n', "\r\n")
}

fn boundary(seed: &str) -> String {
    let h = crate::read::sha256_hex(seed.as_bytes());
    format!("=_triaged_{}", h.get(..24).unwrap_or(&h))
}

/// Folded Autocrypt header carrying the team key.
fn autocrypt_header(addr: &str, keys: &TeamKeys) -> Option<String> {
    let data = keys.autocrypt_keydata()?;
    let b64 = base64_encode(&data);
    let mut h = format!("Autocrypt: addr={addr}; prefer-encrypt=mutual; keydata=");
    for chunk in b64.as_bytes().chunks(76) {
        h.push_str("\r\n ");
        h.push_str(std::str::from_utf8(chunk).unwrap_or(""));
    }
    Some(h)
}

fn base64_encode(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    // Every index is masked to 0..64 and looked up with `get`: nothing can panic.
    let sym = |n: u32| char::from(T.get(n as usize & 63).copied().unwrap_or(b'='));
    for c in data.chunks(3) {
        let byte = |i: usize| u32::from(c.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if c.len() > 1 { sym(n >> 6) } else { '=' });
        out.push(if c.len() > 2 { sym(n) } else { '=' });
    }
    out
}

/// A composed outgoing message.
pub struct Composed {
    pub bytes: Vec<u8>,
    pub encrypted: bool,
}

/// Composes an RFC 3156 message: multipart/signed, or (with `encrypt_to`) a
/// signed-and-encrypted multipart/encrypted whose inner part carries the
/// protected headers. `headers` are the outer headers (CRLF-free values).
#[allow(clippy::too_many_arguments)]
pub fn compose(
    keys: &TeamKeys,
    from: &str,
    to: &str,
    subject: &str,
    message_id: &str,
    in_reply_to: Option<&str>,
    body: &str,
    encrypt_to: Option<&sequoia_openpgp::Cert>,
) -> Result<Composed> {
    compose_mail(
        keys,
        &Mail {
            from,
            to,
            subject,
            message_id,
            in_reply_to,
            references: &[],
            body,
            automatic: true,
        },
        encrypt_to,
    )
}

/// An outgoing message before it is signed (and maybe encrypted).
pub struct Mail<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub message_id: &'a str,
    /// The message this one answers.
    pub in_reply_to: Option<&'a str>,
    /// The thread, oldest first (`References`); `in_reply_to` is added when missing.
    pub references: &'a [String],
    pub body: &'a str,
    /// Written by triaged (an ack, an escalation): `Auto-Submitted: auto-replied`
    /// (RFC 3834). A person's reply is not marked.
    pub automatic: bool,
}

/// The `References` value: the thread's ids (oldest first, unique), ending with the
/// message answered; the first and the last few when there are very many (RFC 5322
/// §3.6.4 allows trimming; the first keeps the thread's root).
fn references_header(refs: &[String], in_reply_to: Option<&str>) -> Option<String> {
    let mut ids: Vec<String> = Vec::new();
    for r in refs.iter().map(String::as_str).chain(in_reply_to) {
        let r = header_safe(r.trim_matches(['<', '>', ' ']));
        if !r.is_empty() && !ids.contains(&r) {
            ids.push(r);
        }
    }
    if let Some(irt) = in_reply_to.map(|i| header_safe(i.trim_matches(['<', '>', ' '])))
        && let Some(pos) = ids.iter().position(|x| *x == irt)
    {
        // The answered message goes last, where clients look for the parent.
        let it = ids.remove(pos);
        ids.push(it);
    }
    if ids.len() > 20 {
        let tail = ids.split_off(ids.len() - 19);
        ids.truncate(1);
        ids.extend(tail);
    }
    (!ids.is_empty()).then(|| {
        ids.iter()
            .map(|i| format!("<{i}>"))
            .collect::<Vec<_>>()
            .join("\r\n ")
    })
}

/// Composes `mail` as RFC 3156 PGP/MIME: multipart/signed, or (with `encrypt_to`)
/// signed and encrypted, to the reporter and the team, with protected headers.
pub fn compose_mail(
    keys: &TeamKeys,
    mail: &Mail<'_>,
    encrypt_to: Option<&sequoia_openpgp::Cert>,
) -> Result<Composed> {
    let Mail {
        from,
        to,
        subject,
        message_id,
        in_reply_to,
        references,
        body,
        automatic,
    } = *mail;
    let subject = header_safe(subject);
    // The header fields RFC 9788 protects: the same in the message's header and inside
    // the signature or encryption (nothing is obscured: the subject names only the case).
    let mut protected = String::new();
    protected.push_str(&format!("From: {}\r\n", header_safe(from)));
    protected.push_str(&format!("To: {}\r\n", header_safe(to)));
    protected.push_str(&format!("Subject: {subject}\r\n"));
    protected.push_str(&format!("Date: {}\r\n", chrono::Utc::now().to_rfc2822()));
    protected.push_str(&format!("Message-ID: <{}>\r\n", header_safe(message_id)));
    if let Some(irt) = in_reply_to {
        let irt = header_safe(irt.trim_matches(['<', '>']));
        protected.push_str(&format!("In-Reply-To: <{irt}>\r\n"));
    }
    if let Some(refs) = references_header(references, in_reply_to) {
        protected.push_str(&format!("References: {refs}\r\n"));
    }
    let mut outer = protected.clone();
    if automatic {
        outer.push_str("Auto-Submitted: auto-replied\r\n");
    }
    outer.push_str("MIME-Version: 1.0\r\n");
    outer.push_str(&format!("X-Loop: {}\r\n", header_safe(from)));
    if let Some(ac) = autocrypt_header(from, keys) {
        outer.push_str(&ac);
        outer.push_str("\r\n");
    }
    let text = crlf(body);
    match encrypt_to {
        Some(cert) => {
            // Combined method (RFC 3156 §6.2): one OpenPGP message, signed and encrypted,
            // holding a MIME entity with the protected headers, marked both ways
            // (`protected-headers="v1"` for Thunderbird and older readers, RFC 9788's
            // `hp="cipher"` with the `HP-Outer` record of what was left outside).
            let hp_outer: String = protected
                .lines()
                .filter(|l| !l.is_empty())
                .map(|l| {
                    if l.starts_with([' ', '\t']) {
                        format!("{l}\r\n") // a folded field goes on folded
                    } else {
                        format!("HP-Outer: {l}\r\n")
                    }
                })
                .collect();
            let inner = format!(
                "Content-Type: text/plain; charset=us-ascii; protected-headers=\"v1\"; hp=\"cipher\"\r\n\
                 Content-Transfer-Encoding: 7bit\r\n{protected}{hp_outer}\r\n{text}"
            );
            let armored = keys
                .sign_and_encrypt(std::slice::from_ref(cert), inner.as_bytes())
                .context("signing and encrypting the reply")?;
            let b = boundary(message_id);
            let msg = format!(
                "{outer}Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"{b}\"\r\n\r\n\
                 This is an OpenPGP/MIME encrypted message (RFC 3156).\r\n\
                 --{b}\r\nContent-Type: application/pgp-encrypted\r\nContent-Description: PGP/MIME version identification\r\n\r\nVersion: 1\r\n\r\n\
                 --{b}\r\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\r\n\
                 Content-Description: OpenPGP encrypted message\r\nContent-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n\
                 {}\r\n--{b}--\r\n",
                crlf(&armored)
            );
            Ok(Composed {
                bytes: msg.into_bytes(),
                encrypted: true,
            })
        }
        None => {
            // The signed part, canonical: CRLF line ends, 7-bit, no trailing whitespace.
            let text: String = text
                .split("\r\n")
                .map(|l| l.trim_end())
                .collect::<Vec<_>>()
                .join("\r\n");
            // RFC 9788 `hp="clear"`: the header fields are signed too, so a reader that
            // knows the standard can tell that the Subject and From are the team's.
            let part = format!(
                "Content-Type: text/plain; charset=us-ascii; hp=\"clear\"\r\nContent-Transfer-Encoding: 7bit\r\n{protected}\r\n{text}"
            );
            let sig = keys
                .sign_detached(part.as_bytes())
                .context("signing the reply")?;
            let b = boundary(message_id);
            let msg = format!(
                "{outer}Content-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; boundary=\"{b}\"\r\n\r\n\
                 This is an OpenPGP/MIME signed message (RFC 3156).\r\n\
                 --{b}\r\n{part}\r\n--{b}\r\n\
                 Content-Type: application/pgp-signature; name=\"signature.asc\"\r\n\
                 Content-Description: OpenPGP digital signature\r\nContent-Disposition: attachment; filename=\"signature.asc\"\r\n\r\n\
                 {}\r\n--{b}--\r\n",
                crlf(sig.trim_end())
            );
            Ok(Composed {
                bytes: msg.into_bytes(),
                encrypted: false,
            })
        }
    }
}

fn domain_of(addr: &str) -> &str {
    addr.rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or("triaged.invalid")
}

/// What an acknowledgment answers: the case, the message that triggered it, what was
/// read from that message, and the policy's verdict (None when nothing could be read,
/// or when nothing decrypted may be echoed).
pub struct AckRequest<'a> {
    pub case_id: i64,
    pub message_row: i64,
    pub report: &'a Report,
    pub verdict: Option<&'a Verdict>,
    pub undecryptable: bool,
}

/// Queues an acknowledgment for a case in the caller's transaction, or records why not.
pub fn enqueue_ack(
    tx: store::Db<'_>,
    cfg: &Config,
    keys: &TeamKeys,
    req: &AckRequest<'_>,
) -> Result<Option<i64>> {
    if !cfg.outbox.auto_ack {
        return Ok(None);
    }
    let c = store::case_by_id(tx, req.case_id)?;
    let missing_key = req.verdict.map(|v| v.missing.join(",")).unwrap_or_default();
    let to = match ack_recipient(tx, cfg, &c, req.report, &missing_key)? {
        Ok(to) => to,
        Err(why) => {
            store::event(
                tx,
                Some(req.case_id),
                "triaged",
                crate::domain::status::EventKind::AckSuppressed,
                Some(&why),
            )?;
            return Ok(None);
        }
    };
    let (reporter_cert, not_encrypted_because) = reporter_cert_for(tx, keys, req.case_id, &to)?;
    let from = cfg
        .outbox
        .from
        .clone()
        .unwrap_or_else(|| "security@localhost".into());
    let kind = if req
        .verdict
        .is_some_and(|v| v.next_state == crate::domain::case::State::Rejected)
    {
        OutboxKind::Rejection
    } else {
        OutboxKind::Ack
    };
    let message_id = new_message_id(&format!("{}.{kind}", c.id_public), &from)?;
    let subject = if kind == OutboxKind::Rejection {
        format!("[{}] Report not accepted", c.id_public)
    } else {
        format!("[{}] Report received", c.id_public)
    };
    let facts = AckFacts {
        case_id: &c.id_public,
        arrived_at: c.arrived_at,
        verdict: req.verdict,
        signature: c.signature,
        undecryptable: req.undecryptable,
        team_fingerprint: keys.fingerprints().first().cloned(),
        report_subject: req.report.subject.as_deref(),
        encrypted: reporter_cert.is_some(),
        not_encrypted_because: not_encrypted_because.clone(),
        from: &from,
        partly_encrypted: req.report.partly_encrypted(),
        smime_encrypted: req
            .report
            .smime
            .contains(&crate::domain::status::SmimePart::Encrypted),
        other_signer: other_signer(req.report),
    };
    let body = ack_text(&facts);
    let composed = compose(
        keys,
        &from,
        &to,
        &subject,
        &message_id,
        req.report.message_id.as_deref(),
        &body,
        reporter_cert.as_ref(),
    )?;
    let id = store::queue_mail(
        tx,
        &store::NewOutgoing {
            case_id: Some(req.case_id),
            trigger_message: Some(req.message_row),
            kind,
            recipient: &to,
            message_id: &message_id,
            subject: &subject,
            body: &composed.bytes,
            missing: Some(&missing_key),
            at: now(),
            author: None,
            template: None,
        },
    )?
    .context("the acknowledgment's Message-ID is queued already")?;
    store::event(
        tx,
        Some(req.case_id),
        "triaged",
        crate::domain::status::EventKind::AckQueued,
        Some(&format!(
            "{kind} to {to}, {}{}, missing [{missing_key}]",
            if composed.encrypted {
                "signed and encrypted"
            } else {
                "signed"
            },
            not_encrypted_because
                .map(|w| format!(" (not encrypted: {w})"))
                .unwrap_or_default()
        )),
    )?;
    Ok(Some(id))
}

/// Who the ack goes to (Ok), or why no ack is sent (Err, recorded as `ack-suppressed`):
/// automatic or looping mail, an imported case, no From, nothing new since the last
/// ack, or the per-sender rate limit.
fn ack_recipient(
    tx: store::Db<'_>,
    cfg: &Config,
    c: &store::CaseRow,
    report: &Report,
    missing_key: &str,
) -> Result<std::result::Result<String, String>> {
    if let Some(why) = silence_reason(report, cfg, &[]) {
        return Ok(Err(why));
    }
    if c.state == crate::domain::case::State::Imported {
        return Ok(Err(
            "imported from the mailbox's history: the operator decides".into(),
        ));
    }
    let Some(to) = report.from_addr.clone() else {
        return Ok(Err("no From address".into()));
    };
    // One ack per case, unless a follow-up changed what is missing.
    if let Some(prev) = store::last_ack_missing(tx, c.id)?
        && prev.as_deref() == Some(missing_key)
    {
        return Ok(Err(
            "already acknowledged, and the follow-up does not change what is missing".into(),
        ));
    }
    let recent = store::acks_to_since(tx, &to, now() - 3600)?;
    if recent >= i64::from(cfg.outbox.rate_limit_per_hour) {
        return Ok(Err(format!(
            "rate limit: {recent} acknowledgment(s) to {to} in the last hour (outbox.rate_limit_per_hour = {})",
            cfg.outbox.rate_limit_per_hour
        )));
    }
    Ok(Ok(to))
}

/// The key a reply to `to` is encrypted to: the newest key, valid for encryption today
/// and carrying `to` as a user id, learned from any case of that address (this one
/// first), then from the configured keyring. Without one, why not (the last reason a
/// candidate was refused), if there was a candidate.
pub fn reporter_cert_for(
    tx: store::Db<'_>,
    keys: &TeamKeys,
    case_id: i64,
    to: &str,
) -> Result<(Option<sequoia_openpgp::Cert>, Option<String>)> {
    let armored = store::reporter_keys_of_address(tx, case_id, to)?;
    let candidates = armored
        .iter()
        .filter_map(|a| crypto::cert_from_armor(a))
        .chain(keys.keyring().iter().cloned())
        .filter(|c| {
            c.userids().any(|u| {
                u.userid()
                    .email_normalized()
                    .ok()
                    .flatten()
                    .is_some_and(|e| e.eq_ignore_ascii_case(to))
            })
        });
    let mut why_not = None;
    for c in candidates {
        match crypto::usable_for_encryption(&c) {
            Ok(()) => return Ok((Some(c), None)),
            Err(why) => why_not = Some(why),
        }
    }
    Ok((None, why_not))
}

/// The key a reply to `address` would be encrypted to (from any case of the address,
/// then the keyring), armored, or why there is none: `keys export --reporter`.
pub fn reporter_key_for_address(
    conn: store::Db<'_>,
    keys: &TeamKeys,
    address: &str,
) -> Result<(Option<String>, Option<String>)> {
    use sequoia_openpgp::serialize::SerializeInto;
    // Case 0 exists for no case: only keys learned from the address's cases count.
    let (cert, why) = reporter_cert_for(conn, keys, 0, &address.trim().to_ascii_lowercase())?;
    let armored = cert
        .map(|c| c.armored().to_vec().context("armoring the reporter key"))
        .transpose()?
        .map(|a| String::from_utf8_lossy(&a).into_owned());
    Ok((armored, why))
}

/// Who made a valid signature that does not name the sender (user id and fingerprint).
fn other_signer(report: &Report) -> Option<String> {
    report
        .signatures
        .iter()
        .find(|s| s.status == SigStatus::SignerMismatch)
        .map(|s| {
            format!(
                "{} ({})",
                s.user_id.as_deref().unwrap_or("a key without a user id"),
                s.signer.as_deref().unwrap_or("unknown fingerprint")
            )
        })
}

/// A Message-ID for mail we send: a readable prefix and 128 random bits. Replying to
/// our mail joins a case only for its reporter, and a Message-ID nobody can predict
/// (they were the case id and a row number, the same in every deployment) cannot be
/// named in a forged In-Reply-To. It is stored with the outbox row, so a resend keeps it.
pub fn new_message_id(prefix: &str, from: &str) -> Result<String> {
    let mut r = [0u8; 16];
    // The kernel's generator directly (sequoia's `random` costs ~150 us a call here).
    crate::read::crypto::random_bytes(&mut r).context("random bytes for a Message-ID")?;
    let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{prefix}.{hex}@{}", domain_of(from)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Config {
        Config::from_toml(
            "[store]\npath = \"x.db\"\n[keys]\nsecret = []\n[outbox]\nfrom = \"security@example.test\"\nteam = \"team@example.test\"\n",
            std::path::Path::new("t.toml"),
        )
        .unwrap()
    }

    fn report(from: &str) -> Report {
        Report {
            from_addr: Some(from.into()),
            ..Report::default()
        }
    }

    #[test]
    fn silence_rules_name_their_reason() {
        let cfg = cfg();
        assert_eq!(silence_reason(&report("rita@example.net"), &cfg, &[]), None);
        let cases: Vec<(Report, &str)> = vec![
            (
                Report {
                    auto_submitted: Some("auto-replied".into()),
                    ..report("a@example.net")
                },
                "RFC 3834",
            ),
            (
                Report {
                    auto_submitted: Some("no".into()),
                    precedence: Some("bulk".into()),
                    ..report("a@example.net")
                },
                "Precedence: bulk",
            ),
            (
                Report {
                    list_id: Some("<l.example>".into()),
                    ..report("a@example.net")
                },
                "List-Id",
            ),
            (
                Report {
                    return_path: Some("<>".into()),
                    ..report("a@example.net")
                },
                "null Return-Path",
            ),
            (
                Report {
                    automatic: Some("X-Autoreply: yes".into()),
                    ..report("a@example.net")
                },
                "X-Autoreply: yes (an automatic message)",
            ),
            (
                Report {
                    precedence: Some("auto_reply".into()),
                    ..report("a@example.net")
                },
                "Precedence: auto_reply",
            ),
            (report("MAILER-DAEMON+x@example.net"), "automated sender"),
            (report("owner-list@example.net"), "automated sender"),
            (report("security@example.test"), "loop"),
            (
                Report {
                    x_loop: vec!["Security <SECURITY@example.test>".into()],
                    ..report("a@example.net")
                },
                "X-Loop",
            ),
            (
                Report {
                    from_problem: Some("2 From headers".into()),
                    ..report("a@example.net")
                },
                "ambiguous sender",
            ),
            (Report::default(), "no From address"),
        ];
        for (r, want) in cases {
            let got = silence_reason(&r, &cfg, &[]).unwrap_or_default();
            assert!(got.contains(want), "{want:?} not in {got:?} for {r:?}");
        }
    }

    #[test]
    fn the_ack_says_what_the_signature_and_encryption_really_were() {
        let facts = |signature, partly_encrypted, smime_encrypted, undecryptable| AckFacts {
            case_id: "SEC-2026-0001",
            arrived_at: 0,
            verdict: None,
            signature,
            undecryptable,
            team_fingerprint: Some("ABCD".into()),
            report_subject: Some("secret subject"),
            encrypted: false,
            not_encrypted_because: None,
            from: "security@example.test",
            partly_encrypted,
            smime_encrypted,
            other_signer: Some("Mallory <m@evil.test> (FFFF)".into()),
        };
        let t = ack_text(&facts(SigStatus::Partial, true, false, false));
        assert!(t.contains("only part of your message was signed"), "{t}");
        assert!(t.contains("only part of your message was encrypted"), "{t}");
        assert!(
            !t.contains("secret subject") && !t.contains("Mallory"),
            "a cleartext ack quotes nothing, not even the signer: {t}"
        );
        let t = ack_text(&facts(SigStatus::Smime, false, true, true));
        assert!(
            t.contains("S/MIME") && t.contains("OpenPGP only") && t.contains("ABCD"),
            "{t}"
        );
        let t = ack_text(&facts(SigStatus::Good, false, false, false));
        assert!(t.contains("the signature is valid"), "{t}");
        // Encrypted to the reporter, a signature by someone else says who signed.
        let mut f = facts(SigStatus::SignerMismatch, false, false, false);
        f.encrypted = true;
        let t = ack_text(&f);
        assert!(t.contains("do not name your From address"), "{t}");
        assert!(t.contains("Signed by: Mallory <m@evil.test> (FFFF)"), "{t}");
        // A valid SHA-1 signature is not called altered.
        let t = ack_text(&facts(SigStatus::WeakAlgorithm, false, false, false));
        assert!(t.contains("algorithm we no longer accept"), "{t}");
        assert!(
            !t.contains("DID NOT verify") && !t.contains("is valid"),
            "{t}"
        );
    }

    #[test]
    fn message_ids_carry_128_random_bits_and_the_sender_domain() {
        let a = new_message_id("SEC-2026-0001.ack", "security@example.test").unwrap();
        let b = new_message_id("SEC-2026-0001.ack", "security@example.test").unwrap();
        assert_ne!(a, b);
        let hex = a
            .strip_prefix("SEC-2026-0001.ack.")
            .and_then(|r| r.strip_suffix("@example.test"))
            .unwrap();
        assert_eq!(hex.len(), 32);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
    }
}
