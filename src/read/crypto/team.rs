//! The team's keys: loading and unlocking secret keys (in parallel, one thread per
//! key), legacy keys for decryption only, the reporter keyring, and what `keys list`
//! and `doctor` say about them. Errors name the file and the fix, never the secret.

use std::path::PathBuf;

use anyhow::{Context, Result};
use sequoia_openpgp as openpgp;

use openpgp::cert::prelude::*;
use openpgp::crypto::{KeyPair, Password, SessionKey};
use openpgp::packet::PKESK;
use openpgp::parse::Parse;
use openpgp::types::SymmetricAlgorithm;
use openpgp::{Cert, Fingerprint};
use serde::Serialize;

use super::*;

impl TeamKeys {
    /// Loads secret keys from the given files, unlocking them with `pass` when protected.
    pub fn load(
        files: &[(PathBuf, Vec<u8>)],
        pass: Option<&str>,
        keyring: Option<&(PathBuf, Vec<u8>)>,
    ) -> std::result::Result<TeamKeys, KeyError> {
        Self::load_with(files, pass, keyring, false)
    }

    /// [`TeamKeys::load`]; with `legacy` (config `keys.legacy_decryption`), a key that the
    /// standard policy rejects for its algorithms (SHA-1 self-signatures, RSA-1024: keys
    /// from about 2009) is loaded for decryption only, under the legacy policy (SHA-1 and RSA-1024 accepted).
    pub(crate) fn load_with<B: AsRef<[u8]>>(
        files: &[(PathBuf, B)],
        pass: Option<&str>,
        keyring: Option<&(PathBuf, Vec<u8>)>,
        legacy: bool,
    ) -> std::result::Result<TeamKeys, KeyError> {
        let mut legacy_certs = Vec::new();
        let mut keys = Vec::new();
        let mut signers = Vec::new();
        let mut certs = Vec::new();
        for (path, bytes) in files {
            let parsed: Vec<Cert> = CertParser::from_bytes(bytes.as_ref())
                .and_then(|p| p.collect::<Result<Vec<_>>>())
                .map_err(|e| KeyError {
                    key: "keys.secret",
                    what: format!("{} is not an OpenPGP key file: {e}", path.display()),
                    fix: "export the key with `gpg --export-secret-keys --armor KEYID > team.asc` or `sq key export`".into(),
                })?;
            if parsed.is_empty() {
                return Err(KeyError {
                    key: "keys.secret",
                    what: format!("{} holds no OpenPGP certificate", path.display()),
                    fix: "export the key with `gpg --export-secret-keys --armor KEYID > team.asc`"
                        .into(),
                });
            }
            for cert in parsed {
                let mut found_secret = false;
                let mut n = 0;
                let (vc, legacy_key) = match cert.with_policy(&POLICY, None) {
                    Ok(vc) => (vc, false),
                    Err(e) if legacy && policy_rejection(&e).is_some() => {
                        let vc = cert.with_policy(&*LEGACY_POLICY, None).map_err(|e| KeyError {
                            key: "keys.secret",
                            what: format!(
                                "the key {} in {} is not valid even under the legacy policy (SHA-1 bindings, RSA-1024 accepted): {e}",
                                cert.fingerprint(),
                                path.display()
                            ),
                            fix: "this key cannot be used; decrypt old mail with `gpg --decrypt` by hand, or remove it from keys.secret".into(),
                        })?;
                        (vc, true)
                    }
                    Err(e) => return Err(invalid_team_key(&cert, path, &e)),
                };
                if legacy_key {
                    legacy_certs.push(cert.fingerprint().to_hex());
                }
                let unlocked = unlock_all(&cert, pass);
                for ka in vc
                    .keys()
                    .secret()
                    .supported()
                    .for_transport_encryption()
                    .for_storage_encryption()
                {
                    found_secret = true;
                    let key = ka.key().clone();
                    let key = if key.has_unencrypted_secret() {
                        key
                    } else {
                        if pass.is_none() {
                            return Err(KeyError {
                                key: "keys.passphrase_file",
                                what: format!(
                                    "the secret key {} in {} is protected by a passphrase, and none is configured",
                                    cert.fingerprint(),
                                    path.display()
                                ),
                                fix: "set keys.passphrase_file (or keys.passphrase_env) to the passphrase's source".into(),
                            });
                        }
                        unlocked.get(&key.fingerprint()).cloned().ok_or_else(|| KeyError {
                            key: "keys.passphrase_file",
                            what: format!(
                                "the passphrase does not unlock the secret key {} in {}",
                                cert.fingerprint(),
                                path.display()
                            ),
                            fix: "check the passphrase file (no extra spaces; a trailing newline is ignored)".into(),
                        })?
                    };
                    let pair = key.into_keypair().map_err(|e| KeyError {
                        key: "keys.secret",
                        what: format!("cannot use the secret key {}: {e}", ka.key().fingerprint()),
                        fix: "export the key again with its secret parts".into(),
                    })?;
                    keys.push(TeamKey {
                        cert_fpr: cert.fingerprint(),
                        key_fpr: ka.key().fingerprint(),
                        #[cfg(feature = "rsa-openssl")]
                        rsa: crate::read::rsa::PreparedRsa::new(&pair),
                        #[cfg(feature = "crypto-nettle")]
                        cv25519: crate::read::prepared::Cv25519Key::new(&pair),
                        pair,
                    });
                    n += 1;
                }
                // A legacy key decrypts old mail only: acks are signed with a current key.
                for ka in vc
                    .keys()
                    .secret()
                    .supported()
                    .alive()
                    .revoked(false)
                    .for_signing()
                    .filter(|_| !legacy_key)
                {
                    let key = ka.key().clone();
                    let key = if key.has_unencrypted_secret() {
                        Some(key)
                    } else {
                        unlocked.get(&key.fingerprint()).cloned()
                    };
                    if let Some(pair) = key.and_then(|k| k.into_keypair().ok()) {
                        signers.push(pair);
                    }
                }
                if !found_secret || n == 0 {
                    let has_any_secret = cert.keys().secret().next().is_some();
                    let mut unsupported: Vec<String> = cert
                        .keys()
                        .secret()
                        .map(|k| k.key().pk_algo())
                        .filter(|a| !a.is_supported())
                        .map(|a| a.to_string())
                        .collect();
                    unsupported.dedup();
                    if !unsupported.is_empty() {
                        return Err(KeyError {
                            key: "keys.secret",
                            what: format!(
                                "the key {} in {} uses public-key algorithms this build of triaged (sequoia-openpgp) cannot compute: {}",
                                cert.fingerprint(),
                                path.display(),
                                unsupported.join(", ")
                            ),
                            fix: "use a team key whose encryption subkey is Curve25519 (X25519), RSA (3072 bits or more) or NIST ECDH; post-quantum (ML-KEM) keys are not supported yet".into(),
                        });
                    }
                    return Err(KeyError {
                        key: "keys.secret",
                        what: if has_any_secret {
                            format!(
                                "the key {} in {} has no usable decryption subkey with secret material",
                                cert.fingerprint(),
                                path.display()
                            )
                        } else {
                            format!(
                                "{} holds only the public key {} (no secret key material)",
                                path.display(),
                                cert.fingerprint()
                            )
                        },
                        fix: "export the secret key including its encryption subkey: `gpg --export-secret-keys --armor KEYID`".into(),
                    });
                }
                certs.push(cert.strip_secret_key_material());
            }
        }
        if keys.is_empty() {
            return Err(KeyError {
                key: "keys.secret",
                what: "no secret key is configured".into(),
                fix: "set keys.secret to the team's secret key file".into(),
            });
        }
        // A reporter keyring holds other people's keys: one this library cannot read
        // (a LibrePGP v5 key, a damaged export) is skipped and named, not a reason to
        // refuse the rest. A file from which no key at all can be read is an error.
        let mut keyring_skipped = Vec::new();
        let keyring = match keyring {
            Some((path, bytes)) => {
                let not_a_keyring = |e: &dyn std::fmt::Display| KeyError {
                    key: "keys.reporter_keyring",
                    what: format!("{} is not an OpenPGP keyring: {e}", path.display()),
                    fix: "export reporters' keys with `gpg --export --armor` into that file".into(),
                };
                let mut read = Vec::new();
                let mut first_error = None;
                // Armored blocks one by one (`cat *.asc > keyring.asc` is how such files
                // are made): a damaged block must not hide the blocks after it.
                for (block, at_line) in armored_blocks(bytes) {
                    let parser = match CertParser::from_bytes(block) {
                        Ok(p) => p,
                        Err(e) => {
                            keyring_skipped.push(format!(
                                "{}: the key at line {at_line} skipped: {e}",
                                path.display()
                            ));
                            first_error.get_or_insert(e);
                            continue;
                        }
                    };
                    for cert in parser {
                        match cert {
                            Ok(c) => read.push(c),
                            Err(e) => {
                                keyring_skipped.push(format!(
                                    "{}: the key at line {at_line} skipped: {e}",
                                    path.display()
                                ));
                                first_error.get_or_insert(e);
                            }
                        }
                    }
                }
                if read.is_empty()
                    && let Some(e) = first_error
                {
                    return Err(not_a_keyring(&e));
                }
                read
            }
            None => Vec::new(),
        };
        Ok(TeamKeys {
            keys,
            #[cfg(feature = "crypto-nettle")]
            ed25519: signers
                .first()
                .and_then(crate::read::prepared::Ed25519Signer::new),
            signers,
            certs,
            keyring,
            keyring_skipped,
            legacy: legacy_certs,
        })
    }

