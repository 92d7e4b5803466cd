//! Unit tests of the OpenPGP layer (the test keys under keys/test/).

use std::path::PathBuf;

use openpgp::cert::prelude::*;
use openpgp::parse::Parse;

use super::packets::{EskWalkEnd, packet_at, walk_esks};
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

/// A team key whose encryption subkey uses an algorithm this build cannot compute (as
/// chatmail's post-quantum ML-KEM-768+X25519 test key does, algorithm 35): the error
/// names the algorithm, not "export the subkey again", which cannot help.
#[test]
fn a_team_key_in_an_algorithm_this_build_cannot_use_is_named_as_such() {
    use openpgp::crypto::mpi;
    use openpgp::packet::key::{Key4, SecretParts, SubordinateRole};
    use openpgp::packet::signature::SignatureBuilder;
    use openpgp::serialize::SerializeInto;
    use openpgp::types::{KeyFlags, PublicKeyAlgorithm, SignatureType};
    let (cert, _) = CertBuilder::new()
        .add_userid("PQ <pq@example.test>")
        .generate()
        .unwrap();
    let algo = PublicKeyAlgorithm::MLKEM768_X25519;
    assert!(!algo.is_supported());
    let public = mpi::PublicKey::MLKEM768_X25519 {
        ecdh: Box::new([7; 32]),
        mlkem: Box::new([1; 1184]),
    };
    let secret = mpi::SecretKeyMaterial::MLKEM768_X25519 {
        ecdh: vec![9u8; 32].into(),
        mlkem: vec![3u8; 64].into(),
    };
    let sub: Key4<SecretParts, SubordinateRole> =
        Key4::with_secret(std::time::SystemTime::now(), algo, public, secret.into()).unwrap();
    let mut signer = cert
        .primary_key()
        .key()
        .clone()
        .parts_into_secret()
        .unwrap()
        .into_keypair()
        .unwrap();
    let sub: openpgp::packet::Key<SecretParts, SubordinateRole> = sub.into();
    let binding = sub
        .bind(
            &mut signer,
            &cert,
            SignatureBuilder::new(SignatureType::SubkeyBinding)
                .set_key_flags(
                    KeyFlags::empty()
                        .set_transport_encryption()
                        .set_storage_encryption(),
                )
                .unwrap(),
        )
        .unwrap();
    let cert = cert
        .insert_packets(vec![
            openpgp::Packet::from(sub),
            openpgp::Packet::from(binding),
        ])
        .unwrap()
        .0;
    let bytes = cert.as_tsk().armored().to_vec().unwrap();
    let e = TeamKeys::load(&[(PathBuf::from("pq.asc"), bytes)], None, None)
        .expect_err("no usable decryption key");
    assert!(
        e.what.contains("cannot compute") && e.what.contains("ML-KEM-768+X25519"),
        "{}",
        e.what
    );
    assert!(e.fix.contains("X25519"), "{}", e.fix);
}
