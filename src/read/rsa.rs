//! RSA session-key decryption through OpenSSL, with the key prepared once.
//!
//! This module owns one thing: the private-key operation of a team RSA decryption
//! key. sequoia (on nettle) rebuilds the RSA key from its MPIs for every message
//! and computes the root with GMP's `mpn_sec_powm`, 4.6-4.9 ms for RSA-3072 on the
//! benchmark machine; OpenSSL's constant-time, blinded CRT exponentiation with the
//! key prepared once at load takes about half (BENCHMARKS.md, "RSA through
//! OpenSSL"). A quarter of the benchmark's mail is RSA-3072, and these operations
//! were the largest single cost of the reader processes.
//!
//! Side channels (the reason nettle was kept over RustCrypto): the root is computed
//! by OpenSSL's `RSA_private_decrypt` with blinding on (OpenSSL's default, never
//! switched off here) and the private exponent flagged constant-time; the PKCS #1
//! v1.5 padding is checked by `RSA_padding_check_PKCS1_type_2`, which is written
//! in constant time; OpenSSL older than 3.0.8 (CVE-2022-4304, a timing oracle in
//! RSA decryption) is refused, and nettle decrypts instead. When the session key's
//! length is known in advance (SEIPDv2) a failed decryption yields random bytes of
//! that length instead of an error, as nettle's `rsa_sec_decrypt` does, so that
//! the failure shows only where every other failure shows (the symmetric layer).
//! Otherwise (SEIPDv1, all of GnuPG 2.2's mail) a failure is an error, as with
//! nettle's `rsa_decrypt_tr`, and the caller treats every failure alike.
//!
//! The prepared key lives in OpenSSL's heap for the process's life (sequoia keeps
//! its copy encrypted in memory); OpenSSL clears the private components when the
//! key is freed. Built only with the `rsa-openssl` feature (on by default).

use anyhow::{Result, anyhow};
use openssl::bn::{BigNum, BigNumContext};
use openssl::pkey::Private;
use openssl::rsa::{Padding, Rsa};
use sequoia_openpgp as openpgp;

use openpgp::crypto::mpi;
use openpgp::crypto::{Decryptor, KeyPair, SessionKey};
use openpgp::packet::Key;
use openpgp::packet::key::{PublicParts, UnspecifiedRole};

/// The first OpenSSL release without CVE-2022-4304's timing oracle in RSA
/// decryption (OPENSSL_VERSION_NUMBER of 3.0.8).
const MIN_OPENSSL: i64 = 0x3000_0080;

/// A team RSA decryption key, prepared for OpenSSL.
pub(crate) struct PreparedRsa {
    rsa: Rsa<Private>,
    public: Key<PublicParts, UnspecifiedRole>,
}

impl std::fmt::Debug for PreparedRsa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("PreparedRsa")
            .field("key", &self.public.fingerprint())
            .finish()
    }
}

impl PreparedRsa {
    /// Prepares `pair` when it is an RSA key and this OpenSSL is fit for it; `None`
    /// otherwise (nettle then decrypts, through sequoia, as for every other key).
    pub(crate) fn new(pair: &KeyPair) -> Option<PreparedRsa> {
        if openssl::version::number() < MIN_OPENSSL {
            tracing::debug!(
                version = openssl::version::version(),
                "OpenSSL older than 3.0.8: RSA decryption stays with nettle"
            );
            return None;
        }
        let mpi::PublicKey::RSA { e, n } = pair.public().mpis() else {
            return None;
        };
        let rsa = pair
            .secret()
            .map(|secret| match secret {
                mpi::SecretKeyMaterial::RSA { d, p, q, u } => prepare(
                    n.value(),
                    e.value(),
                    d.value(),
                    p.value(),
                    q.value(),
                    u.value(),
                ),
                _ => Err(anyhow!("not an RSA secret key")),
            })
            .and_then(self_test);
        match rsa {
            Ok(rsa) => Some(PreparedRsa {
                rsa,
                public: pair.public().clone(),
            }),
            Err(e) => {
                // Says nothing of the key's secrets: OpenSSL's reason or the self-test's.
                tracing::warn!(key = %pair.public().fingerprint(), error = %e, "OpenSSL cannot use this RSA key; nettle decrypts with it");
                None
            }
        }
    }

