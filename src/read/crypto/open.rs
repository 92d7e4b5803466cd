//! Opening one OpenPGP message: decrypt (held whole or streamed from a file, within a
//! size limit) and verify inline and detached signatures, each guarded against panics
//! in the parser.

use std::io::Read;

use anyhow::{Context, Result, anyhow};
use sequoia_openpgp as openpgp;

use openpgp::Cert;
use openpgp::parse::Parse;
use openpgp::parse::stream::{DecryptorBuilder, DetachedVerifierBuilder, VerifierBuilder};

use super::*;

/// The result of decrypting (and verifying) one OpenPGP message.
#[derive(Debug, Clone)]
pub struct Decrypted {
    pub plaintext: Vec<u8>,
    pub signatures: Vec<SigResult>,
    /// The team certificate whose subkey decrypted it.
    pub team_key: Option<String>,
    /// SHA-256 of the session key (domain-separated; it reveals nothing of the key).
    /// The same ciphertext copied into another mail has the same session key: this is
    /// how a replayed report is recognised (EFAIL-style reply oracle).
    pub session_key_hash: Option<String>,
    /// The message really was encrypted (a session key opened it). A signed-only
    /// or bare literal OpenPGP message also "decrypts", but is not encrypted.
    pub encrypted: bool,
}

/// What sequoia holds back while it streams a message. Its default (25 MiB) withholds
/// that much plaintext until the signatures are checked, so a large report cost that
/// buffer on top of its plaintext. triaged reads every message to its end before it
/// looks at the signature results, so nothing is acted on before they are known and the
/// buffer only needs to be big enough to read efficiently.
pub(super) const STREAM_BUFFER: usize = 256 * 1024;

/// Reads a plaintext of at most `limit` bytes. `hint` (the size of what is decrypted)
/// sizes the buffer once: growing it by doubling would hold up to three times the
/// plaintext while it is copied.
pub(super) fn read_limited(mut r: impl Read, limit: u64, hint: usize) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(hint.min(usize::try_from(limit).unwrap_or(usize::MAX)));
    (&mut r)
        .take(limit + 1)
        .read_to_end(&mut out)
        .context("reading the decrypted data failed")?;
    if out.len() as u64 > limit {
        return Err(anyhow!(
            "the plaintext exceeds limits.max_decrypted_size ({limit} bytes); possible compression bomb"
        ));
    }
    Ok(out)
}

/// Runs a parse of untrusted OpenPGP data; a panic inside the OpenPGP library (it
/// has happened: fuzzing found one in sequoia's SEIP parser, see
/// tests/fuzz_regressions.rs) becomes an error for this one block, so the rest of
/// the message is still read and the case says why this block was not.
pub(super) fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(anyhow!(
            "the OpenPGP parser failed on malformed input while {what} (internal panic, contained)"
        ))
    })
}

/// Decrypts an OpenPGP message (armored or binary), verifying signatures inside it.
/// `extra` certs are used for verification (keys found in the message itself).
pub fn decrypt(
    team: &TeamKeys,
    extra: &[Cert],
    data: &[u8],
    limit: u64,
    max_pkesks: usize,
) -> Result<Decrypted> {
    guarded("decrypting", || {
        decrypt_inner(team, extra, data, limit, max_pkesks)
    })
    .or_else(|e| {
        if is_gnupg_ocb(data) {
            return Err(anyhow!(GNUPG_OCB));
        }
        if !names_ocb(&e) {
            return Err(e);
        }
        match own_ocb(team, extra, data, max_pkesks, |r| {
            read_limited(r, limit, data.len())
        }) {
            Ok(Some((plaintext, d))) => Ok(Decrypted { plaintext, ..d }),
            Ok(None) => Err(e),
            Err(ocb) => Err(ocb),
        }
    })
}

/// The backend's refusal of OCB ("Unsupported AEAD algorithm: OCB"): only then is the
/// message tried with [`own_ocb`], so every other failure keeps its own words.
fn names_ocb(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<openpgp::Error>(),
            Some(openpgp::Error::UnsupportedAEADAlgorithm(
                openpgp::types::AEADAlgorithm::OCB
            ))
        )
    })
}