    /// The team certificates with their decryption (sub)keys' secrets unlocked, and no
    /// other secret (a signing key stays here, unless one key both signs and decrypts),
    /// serialized (binary TSK) for a reader process: it
    /// loads them with [`TeamKeys::load_with`] and no passphrase. So a reader (the
    /// process that handles hostile input) never holds the signing key and never
    /// repeats the passphrase's S2K (iterated hashing, ~0.3 s of CPU per reader start
    /// here, paid again for every reader respawned after a killed read). The buffer is
    /// zeroed when dropped.
    pub(crate) fn for_reader(&self) -> Result<openpgp::crypto::mem::Protected> {
        use openpgp::Packet;
        use openpgp::serialize::Serialize as _;
        let mut out = Vec::new();
        for cert in &self.certs {
            let fpr = cert.fingerprint();
            let packets: Vec<Packet> = self
                .keys
                .iter()
                .filter(|k| k.cert_fpr == fpr)
                .map(|k| {
                    let secret =
                        openpgp::packet::key::SecretKeyMaterial::from(k.pair.secret().clone());
                    let (key, _) = k.pair.public().clone().add_secret(secret);
                    if k.key_fpr == fpr {
                        Packet::from(key.role_into_primary())
                    } else {
                        Packet::from(key.role_into_subordinate())
                    }
                })
                .collect();
            let (unlocked, _) = cert
                .clone()
                .insert_packets(packets)
                .context("joining the unlocked keys to their certificate")?;
            unlocked
                .as_tsk()
                .serialize(&mut out)
                .context("serializing the keys for a reader")?;
        }
        // Copied into protected memory; sequoia zeroes `out`'s whole allocation.
        Ok(openpgp::crypto::mem::Protected::from(out))
    }

