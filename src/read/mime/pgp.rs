//! OpenPGP and S/MIME parts: PGP/MIME encrypted (RFC 3156 §4) and signed (§5)
//! entities, encrypted payloads wherever they appear, S/MIME recorded for what it is.
//!
//! The cryptography is [`crate::read::crypto`]'s; this module decides what bytes are
//! signed (canonical CRLF, the multipart split of RFC 2046) and what a decrypted
//! payload is (a MIME entity to walk again, or text).

use mail_parser::{Message, MimeHeaders};

use crate::domain::status::{SigStatus, SmimePart};
use crate::read::crypto::{self, SigResult};

use super::text::{LegacyText, armor_charset};
use super::walk::lower;
use super::{STREAMED_MARK, Walker};

impl Walker<'_> {
    /// application/pkcs7-mime: S/MIME encrypted (enveloped-data) or opaque-signed
    /// (signed-data). triaged reads OpenPGP only; either is recorded for what it is.
    pub(super) fn smime_part(&mut self, part: &mail_parser::MessagePart<'_>) {
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

    pub(super) fn verify_multipart_signed(
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
    pub(super) fn decrypt_entity(&mut self, data: &[u8], depth: usize, pgp_mime: bool) -> bool {
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
}

/// Does a decrypted payload start with a MIME header block naming a Content-Type?
pub(super) fn looks_like_mime(b: &[u8]) -> bool {
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
}