    /// A decryptor for one PKESK (cheap: borrows the prepared key).
    pub(crate) fn decryptor(&self) -> RsaDecryptor<'_> {
        RsaDecryptor { key: self }
    }
}

/// Builds OpenSSL's key from OpenPGP's RSA parameters. OpenPGP stores p < q and
/// u = p⁻¹ mod q; OpenSSL's CRT wants iqmp = q⁻¹ mod p, which is u when the two
/// primes are handed over swapped.
fn prepare(n: &[u8], e: &[u8], d: &[u8], p: &[u8], q: &[u8], u: &[u8]) -> Result<Rsa<Private>> {
    let mut ctx = BigNumContext::new_secure()?;
    let crt_exponent = |prime: &[u8], ctx: &mut BigNumContext| -> Result<BigNum> {
        let mut d = BigNum::from_slice(d)?;
        d.set_const_time();
        let mut minus_one = BigNum::from_slice(prime)?;
        minus_one.sub_word(1)?;
        let mut out = BigNum::new_secure()?;
        out.nnmod(&d, &minus_one, ctx)?;
        d.clear();
        minus_one.clear();
        Ok(out)
    };
    let dmp1 = crt_exponent(q, &mut ctx)?;
    let dmq1 = crt_exponent(p, &mut ctx)?;
    let mut d = BigNum::from_slice(d)?;
    d.set_const_time();
    let rsa = Rsa::from_private_components(
        BigNum::from_slice(n)?,
        BigNum::from_slice(e)?,
        d,
        BigNum::from_slice(q)?,
        BigNum::from_slice(p)?,
        dmp1,
        dmq1,
        BigNum::from_slice(u)?,
    )?;
    Ok(rsa)
}

/// Encrypts a random block to the key and decrypts it: a key whose parts do not fit
/// together is refused here rather than failing every message.
fn self_test(rsa: Rsa<Private>) -> Result<Rsa<Private>> {
    let mut probe = [0u8; 32];
    openssl::rand::rand_bytes(&mut probe)?;
    let size = usize::try_from(rsa.size())?;
    let mut ct = vec![0u8; size];
    let n = rsa.public_encrypt(&probe, &mut ct, Padding::PKCS1)?;
    let mut back = SessionKey::from(vec![0u8; size]);
    let m = rsa.private_decrypt(ct.get(..n).unwrap_or(&ct), &mut back, Padding::PKCS1)?;
    if back.get(..m) != Some(&probe[..]) {
        return Err(anyhow!(
            "the key's parts do not fit together (self-test failed)"
        ));
    }
    Ok(rsa)
}

/// [`Decryptor`] for one RSA PKESK with a prepared key.
pub(crate) struct RsaDecryptor<'a> {
    key: &'a PreparedRsa,
}

