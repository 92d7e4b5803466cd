//! sequoia's verification and decryption helpers: which team key opens which session
//! key (wildcard recipients tried against every key, at most `max_pkesks` tries), and
//! what each signature's status is (good, bad, unknown key, expired, refused by policy).

use anyhow::{Result, anyhow};
use sequoia_openpgp as openpgp;

use openpgp::crypto::SessionKey;
use openpgp::packet::{PKESK, SKESK};
use openpgp::parse::stream::{
    DecryptionHelper, MessageLayer, MessageStructure, VerificationError, VerificationHelper,
};
use openpgp::types::SymmetricAlgorithm;
use openpgp::{Cert, KeyHandle};

use super::*;

pub(super) struct Helper<'a> {
    pub(super) team: &'a TeamKeys,
    pub(super) extra: &'a [Cert],
    /// Most PKESKs tried (each try is a public-key operation).
    pub(super) max_pkesks: usize,
    pub(super) sigs: Vec<SigResult>,
    /// Indexes into `sigs` of the signatures sequoia never checked because the policy
    /// refused the signer's key binding (SHA-1 self-signatures: a key made around
    /// 2009). Their `weak-algorithm` result claims more than was checked until
    /// `open::recheck` has looked at them under the old-mail policy.
    pub(super) unchecked: Vec<usize>,
    pub(super) used: Option<String>,
    pub(super) recipients: Vec<String>,
    /// SHA-256 of the session key that opened the message (see [`Decrypted`]).
    pub(super) session_key_hash: Option<String>,
}

impl Helper<'_> {
    pub(super) fn new<'a>(team: &'a TeamKeys, extra: &'a [Cert], max_pkesks: usize) -> Helper<'a> {
        Helper {
            team,
            extra,
            max_pkesks,
            sigs: Vec::new(),
            unchecked: Vec::new(),
            used: None,
            recipients: Vec::new(),
            session_key_hash: None,
        }
    }
}

/// The policy's words when `error` is a policy rejection (an algorithm judged too weak,
/// e.g. SHA-1 in a data signature). Sequoia checks the mathematics first and the policy
/// after (`parse::stream`): such a signature is valid but not acceptable, never `bad`.
pub(super) fn policy_rejection(error: &anyhow::Error) -> Option<String> {
    match error.downcast_ref::<openpgp::Error>() {
        Some(openpgp::Error::PolicyViolation(what, _)) => Some(what.clone()),
        _ => None,
    }
}

/// For a good signature: whether the signer's key has expired since the signature was
/// made (gpg's EXPKEYSIG). Sequoia judges the key at the signature's time, so such a
/// signature stays `good`; the detail says the key is no longer valid today.
pub(super) fn expired_since(cert: &Cert, sig: &openpgp::packet::Signature) -> Option<String> {
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

pub(super) fn first_uid(cert: &Cert) -> Option<String> {
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
                                    self.unchecked.push(self.sigs.len());
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

pub(super) fn is_anonymous(pkesk: &PKESK) -> bool {
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