    /// No keys at all: encrypted input stays undecryptable (used by `classify` without a config).
    pub fn empty() -> TeamKeys {
        TeamKeys {
            keys: Vec::new(),
            signers: Vec::new(),
            #[cfg(feature = "crypto-nettle")]
            ed25519: None,
            certs: Vec::new(),
            keyring: Vec::new(),
            keyring_skipped: Vec::new(),
            legacy: Vec::new(),
        }
    }

    /// Fingerprints of the keys loaded for decryption only (`keys.legacy_decryption`).
    pub fn legacy(&self) -> &[String] {
        &self.legacy
    }

    /// Keys of `keys.reporter_keyring` that were skipped, each with its position and
    /// the reason (the others are used).
    pub fn keyring_skipped(&self) -> &[String] {
        &self.keyring_skipped
    }

    /// The team certificates mail is encrypted to and published with: all but the
    /// legacy ones (`keys.legacy_decryption`), which only decrypt old mail. A legacy
    /// key's SHA-1 binding fails the standard policy, so encrypting an ack to it failed,
    /// and it must not be offered to reporters for new mail either.
    pub(crate) fn current_certs(&self) -> impl Iterator<Item = &Cert> {
        self.certs
            .iter()
            .filter(|c| !self.legacy.contains(&c.fingerprint().to_hex()))
    }

