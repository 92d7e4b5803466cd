//! Team keys whose secrets are decrypted once, at load, instead of for every use.
//!
//! sequoia keeps an unlocked secret encrypted in memory (against attacks that read
//! memory: Spectre, Rowhammer, cold boot) and decrypts it for every operation; deriving
//! the sealing key hashes a 16 KiB pre-key, about 0.8 M instructions each time. That
//! was twice the Ed25519 signature of an ack, a quarter of the writer's work per
//! report, and an eighth of a reader's work per Curve25519 message (callgrind,
//! BENCHMARKS.md "Seventh pass"). The two kinds of key every team has today are
//! therefore held here with their 32-byte secrets in sequoia's `Protected` memory
//! (zeroed when dropped, but not encrypted in memory), as gpg-agent holds a cached
//! key, and used with the same nettle functions sequoia calls:
//!
//! - [`Ed25519Signer`]: the first signing key, when it is Ed25519 (legacy EdDSA or
//!   RFC 9580's Ed25519), in the daemon only;
//! - [`Cv25519Key`]: a legacy ECDH decryption key on Curve25519 (what GnuPG and sq
//!   make), in the daemon and in each reader process.
//!
//! Any other key (RSA: see [`crate::read::rsa`]; X25519 of RFC 9580, NIST curves)
//! stays on sequoia's path. Results are identical to sequoia's: unit tests compare
//! both paths on the same inputs. Built with the `crypto-nettle` feature (the default).

use anyhow::{Result, anyhow};
use sequoia_openpgp as openpgp;

use openpgp::crypto::mem::Protected;
use openpgp::crypto::mpi;
use openpgp::crypto::{Decryptor, KeyPair, SessionKey};
use openpgp::packet::Key;
use openpgp::packet::key::{PublicParts, UnspecifiedRole};
use openpgp::types::Curve;

/// The team's Ed25519 signing key with its secret decrypted once, for the acks: only
/// in the daemon (a reader process never has a signing key), signed with the same
/// nettle function sequoia calls. A self-test at load (sign, verify with the public
/// key) keeps a key that fails it on sequoia's path.
pub(crate) struct Ed25519Signer {
    public: [u8; 32],
    secret: openpgp::crypto::mem::Protected,
    /// Legacy EdDSA (v4, algorithm 22) or RFC 9580's Ed25519 (algorithm 27): the
    /// signature's MPIs differ.
    legacy: bool,
}

impl Ed25519Signer {
    pub(crate) fn new(pair: &KeyPair) -> Option<Ed25519Signer> {
        use openpgp::crypto::mpi::{PublicKey, SecretKeyMaterial};
        use openpgp::types::{Curve, HashAlgorithm};
        let (public, legacy): ([u8; 32], bool) = match pair.public().mpis() {
            PublicKey::EdDSA {
                curve: Curve::Ed25519,
                q,
            } => (
                q.decode_point(&Curve::Ed25519).ok()?.0.try_into().ok()?,
                true,
            ),
            PublicKey::Ed25519 { a } => (*a, false),
            _ => return None,
        };
        let secret = pair.secret().map(|s| match (s, legacy) {
            (SecretKeyMaterial::EdDSA { scalar }, true) => Some(scalar.value_padded(32)),
            (SecretKeyMaterial::Ed25519 { x }, false) => Some(x.clone()),
            _ => None,
        })?;
        let signer = Ed25519Signer {
            public,
            secret,
            legacy,
        };
        // Self-test: a signature made here must verify with the public key.
        let digest = [0x5au8; 32];
        let ok = signer.sign(&digest).is_ok_and(|sig| {
            pair.public()
                .verify(&sig, HashAlgorithm::SHA256, &digest)
                .is_ok()
        });
        if !ok {
            tracing::warn!(key = %pair.public().fingerprint(), "the Ed25519 signing key failed its self-test; signing through sequoia");
            return None;
        }
        Some(signer)
    }

    /// Legacy EdDSA (v4, algorithm 22) rather than RFC 9580's Ed25519.
    #[cfg(test)]
    pub(crate) fn is_legacy(&self) -> bool {
        self.legacy
    }

    /// Signs a digest (the signature's hash, as sequoia's `Signer::sign` takes it).
    pub(crate) fn sign(&self, digest: &[u8]) -> Result<openpgp::crypto::mpi::Signature> {
        use openpgp::crypto::mpi::{MPI, Signature};
        let mut sig = [0u8; 64];
        nettle::ed25519::sign(&self.public, &self.secret, digest, &mut sig)
            .map_err(|e| anyhow!("Ed25519 signature failed: {e}"))?;
        Ok(if self.legacy {
            Signature::EdDSA {
                r: MPI::new(sig.get(..32).unwrap_or_default()),
                s: MPI::new(sig.get(32..).unwrap_or_default()),
            }
        } else {
            Signature::Ed25519 { s: Box::new(sig) }
        })
    }
}

