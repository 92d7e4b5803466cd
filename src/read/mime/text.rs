//! Text parts: inline ASCII-armored blocks (encrypted or clear-signed) found in them,
//! and text in a legacy charset, whose signed bytes are not the UTF-8 mail-parser hands
//! over.

use mail_parser::{Message, MimeHeaders};

use crate::domain::status::SigStatus;
use crate::read::crypto::{self, SigResult};

use super::Walker;

impl Walker<'_> {
    /// A text part: decrypt inline PGP blocks, verify clear-signed blocks, lift keys.
    pub(super) fn text(&mut self, t: std::borrow::Cow<'_, str>, depth: usize) {
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
                    let as_sent = self
                        .unencoded
                        .as_mut()
                        .and_then(|u| u.next_message().map(<[u8]>::to_vec));
                    if as_sent.is_some() {
                        self.report.notes.push(
                            "a part declared quoted-printable held its OpenPGP armor unencoded (decoding would break it): the block was read as sent".into(),
                        );
                    }
                    let saved = std::mem::take(&mut self.report.text);
                    let ok = self.decrypt_entity(
                        as_sent.as_deref().unwrap_or(armored.as_bytes()),
                        depth,
                        false,
                    );
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
}

/// A text part in a legacy charset (ISO-8859-1, windows-1252, KOI8-R …) that holds
/// OpenPGP armor. mail-parser hands its text over as UTF-8; a clear signature covers
/// the original bytes, and the plaintext of an inline encrypted block is in the
/// sender's charset, so both are read from here.
pub(super) struct LegacyText {
    /// The part's body, transfer encoding removed, charset not converted.
    pub(super) raw: Vec<u8>,
    /// How far the blocks already read reach into `raw` (armor markers are ASCII in
    /// every charset this is used for, so blocks come in the same order as in the text).
    pub(super) pos: usize,
    pub(super) decode: mail_parser::decoders::charsets::DecoderFnc,
}

/// The next armored block of `raw` after `*pos` that starts with `begin` and ends with
/// `end`; `*pos` moves past it.
fn next_block<'r>(raw: &'r [u8], pos: &mut usize, begin: &[u8], end: &[u8]) -> Option<&'r [u8]> {
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let start = *pos + find(raw.get(*pos..)?, begin)?;
    let stop = start + find(raw.get(start..)?, end)? + end.len();
    *pos = stop;
    raw.get(start..stop)
}

/// A text part declared quoted-printable whose armor was sent unencoded (KMail 4): its
/// raw body, from which encrypted blocks are read as sent.
pub(super) struct RawBlocks {
    pub(super) raw: Vec<u8>,
    pub(super) pos: usize,
}

/// Whether the OpenPGP armor in a quoted-printable part's raw body was left unencoded.
/// Decoding it would read the base64 padding `=` at a line's end as a soft line break
/// (gluing the checksum line to the last line: "Truncated packet") and `=AB` at the
/// start of a checksum line as a byte. An encoder writes a literal `=` as `=3D`, so an
/// armored message block with `=` at the end or start of a line and no `=3D` anywhere
/// was sent as it is.
pub(super) fn armor_left_unencoded(raw: &[u8]) -> bool {
    let mut pos = 0;
    let mut found = false;
    while let Some(block) = next_block(
        raw,
        &mut pos,
        b"-----BEGIN PGP MESSAGE-----",
        b"-----END PGP MESSAGE-----",
    ) {
        if block.windows(3).any(|w| w.eq_ignore_ascii_case(b"=3D")) {
            return false;
        }
        found |= block.split(|&b| b == b'\n').any(|l| {
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            !l.starts_with(b"-----") && (l.ends_with(b"=") || l.starts_with(b"="))
        });
    }
    found
}

impl RawBlocks {
    fn next_message(&mut self) -> Option<&[u8]> {
        next_block(
            &self.raw,
            &mut self.pos,
            b"-----BEGIN PGP MESSAGE-----",
            b"-----END PGP MESSAGE-----",
        )
    }
}

impl LegacyText {
    /// The next armored block of `raw` that starts with `begin` and ends with `end`.
    fn next_block(&mut self, begin: &[u8], end: &[u8]) -> Option<&[u8]> {
        next_block(&self.raw, &mut self.pos, begin, end)
    }

    /// Bytes in this part's charset as text (valid UTF-8 is taken as it is: a client
    /// that declared Latin-1 may still have sent UTF-8 inside the armor).
    pub(super) fn text(&self, bytes: Vec<u8>) -> String {
        String::from_utf8(bytes).unwrap_or_else(|e| (self.decode)(e.as_bytes()))
    }
}

/// The charset decoder of a text part that declares a charset other than UTF-8 or
/// US-ASCII (and which mail-parser knows).
pub(super) fn legacy_charset(
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
pub(super) fn transfer_decoded(
    msg: &Message<'_>,
    part: &mail_parser::MessagePart<'_>,
) -> Option<Vec<u8>> {
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
pub(super) fn armor_charset(armored: &[u8]) -> Option<mail_parser::decoders::charsets::DecoderFnc> {
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

#[cfg(test)]
mod tests {
    use super::armor_left_unencoded;

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
    fn armor_left_unencoded_only_when_an_edge_equals_sign_and_no_3d() {
        let raw = b"Hi\r\n-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMAwzO\r\nLdLw=\r\n=Fijx\r\n-----END PGP MESSAGE-----\r\n";
        assert!(armor_left_unencoded(raw));
        // Encoded properly: '=' is "=3D".
        let encoded = b"-----BEGIN PGP MESSAGE-----\n\nhQEMAwzO\nLdLw=3D\n=3DFijx\n-----END PGP MESSAGE-----\n";
        assert!(!armor_left_unencoded(encoded));
        // No '=' at a line's edge: decoding changes nothing, nothing to do.
        let plain = b"-----BEGIN PGP MESSAGE-----\n\nhQEMAwzO\nLdLwab\n-----END PGP MESSAGE-----\n";
        assert!(!armor_left_unencoded(plain));
        // A soft line break in prose outside the armor does not count.
        let prose = b"a long line that was wrapped=\r\nhere\r\n-----BEGIN PGP MESSAGE-----\n\nhQEM\n-----END PGP MESSAGE-----\n";
        assert!(!armor_left_unencoded(prose));
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
