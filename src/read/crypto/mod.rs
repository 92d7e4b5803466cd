//! OpenPGP with sequoia: the team's keys, decryption and signature checks.
//!
//! This module owns everything that touches key material: loading and
//! unlocking the team's secret keys, decrypting messages (trying every team
//! key, so hidden recipients and Bcc work), verifying inline, clear-signed and
//! detached signatures, and reading reporter certificates. It does not know
//! MIME; `mime` hands it byte strings.
//!
//! Key material and passphrases never reach a log line or an error message.
//!
//! Files: `team` (the team's keys), `sign` (signing and sealing), `open` (decrypting
//! and verifying one message), `helper` (sequoia's helper traits), `certs` (reporters'
//! certificates), `packets` (the packet layer read before sequoia), `tests`. This file
//! holds the policies, the randomness and what the rest of the crate imports.

use anyhow::{Context, Result};
use sequoia_openpgp as openpgp;

use openpgp::policy::StandardPolicy;

mod certs;
mod helper;
#[cfg(feature = "ocb-openssl")]
mod ocb;
mod open;
mod packets;
mod sign;
mod team;
#[cfg(test)]
mod tests;

use certs::armored_blocks;
pub use certs::{
    FoundKey, KeyLimits, LIBREPGP_AEAD_FIX, advertises_librepgp_aead, librepgp_aead_certs,
};
pub(crate) use certs::{cert_from_armor, read_certs, read_certs_limited, usable_for_encryption};
pub(crate) use helper::MAX_RECIPIENT_SUBKEYS;
use helper::{Helper, policy_rejection};
use open::guarded;
pub use open::{Decrypted, decrypt};
pub(crate) use open::{decrypt_stream, verify_detached, verify_inline};
pub(crate) use packets::is_gnupg_ocb;
use packets::{ESK_PREFIX, GNUPG_OCB, MAX_ESKS_PARSED, few_esks, packet_tag, trim_esks};
pub use team::{CertInfo, KeyError, TeamKeys};

static POLICY: StandardPolicy = StandardPolicy::new();

/// The policy for legacy team keys (`keys.legacy_decryption`): the standard policy
/// plus SHA-1 in signatures (self-signatures of keys made around 2009) and RSA-1024.
/// Used only to load such keys for decryption, never to verify or sign.
static LEGACY_POLICY: std::sync::LazyLock<StandardPolicy<'static>> =
    std::sync::LazyLock::new(|| {
        let mut p = StandardPolicy::new();
        p.accept_hash(openpgp::types::HashAlgorithm::SHA1);
        p.accept_asymmetric_algo(openpgp::policy::AsymmetricAlgorithm::RSA1024);
        p
    });

/// The standard policy plus what old mail uses: SHA-1, RSA-1024 and version 3
/// signatures (PGP 2, GnuPG 1.4 with `force-v3-sigs`, KMail-era mail). Used only to
/// learn whether a signature the standard policy refuses verifies at all (the standard
/// policy refuses a version 3 signature, or a key bound by SHA-1, before any
/// mathematics): its results are never `good` (see `open::old_format`, `open::recheck`).
static OLD_MAIL_POLICY: std::sync::LazyLock<StandardPolicy<'static>> =
    std::sync::LazyLock::new(|| {
        let mut p = StandardPolicy::new();
        p.accept_hash(openpgp::types::HashAlgorithm::SHA1);
        p.accept_asymmetric_algo(openpgp::policy::AsymmetricAlgorithm::RSA1024);
        p.accept_packet_tag_version(openpgp::packet::Tag::Signature, 3);
        p
    });

/// Fills `buf` from the kernel's generator (getrandom(2)). sequoia's `random` seeds a
/// new nettle generator on every call (~150 us here), too slow for a value drawn per
/// message (Message-IDs, signature salts).
pub(crate) fn random_bytes(buf: &mut [u8]) -> Result<()> {
    let mut done = 0;
    while let Some(rest) = buf.get_mut(done..).filter(|r| !r.is_empty()) {
        // SAFETY: getrandom(2) writes at most `rest.len()` bytes into the buffer it is given.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        match usize::try_from(n) {
            Ok(n) => done += n,
            Err(_) => {
                let e = std::io::Error::last_os_error();
                if e.kind() != std::io::ErrorKind::Interrupted {
                    return Err(e).context("getrandom(2)");
                }
            }
        }
    }
    Ok(())
}

pub use crate::domain::status::SigResult;

/// Summarises several signature results into one status word.
/// A bad signature wins over everything: a good one next to it must not hide tampering.
pub(crate) fn summarize(sigs: &[SigResult]) -> SigStatus {
    let has = |s: SigStatus| sigs.iter().any(|r| r.status == s);
    // The worst news wins: a bad signature cannot hide behind a good one.
    [
        SigStatus::Bad,
        SigStatus::InvalidKey,
        SigStatus::WeakAlgorithm,
        SigStatus::SignerMismatch,
        SigStatus::Good,
        SigStatus::UnknownKey,
        SigStatus::Smime,
    ]
    .into_iter()
    .find(|s| has(*s))
    .unwrap_or(if sigs.is_empty() {
        SigStatus::Unsigned
    } else {
        SigStatus::UnknownKey
    })
}

pub use crate::domain::seal::Opener;

pub(crate) use crate::domain::seal::SEALED;

pub use crate::domain::status::{KeySource, SigStatus};

/// What kind of OpenPGP data a blob holds, judged from its first packet or armor header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgpKind {
    Message,
    PublicKey,
    SecretKey,
    Signature,
    SignedCleartext,
    NotPgp,
}

/// Classifies data without decrypting it: is it a message, a key, a signature?
pub(crate) fn sniff(data: &[u8]) -> PgpKind {
    let head = data.get(..4096).unwrap_or(data);
    let text = String::from_utf8_lossy(head);
    if text.contains("-----BEGIN PGP MESSAGE-----") {
        return PgpKind::Message;
    }
    if text.contains("-----BEGIN PGP PUBLIC KEY BLOCK-----") {
        return PgpKind::PublicKey;
    }
    if text.contains("-----BEGIN PGP PRIVATE KEY BLOCK-----") {
        return PgpKind::SecretKey;
    }
    if text.contains("-----BEGIN PGP SIGNED MESSAGE-----") {
        return PgpKind::SignedCleartext;
    }
    if text.contains("-----BEGIN PGP SIGNATURE-----") {
        return PgpKind::Signature;
    }
    // Binary: look at the first packet's tag.
    let Some(tag) = data.first().copied().and_then(packet_tag) else {
        return PgpKind::NotPgp;
    };
    match tag {
        1 | 3 | 18 | 20 => PgpKind::Message, // PKESK, SKESK, SEIPD, OCB
        8 | 11 => PgpKind::Message,          // compressed, literal
        4 => PgpKind::Message,               // one-pass signature
        6 => PgpKind::PublicKey,
        5 => PgpKind::SecretKey,
        2 => PgpKind::Signature,
        _ => PgpKind::NotPgp,
    }
}
