//! Attachments: encrypted files (`*.asc`, `*.pgp`, `*.gpg`), attached public keys,
//! other files stored with a guessed type, and a file cut by a streamed read left out.

use mail_parser::{Message, MimeHeaders};

use crate::read::crypto::{self, PgpKind};

use super::pgp::looks_like_mime;
use super::{Attachment, Walker};

impl Walker<'_> {
    /// [`Walker::binary`], unless the message was read only in part (a stream) and this
    /// attachment runs to the end of what was read: a cut file is not stored as if whole.
    pub(super) fn binary_unless_cut(
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
