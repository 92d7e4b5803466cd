//! Stream: reading a message too large to hold (above `limits.stream_above`) from a
//! file, in memory bounded by a constant.
//!
//! The file is scanned once, a buffer at a time, for the end of the header and for
//! the first armored OpenPGP message in the body (PGP/MIME keeps it as a 7bit part,
//! inline PGP in the text). That block is decrypted as a stream from the file
//! (`crypto::decrypt_stream`): the integrity check and the signatures cover all of
//! it, and the first `stream_above` bytes of the plaintext are kept. The message is
//! then read like any other (`mime::analyze_streamed`) from a reduced copy: the
//! header, at most `stream_above` bytes of body on each side of the block, and a
//! stand-in where the block stood. So the structure, headers, coverage, notes and
//! statuses come from the same code as for a message read whole; what a reduced copy
//! cannot show (the rest of the plaintext, of the body, a signature over a part that
//! was cut) is said in a note. The raw message itself is stored whole from the file
//! by intake.
//!
//! Not read as a stream: an armored block inside a part with a quoted-printable or
//! base64 transfer encoding (its lines are not the armor; no client is known to send
//! large encrypted mail that way). Its decryption fails with the reason in the case,
//! and the raw message is kept.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use crate::config::Limits;
use crate::read::crypto::{self, TeamKeys};
use crate::read::mime::{self, Analysis, Report, Status};

/// Where the parts of a message sit in its file.
#[derive(Debug, Default, PartialEq)]
struct Layout {
    /// Offset just after the blank line ending the header (None: the message is all
    /// header).
    head_end: Option<u64>,
    /// The first armored OpenPGP message: from the start of its BEGIN line to the end
    /// of its END line.
    block: Option<(u64, u64)>,
    /// More armored messages after the first (a note says so; those within the part
    /// read are read by the MIME walk as in any message).
    more_blocks: usize,
    size: u64,
}

/// Header read at most; of a longer one (a 10 MB folded Subject) the first MAX_HEAD
/// bytes are read, as a header that ends there.
const MAX_HEAD: u64 = 1024 * 1024;
/// Bytes of a line looked at: enough for the armor lines.
const LINE_PREFIX: usize = 40;

/// Finds the header's end and the first armored message, reading the file once with a
/// fixed buffer (a 100 MiB line costs nothing more than a short one).
fn scan(r: impl Read) -> std::io::Result<Layout> {
    let mut r = BufReader::with_capacity(256 * 1024, r);
    let mut l = Layout::default();
    let (mut pos, mut line_start) = (0u64, 0u64);
    let mut prefix: Vec<u8> = Vec::with_capacity(LINE_PREFIX);
    let mut begin: Option<u64> = None;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            break;
        }
        let n = buf.len();
        let mut i = 0;
        while i < n {
            let rest = buf.get(i..).unwrap_or_default();
            match rest.iter().position(|&b| b == b'\n') {
                Some(nl) => {
                    let room = LINE_PREFIX.saturating_sub(prefix.len());
                    prefix.extend_from_slice(rest.get(..nl.min(room)).unwrap_or_default());
                    let end = pos + (i + nl + 1) as u64;
                    let line = prefix.strip_suffix(b"\r").unwrap_or(&prefix);
                    if l.head_end.is_none() {
                        if line.is_empty() && end - line_start <= 2 {
                            l.head_end = Some(end);
                        }
                    } else if line.starts_with(b"-----BEGIN PGP MESSAGE-----") {
                        if l.block.is_none() && begin.is_none() {
                            begin = Some(line_start);
                        } else {
                            l.more_blocks += 1;
                        }
                    } else if line.starts_with(b"-----END PGP MESSAGE-----")
                        && let Some(b) = begin.take()
                    {
                        l.block = Some((b, end));
                    }
                    prefix.clear();
                    line_start = end;
                    i += nl + 1;
                }
                None => {
                    let room = LINE_PREFIX.saturating_sub(prefix.len());
                    prefix.extend_from_slice(rest.get(..rest.len().min(room)).unwrap_or_default());
                    i = n;
                }
            }
        }
        pos += n as u64;
        r.consume(n);
    }
    l.size = pos;
    Ok(l)
}