/// RFC 9580 encrypted data with OCB that the backend cannot decrypt (see `ocb.rs`):
/// `Ok(None)` when `src` is not such a message or this build has no OpenSSL.
#[cfg_attr(not(feature = "ocb-openssl"), allow(unused_variables))]
fn own_ocb<T, R: Read + Send + Sync>(
    team: &TeamKeys,
    extra: &[Cert],
    src: R,
    max_pkesks: usize,
    consume: impl FnOnce(&mut dyn Read) -> Result<T>,
) -> Result<Option<(T, Decrypted)>> {
    #[cfg(feature = "ocb-openssl")]
    {
        let opened = guarded("decrypting RFC 9580 encrypted data (OCB)", || {
            super::ocb::open(team, extra, src, max_pkesks, consume)
        })?;
        Ok(opened.map(|o| {
            (
                o.value,
                Decrypted {
                    plaintext: Vec::new(),
                    signatures: o.signatures,
                    team_key: o.team_key,
                    session_key_hash: o.session_key_hash,
                    encrypted: true,
                },
            )
        }))
    }
    #[cfg(not(feature = "ocb-openssl"))]
    Ok(None)
}

pub(super) fn decrypt_inner(
    team: &TeamKeys,
    extra: &[Cert],
    data: &[u8],
    limit: u64,
    max_pkesks: usize,
) -> Result<Decrypted> {
    let (mut d, unchecked) = decrypt_under(&POLICY, team, extra, data, limit, max_pkesks)?;
    if !unchecked.is_empty() {
        // A signature inside by a SHA-1-bound key was not checked (see `recheck`):
        // decrypted once more under the old-mail policy to learn whether it verifies.
        let old = decrypt_under(&*OLD_MAIL_POLICY, team, extra, data, limit, max_pkesks)
            .ok()
            .map(|(o, _)| o.signatures);
        d.signatures = recheck(d.signatures, &unchecked, old);
    }
    Ok(d)
}

fn decrypt_under(
    policy: &dyn openpgp::policy::Policy,
    team: &TeamKeys,
    extra: &[Cert],
    data: &[u8],
    limit: u64,
    max_pkesks: usize,
) -> Result<(Decrypted, Vec<usize>)> {
    let trimmed = trim_esks(team, data, max_pkesks);
    let (data, note): (&[u8], Option<String>) = match &trimmed {
        Some((bytes, note)) => (bytes, Some(note.clone())),
        None => (data, None),
    };
    let helper = Helper::new(team, extra, max_pkesks);
    let mut d = match DecryptorBuilder::from_bytes(data)
        .context("not an OpenPGP message")
        .and_then(|b| {
            b.buffer_size(STREAM_BUFFER)
                .with_policy(policy, None, helper)
        }) {
        Ok(d) => d,
        Err(e) => {
            return Err(match note {
                Some(n) => e.context(n),
                None => e,
            });
        }
    };
    let plaintext = read_limited(&mut d, limit, data.len())?;
    Ok(finish(plaintext, d.into_helper()))
}

/// A decryption's result from the helper that opened and verified it, with the indexes
/// of the signatures it left unchecked (`Helper::unchecked`).
fn finish(plaintext: Vec<u8>, h: Helper<'_>) -> (Decrypted, Vec<usize>) {
    (
        Decrypted {
            plaintext,
            signatures: h.sigs,
            encrypted: h.session_key_hash.is_some() || h.used.is_some(),
            team_key: h.used,
            session_key_hash: h.session_key_hash,
        },
        h.unchecked,
    )
}