    /// The first current team certificate, minimal (for Autocrypt headers), binary.
    pub(crate) fn autocrypt_keydata(&self) -> Option<Vec<u8>> {
        use openpgp::serialize::Serialize;
        let c = self.current_certs().next()?;
        let mut out = Vec::new();
        c.serialize(&mut out).ok()?;
        Some(out)
    }

    pub(crate) fn fingerprints(&self) -> Vec<String> {
        self.certs
            .iter()
            .map(|c| c.fingerprint().to_hex())
            .collect()
    }

    pub fn info(&self) -> Vec<CertInfo> {
        self.certs
            .iter()
            .map(|c| CertInfo {
                fingerprint: c.fingerprint().to_hex(),
                user_ids: c
                    .userids()
                    .map(|u| String::from_utf8_lossy(u.userid().value()).into_owned())
                    .collect(),
                decryption_subkeys: self
                    .keys
                    .iter()
                    .filter(|k| k.cert_fpr == c.fingerprint())
                    .count(),
                expires: c
                    .with_policy(&POLICY, None)
                    .ok()
                    .and_then(|vc| vc.primary_key().key_expiration_time())
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map(|d| d.as_secs() as i64),
                librepgp_aead: advertises_librepgp_aead(c),
            })
            .collect()
    }

    /// The team's public certificates (to verify our own mail, to publish).
    pub(crate) fn team_certs(&self) -> &[Cert] {
        &self.certs
    }

    /// The reporter keyring from the config.
    pub fn keyring(&self) -> &[Cert] {
        &self.keyring
    }
}

/// A secret key as a certificate holds it, its secret perhaps still locked.
pub(super) type SecretKey =
    openpgp::packet::Key<openpgp::packet::key::SecretParts, openpgp::packet::key::UnspecifiedRole>;

/// Every passphrase-protected secret (sub)key of `cert` unlocked with `pass`, one
/// thread per key: each unlock is a deliberately slow S2K (iterated hashing, ~0.1 s of
/// CPU here), and a team key has at least two (signing primary, encryption subkey), so
/// the daemon starts (and reads its first message) that much sooner on a multi-core
/// machine. A key the passphrase does not unlock is missing from the map; the caller
/// says so for the keys it needs.
pub(super) fn unlock_all(
    cert: &Cert,
    pass: Option<&str>,
) -> std::collections::HashMap<openpgp::Fingerprint, SecretKey> {
    let Some(pass) = pass else {
        return Default::default();
    };
    let locked: Vec<SecretKey> = cert
        .keys()
        .secret()
        .map(|ka| ka.key().clone().role_into_unspecified())
        .filter(|k| !k.has_unencrypted_secret())
        .collect();
    let unlock = |k: &SecretKey| {
        k.clone()
            .decrypt_secret(&Password::from(pass))
            .ok()
            .map(|u| (k.fingerprint(), u))
    };
    if locked.len() < 2 {
        return locked.iter().filter_map(unlock).collect();
    }
    std::thread::scope(|s| {
        let running: Vec<_> = locked
            .iter()
            .map(|k| (k, s.spawn(move || unlock(k))))
            .collect();
        running
            .into_iter()
            // A thread that could not be joined: unlock here instead.
            .filter_map(|(k, t)| t.join().unwrap_or_else(|_| unlock(k)))
            .collect()
    })
}

