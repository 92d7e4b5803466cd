//! OpenPGP with sequoia: the team's keys, decryption and signature checks.
//!
//! This module owns everything that touches key material: loading and
//! unlocking the team's secret keys, decrypting messages (trying every team
//! key, so hidden recipients and Bcc work), verifying inline, clear-signed and
//! detached signatures, and reading reporter certificates. It does not know
//! MIME; `mime` hands it byte strings.
//!
//! Key material and passphrases never reach a log line or an error message.

use std::io::Read;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use sequoia_openpgp as openpgp;

use openpgp::cert::prelude::*;
use openpgp::crypto::{KeyPair, Password, SessionKey};
use openpgp::packet::{PKESK, SKESK};
use openpgp::parse::Parse;
use openpgp::parse::stream::{
    DecryptionHelper, DecryptorBuilder, DetachedVerifierBuilder, MessageLayer, MessageStructure,
    VerificationError, VerificationHelper, VerifierBuilder,
};
use openpgp::policy::StandardPolicy;
use openpgp::serialize::SerializeInto;
use openpgp::types::SymmetricAlgorithm;
use openpgp::{Cert, Fingerprint, KeyHandle};
use serde::Serialize;

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

/// The error for a team key the standard policy refuses, with the fix that fits.
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

/// A secret key as a certificate holds it, its secret perhaps still locked.
type SecretKey =
    openpgp::packet::Key<openpgp::packet::key::SecretParts, openpgp::packet::key::UnspecifiedRole>;