/// Decrypts an OpenPGP message that is read as a stream, never held whole (a message
/// above `limits.stream_above`). `open` gives the message from its start (armored or
/// binary) each time it is called: once for the session-key check on a bounded
/// prefix, once to decrypt. Of the plaintext the first `keep` bytes are returned; the
/// rest is read (so the integrity check and the signatures cover all of it) and
/// counted, then dropped. Returns the decryption and the plaintext's whole length.
pub(crate) fn decrypt_stream<R: Read + Send + Sync>(
    team: &TeamKeys,
    extra: &[Cert],
    open: impl Fn() -> Result<R>,
    limit: u64,
    max_pkesks: usize,
    keep: usize,
) -> Result<(Decrypted, u64)> {
    guarded("decrypting a streamed message", || {
        // A flood of session keys is trimmed in memory for a message that is held; a
        // streamed one is refused instead (the raw message is kept).
        let mut head = Vec::new();
        let first = open()?;
        let mut peek = std::io::BufReader::new(first);
        let armored = {
            use std::io::BufRead;
            let b = peek.fill_buf().context("reading the encrypted message")?;
            b.trim_ascii_start().starts_with(b"-----BEGIN PGP")
        };
        if armored {
            openpgp::armor::Reader::from_reader(
                peek,
                openpgp::armor::ReaderMode::Tolerant(Some(openpgp::armor::Kind::Message)),
            )
            .take(ESK_PREFIX as u64)
            .read_to_end(&mut head)
            .context("reading the encrypted message's armor")?;
        } else {
            peek.take(ESK_PREFIX as u64)
                .read_to_end(&mut head)
                .context("reading the encrypted message")?;
        }
        if !few_esks(&head) {
            return Err(anyhow!(
                "more than {MAX_ESKS_PARSED} encrypted session keys in a message read as a stream (above limits.stream_above): not decrypted"
            ));
        }
        drop(head);
        let run = |policy: &dyn openpgp::policy::Policy, keep: usize| {
            let helper = Helper::new(team, extra, max_pkesks);
            let mut d = DecryptorBuilder::from_reader(open()?)
                .context("not an OpenPGP message")?
                .buffer_size(STREAM_BUFFER)
                .with_policy(policy, None, helper)?;
            let (plaintext, total) = read_kept(&mut d, limit, keep)?;
            anyhow::Ok((finish(plaintext, d.into_helper()), total))
        };
        let ((mut d, unchecked), total) = run(&POLICY, keep)?;
        if !unchecked.is_empty() {
            // As `decrypt_inner`: read once more, for the signatures only.
            let old = run(&*OLD_MAIL_POLICY, 0).ok().map(|((o, _), _)| o.signatures);
            d.signatures = recheck(d.signatures, &unchecked, old);
        }
        Ok((d, total))
    })
    .or_else(|e| {
        let mut head = Vec::new();
        let gnupg = open()
            .and_then(|r| Ok(r.take(ESK_PREFIX as u64).read_to_end(&mut head)?))
            .is_ok_and(|_| is_gnupg_ocb(&head));
        if gnupg {
            return Err(anyhow!(GNUPG_OCB));
        }
        let src = match open() {
            Ok(src) if names_ocb(&e) => src,
            _ => return Err(e),
        };
        match own_ocb(team, extra, src, max_pkesks, |r| read_kept(r, limit, keep)) {
            Ok(Some(((plaintext, total), d))) => Ok((Decrypted { plaintext, ..d }, total)),
            Ok(None) => Err(e),
            Err(ocb) => Err(ocb),
        }
    })
}

/// Reads a plaintext to its end (so the integrity check and the signatures cover all of
/// it), keeping its first `keep` bytes; refuses more than `limit` bytes. Returns what
/// was kept and the whole length.
fn read_kept(mut r: impl Read, limit: u64, keep: usize) -> Result<(Vec<u8>, u64)> {
    let mut plaintext = Vec::with_capacity(keep.min(STREAM_BUFFER));
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = r
            .read(&mut buf)
            .context("reading the decrypted data failed")?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > limit {
            return Err(anyhow!(
                "the plaintext exceeds limits.max_decrypted_size ({limit} bytes); possible compression bomb"
            ));
        }
        let room = keep.saturating_sub(plaintext.len());
        plaintext.extend_from_slice(buf.get(..n.min(room)).unwrap_or_default());
    }
    Ok((plaintext, total))
}

/// Verifies an inline-signed or clear-signed message and returns its content.
pub(crate) fn verify_inline(
    team: &TeamKeys,
    extra: &[Cert],
    data: &[u8],
    limit: u64,
) -> Result<(Vec<u8>, Vec<SigResult>)> {
    guarded("verifying a signed message", || {
        verify_inline_inner(team, extra, data, limit)
    })
}

pub(super) fn verify_inline_inner(
    team: &TeamKeys,
    extra: &[Cert],
    data: &[u8],
    limit: u64,
) -> Result<(Vec<u8>, Vec<SigResult>)> {
    type Verified = (Vec<u8>, Vec<SigResult>, Vec<usize>);
    let verify = |policy: &dyn openpgp::policy::Policy| -> Result<Verified> {
        let helper = Helper::new(team, extra, 0);
        let mut v = VerifierBuilder::from_bytes(data)
            .context("not a signed OpenPGP message")?
            .buffer_size(STREAM_BUFFER)
            .with_policy(policy, None, helper)?;
        let content = read_limited(&mut v, limit, data.len())?;
        let h = v.into_helper();
        Ok((content, h.sigs, h.unchecked))
    };
    match verify(&POLICY) {
        Err(e) if policy_rejection(&e).is_some() && has_v3_signature(data) => {
            let (content, sigs, _) = verify(&*OLD_MAIL_POLICY)?;
            Ok((content, old_format(sigs)))
        }
        Ok((content, sigs, unchecked)) if !unchecked.is_empty() => {
            let old = verify(&*OLD_MAIL_POLICY).ok().map(|(_, s, _)| s);
            Ok((content, recheck(sigs, &unchecked, old)))
        }
        r => r.map(|(content, sigs, _)| (content, sigs)),
    }
}