impl Decryptor for RsaDecryptor<'_> {
    fn public(&self) -> &Key<PublicParts, UnspecifiedRole> {
        &self.key.public
    }

    fn decrypt(
        &mut self,
        ciphertext: &mpi::Ciphertext,
        plaintext_len: Option<usize>,
    ) -> openpgp::Result<SessionKey> {
        let mpi::Ciphertext::RSA { c } = ciphertext else {
            return Err(anyhow!("not an RSA ciphertext"));
        };
        let rsa = &self.key.rsa;
        let size = usize::try_from(rsa.size())?;
        let c = c.value();
        // An MPI drops leading zeros; RSA wants the block at the modulus' length.
        let Some(pad) = size.checked_sub(c.len()) else {
            return Err(anyhow!("RSA ciphertext longer than the modulus"));
        };
        let mut block = vec![0u8; size];
        if let Some(tail) = block.get_mut(pad..) {
            tail.copy_from_slice(c);
        }
        let mut out = SessionKey::from(vec![0u8; size]);
        let result = rsa.private_decrypt(&block, &mut out, Padding::PKCS1);
        match (result, plaintext_len) {
            (Ok(n), Some(l)) if n == l => Ok(SessionKey::from(out.get(..n).unwrap_or(&[]))),
            (Ok(n), None) => Ok(SessionKey::from(out.get(..n).unwrap_or(&[]))),
            // Length known: random bytes of it, as nettle's rsa_sec_decrypt gives.
            (_, Some(l)) => SessionKey::new(l),
            (Err(_), None) => Err(anyhow!("RSA decryption failed")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use openpgp::cert::prelude::*;
    use openpgp::crypto::SessionKey;
    use openpgp::packet::PKESK;
    use openpgp::types::SymmetricAlgorithm;

    fn rsa_pair() -> KeyPair {
        crate::read::test_encryption_pair(CipherSuite::RSA2k)
    }

    fn pkesk_to(pair: &KeyPair, sk: &SessionKey) -> PKESK {
        openpgp::packet::pkesk::PKESK3::for_recipient(SymmetricAlgorithm::AES256, sk, pair.public())
            .expect("encrypt")
            .into()
    }

    #[test]
    fn opens_what_nettle_opens_including_short_ciphertexts() {
        let pair = rsa_pair();
        let prepared = PreparedRsa::new(&pair).expect("OpenSSL takes the key");
        // About one ciphertext in 256 has a leading zero byte, which the MPI drops:
        // encrypt until one of those and a few ordinary ones were opened.
        let (mut short, mut full) = (0, 0);
        for _ in 0..4000 {
            let sk = SessionKey::new(32).expect("random");
            let pkesk = pkesk_to(&pair, &sk);
            let PKESK::V3(v3) = &pkesk else { panic!("v3") };
            let mpi::Ciphertext::RSA { c } = v3.esk() else {
                panic!("rsa")
            };
            let is_short = c.value().len() < 256;
            if !is_short && full >= 5 {
                continue;
            }
            let ours = pkesk.decrypt(&mut prepared.decryptor(), None);
            let nettle = pkesk.decrypt(&mut pair.clone(), None);
            let (algo, key) = ours.expect("OpenSSL opens it");
            assert_eq!(algo, Some(SymmetricAlgorithm::AES256));
            assert_eq!(&key[..], &sk[..]);
            let (_, nkey) = nettle.expect("nettle opens it");
            assert_eq!(&key[..], &nkey[..]);
            if is_short {
                short += 1;
            } else {
                full += 1;
            }
            if short >= 2 && full >= 5 {
                break;
            }
        }
        assert!(short >= 2, "no short ciphertext in 4000 tries");
    }

    #[test]
    fn a_damaged_ciphertext_fails_or_yields_random_bytes_of_the_known_length() {
        let pair = rsa_pair();
        let prepared = PreparedRsa::new(&pair).expect("OpenSSL takes the key");
        let sk = SessionKey::new(32).expect("random");
        let pkesk = pkesk_to(&pair, &sk);
        let PKESK::V3(v3) = &pkesk else { panic!("v3") };
        let mpi::Ciphertext::RSA { c } = v3.esk() else {
            panic!("rsa")
        };
        let mut bytes = c.value().to_vec();
        if let Some(b) = bytes.last_mut() {
            *b ^= 1;
        }
        let bad = mpi::Ciphertext::RSA {
            c: mpi::MPI::new(&bytes),
        };
        let mut d = prepared.decryptor();
        assert!(d.decrypt(&bad, None).is_err());
        let a = d.decrypt(&bad, Some(35)).expect("random bytes");
        let b = d.decrypt(&bad, Some(35)).expect("random bytes");
        assert_eq!(a.len(), 35);
        assert_ne!(&a[..], &b[..], "fresh random bytes each time");
        // Longer than the modulus: refused before OpenSSL sees it.
        let long = mpi::Ciphertext::RSA {
            c: mpi::MPI::new(&[0xff; 300]),
        };
        assert!(d.decrypt(&long, None).is_err());
    }

    #[test]
    fn only_rsa_keys_are_prepared() {
        let pair = crate::read::test_encryption_pair(CipherSuite::Cv25519);
        assert!(PreparedRsa::new(&pair).is_none());
    }
}