/// `len` bytes of the file from `from`, at most `cap` of them; true when cut.
fn slice(
    f: &mut std::fs::File,
    from: u64,
    len: u64,
    cap: usize,
) -> std::io::Result<(Vec<u8>, bool)> {
    f.seek(SeekFrom::Start(from))?;
    let take = len.min(cap as u64);
    let mut out = Vec::with_capacity(usize::try_from(take).unwrap_or(0));
    (&mut *f).take(take).read_to_end(&mut out)?;
    Ok((out, len > take))
}

/// Decrypts the armored block at `begin..end` of the file as a stream: the decryption
/// (or why not) and the plaintext's whole length.
fn decrypt_block(
    path: &Path,
    (begin, end): (u64, u64),
    keys: &TeamKeys,
    extra: &[sequoia_openpgp::Cert],
    limits: &Limits,
    keep: usize,
) -> (Result<crypto::Decrypted, String>, u64) {
    let d = crypto::decrypt_stream(
        keys,
        extra,
        || -> anyhow::Result<_> {
            let mut f = std::fs::File::open(path)?;
            f.seek(SeekFrom::Start(begin))?;
            Ok(f.take(end - begin))
        },
        limits.max_decrypted_size.0,
        limits.max_pkesks,
        keep,
    );
    match d {
        Ok((d, total)) => (Ok(d), total),
        Err(e) => (Err(format!("{e:#}")), 0),
    }
}

/// The first 64 KiB of a message's file (its header, for what can be read without
/// decrypting when a read was lost); empty when the file cannot be read.
pub(crate) fn file_head(path: &Path) -> Vec<u8> {
    let mut v = Vec::new();
    match std::fs::File::open(path).and_then(|f| f.take(64 * 1024).read_to_end(&mut v)) {
        Ok(_) => v,
        Err(_) => Vec::new(),
    }
}

/// An analysis for a file that could not be read at all.
fn unreadable(why: String) -> Analysis {
    Analysis {
        report: Report::default(),
        status: Status::Unparseable(why),
    }
}

/// Reads the message in `path` as a stream. Never fails: what cannot be read becomes a
/// status that says why (the raw message is stored whole by intake either way).
pub fn read_file(path: &Path, limits: &Limits, keys: &TeamKeys) -> Analysis {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_inner(path, limits, keys)
    })) {
        Ok(a) => a,
        Err(_) => unreadable("internal error while reading the message (parser panic)".into()),
    }
}