/// Whether `data` (armored, clear-signed or binary) holds a version 3 signature.
fn has_v3_signature(data: &[u8]) -> bool {
    use openpgp::parse::{PacketParser, PacketParserResult};
    let Ok(mut ppr) = PacketParser::from_bytes(data) else {
        return false;
    };
    let mut n = 0;
    while let PacketParserResult::Some(pp) = ppr {
        match &pp.packet {
            openpgp::Packet::Signature(s) if s.version() == 3 => return true,
            openpgp::Packet::OnePassSig(_) | openpgp::Packet::Signature(_) => {}
            _ if n > 64 => return false,
            _ => {}
        }
        n += 1;
        ppr = match pp.next() {
            Ok((_, next)) => next,
            Err(_) => return false,
        };
    }
    false
}

/// Results of a check under [`OLD_MAIL_POLICY`] of a version 3 signature, which the
/// standard policy refuses unread: one that verifies is `weak-algorithm` (it verifies,
/// in a format the standard policy refuses), never `good`; one that does not stays `bad`.
fn old_format(mut sigs: Vec<SigResult>) -> Vec<SigResult> {
    for s in &mut sigs {
        if matches!(
            s.status,
            SigStatus::Good | SigStatus::SignerMismatch | SigStatus::WeakAlgorithm
        ) {
            s.status = SigStatus::WeakAlgorithm;
            s.detail = Some(
                "the signature verifies, but it is a version 3 signature (PGP 2, GnuPG 1.4 with force-v3-sigs), which the standard policy refuses, and old mail's SHA-1 or RSA-1024 may be in it".into(),
            );
        }
    }
    sigs
}

/// `weak-algorithm` says the signature verifies, but for the `unchecked` results (see
/// `Helper::unchecked`: the signer's key is bound by SHA-1, a key made around 2009, so
/// the standard policy refused the key before the signature was looked at) sequoia
/// checked nothing. Checked again under [`OLD_MAIL_POLICY`] (`old`, the same
/// signatures in the same order), one that does not verify there (an altered message)
/// is `bad` (and an expired or revoked one `invalid-key`), not `weak-algorithm`.
/// Without a second result nothing is claimed: `bad`.
pub(super) fn recheck(
    mut sigs: Vec<SigResult>,
    unchecked: &[usize],
    old: Option<Vec<SigResult>>,
) -> Vec<SigResult> {
    for &i in unchecked {
        let Some(s) = sigs.get_mut(i) else {
            continue;
        };
        match old.as_ref().and_then(|o| o.get(i)) {
            Some(o) if matches!(o.status, SigStatus::Good | SigStatus::WeakAlgorithm) => {}
            Some(o) => *s = o.clone(),
            _ => {
                s.status = SigStatus::Bad;
                s.detail = Some(
                    "the signer's key is bound by SHA-1 and the signature could not be checked under a policy that accepts it".into(),
                );
            }
        }
    }
    sigs
}

/// Verifies a detached signature (PGP/MIME multipart/signed) over `content`.
pub(crate) fn verify_detached(
    team: &TeamKeys,
    extra: &[Cert],
    signature: &[u8],
    content: &[u8],
) -> Result<Vec<SigResult>> {
    guarded("verifying a detached signature", || {
        verify_detached_inner(team, extra, signature, content)
    })
}

pub(super) fn verify_detached_inner(
    team: &TeamKeys,
    extra: &[Cert],
    signature: &[u8],
    content: &[u8],
) -> Result<Vec<SigResult>> {
    let verify = |policy: &dyn openpgp::policy::Policy| -> Result<(Vec<SigResult>, Vec<usize>)> {
        let helper = Helper::new(team, extra, 0);
        let mut v = DetachedVerifierBuilder::from_bytes(signature)
            .context("not an OpenPGP signature")?
            .with_policy(policy, None, helper)?;
        v.verify_bytes(content)?;
        let h = v.into_helper();
        Ok((h.sigs, h.unchecked))
    };
    match verify(&POLICY) {
        Err(e) if policy_rejection(&e).is_some() && has_v3_signature(signature) => {
            Ok(old_format(verify(&*OLD_MAIL_POLICY)?.0))
        }
        Ok((sigs, unchecked)) if !unchecked.is_empty() => {
            let old = verify(&*OLD_MAIL_POLICY).ok().map(|(s, _)| s);
            Ok(recheck(sigs, &unchecked, old))
        }
        r => r.map(|(sigs, _)| sigs),
    }
}
