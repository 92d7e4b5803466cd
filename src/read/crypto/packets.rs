//! The packet layer read by hand, before sequoia parses anything: session-key packets
//! counted and trimmed (a message with thousands of them is a denial of service), and
//! GnuPG's OCB packet (type 20) recognised so the case says why it cannot be read.

use std::io::Read;

use sequoia_openpgp as openpgp;

use super::*;

/// Whether an OpenPGP message (armored or binary) carries its encrypted data in
/// GnuPG's OCB packet (type 20), after its session-key packets.
pub(crate) fn is_gnupg_ocb(data: &[u8]) -> bool {
    // At least one session-key packet, then the OCB packet.
    message_head(data).is_some_and(
        |head| matches!(walk_esks(&head, usize::MAX), (n, EskWalkEnd::Packet(20)) if n > 0),
    )
}

/// The reason given for a message in GnuPG's OCB packet.
pub(super) const GNUPG_OCB: &str = "encrypted with GnuPG's OCB packet (packet type 20, LibrePGP), which GnuPG 2.3 and later use when the recipient key advertises the \"AEAD\" feature; it is not OpenPGP (RFC 9580) and triaged cannot read it. Fix: remove the feature from the team key (`triaged doctor` says how) and republish the key; ask the reporter to encrypt again (with the republished key, or `gpg --rfc4880`)";

/// More encrypted session keys than this in one message are trimmed before parsing.
pub(super) const MAX_ESKS_PARSED: usize = 256;

/// A message with a flood of encrypted session keys (PKESK/SKESK) is trimmed before
/// sequoia parses it: sequoia's message grammar check is quadratic in the number of
/// packets (200,000 anonymous PKESKs took 3.5 minutes before the first decryption try).
/// Kept: the PKESKs addressed to a team key and the first `max_pkesks` + 1 anonymous
/// ones (so the try cap still speaks), then the encrypted data unchanged. Returns the
/// new binary message and a note, or None when the message is within bounds.
pub(super) fn trim_esks(
    team: &TeamKeys,
    data: &[u8],
    max_pkesks: usize,
) -> Option<(Vec<u8>, String)> {
    // Cheap first look: a small message cannot hold many ESKs.
    if data.len() < MAX_ESKS_PARSED * 12 {
        return None;
    }
    // The session keys come first: when a bounded prefix already shows the encrypted
    // data after at most MAX_ESKS_PARSED of them, the message is within bounds and is
    // not decoded a second time (a 25 MiB report would cost its size again here).
    let head = message_head(data)?;
    if few_esks(&head) {
        return None;
    }
    drop(head);
    let binary: std::borrow::Cow<'_, [u8]> = if is_armored(data) {
        std::borrow::Cow::Owned(dearmored(data, u64::MAX)?)
    } else {
        std::borrow::Cow::Borrowed(data)
    };
    let b = &binary[..];
    // (start, end, tag, recipient key id bytes or empty for anonymous)
    let mut esks: Vec<(usize, usize, u8, Vec<u8>)> = Vec::new();
    let mut pos = 0;
    while let Some((tag, body, end)) = packet_at(b, pos) {
        match tag {
            1 => {
                let recipient = match b.get(body) {
                    Some(3) => b.get(body + 1..body + 9).map(<[u8]>::to_vec),
                    Some(6) => b
                        .get(body + 1)
                        .and_then(|&n| b.get(body + 3..body + 2 + n as usize))
                        .map(<[u8]>::to_vec),
                    _ => None,
                }
                .filter(|id| id.iter().any(|&x| x != 0))
                .unwrap_or_default();
                esks.push((pos, end, tag, recipient));
            }
            3 | 10 => esks.push((pos, end, tag, Vec::new())),
            _ => break,
        }
        pos = end;
    }
    if esks.len() <= MAX_ESKS_PARSED {
        return None;
    }
    let ours = |id: &[u8]| {
        team.keys.iter().any(|k| {
            let fp = k.key_fpr.as_bytes();
            // v4: key id = last 8 bytes of the fingerprint; v6: key id = first 8 bytes.
            id == fp || (id.len() == 8 && (fp.ends_with(id) || fp.starts_with(id)))
        })
    };
    let mut out = Vec::with_capacity(b.len().min(1 << 20));
    let (mut kept_ours, mut kept_anon) = (0usize, 0usize);
    for (s, e, tag, id) in &esks {
        let keep = if *tag != 1 {
            false
        } else if id.is_empty() {
            kept_anon += 1;
            kept_anon <= max_pkesks + 1
        } else if ours(id) && kept_ours < 64 {
            kept_ours += 1;
            true
        } else {
            false
        };
        if keep {
            out.extend_from_slice(b.get(*s..*e).unwrap_or_default());
        }
    }
    out.extend_from_slice(b.get(pos..).unwrap_or_default());
    Some((
        out,
        format!(
            "{} encrypted session keys in the message, more than triaged parses ({MAX_ESKS_PARSED}); kept {kept_ours} addressed to a team key and at most limits.max_pkesks ({max_pkesks}) + 1 anonymous ones",
            esks.len()
        ),
    ))
}

/// Binary bytes looked at first for the session keys: 256 of the largest (RSA-8192,
/// ~1 KiB each) fit.
pub(super) const ESK_PREFIX: usize = 512 * 1024;

