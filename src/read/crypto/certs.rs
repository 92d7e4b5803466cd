//! Reporters' certificates: read from attachments, `Autocrypt:` headers and the
//! configured keyring (block by block, so one bad block hides nothing after it), whether
//! one can be encrypted to, and GnuPG's LibrePGP "AEAD" feature on a team key.

use sequoia_openpgp as openpgp;

use openpgp::Cert;
use openpgp::parse::Parse;
use openpgp::serialize::SerializeInto;
use serde::Serialize;

use super::*;

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
pub(super) fn armored_blocks(bytes: &[u8]) -> Vec<(&[u8], usize)> {
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

pub(super) fn read_certs_inner(
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