/// A legacy ECDH decryption key on Curve25519 with its scalar decrypted once, in the
/// byte order X25519 takes (OpenPGP stores it big-endian).
pub(crate) struct Cv25519Key {
    public: Key<PublicParts, UnspecifiedRole>,
    scalar: Protected,
}

impl Cv25519Key {
    /// `None` when `pair` is not a legacy Cv25519 ECDH key (sequoia then decrypts).
    pub(crate) fn new(pair: &KeyPair) -> Option<Cv25519Key> {
        let mpi::PublicKey::ECDH {
            curve: Curve::Cv25519,
            ..
        } = pair.public().mpis()
        else {
            return None;
        };
        let scalar = pair.secret().map(|s| match s {
            mpi::SecretKeyMaterial::ECDH { scalar } => {
                // Padded unconditionally (no secret-dependent branch), then reversed,
                // as sequoia does.
                let mut r = scalar.value_padded(32);
                r.reverse();
                Some(r)
            }
            _ => None,
        })?;
        Some(Cv25519Key {
            public: pair.public().clone(),
            scalar,
        })
    }

    /// A decryptor for one PKESK (cheap: borrows the key).
    pub(crate) fn decryptor(&self) -> Cv25519Decryptor<'_> {
        Cv25519Decryptor { key: self }
    }
}

impl std::fmt::Debug for Cv25519Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("Cv25519Key")
            .field("key", &self.public.fingerprint())
            .finish()
    }
}

/// [`Decryptor`] for one PKESK with a [`Cv25519Key`].
pub(crate) struct Cv25519Decryptor<'a> {
    key: &'a Cv25519Key,
}

impl Decryptor for Cv25519Decryptor<'_> {
    fn public(&self) -> &Key<PublicParts, UnspecifiedRole> {
        &self.key.public
    }

    #[allow(non_snake_case)]
    fn decrypt(
        &mut self,
        ciphertext: &mpi::Ciphertext,
        plaintext_len: Option<usize>,
    ) -> openpgp::Result<SessionKey> {
        let mpi::Ciphertext::ECDH { e, .. } = ciphertext else {
            return Err(anyhow!("not an ECDH ciphertext"));
        };
        // The ephemeral public point V; the shared point S = rV.
        let V: [u8; 32] = e.decode_point(&Curve::Cv25519)?.0.try_into()?;
        let mut S: Protected = vec![0u8; 32].into();
        nettle::curve25519::mul(&mut S, &self.key.scalar, &V)
            .map_err(|e| anyhow!("X25519 failed: {e}"))?;
        openpgp::crypto::ecdh::decrypt_unwrap(&self.key.public, &S, ciphertext, plaintext_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openpgp::cert::prelude::*;
    use openpgp::packet::PKESK;
    use openpgp::packet::pkesk::PKESK3;
    use openpgp::types::SymmetricAlgorithm;

    fn pair(suite: CipherSuite) -> KeyPair {
        crate::read::test_encryption_pair(suite)
    }

    #[test]
    fn a_cv25519_key_opens_what_sequoia_opens_and_nothing_damaged() {
        let pair = pair(CipherSuite::Cv25519);
        let key = Cv25519Key::new(&pair).expect("a Cv25519 key is prepared");
        for _ in 0..20 {
            let sk = SessionKey::new(32).expect("random");
            let pkesk: PKESK =
                PKESK3::for_recipient(SymmetricAlgorithm::AES256, &sk, pair.public())
                    .expect("encrypt")
                    .into();
            let (algo, ours) = pkesk
                .decrypt(&mut key.decryptor(), None)
                .expect("opened with the prepared key");
            let (_, theirs) = pkesk
                .decrypt(&mut pair.clone(), None)
                .expect("opened by sequoia");
            assert_eq!(algo, Some(SymmetricAlgorithm::AES256));
            assert_eq!(&ours[..], &sk[..]);
            assert_eq!(&ours[..], &theirs[..]);
        }
        // A damaged wrapped key fails the AES key wrap's integrity check.
        let sk = SessionKey::new(32).expect("random");
        let pkesk =
            PKESK3::for_recipient(SymmetricAlgorithm::AES256, &sk, pair.public()).expect("encrypt");
        let mpi::Ciphertext::ECDH { e, key: wrapped } = pkesk.esk() else {
            panic!("ecdh")
        };
        let mut bad = wrapped.to_vec();
        if let Some(b) = bad.last_mut() {
            *b ^= 1;
        }
        let bad = mpi::Ciphertext::ECDH {
            e: e.clone(),
            key: bad.into_boxed_slice(),
        };
        assert!(key.decryptor().decrypt(&bad, None).is_err());
    }

    #[test]
    fn only_legacy_cv25519_keys_are_prepared() {
        assert!(Cv25519Key::new(&pair(CipherSuite::RSA2k)).is_none());
        assert!(Ed25519Signer::new(&pair(CipherSuite::RSA2k)).is_none());
    }
}