/// True when `head` (the start of a binary message) holds at most MAX_ESKS_PARSED
/// session-key packets followed by another packet: nothing to trim. False when it
/// cannot tell (the prefix ends among session keys) or there are more.
pub(super) fn few_esks(head: &[u8]) -> bool {
    match walk_esks(head, MAX_ESKS_PARSED + 1) {
        (n, EskWalkEnd::Packet(_) | EskWalkEnd::NotPacket) => n <= MAX_ESKS_PARSED,
        (_, EskWalkEnd::Truncated | EskWalkEnd::Cap) => false,
    }
}

/// Whether a message is ASCII-armored (possibly after leading white space).
pub(super) fn is_armored(data: &[u8]) -> bool {
    data.trim_ascii_start().starts_with(b"-----BEGIN PGP")
}

/// The first `limit` bytes of an armored message's binary form.
pub(super) fn dearmored(data: &[u8], limit: u64) -> Option<Vec<u8>> {
    let r = openpgp::armor::Reader::from_bytes(
        data,
        openpgp::armor::ReaderMode::Tolerant(Some(openpgp::armor::Kind::Message)),
    );
    let mut out = Vec::new();
    r.take(limit).read_to_end(&mut out).ok()?;
    Some(out)
}

/// The start of a message in binary form, armored or not: the [`ESK_PREFIX`] bytes in
/// which its session-key packets are looked for. None when the armor does not decode.
pub(super) fn message_head(data: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
    if is_armored(data) {
        dearmored(data, ESK_PREFIX as u64).map(std::borrow::Cow::Owned)
    } else {
        let trimmed = data.trim_ascii_start();
        Some(std::borrow::Cow::Borrowed(
            trimmed.get(..ESK_PREFIX).unwrap_or(trimmed),
        ))
    }
}

/// How a walk over the session-key packets ended.
#[derive(Debug, PartialEq)]
pub(super) enum EskWalkEnd {
    /// Another packet follows, with this tag (18 SEIPD, 20 GnuPG's OCB, ...).
    Packet(u8),
    /// The bytes after the session keys are not a packet header.
    NotPacket,
    /// The bytes ended among the session keys, or a header was malformed.
    Truncated,
    /// `cap` session-key packets were walked.
    Cap,
}

/// Walks the session-key packets (PKESK 1, SKESK 3, and marker packets 10, which
/// readers ignore) at the start of a binary message, at most `cap` of them: how many
/// there were, and what came after.
pub(super) fn walk_esks(head: &[u8], cap: usize) -> (usize, EskWalkEnd) {
    let (mut n, mut pos) = (0usize, 0usize);
    loop {
        let Some(&h) = head.get(pos) else {
            return (n, EskWalkEnd::Truncated);
        };
        let Some(tag) = packet_tag(h) else {
            return (n, EskWalkEnd::NotPacket);
        };
        if !matches!(tag, 1 | 3 | 10) {
            return (n, EskWalkEnd::Packet(tag));
        }
        if n == cap {
            return (n, EskWalkEnd::Cap);
        }
        n += 1;
        match packet_at(head, pos) {
            Some((_, _, end)) => pos = end,
            None => return (n, EskWalkEnd::Truncated),
        }
    }
}

/// The tag of a packet from its first header byte (new or old format); None when the
/// byte is not a packet header.
pub(super) fn packet_tag(h: u8) -> Option<u8> {
    if h & 0x80 == 0 {
        None
    } else if h & 0x40 != 0 {
        Some(h & 0x3f)
    } else {
        Some((h >> 2) & 0x0f)
    }
}

/// The OpenPGP packet header at `pos`: (tag, body start, body end). None at the end, on
/// a malformed header, or on a partial/indeterminate length (only data packets have those).
pub(super) fn packet_at(b: &[u8], pos: usize) -> Option<(u8, usize, usize)> {
    let h = *b.get(pos)?;
    if h & 0x80 == 0 {
        return None;
    }
    let (tag, len, hdr) = if h & 0x40 != 0 {
        let tag = h & 0x3f;
        let l1 = *b.get(pos + 1)? as usize;
        match l1 {
            0..=191 => (tag, l1, 2),
            192..=223 => (tag, ((l1 - 192) << 8) + *b.get(pos + 2)? as usize + 192, 3),
            255 => {
                let v: [u8; 4] = b.get(pos + 2..pos + 6)?.try_into().ok()?;
                (tag, u32::from_be_bytes(v) as usize, 6)
            }
            _ => return None,
        }
    } else {
        let tag = (h >> 2) & 0x0f;
        match h & 3 {
            0 => (tag, *b.get(pos + 1)? as usize, 2),
            1 => {
                let v: [u8; 2] = b.get(pos + 1..pos + 3)?.try_into().ok()?;
                (tag, u16::from_be_bytes(v) as usize, 3)
            }
            2 => {
                let v: [u8; 4] = b.get(pos + 1..pos + 5)?.try_into().ok()?;
                (tag, u32::from_be_bytes(v) as usize, 5)
            }
            _ => return None,
        }
    };
    let body = pos + hdr;
    let end = body.checked_add(len)?;
    (end <= b.len()).then_some((tag, body, end))
}