fn read_inner(path: &Path, limits: &Limits, keys: &TeamKeys) -> Analysis {
    let keep = usize::try_from(limits.stream_above.0).unwrap_or(usize::MAX);
    let open = || std::fs::File::open(path);
    let layout = match open().and_then(scan) {
        Ok(l) => l,
        Err(e) => return unreadable(format!("cannot read the spooled message: {e}")),
    };
    let head_end = layout.head_end.unwrap_or(layout.size);
    let mut f = match open() {
        Ok(f) => f,
        Err(e) => return unreadable(format!("cannot read the spooled message: {e}")),
    };
    let mut reduced = Vec::new();
    let mut body_cut = false;
    let mut head_cut = false;
    let mut decrypted = None;
    let mut plain_total = 0u64;
    let parts = (|| -> std::io::Result<()> {
        let (head, cut) = slice(&mut f, 0, head_end, MAX_HEAD as usize)?;
        reduced.extend_from_slice(&head);
        if cut || layout.head_end.is_none() {
            // Read as a header that ends here.
            reduced.extend_from_slice(b"\r\n\r\n");
            head_cut = cut;
        }
        match layout.block {
            Some((begin, end)) => {
                let (before, cut1) = slice(&mut f, head_end, begin - head_end, keep)?;
                reduced.extend_from_slice(&before);
                reduced.extend_from_slice(mime::STREAMED_BLOCK.as_bytes());
                let (after, cut2) = slice(&mut f, end, layout.size - end, keep)?;
                reduced.extend_from_slice(&after);
                body_cut = cut1 || cut2;
                let (d, total) = decrypt_block(path, (begin, end), keys, &[], limits, keep);
                plain_total = total;
                decrypted = Some(d);
            }
            None => {
                let (body, cut) = slice(&mut f, head_end, layout.size - head_end, keep)?;
                reduced.extend_from_slice(&body);
                body_cut = cut;
            }
        }
        Ok(())
    })();
    if let Err(e) = parts {
        return unreadable(format!("cannot read the spooled message: {e}"));
    }
    let plain_cut = plain_total > keep as u64;
    let mut a = mime::analyze_streamed(&reduced, keys, limits, decrypted, body_cut || plain_cut);
    // As for a message held whole (mime::analyze_passes): a signature by a key that the
    // message itself carries is checked again once the key is known, by decrypting the
    // block from the file a second time.
    let unknown = a
        .report
        .signatures
        .iter()
        .any(|s| s.status == crate::domain::status::SigStatus::UnknownKey);
    if let Some(block) = layout.block
        && unknown
        && !a.report.keys.is_empty()
    {
        let extra: Vec<_> = a.report.keys.iter().map(|k| k.cert.clone()).collect();
        let (d, _) = decrypt_block(path, block, keys, &extra, limits, keep);
        let mut second =
            mime::analyze_streamed(&reduced, keys, limits, Some(d), body_cut || plain_cut);
        second.report.keys = std::mem::take(&mut a.report.keys);
        a = second;
    }
    let mut note = format!(
        "read as a stream: the message ({} bytes) is above limits.stream_above ({} bytes)",
        layout.size, limits.stream_above.0
    );
    if plain_cut {
        note.push_str(&format!(
            "; its decrypted content is {plain_total} bytes, of which the first {keep} were read for the text and attachments"
        ));
    }
    if body_cut {
        note.push_str(&format!(
            "; of the body around the encrypted block (or of an unencrypted body) the first {keep} bytes were read"
        ));
    }
    if head_cut {
        note.push_str(&format!(
            "; its header is {head_end} bytes, of which the first {MAX_HEAD} were read"
        ));
    }
    if plain_cut || body_cut || head_cut {
        note.push_str("; the rest is in the stored raw message");
    }
    a.report.notes.push(note);
    if layout.more_blocks > 0 {
        a.report.notes.push(format!(
            "{} more armored OpenPGP message(s) follow the first: those within the part read were read as in any message, the rest are in the stored raw message",
            layout.more_blocks
        ));
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scan_finds_the_header_end_and_the_first_block_across_buffers() {
        let mut m = b"From: a@example.net\r\nSubject: x\r\n\r\nHello\r\n".to_vec();
        m.extend(std::iter::repeat_n(b'x', 600 * 1024));
        m.extend_from_slice(
            b"\r\n-----BEGIN PGP MESSAGE-----\r\n\r\nabc\r\n-----END PGP MESSAGE-----\r\ntail\r\n",
        );
        m.extend_from_slice(b"-----BEGIN PGP MESSAGE-----\r\n-----END PGP MESSAGE-----\r\n");
        let l = scan(&m[..]).expect("scan");
        let head_end = l.head_end.expect("header end") as usize;
        assert_eq!(&m[head_end..head_end + 5], b"Hello");
        let (b, e) = l.block.expect("block");
        let block = &m[b as usize..e as usize];
        assert!(block.starts_with(b"-----BEGIN PGP MESSAGE-----"));
        assert!(block.ends_with(b"-----END PGP MESSAGE-----\r\n"));
        assert_eq!(l.more_blocks, 1);
        assert_eq!(l.size, m.len() as u64);
    }

    #[test]
    fn armor_lines_in_the_header_or_without_an_end_are_not_a_block() {
        let m =
            b"Subject: -----BEGIN PGP MESSAGE-----\n\nbody\n-----BEGIN PGP MESSAGE-----\nno end\n";
        let l = scan(&m[..]).expect("scan");
        assert!(l.head_end.is_some());
        assert_eq!(l.block, None);
        // No blank line: all header.
        let l = scan(&b"From: a\nSubject: b\n"[..]).expect("scan");
        assert_eq!(l.head_end, None);
        // A header longer than any buffer still ends where its blank line is.
        let mut m = b"Subject: x".to_vec();
        for _ in 0..100_000 {
            m.extend_from_slice(b"\r\n  folded xxxxxxxxxxxxxxxxxxxxxxxx");
        }
        let end = m.len() + 4;
        m.extend_from_slice(
            b"\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n-----END PGP MESSAGE-----\r\n",
        );
        let l = scan(&m[..]).expect("scan");
        assert_eq!(l.head_end, Some(end as u64));
        assert!(l.block.is_some());
    }
}