/// The error for a team key the standard policy refuses, with the fix that fits.
pub(super) fn invalid_team_key(cert: &Cert, path: &std::path::Path, e: &anyhow::Error) -> KeyError {
    let fix = if let Some(what) = policy_rejection(e) {
        format!(
            "the key relies on {what}, which the standard policy rejects; extending its expiry cannot fix that. \
             Make a new team key for new reports (`gpg --quick-gen-key 'Security Team <security@example.org>' ed25519 sign,cert 2y`, \
             then `gpg --quick-add-key FPR cv25519 encr 2y`) and keep this one, to read old mail only, with `keys.legacy_decryption = true`"
        )
    } else {
        "the key's self-signatures do not bind it: export it again (`gpg --export-secret-keys --armor KEYID`), or replace it".into()
    };
    KeyError {
        key: "keys.secret",
        what: format!(
            "the key {} in {} is not valid under the standard policy: {e}",
            cert.fingerprint(),
            path.display()
        ),
        fix,
    }
}

/// An error while loading keys, phrased for the operator.
#[derive(Debug)]
pub struct KeyError {
    pub key: &'static str,
    pub what: String,
    pub fix: String,
}

/// One unlocked decryption-capable team subkey.
pub(super) struct TeamKey {
    pub(super) cert_fpr: Fingerprint,
    pub(super) key_fpr: Fingerprint,
    pub(super) pair: KeyPair,
    /// The same key prepared for OpenSSL when it is RSA (see [`crate::read::rsa`]).
    #[cfg(feature = "rsa-openssl")]
    pub(super) rsa: Option<crate::read::rsa::PreparedRsa>,
    /// The same key decrypted once when it is Cv25519 (see [`crate::read::prepared`]).
    #[cfg(feature = "crypto-nettle")]
    pub(super) cv25519: Option<crate::read::prepared::Cv25519Key>,
}

/// The team's unlocked secret keys plus the public keys we know of reporters.
pub struct TeamKeys {
    pub(super) keys: Vec<TeamKey>,
    /// Unlocked signing keys (for acks and escalations), first is used.
    pub(super) signers: Vec<KeyPair>,
    /// The first signing key again, decrypted once, when it is Ed25519 (see
    /// [`crate::read::prepared::Ed25519Signer`]).
    #[cfg(feature = "crypto-nettle")]
    pub(super) ed25519: Option<crate::read::prepared::Ed25519Signer>,
    pub(super) certs: Vec<Cert>,
    pub(super) keyring: Vec<Cert>,
    /// Keys of the reporter keyring that could not be read (file, position, why).
    pub(super) keyring_skipped: Vec<String>,
    /// Fingerprints of team keys loaded under the legacy policy (decryption only).
    pub(super) legacy: Vec<String>,
}

impl std::fmt::Debug for TeamKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("TeamKeys")
            .field("certs", &self.fingerprints())
            .field("decryption_subkeys", &self.keys.len())
            .finish()
    }
}

/// Summary of one team certificate, for `keys` and `doctor`.
#[derive(Debug, Clone, Serialize)]
pub struct CertInfo {
    pub fingerprint: String,
    pub user_ids: Vec<String>,
    pub decryption_subkeys: usize,
    pub expires: Option<i64>,
    /// The certificate advertises GnuPG's "AEAD" feature (LibrePGP, feature flag 0x02):
    /// GnuPG 2.3 and later then encrypt to it with their OCB packet (type 20), which
    /// is not OpenPGP (RFC 9580) and which triaged cannot read ([`LIBREPGP_AEAD_FIX`]).
    pub librepgp_aead: bool,
}

impl TeamKey {
    /// Opens a PKESK with this key: through OpenSSL when it is a prepared RSA key,
    /// with the secret decrypted once when it is Cv25519, through sequoia's KeyPair
    /// otherwise.
    pub(super) fn open(
        &self,
        pkesk: &PKESK,
        sym_algo: Option<SymmetricAlgorithm>,
    ) -> Option<(Option<SymmetricAlgorithm>, SessionKey)> {
        #[cfg(feature = "rsa-openssl")]
        if let Some(rsa) = &self.rsa {
            return pkesk.decrypt(&mut rsa.decryptor(), sym_algo);
        }
        #[cfg(feature = "crypto-nettle")]
        if let Some(cv) = &self.cv25519 {
            return pkesk.decrypt(&mut cv.decryptor(), sym_algo);
        }
        pkesk.decrypt(&mut self.pair.clone(), sym_algo)
    }
}