/// Every passphrase-protected secret (sub)key of `cert` unlocked with `pass`, one
/// thread per key: each unlock is a deliberately slow S2K (iterated hashing, ~0.1 s of
/// CPU here), and a team key has at least two (signing primary, encryption subkey), so
/// the daemon starts (and reads its first message) that much sooner on a multi-core
/// machine. A key the passphrase does not unlock is missing from the map; the caller
/// says so for the keys it needs.
fn unlock_all(
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

fn invalid_team_key(cert: &Cert, path: &std::path::Path, e: &anyhow::Error) -> KeyError {
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
struct TeamKey {
    cert_fpr: Fingerprint,
    key_fpr: Fingerprint,
    pair: KeyPair,
    /// The same key prepared for OpenSSL when it is RSA (see [`crate::read::rsa`]).
    #[cfg(feature = "rsa-openssl")]
    rsa: Option<crate::read::rsa::PreparedRsa>,
    /// The same key decrypted once when it is Cv25519 (see [`crate::read::prepared`]).
    #[cfg(feature = "crypto-nettle")]
    cv25519: Option<crate::read::prepared::Cv25519Key>,
}

/// The team's unlocked secret keys plus the public keys we know of reporters.
pub struct TeamKeys {
    keys: Vec<TeamKey>,
    /// Unlocked signing keys (for acks and escalations), first is used.
    signers: Vec<KeyPair>,
    /// The first signing key again, decrypted once, when it is Ed25519 (see
    /// [`Ed25519Signer`]).
    #[cfg(feature = "crypto-nettle")]
    ed25519: Option<crate::read::prepared::Ed25519Signer>,
    certs: Vec<Cert>,
    keyring: Vec<Cert>,
    /// Keys of the reporter keyring that could not be read (file, position, why).
    keyring_skipped: Vec<String>,
    /// Fingerprints of team keys loaded under the legacy policy (decryption only).
    legacy: Vec<String>,
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

/// What to do about a team key that advertises GnuPG's "AEAD" feature.
pub const LIBREPGP_AEAD_FIX: &str = "remove the feature: `gpg --expert --edit-key FPR`, then `setpref AES256 AES192 AES SHA512 SHA384 SHA256 ZLIB BZIP2 ZIP Uncompressed` and `save` (GnuPG 2.4 adds it when it makes or edits a key); export the key again and republish it, since reporters encrypt to the published copy";

/// Whether a certificate advertises GnuPG's "AEAD" feature (flag 0x02) on any valid
/// user id or its direct-key signature: what makes GnuPG 2.3+ pick its OCB packet.
pub fn advertises_librepgp_aead(cert: &Cert) -> bool {
    use openpgp::cert::Preferences;
    let Ok(vc) = cert.with_policy(&POLICY, None) else {
        return false;
    };
    let aead = |f: Option<openpgp::types::Features>| f.is_some_and(|f| f.get(1));
    vc.userids().any(|u| aead(u.features()))
        || aead(vc.direct_key_signature().ok().and_then(|s| s.features()))
}

/// The armored blocks of a keyring file, each with the line it starts on (1-based); a
/// binary keyring (or text with no armor header) is one block.
fn armored_blocks(bytes: &[u8]) -> Vec<(&[u8], usize)> {
    const BEGIN: &[u8] = b"-----BEGIN PGP ";
    const END: &[u8] = b"-----END PGP ";
    let starts: Vec<usize> = bytes
        .windows(BEGIN.len())
        .enumerate()
        .filter(|(i, w)| *w == BEGIN && (*i == 0 || bytes.get(i - 1) == Some(&b'\n')))
        .map(|(i, _)| i)
        .collect();
    if starts.is_empty() {
        return vec![(bytes, 1)];
    }
    let line_of = |at: usize| {
        bytes
            .get(..at)
            .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
            + 1
    };
    starts
        .iter()
        .enumerate()
        .map(|(n, &from)| {
            let limit = starts.get(n + 1).copied().unwrap_or(bytes.len());
            let region = bytes.get(from..limit).unwrap_or_default();
            // Up to the end of the END line, when there is one.
            let end = region
                .windows(END.len())
                .position(|w| w == END)
                .and_then(|e| {
                    region
                        .get(e..)
                        .and_then(|r| r.iter().position(|&c| c == b'\n'))
                        .map(|nl| e + nl + 1)
                })
                .unwrap_or(region.len());
            (region.get(..end).unwrap_or(region), line_of(from))
        })
        .collect()
}

/// The fingerprints of the certificates in `bytes` (a keyring, armored or binary) that
/// advertise GnuPG's "AEAD" feature ([`advertises_librepgp_aead`]).
pub fn librepgp_aead_certs(bytes: &[u8]) -> Vec<String> {
    use openpgp::cert::CertParser;
    CertParser::from_bytes(bytes)
        .map(|p| {
            p.filter_map(|c| c.ok())
                .filter(advertises_librepgp_aead)
                .map(|c| c.fingerprint().to_hex())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether an OpenPGP message (armored or binary) carries its encrypted data in
/// GnuPG's OCB packet (type 20), after its session-key packets.
pub(crate) fn is_gnupg_ocb(data: &[u8]) -> bool {
    // At least one session-key packet, then the OCB packet.
    message_head(data).is_some_and(
        |head| matches!(walk_esks(&head, usize::MAX), (n, EskWalkEnd::Packet(20)) if n > 0),
    )
}

/// The reason given for a message in GnuPG's OCB packet.
const GNUPG_OCB: &str = "encrypted with GnuPG's OCB packet (packet type 20, LibrePGP), which GnuPG 2.3 and later use when the recipient key advertises the \"AEAD\" feature; it is not OpenPGP (RFC 9580) and triaged cannot read it. Fix: remove the feature from the team key (`triaged doctor` says how) and republish the key; ask the reporter to encrypt again (with the republished key, or `gpg --rfc4880`)";

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

    /// Can we sign outgoing mail?
    pub(crate) fn can_sign(&self) -> bool {
        !self.signers.is_empty()
    }

    /// A detached, armored signature over `data` (SHA-256; micalg=pgp-sha256).
    pub fn sign_detached(&self, data: &[u8]) -> Result<String> {
        use openpgp::serialize::SerializeInto as _;
        let sig = openpgp::Packet::from(self.signature(data)?);
        let bytes = sig.to_vec().context("serialising the signature")?;
        let armored = openpgp::armor::Writer::new(Vec::new(), openpgp::armor::Kind::Signature)
            .and_then(|mut w| {
                std::io::Write::write_all(&mut w, &bytes)?;
                w.finalize()
            })
            .context("armoring the signature")?;
        String::from_utf8(armored).context("armored signature is not UTF-8")
    }

    /// The team's binary signature over `data`: the signature sequoia's streaming
    /// signer makes (v4, SHA-256, creation time, issuer and issuer fingerprint, a
    /// 32-byte salt notation), assembled here from sequoia's parts so the salt comes
    /// from getrandom(2): sequoia draws it from a nettle generator it seeds anew for
    /// every call (1,500 SHA-256 rounds, ~150 us, most of an ack's signing time).
    /// Verified by gpg in the tests.
    fn signature(&self, data: &[u8]) -> Result<openpgp::packet::Signature> {
        use openpgp::crypto::Signer as _;
        use openpgp::crypto::hash::Hash as _;
        use openpgp::packet::signature::{Signature4, SignatureBuilder};
        use openpgp::types::{HashAlgorithm, SignatureType};
        let mut pair = self
            .signers
            .first()
            .context("no signing-capable team key is configured")?
            .clone();
        let mut salt = [0u8; 32];
        random_bytes(&mut salt).context("random bytes for the signature's salt")?;
        let public = pair.public().clone();
        let hash_algo = HashAlgorithm::SHA256;
        let builder = SignatureBuilder::new(SignatureType::Binary)
            .set_hash_algo(hash_algo)
            .set_signature_creation_time(std::time::SystemTime::now())?
            .set_issuer_fingerprint(public.fingerprint())?
            .set_issuer(public.keyid())?
            .set_notation("salt@notations.sequoia-pgp.org", salt, None, false)?;
        let fields = |prefix: [u8; 2], mpis: openpgp::crypto::mpi::Signature| {
            Signature4::new(
                SignatureType::Binary,
                public.pk_algo(),
                hash_algo,
                builder.hashed_area().clone(),
                builder.unhashed_area().clone(),
                prefix,
                mpis,
            )
        };
        let mut ctx = hash_algo.context()?.for_signature(4);
        ctx.update(data);
        // The hash covers the signature's fields only (not its prefix or MPIs).
        fields(
            [0, 0],
            openpgp::crypto::mpi::Signature::Unknown {
                mpis: Box::new([]),
                rest: Box::new([]),
            },
        )
        .hash(&mut ctx)?;
        let mut digest = vec![0u8; ctx.digest_size()];
        ctx.digest(&mut digest)?;
        #[cfg(feature = "crypto-nettle")]
        let mpis = match &self.ed25519 {
            Some(fast) => fast.sign(&digest)?,
            None => pair.sign(hash_algo, &digest)?,
        };
        #[cfg(not(feature = "crypto-nettle"))]
        let mpis = pair.sign(hash_algo, &digest)?;
        let prefix = [
            digest.first().copied().unwrap_or_default(),
            digest.get(1).copied().unwrap_or_default(),
        ];
        Ok(openpgp::packet::Signature::from(fields(prefix, mpis)))
    }

    /// Signs and encrypts `data` to the recipients' valid encryption subkeys (and to the
    /// team, so the sent copy stays readable). Armored.
    pub(crate) fn sign_and_encrypt(&self, recipients: &[Cert], data: &[u8]) -> Result<String> {
        use openpgp::serialize::Serialize as _;
        use openpgp::serialize::stream::{Armorer, Encryptor, LiteralWriter, Message};
        use std::io::Write;
        let mut keys = Vec::new();
        for c in recipients.iter().chain(self.certs.iter()) {
            let vc = c.with_policy(&POLICY, None)?;
            let mut valid: Vec<_> = vc
                .keys()
                .supported()
                .alive()
                .revoked(false)
                .for_transport_encryption()
                .for_storage_encryption()
                .collect();
            // A certificate with thousands of encryption subkeys must not make a
            // huge reply: the newest few (gpg uses only the newest one).
            valid.sort_by_key(|ka| std::cmp::Reverse(ka.key().creation_time()));
            valid.truncate(MAX_RECIPIENT_SUBKEYS);
            keys.extend(valid);
        }
        if keys.is_empty() {
            anyhow::bail!("no valid encryption key among the recipients");
        }
        // A signed message inside the encryption: one-pass signature, literal data,
        // signature (what sequoia's streaming signer writes), with the signature and
        // the session key drawn from getrandom(2) rather than from a nettle generator
        // seeded anew for each (see `signature`).
        let sig = self.signature(data)?;
        let mut ops = openpgp::packet::one_pass_sig::OnePassSig3::try_from(&sig)
            .context("a one-pass signature for the reply")?;
        ops.set_last(true);
        let sym_algo = openpgp::types::SymmetricAlgorithm::AES256;
        let mut sk = vec![0u8; sym_algo.key_size()?];
        random_bytes(&mut sk).context("random bytes for the session key")?;
        let sk = openpgp::crypto::SessionKey::from(sk);
        let mut out = Vec::new();
        {
            let m = Message::new(&mut out);
            let m = Armorer::new(m).build()?;
            let mut m = Encryptor::with_session_key(m, sym_algo, sk)?
                .add_recipients(keys)
                .build()?;
            openpgp::Packet::from(openpgp::packet::OnePassSig::from(ops)).serialize(&mut m)?;
            let mut w = LiteralWriter::new(m).build()?;
            w.write_all(data)?;
            let mut m = w
                .finalize_one()?
                .context("the encryption layer under the literal data")?;
            openpgp::Packet::from(sig).serialize(&mut m)?;
            m.finalize()?;
        }
        String::from_utf8(out).context("armored message is not UTF-8")
    }

    /// Encrypts data to the team's own keys (encryption at rest), binary OpenPGP.
    pub(crate) fn seal(&self, data: &[u8]) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.seal_stream(data, &mut out)?;
        Ok(out)
    }

    /// [`TeamKeys::seal`] from a reader to a writer, a buffer at a time (a message read
    /// as a stream is sealed from its spool file into another).
    pub(crate) fn seal_stream(
        &self,
        mut data: impl Read,
        out: impl std::io::Write + Send + Sync,
    ) -> Result<()> {
        use openpgp::serialize::stream::{Encryptor, LiteralWriter, Message};
        let mut keys = Vec::new();
        for c in &self.certs {
            let vc = c.with_policy(&POLICY, None)?;
            keys.extend(
                vc.keys()
                    .supported()
                    .revoked(false)
                    .for_storage_encryption()
                    .for_transport_encryption(),
            );
        }
        anyhow::ensure!(
            !keys.is_empty(),
            "no team key can encrypt (store.encrypt_at_rest)"
        );
        let m = Message::new(out);
        let m = Encryptor::for_recipients(m, keys).build()?;
        let mut w = LiteralWriter::new(m).build()?;
        std::io::copy(&mut data, &mut w).context("sealing")?;
        w.finalize()?;
        Ok(())
    }

    /// Decrypts what `seal` made.
    pub(crate) fn unseal(&self, data: &[u8]) -> Result<Vec<u8>> {
        Ok(decrypt(self, &[], data, u64::MAX / 2, usize::MAX)?.plaintext)
    }

    /// `seal` for text, armored (stored in TEXT columns).
    pub(crate) fn seal_text(&self, text: &str) -> Result<String> {
        let bin = self.seal(text.as_bytes())?;
        let mut out = Vec::new();
        {
            use std::io::Write;
            let mut w = openpgp::armor::Writer::new(&mut out, openpgp::armor::Kind::Message)?;
            w.write_all(&bin)?;
            w.finalize()?;
        }
        String::from_utf8(out).context("armor is not UTF-8")
    }

    pub(crate) fn unseal_text(&self, armored: &str) -> Result<String> {
        Ok(String::from_utf8_lossy(&self.unseal(armored.as_bytes())?).into_owned())
    }

    /// A short text field (a subject) sealed for a TEXT column: `sealed:` + armor.
    /// Readers recognise the prefix ([`Opener::open_field`]).
    pub(crate) fn seal_field(&self, s: Option<&str>) -> Result<Option<String>> {
        s.map(|s| Ok(format!("{SEALED}{}", self.seal_text(s)?)))
            .transpose()
    }

    /// The first team certificate, minimal (for Autocrypt headers), binary.
    pub(crate) fn autocrypt_keydata(&self) -> Option<Vec<u8>> {
        use openpgp::serialize::Serialize;
        let c = self.certs.first()?;
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

struct Helper<'a> {
    team: &'a TeamKeys,
    extra: &'a [Cert],
    /// Most PKESKs tried (each try is a public-key operation).
    max_pkesks: usize,
    sigs: Vec<SigResult>,
    used: Option<String>,
    recipients: Vec<String>,
    /// SHA-256 of the session key that opened the message (see [`Decrypted`]).
    session_key_hash: Option<String>,
}

impl Helper<'_> {
    fn new<'a>(team: &'a TeamKeys, extra: &'a [Cert], max_pkesks: usize) -> Helper<'a> {
        Helper {
            team,
            extra,
            max_pkesks,
            sigs: Vec::new(),
            used: None,
            recipients: Vec::new(),
            session_key_hash: None,
        }
    }
}

/// The policy's words when `error` is a policy rejection (an algorithm judged too weak,
/// e.g. SHA-1 in a data signature). Sequoia checks the mathematics first and the policy
/// after (`parse::stream`): such a signature is valid but not acceptable, never `bad`.
fn policy_rejection(error: &anyhow::Error) -> Option<String> {
    match error.downcast_ref::<openpgp::Error>() {
        Some(openpgp::Error::PolicyViolation(what, _)) => Some(what.clone()),
        _ => None,
    }
}

/// For a good signature: whether the signer's key has expired since the signature was
/// made (gpg's EXPKEYSIG). Sequoia judges the key at the signature's time, so such a
/// signature stays `good`; the detail says the key is no longer valid today.
fn expired_since(cert: &Cert, sig: &openpgp::packet::Signature) -> Option<String> {
    let made = sig
        .signature_creation_time()
        .map(|t| {
            chrono::DateTime::<chrono::Utc>::from(t)
                .format("%Y-%m-%d")
                .to_string()
        })
        .unwrap_or_else(|| "an unknown date".into());
    match cert.with_policy(&POLICY, None) {
        Ok(vc) => match vc.alive() {
            Ok(()) => None,
            Err(_) => {
                let until = vc
                    .primary_key()
                    .key_expiration_time()
                    .map(|t| {
                        chrono::DateTime::<chrono::Utc>::from(t)
                            .format("%Y-%m-%d")
                            .to_string()
                    })
                    .unwrap_or_else(|| "an earlier date".into());
                Some(format!(
                    "made on {made} while the key was valid; the key expired on {until} (gpg: EXPKEYSIG): the signature is good, the key cannot be used today"
                ))
            }
        },
        Err(e) => Some(format!(
            "made on {made} while the key was valid; the key is not valid today: {e}"
        )),
    }
}

fn first_uid(cert: &Cert) -> Option<String> {
    cert.userids()
        .next()
        .map(|u| String::from_utf8_lossy(u.userid().value()).into_owned())
}

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, ids: &[KeyHandle]) -> Result<Vec<Cert>> {
        let all = self
            .extra
            .iter()
            .chain(self.team.keyring.iter())
            .chain(self.team.certs.iter());
        Ok(all
            .filter(|c| {
                ids.iter()
                    .any(|id| c.keys().any(|k| k.key().key_handle().aliases(id)))
            })
            .cloned()
            .collect())
    }

    fn check(&mut self, structure: MessageStructure) -> Result<()> {
        for layer in structure.into_iter() {
            if let MessageLayer::SignatureGroup { results } = layer {
                for r in results {
                    let res = match r {
                        Ok(good) => SigResult {
                            status: SigStatus::Good,
                            signer: Some(good.ka.cert().fingerprint().to_hex()),
                            user_id: first_uid(good.ka.cert()),
                            detail: expired_since(good.ka.cert(), good.sig),
                            emails: good
                                .ka
                                .cert()
                                .userids()
                                .filter_map(|u| u.userid().email_normalized().ok().flatten())
                                .collect(),
                        },
                        Err(e) => {
                            let issuer = |sig: &openpgp::packet::Signature| {
                                sig.get_issuers().first().map(|h| h.to_hex())
                            };
                            match &e {
                                VerificationError::MissingKey { sig } => SigResult {
                                    status: SigStatus::UnknownKey,
                                    signer: issuer(sig),
                                    user_id: None,
                                    detail: Some("the signer's public key is not known".into()),
                                    emails: Vec::new(),
                                },
                                VerificationError::BadSignature { ka, error, .. }
                                    if policy_rejection(error).is_some() =>
                                {
                                    SigResult {
                                        status: SigStatus::WeakAlgorithm,
                                        signer: Some(ka.cert().fingerprint().to_hex()),
                                        user_id: first_uid(ka.cert()),
                                        detail: Some(format!(
                                            "the signature verifies, but uses an algorithm the standard policy rejects: {}",
                                            policy_rejection(error).unwrap_or_default()
                                        )),
                                        emails: Vec::new(),
                                    }
                                }
                                VerificationError::UnboundKey { sig, cert, error }
                                    if policy_rejection(error).is_some() =>
                                {
                                    SigResult {
                                        status: SigStatus::WeakAlgorithm,
                                        signer: Some(cert.fingerprint().to_hex()).or(issuer(sig)),
                                        user_id: first_uid(cert),
                                        detail: Some(format!(
                                            "the signer's key is bound by an algorithm the standard policy rejects: {}",
                                            policy_rejection(error).unwrap_or_default()
                                        )),
                                        emails: Vec::new(),
                                    }
                                }
                                VerificationError::BadSignature { ka, error, .. } => SigResult {
                                    status: SigStatus::Bad,
                                    signer: Some(ka.cert().fingerprint().to_hex()),
                                    user_id: first_uid(ka.cert()),
                                    detail: Some(format!("signature does not verify: {error}")),
                                    emails: Vec::new(),
                                },
                                VerificationError::BadKey { ka, error, .. } => SigResult {
                                    status: SigStatus::InvalidKey,
                                    signer: Some(ka.cert().fingerprint().to_hex()),
                                    user_id: first_uid(ka.cert()),
                                    detail: Some(format!("signing key not valid: {error}")),
                                    emails: Vec::new(),
                                },
                                VerificationError::UnboundKey { sig, cert, error } => SigResult {
                                    status: SigStatus::InvalidKey,
                                    signer: Some(cert.fingerprint().to_hex()).or(issuer(sig)),
                                    user_id: first_uid(cert),
                                    detail: Some(format!("signing key not valid: {error}")),
                                    emails: Vec::new(),
                                },
                                VerificationError::MalformedSignature { sig, error } => SigResult {
                                    status: SigStatus::Bad,
                                    signer: issuer(sig),
                                    user_id: None,
                                    detail: Some(format!("malformed signature: {error}")),
                                    emails: Vec::new(),
                                },
                                other => SigResult {
                                    status: SigStatus::Bad,
                                    signer: None,
                                    user_id: None,
                                    detail: Some(other.to_string()),
                                    emails: Vec::new(),
                                },
                            }
                        }
                    };
                    self.sigs.push(res);
                }
            }
        }
        Ok(())
    }
}

impl TeamKey {
    /// Opens a PKESK with this key: through OpenSSL when it is a prepared RSA key,
    /// with the secret decrypted once when it is Cv25519, through sequoia's KeyPair
    /// otherwise.
    fn open(
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

fn is_anonymous(pkesk: &PKESK) -> bool {
    match pkesk.recipient() {
        None => true,
        Some(KeyHandle::KeyID(id)) => id.is_wildcard(),
        Some(_) => false,
    }
}

impl DecryptionHelper for Helper<'_> {
    fn decrypt(
        &mut self,
        pkesks: &[PKESK],
        _skesks: &[SKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> Result<Option<Cert>> {
        self.recipients = pkesks
            .iter()
            .take(64)
            .map(|p| {
                p.recipient()
                    .map(|r| r.to_hex())
                    .unwrap_or_else(|| "anonymous".into())
            })
            .collect();
        // First the PKESKs addressed to one of our keys, then the anonymous ones
        // (gpg --throw-keyids) against every team key. Matching a key id costs
        // nothing; a try costs a public-key operation, so tries are capped (a mail
        // with 200,000 anonymous PKESKs must not take minutes).
        let mut tries = 0usize;
        for anonymous in [false, true] {
            for pkesk in pkesks.iter().filter(|p| is_anonymous(p) == anonymous) {
                for k in &self.team.keys {
                    let matches = anonymous
                        || pkesk
                            .recipient()
                            .is_some_and(|r| r.aliases(KeyHandle::from(&k.key_fpr)));
                    if !matches {
                        continue;
                    }
                    tries += 1;
                    if tries > self.max_pkesks {
                        return Err(anyhow!(
                            "gave up after trying {} encrypted session keys (limits.max_pkesks); {} in the message",
                            self.max_pkesks,
                            pkesks.len()
                        ));
                    }
                    if let Some((algo, sk)) = k.open(pkesk, sym_algo)
                        && decrypt(algo, &sk)
                    {
                        use sha2::Digest;
                        let mut h = sha2::Sha256::new();
                        h.update(b"triaged session key v1\0");
                        h.update(&sk[..]);
                        self.session_key_hash =
                            Some(h.finalize().iter().map(|b| format!("{b:02x}")).collect());
                        self.used = Some(k.cert_fpr.to_hex());
                        return Ok(None);
                    }
                }
            }
        }
        Err(anyhow!(
            "no team key can decrypt this message (it is encrypted to {})",
            if self.recipients.is_empty() {
                "a passphrase only".to_string()
            } else {
                self.recipients.join(", ")
            }
        ))
    }
}

/// Most encryption subkeys of one recipient certificate a reply is encrypted to.
pub(crate) const MAX_RECIPIENT_SUBKEYS: usize = 4;

pub use crate::domain::seal::Opener;
pub(crate) use crate::domain::seal::SEALED;
pub use crate::domain::status::{KeySource, SigStatus};

impl Opener for TeamKeys {
    fn open_bytes(&self, data: &[u8]) -> Result<Vec<u8>> {
        self.unseal(data)
    }
    fn open_text(&self, armored: &str) -> Result<String> {
        self.unseal_text(armored)
    }
}

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
const STREAM_BUFFER: usize = 256 * 1024;

/// Reads a plaintext of at most `limit` bytes. `hint` (the size of what is decrypted)
/// sizes the buffer once: growing it by doubling would hold up to three times the
/// plaintext while it is copied.
fn read_limited(mut r: impl Read, limit: u64, hint: usize) -> Result<Vec<u8>> {
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
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
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
    .map_err(|e| {
        if is_gnupg_ocb(data) {
            anyhow!(GNUPG_OCB)
        } else {
            e
        }
    })
}

fn decrypt_inner(
    team: &TeamKeys,
    extra: &[Cert],
    data: &[u8],
    limit: u64,
    max_pkesks: usize,
) -> Result<Decrypted> {
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
                .with_policy(&POLICY, None, helper)
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
    let h = d.into_helper();
    Ok(Decrypted {
        plaintext,
        signatures: h.sigs,
        encrypted: h.session_key_hash.is_some() || h.used.is_some(),
        team_key: h.used,
        session_key_hash: h.session_key_hash,
    })
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
        let helper = Helper::new(team, extra, max_pkesks);
        let mut d = DecryptorBuilder::from_reader(open()?)
            .context("not an OpenPGP message")?
            .buffer_size(STREAM_BUFFER)
            .with_policy(&POLICY, None, helper)?;
        let mut plaintext = Vec::with_capacity(keep.min(STREAM_BUFFER));
        let mut total = 0u64;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = d
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
        let h = d.into_helper();
        Ok((
            Decrypted {
                plaintext,
                signatures: h.sigs,
                encrypted: h.session_key_hash.is_some() || h.used.is_some(),
                team_key: h.used,
                session_key_hash: h.session_key_hash,
            },
            total,
        ))
    })
    .map_err(|e| {
        let mut head = Vec::new();
        let ocb = open()
            .and_then(|r| Ok(r.take(ESK_PREFIX as u64).read_to_end(&mut head)?))
            .is_ok_and(|_| is_gnupg_ocb(&head));
        if ocb { anyhow!(GNUPG_OCB) } else { e }
    })
}

/// More encrypted session keys than this in one message are trimmed before parsing.
const MAX_ESKS_PARSED: usize = 256;

/// A message with a flood of encrypted session keys (PKESK/SKESK) is trimmed before
/// sequoia parses it: sequoia's message grammar check is quadratic in the number of
/// packets (200,000 anonymous PKESKs took 3.5 minutes before the first decryption try).
/// Kept: the PKESKs addressed to a team key and the first `max_pkesks` + 1 anonymous
/// ones (so the try cap still speaks), then the encrypted data unchanged. Returns the
/// new binary message and a note, or None when the message is within bounds.
fn trim_esks(team: &TeamKeys, data: &[u8], max_pkesks: usize) -> Option<(Vec<u8>, String)> {
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
const ESK_PREFIX: usize = 512 * 1024;

/// True when `head` (the start of a binary message) holds at most MAX_ESKS_PARSED
/// session-key packets followed by another packet: nothing to trim. False when it
/// cannot tell (the prefix ends among session keys) or there are more.
fn few_esks(head: &[u8]) -> bool {
    match walk_esks(head, MAX_ESKS_PARSED + 1) {
        (n, EskWalkEnd::Packet(_) | EskWalkEnd::NotPacket) => n <= MAX_ESKS_PARSED,
        (_, EskWalkEnd::Truncated | EskWalkEnd::Cap) => false,
    }
}

/// Whether a message is ASCII-armored (possibly after leading white space).
fn is_armored(data: &[u8]) -> bool {
    data.trim_ascii_start().starts_with(b"-----BEGIN PGP")
}

/// The first `limit` bytes of an armored message's binary form.
fn dearmored(data: &[u8], limit: u64) -> Option<Vec<u8>> {
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
fn message_head(data: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
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
enum EskWalkEnd {
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
fn walk_esks(head: &[u8], cap: usize) -> (usize, EskWalkEnd) {
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
fn packet_tag(h: u8) -> Option<u8> {
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
fn packet_at(b: &[u8], pos: usize) -> Option<(u8, usize, usize)> {
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

fn verify_inline_inner(
    team: &TeamKeys,
    extra: &[Cert],
    data: &[u8],
    limit: u64,
) -> Result<(Vec<u8>, Vec<SigResult>)> {
    let helper = Helper::new(team, extra, 0);
    let mut v = VerifierBuilder::from_bytes(data)
        .context("not a signed OpenPGP message")?
        .buffer_size(STREAM_BUFFER)
        .with_policy(&POLICY, None, helper)?;
    let content = read_limited(&mut v, limit, data.len())?;
    Ok((content, v.into_helper().sigs))
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

fn verify_detached_inner(
    team: &TeamKeys,
    extra: &[Cert],
    signature: &[u8],
    content: &[u8],
) -> Result<Vec<SigResult>> {
    let helper = Helper::new(team, extra, 0);
    let mut v = DetachedVerifierBuilder::from_bytes(signature)
        .context("not an OpenPGP signature")?
        .with_policy(&POLICY, None, helper)?;
    v.verify_bytes(content)?;
    Ok(v.into_helper().sigs)
}

/// Can we encrypt to this certificate now? Err says why not (expired, revoked, no
/// encryption-capable subkey): then the ack goes out signed only and says so.
pub(crate) fn usable_for_encryption(cert: &Cert) -> std::result::Result<(), String> {
    let vc = cert
        .with_policy(&POLICY, None)
        .map_err(|e| format!("the key {} is not valid: {e}", cert.fingerprint()))?;
    if let openpgp::types::RevocationStatus::Revoked(_) = vc.revocation_status() {
        return Err(format!("the key {} is revoked", cert.fingerprint()));
    }
    if vc.alive().is_err() {
        return Err(format!("the key {} has expired", cert.fingerprint()));
    }
    if vc
        .keys()
        .supported()
        .alive()
        .revoked(false)
        .for_transport_encryption()
        .next()
        .is_none()
    {
        return Err(format!(
            "the key {} has no valid encryption subkey (expired, revoked or missing)",
            cert.fingerprint()
        ));
    }
    Ok(())
}

/// Parses an armored certificate stored with a case.
pub(crate) fn cert_from_armor(armored: &str) -> Option<Cert> {
    Cert::from_bytes(armored.as_bytes()).ok()
}

/// A reporter's public certificate found in a message.
#[derive(Debug, Clone, Serialize)]
pub struct FoundKey {
    pub fingerprint: String,
    pub user_ids: Vec<String>,
    pub source: KeySource,
    pub armored: String,
    #[serde(skip)]
    pub cert: Cert,
}

/// How much of an untrusted certificate is read. Canonicalising a certificate costs
/// more than linear time in its components (a key with 10,000 user ids took minutes),
/// so what is parsed is cut to these before sequoia builds the certificate.
#[derive(Debug, Clone, Copy)]
pub struct KeyLimits {
    pub user_ids: usize,
    pub subkeys: usize,
    /// Signatures kept per component (a flood of certifications costs the same).
    pub signatures: usize,
    /// Packets looked at in one blob, in all.
    pub packets: usize,
}

impl Default for KeyLimits {
    fn default() -> Self {
        KeyLimits {
            user_ids: 64,
            subkeys: 16,
            signatures: 16,
            packets: 10_000,
        }
    }
}

/// Reads public certificates from bytes (armored or binary) within the default
/// [`KeyLimits`]. Secret parts are dropped.
pub(crate) fn read_certs(data: &[u8], source: KeySource) -> Vec<FoundKey> {
    read_certs_limited(data, source, &KeyLimits::default()).0
}

/// Reads public certificates within `lim`; the second value says what was cut.
pub(crate) fn read_certs_limited(
    data: &[u8],
    source: KeySource,
    lim: &KeyLimits,
) -> (Vec<FoundKey>, Option<String>) {
    guarded("reading keys", || Ok(read_certs_inner(data, source, lim)))
        .unwrap_or_else(|e| (Vec::new(), Some(format!("{e:#}"))))
}

fn read_certs_inner(
    data: &[u8],
    source: KeySource,
    lim: &KeyLimits,
) -> (Vec<FoundKey>, Option<String>) {
    use openpgp::Packet;
    use openpgp::parse::{PacketParser, PacketParserResult};
    let Ok(mut ppr) = PacketParser::from_bytes(data) else {
        return (Vec::new(), None);
    };
    let mut certs: Vec<Vec<Packet>> = Vec::new();
    let (mut uids, mut subs, mut sigs, mut total) = (0usize, 0usize, 0usize, 0usize);
    let mut skip = false;
    let mut cut = std::collections::BTreeSet::new();
    while let PacketParserResult::Some(pp) = ppr {
        total += 1;
        if total > lim.packets {
            cut.insert(format!("more than {} packets", lim.packets));
            break;
        }
        let Ok((packet, next)) = pp.next() else {
            break;
        };
        ppr = next;
        match &packet {
            Packet::PublicKey(_) | Packet::SecretKey(_) => {
                certs.push(Vec::new());
                (uids, subs, sigs, skip) = (0, 0, 0, false);
            }
            Packet::UserID(_) | Packet::UserAttribute(_) => {
                uids += 1;
                sigs = 0;
                skip = uids > lim.user_ids;
                if skip {
                    cut.insert(format!("user ids after the first {}", lim.user_ids));
                }
            }
            Packet::PublicSubkey(_) | Packet::SecretSubkey(_) => {
                subs += 1;
                sigs = 0;
                skip = subs > lim.subkeys;
                if skip {
                    cut.insert(format!("subkeys after the first {}", lim.subkeys));
                }
            }
            Packet::Signature(_) => {
                sigs += 1;
                if sigs > lim.signatures && !skip {
                    cut.insert(format!(
                        "signatures after the first {} per component",
                        lim.signatures
                    ));
                    continue;
                }
            }
            _ => {}
        }
        if !skip && let Some(c) = certs.last_mut() {
            c.push(packet);
        }
    }
    let found = certs
        .into_iter()
        .filter_map(|packets| Cert::from_packets(packets.into_iter()).ok())
        .filter_map(|c| {
            let c = c.strip_secret_key_material();
            let armored = String::from_utf8(c.armored().to_vec().ok()?).ok()?;
            Some(FoundKey {
                fingerprint: c.fingerprint().to_hex(),
                user_ids: c
                    .userids()
                    .map(|u| String::from_utf8_lossy(u.userid().value()).into_owned())
                    .collect(),
                source,
                armored,
                cert: c,
            })
        })
        .collect();
    let note = (!cut.is_empty()).then(|| {
        format!(
            "a key ({source}) was read only in part (limits.max_key_*): {}",
            cut.into_iter().collect::<Vec<_>>().join(", ")
        )
    });
    (found, note)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn team() -> TeamKeys {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let path = root.join("keys/test/team-secret.asc");
        let bytes = std::fs::read(&path).unwrap();
        let pass = std::fs::read_to_string(root.join("keys/test/passphrase")).unwrap();
        TeamKeys::load(&[(path, bytes)], Some(pass.trim()), None)
            .map_err(|e| e.what)
            .unwrap()
    }

    /// A reporter keyring made by concatenating armored files: a block this library
    /// cannot read is skipped and named by its line, and the keys after it still load.
    /// A file where nothing at all can be read stays an error.
    #[test]
    fn a_damaged_block_in_the_reporter_keyring_hides_nothing_after_it() {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let secret = root.join("keys/test/team-secret.asc");
        let files = [(secret.clone(), std::fs::read(&secret).unwrap())];
        let pass = std::fs::read_to_string(root.join("keys/test/passphrase")).unwrap();
        let public = std::fs::read_to_string(root.join("keys/test/team-public.asc")).unwrap();
        // A block whose first packet header is not one (the CTB's high bit unset).
        let damaged = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nCgoKCgoKCgo=\n-----END PGP PUBLIC KEY BLOCK-----\n";
        let ring = format!("{damaged}\n{public}");
        let path = PathBuf::from("reporters.asc");
        let keys = TeamKeys::load(
            &files,
            Some(pass.trim()),
            Some(&(path.clone(), ring.clone().into_bytes())),
        )
        .map_err(|e| e.what)
        .unwrap();
        assert_eq!(keys.keyring().len(), 1);
        assert_eq!(
            keys.keyring_skipped().len(),
            1,
            "{:?}",
            keys.keyring_skipped()
        );
        assert!(keys.keyring_skipped()[0].contains("reporters.asc: the key at line 1 skipped"));
        // The good block first and the damaged one after it: the same.
        let keys = TeamKeys::load(
            &files,
            Some(pass.trim()),
            Some(&(path.clone(), format!("{public}\n{damaged}").into_bytes())),
        )
        .map_err(|e| e.what)
        .unwrap();
        assert_eq!(keys.keyring().len(), 1);
        let line = 2 + public.lines().count();
        assert!(
            keys.keyring_skipped()[0].contains(&format!("line {line} skipped")),
            "{:?}",
            keys.keyring_skipped()
        );
        // Nothing readable at all.
        let err = TeamKeys::load(
            &files,
            Some(pass.trim()),
            Some(&(path, damaged.as_bytes().to_vec())),
        )
        .err()
        .map(|e| e.what)
        .unwrap_or_default();
        assert!(err.contains("is not an OpenPGP keyring"), "{err}");
    }

    /// Ed25519 signatures are deterministic: the prepared signer must give exactly what
    /// sequoia's KeyPair gives, for a legacy EdDSA key (the gpg-made test key) and an
    /// RFC 9580 Ed25519 one.
    #[cfg(feature = "crypto-nettle")]
    #[test]
    fn the_prepared_ed25519_signer_signs_exactly_as_sequoia() {
        use openpgp::crypto::Signer as _;
        use openpgp::types::HashAlgorithm;
        let t = team();
        let fast = t.ed25519.as_ref().expect("the test key signs with Ed25519");
        assert!(fast.is_legacy());
        let digest: Vec<u8> = (0u8..32).collect();
        let mut pair = t.signers.first().expect("a signer").clone();
        assert_eq!(
            fast.sign(&digest).expect("sign"),
            pair.sign(HashAlgorithm::SHA256, &digest).expect("sign")
        );
        let (v6, _) = CertBuilder::new()
            .set_profile(openpgp::Profile::RFC9580)
            .expect("profile")
            .set_cipher_suite(CipherSuite::Cv25519)
            .add_signing_subkey()
            .generate()
            .expect("generate");
        let mut pair = v6
            .keys()
            .with_policy(&POLICY, None)
            .secret()
            .for_signing()
            .next()
            .expect("signing key")
            .key()
            .clone()
            .into_keypair()
            .expect("keypair");
        let fast = crate::read::prepared::Ed25519Signer::new(&pair)
            .expect("an RFC 9580 Ed25519 key is prepared");
        assert!(!fast.is_legacy());
        assert_eq!(
            fast.sign(&digest).expect("sign"),
            pair.sign(HashAlgorithm::SHA256, &digest).expect("sign")
        );
    }

    fn sig(status: SigStatus) -> SigResult {
        SigResult {
            status,
            signer: None,
            user_id: None,
            detail: None,
            emails: Vec::new(),
        }
    }

    #[test]
    fn a_detached_signature_is_the_one_sequoias_streaming_signer_makes_and_verifies() {
        use openpgp::parse::Parse as _;
        let team = team();
        let data = b"Case SEC-2026-0001\r\nWe received your report.\r\n";
        let made = team.sign_detached(data).unwrap();
        let good = verify_detached(&team, &[], made.as_bytes(), data).unwrap();
        assert_eq!(summarize(&good), SigStatus::Good, "{good:?}");
        let bad = verify_detached(&team, &[], made.as_bytes(), b"something else").unwrap();
        assert_eq!(summarize(&bad), SigStatus::Bad, "{bad:?}");
        // The same fields as sequoia's own streaming signer (the one used before).
        let theirs = {
            use openpgp::serialize::stream::{Armorer, Message, Signer};
            use std::io::Write;
            let mut out = Vec::new();
            let m = Armorer::new(Message::new(&mut out))
                .kind(openpgp::armor::Kind::Signature)
                .build()
                .unwrap();
            let mut w = Signer::new(m, team.signers[0].clone())
                .unwrap()
                .hash_algo(openpgp::types::HashAlgorithm::SHA256)
                .unwrap()
                .detached()
                .build()
                .unwrap();
            w.write_all(data).unwrap();
            w.finalize().unwrap();
            out
        };
        let parse = |b: &[u8]| match openpgp::Packet::from_bytes(b).unwrap() {
            openpgp::Packet::Signature(s) => s,
            p => panic!("not a signature: {p:?}"),
        };
        let (ours, theirs) = (parse(made.as_bytes()), parse(&theirs));
        assert_eq!(ours.version(), theirs.version());
        assert_eq!(ours.typ(), theirs.typ());
        assert_eq!(ours.pk_algo(), theirs.pk_algo());
        assert_eq!(ours.hash_algo(), theirs.hash_algo());
        let tags = |s: &openpgp::packet::Signature| {
            let mut t: Vec<_> = s.hashed_area().iter().map(|p| p.tag()).collect();
            t.sort();
            t
        };
        assert_eq!(tags(&ours), tags(&theirs));
        assert_eq!(
            ours.issuer_fingerprints().collect::<Vec<_>>(),
            theirs.issuer_fingerprints().collect::<Vec<_>>()
        );
        // A fresh salt every time: two signatures of the same data differ.
        assert_ne!(made, team.sign_detached(data).unwrap());
    }

    #[test]
    fn a_signed_and_encrypted_reply_opens_for_the_team_with_a_good_signature_and_a_fresh_key() {
        let team = team();
        let data = b"Content-Type: text/plain\r\n\r\nWe received your report.\r\n";
        let certs = team.certs.clone();
        let a = team.sign_and_encrypt(&certs, data).unwrap();
        let b = team.sign_and_encrypt(&certs, data).unwrap();
        for msg in [&a, &b] {
            let d = decrypt(&team, &[], msg.as_bytes(), 1 << 20, 16).unwrap();
            assert!(d.encrypted);
            assert_eq!(d.plaintext, data);
            assert_eq!(
                summarize(&d.signatures),
                SigStatus::Good,
                "{:?}",
                d.signatures
            );
        }
        let key = |m: &str| {
            decrypt(&team, &[], m.as_bytes(), 1 << 20, 16)
                .unwrap()
                .session_key_hash
        };
        assert_ne!(key(&a), key(&b), "every reply has its own session key");
    }

    #[test]
    fn the_worst_signature_wins() {
        use SigStatus::*;
        assert_eq!(summarize(&[]), Unsigned);
        assert_eq!(summarize(&[sig(Good), sig(Bad)]), Bad);
        assert_eq!(summarize(&[sig(Good), sig(InvalidKey)]), InvalidKey);
        assert_eq!(summarize(&[sig(Good), sig(SignerMismatch)]), SignerMismatch);
        assert_eq!(summarize(&[sig(UnknownKey), sig(Good)]), Good);
        assert_eq!(summarize(&[sig(Smime)]), Smime);
        assert_eq!(summarize(&[sig(UnknownKey), sig(Smime)]), UnknownKey);
    }

    #[test]
    fn sealed_data_and_fields_open_with_the_team_key() {
        let keys = team();
        let sealed = keys.seal(b"raw report bytes").unwrap();
        assert!(!sealed.windows(3).any(|w| w == b"raw"));
        assert_eq!(keys.open_bytes(&sealed).unwrap(), b"raw report bytes");
        let f = keys.seal_field(Some("a subject")).unwrap().unwrap();
        assert!(f.starts_with(SEALED) && !f.contains("a subject"));
        assert_eq!(keys.open_field(&f).unwrap(), "a subject");
        assert_eq!(keys.open_field("plain").unwrap(), "plain");
    }

    #[test]
    fn a_reader_gets_the_decryption_keys_unlocked_and_no_signing_key() {
        let keys = team();
        assert!(keys.can_sign());
        let sealed = keys.seal(b"for the reader").unwrap();
        let unlocked = keys.for_reader().unwrap();
        // Loaded with no passphrase at all: nothing left to unlock.
        let files = [(PathBuf::from("(from the daemon)"), &unlocked[..])];
        let reader = TeamKeys::load_with(&files, None, None, false)
            .map_err(|e| e.what)
            .unwrap();
        assert_eq!(reader.open_bytes(&sealed).unwrap(), b"for the reader");
        assert_eq!(reader.fingerprints(), keys.fingerprints());
        assert!(!reader.can_sign(), "the signing key stays in the daemon");
        assert!(reader.sign_detached(b"x").is_err());
        // Every secret that was sent is unencrypted (no S2K in the reader), and the
        // primary (signing) key's secret was not sent.
        let certs: Vec<Cert> = CertParser::from_bytes(&unlocked[..])
            .unwrap()
            .collect::<Result<_>>()
            .unwrap();
        for c in &certs {
            assert!(!c.primary_key().key().has_secret());
            assert!(c.keys().secret().all(|k| k.key().has_unencrypted_secret()));
            assert!(c.keys().secret().next().is_some());
        }
    }

    #[test]
    fn packet_headers_of_every_length_form_are_read_and_truncation_is_refused() {
        // new format, one-octet length; two-octet; five-octet; old format 1, 2, 4 octets.
        assert_eq!(packet_at(&[0xc1, 2, 9, 9], 0), Some((1, 2, 4)));
        let mut two = vec![0xc1, 192, 10];
        two.extend(vec![0u8; 202]);
        assert_eq!(packet_at(&two, 0), Some((1, 3, 205)));
        let mut five = vec![0xc1, 255, 0, 0, 0, 3];
        five.extend([1, 2, 3]);
        assert_eq!(packet_at(&five, 0), Some((1, 6, 9)));
        assert_eq!(packet_at(&[0x84, 1, 7], 0), Some((1, 2, 3)));
        assert_eq!(packet_at(&[0x85, 0, 1, 7], 0), Some((1, 3, 4)));
        assert_eq!(packet_at(&[0x86, 0, 0, 0, 1, 7], 0), Some((1, 5, 6)));
        assert_eq!(packet_at(&[0xc1, 5, 1], 0), None, "body runs past the end");
        assert_eq!(packet_at(&[0x41, 1, 1], 0), None, "not a packet header");
        assert_eq!(
            packet_at(&[0xd2, 0xe0], 0),
            None,
            "partial length: a data packet"
        );
        assert_eq!(packet_at(&[], 0), None);
    }

    #[test]
    fn a_small_message_is_never_rewritten() {
        assert!(
            trim_esks(
                &team(),
                b"-----BEGIN PGP MESSAGE-----\n\n-----END PGP MESSAGE-----\n",
                32
            )
            .is_none()
        );
    }

    /// The team's message with its encrypted data packet turned into GnuPG's OCB packet
    /// (type 20): the header's tag changes, the length stays.
    fn as_gnupg_ocb(binary: &[u8]) -> Vec<u8> {
        let mut b = binary.to_vec();
        let mut pos = 0;
        while let Some((tag, _, end)) = packet_at(&b, pos) {
            if tag != 1 && tag != 3 {
                break;
            }
            pos = end;
        }
        let h = b[pos];
        assert!(h & 0x40 != 0, "a new-format header (sequoia writes them)");
        assert_eq!(h & 0x3f, 18, "SEIPD");
        b[pos] = 0xC0 | 20;
        b
    }

    #[test]
    fn a_message_in_gnupg_ocb_packets_gets_a_reason_that_says_what_to_do() {
        let t = team();
        let sealed = t.seal(b"report").unwrap();
        assert!(!is_gnupg_ocb(&sealed));
        let ocb = as_gnupg_ocb(&sealed);
        assert!(is_gnupg_ocb(&ocb));
        let armored = {
            use openpgp::armor::{Kind, Writer};
            use std::io::Write;
            let mut w = Writer::new(Vec::new(), Kind::Message).unwrap();
            w.write_all(&ocb).unwrap();
            w.finalize().unwrap()
        };
        assert!(is_gnupg_ocb(&armored));
        for m in [&ocb, &armored] {
            let e = decrypt(&t, &[], m, 1 << 20, 8).expect_err("not decryptable");
            let e = format!("{e:#}");
            assert!(
                e.contains("GnuPG's OCB packet") && e.contains("triaged doctor"),
                "{e}"
            );
        }
        // The plain message still decrypts; garbage is not called OCB.
        assert!(decrypt(&t, &[], &sealed, 1 << 20, 8).is_ok());
        assert!(!is_gnupg_ocb(b"not OpenPGP"));
        assert!(
            !is_gnupg_ocb(&[0xC0 | 20]),
            "a lone header byte is not a message"
        );
    }

    #[test]
    fn the_session_key_walk_counts_and_says_what_follows() {
        // New-format headers: PKESK (tag 1) with a 2-byte body, a marker (tag 10),
        // SKESK (tag 3); then SEIPD (18) or GnuPG's OCB (20).
        let pkesk = [0xC0 | 1, 2, 0, 0];
        let marker = [0xC0 | 10, 3, b'P', b'G', b'P'];
        let skesk = [0xC0 | 3, 1, 4];
        let mut msg: Vec<u8> = [&pkesk[..], &marker, &skesk].concat();
        assert_eq!(walk_esks(&msg, usize::MAX), (3, EskWalkEnd::Truncated));
        msg.extend_from_slice(&[0xC0 | 18, 1, 1]);
        assert_eq!(walk_esks(&msg, usize::MAX), (3, EskWalkEnd::Packet(18)));
        assert_eq!(walk_esks(&msg, 2), (2, EskWalkEnd::Cap));
        assert_eq!(walk_esks(b"plain", 8), (0, EskWalkEnd::NotPacket));
        // Old-format header for a PKESK: 0x84 = tag 1, one length byte.
        assert_eq!(packet_tag(0x84), Some(1));
        assert_eq!(packet_tag(b'-'), None);
        // few_esks: within the limit only when the walk sees what follows the keys.
        assert!(few_esks(&msg));
        assert!(!few_esks(&msg[..msg.len() - 3]));
        let flood: Vec<u8> = std::iter::repeat_n(pkesk, MAX_ESKS_PARSED + 1)
            .flatten()
            .chain([0xC0 | 18, 1, 1])
            .collect();
        assert!(!few_esks(&flood));
        assert!(few_esks(&flood[pkesk.len()..]));
        // OCB after the keys, armored or not.
        let ocb: Vec<u8> = [&pkesk[..], &[0xC0 | 20, 1, 1]].concat();
        assert!(is_gnupg_ocb(&ocb));
        assert!(!is_gnupg_ocb(&msg));
    }

    #[test]
    fn a_key_advertising_gnupg_aead_is_recognised() {
        use openpgp::types::Features;
        let make = |f: Features| {
            CertBuilder::new()
                .add_userid("Team <security@example.test>")
                .set_features(f)
                .unwrap()
                .add_transport_encryption_subkey()
                .generate()
                .unwrap()
                .0
        };
        // As GnuPG 2.4 makes keys: MDC + AEAD (0x01 | 0x02).
        assert!(advertises_librepgp_aead(&make(
            Features::empty().set_seipdv1().set(1)
        )));
        // RFC 9580 SEIPDv2 (0x08) is not GnuPG's OCB.
        assert!(!advertises_librepgp_aead(&make(
            Features::empty().set_seipdv1().set_seipdv2()
        )));
        assert!(!team().info()[0].librepgp_aead, "the test team key");
    }
}
