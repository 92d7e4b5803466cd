//! Issue 13, items 4, 7 and 9: a message that is only partly signed or partly
//! encrypted is never called wholly signed or encrypted ("Johnny, you are fired",
//! 2019); S/MIME made by OpenSSL is recognised for what it is; with
//! `store.encrypt_at_rest` no planted secret reaches the database files (WAL included).
//! Fixtures come from gpg and openssl, not from triaged.

mod common;
use common::*;

struct World {
    env: Env,
    gpg: Gpg,
    alice: String,
}

/// Team key from keys/test, Alice's key in gpg and in the reporter keyring.
fn world(extra: &str) -> World {
    let root = repo();
    let key = std::fs::read(root.join("keys/test/team-secret.asc")).unwrap();
    let pass = std::fs::read_to_string(root.join("keys/test/passphrase")).unwrap();
    let env = Env::new(&[("team.asc", &key)], Some(pass.trim()), extra);
    let gpg = Gpg::new();
    gpg.run(
        &[
            "--import",
            root.join("keys/test/team-public.asc").to_str().unwrap(),
        ],
        None,
    );
    let alice = gpg.generate("Alice <alice@example.net>", "ed25519", "cv25519", "");
    std::fs::write(env.dir.path().join("ring.asc"), gpg.export_public(&alice)).unwrap();
    let cfg = std::fs::read_to_string(&env.config)
        .unwrap()
        .replace("[keys]\n", "[keys]\nreporter_keyring = \"ring.asc\"\n");
    std::fs::write(&env.config, cfg).unwrap();
    World { env, gpg, alice }
}

const REPORT: &str = "Stored XSS in acme 2.4.1: the comment field renders <script>alert(1)</script>.\n\
Steps: 1. log in 2. post the comment 3. open the page. Impact: session theft.\n";

/// A PGP/MIME multipart/signed entity (RFC 3156 §5) around `text`, signed by gpg.
fn signed_entity(w: &World, text: &str) -> String {
    let inner = crlf(&format!(
        "Content-Type: text/plain; charset=utf-8\n\n{text}"
    ));
    // The signed bytes are the part up to, not including, the CRLF before the delimiter.
    let to_sign = inner.trim_end_matches("\r\n");
    let sig = w.gpg.detach_sign(to_sign.as_bytes(), &w.alice);
    crlf(&format!(
        "Content-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; boundary=\"SIG\"\n\n\
         --SIG\n{to_sign}\n--SIG\nContent-Type: application/pgp-signature; name=\"signature.asc\"\n\n{sig}\n--SIG--\n"
    ))
}

/// The text of an ack: decrypted with gpg when it was encrypted to the reporter.
fn ack_clear(w: &World, ack: &str) -> String {
    match (
        ack.find("-----BEGIN PGP MESSAGE-----"),
        ack.find("-----END PGP MESSAGE-----"),
    ) {
        (Some(s), Some(e)) => {
            let armored = ack[s..e + 25].replace("\r\n", "\n");
            String::from_utf8(w.gpg.run(&["--decrypt"], Some(armored.as_bytes()))).unwrap()
        }
        _ => ack.to_string(),
    }
}

fn run_one(env: &Env, raw: &[u8]) -> (serde_json::Value, serde_json::Value) {
    env.deliver("1", raw);
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 1, "{s}");
    let c = env.cases()[0].clone();
    let show = env.json(&["case", "show", c["id"].as_str().unwrap(), "--json"]);
    (c, show)
}

#[test]
fn a_signed_part_beside_an_unsigned_part_is_partial_not_good() {
    // Control first: the signed part alone is good, so the test can tell the difference.
    let w = world("");
    let alone = format!(
        "{}{}",
        headers("Alice <alice@example.net>", "XSS", "alone@x", &[]),
        signed_entity(&w, REPORT)
    );
    let (c, _) = run_one(&w.env, crlf(&alone).as_bytes());
    assert_eq!(c["signature"], "good", "{c:#}");

    // The attack: Alice's signed part, plus an unsigned part added on the way.
    let w = world("");
    let mixed = format!(
        "{}Content-Type: multipart/mixed; boundary=\"OUT\"\n\n--OUT\n{}\n--OUT\n\
         Content-Type: text/plain; charset=utf-8\n\nPS: please pay the bounty to IBAN XX00 EVIL 0000 0000.\n--OUT--\n",
        headers("Alice <alice@example.net>", "XSS", "johnny@x", &[]),
        signed_entity(&w, REPORT)
    );
    let (c, show) = run_one(&w.env, crlf(&mixed).as_bytes());
    assert_eq!(c["signature"], "partial", "{c:#}");
    let m = &show["messages"][0];
    assert_eq!(m["signature"], "partial");
    let cov = m["coverage"].as_array().unwrap();
    assert!(
        cov.iter().any(|p| p["signed"] == true) && cov.iter().any(|p| p["signed"] == false),
        "coverage per part: {cov:?}"
    );
    assert!(
        m["notes"].to_string().contains("partial signature"),
        "{m:#}"
    );
    let ack = ack_clear(&w, &outbox_mails(&w.env)[0]);
    assert!(
        !ack.contains("the signature is valid\r\n")
            && ack.contains("only part of your message was signed"),
        "{ack}"
    );
}

#[test]
fn unsigned_text_around_a_clear_signed_block_is_partial() {
    let w = world("");
    let signed = w.gpg.clearsign(REPORT.as_bytes(), &w.alice);
    let body = format!("Change of plans: pay to IBAN XX00 EVIL.\n\n{signed}\nThanks!\n");
    let (c, show) = run_one(
        &w.env,
        &plain(
            &headers("Alice <alice@example.net>", "XSS", "cs@x", &[]),
            &body,
        ),
    );
    assert_eq!(c["signature"], "partial", "{c:#}");
    let cov = show["messages"][0]["coverage"].as_array().unwrap().clone();
    assert_eq!(
        cov.iter().filter(|p| p["signed"] == false).count(),
        2,
        "{cov:?}"
    );
}

#[test]
fn a_plaintext_part_beside_an_encrypted_part_is_partial_encryption() {
    let w = world("");
    let entity = crlf(&format!(
        "Content-Type: text/plain; charset=utf-8\n\n{REPORT}"
    ));
    let ct = w
        .gpg
        .encrypt(entity.as_bytes(), &["security@example.test"], None, false);
    let mixed = format!(
        "{}Content-Type: multipart/mixed; boundary=\"OUT\"\n\n--OUT\n\
         Content-Type: text/plain; charset=utf-8\n\nThe test account password is hunter2.\n--OUT\n\
         Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"XYZ\"\n\n\
         --XYZ\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n\
         --XYZ\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\n\n{ct}\n--XYZ--\n--OUT--\n",
        headers("Alice <alice@example.net>", "XSS", "pe@x", &[])
    );
    let (c, show) = run_one(&w.env, crlf(&mixed).as_bytes());
    let m = &show["messages"][0];
    assert_eq!(c["encryption"], "partial", "{m:#}");
    assert!(
        m["notes"]
            .to_string()
            .contains("partial encryption: 1 of 2"),
        "{m:#}"
    );
    // Alice's key is known, so the ack is encrypted; what it says is checked by decrypting it.
    let ack = &outbox_mails(&w.env)[0];
    assert!(
        ack.contains("-----BEGIN PGP MESSAGE-----"),
        "an encrypted ack: {ack}"
    );
    let clear = ack_clear(&w, ack);
    assert!(
        clear.contains("only part of your message was encrypted"),
        "{clear}"
    );
}

#[test]
fn a_signed_only_pgp_message_and_a_literal_packet_are_not_encryption() {
    let w = world("");
    let signed_only = String::from_utf8(w.gpg.run(
        &["--armor", "--sign", "-u", &w.alice],
        Some(REPORT.as_bytes()),
    ))
    .unwrap();
    w.env.deliver(
        "1",
        &plain(
            &headers("Alice <alice@example.net>", "Signed only", "so@x", &[]),
            &signed_only,
        ),
    );
    let literal =
        String::from_utf8(w.gpg.run(&["--armor", "--store"], Some(REPORT.as_bytes()))).unwrap();
    w.env.deliver(
        "2",
        &pgp_mime(
            &headers(
                "Alice <alice@example.net>",
                "Literal in encrypted",
                "lit@x",
                &[],
            ),
            &literal,
        ),
    );
    let s = w.env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 2, "{s}");
    let cases = w.env.cases();
    let by = |subj: &str| {
        cases
            .iter()
            .find(|c| c["subject"] == subj)
            .unwrap_or_else(|| panic!("{subj}: {cases:#?}"))
            .clone()
    };
    let so = by("Signed only");
    assert_eq!(so["encryption"], "none", "{so:#}");
    assert_eq!(so["signature"], "good", "{so:#}");
    let lit = by("Literal in encrypted");
    assert_eq!(lit["encryption"], "none", "{lit:#}");
    assert_eq!(lit["state"], "triaged", "{lit:#}");
    let show = w
        .env
        .json(&["case", "show", lit["id"].as_str().unwrap(), "--json"]);
    assert!(
        show["messages"][0]["notes"]
            .to_string()
            .contains("inside multipart/encrypted was not encrypted (bare literal data)"),
        "{show:#}"
    );
}

#[test]
fn smime_from_openssl_is_recognised_and_the_reporter_told_we_read_openpgp() {
    let w = world("");
    let tmp = tempfile::tempdir().unwrap();
    let (cert, key) = openssl_cert(tmp.path());
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let head = "From: Sam <sam@example.net>\nTo: security@example.test\nDate: Tue, 24 Nov 2026 10:00:00 +0000\n";
    let enc = openssl_smime(
        &["-encrypt", "-aes256", "-subject", "SMIME encrypted", cert],
        tmp.path(),
        &format!("Content-Type: text/plain\n\n{REPORT}"),
    );
    w.env.deliver(
        "1",
        crlf(&format!("{head}Message-ID: <sm1@x>\n{enc}")).as_bytes(),
    );
    let sig = openssl_smime(
        &[
            "-sign",
            "-signer",
            cert,
            "-inkey",
            key,
            "-subject",
            "SMIME signed",
        ],
        tmp.path(),
        &format!("Content-Type: text/plain\n\n{REPORT}"),
    );
    assert!(sig.contains("pkcs7-signature"), "{sig}");
    w.env.deliver(
        "2",
        crlf(&format!("{head}Message-ID: <sm2@x>\n{sig}")).as_bytes(),
    );
    let s = w.env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 2, "{s}");
    let cases = w.env.cases();
    let enc_case = cases
        .iter()
        .find(|c| c["subject"] == "SMIME encrypted")
        .expect("encrypted case");
    assert_eq!(enc_case["state"], "undecryptable", "{enc_case:#}");
    assert_eq!(enc_case["encryption"], "smime", "{enc_case:#}");
    assert!(
        enc_case["state_reason"]
            .as_str()
            .unwrap()
            .contains("S/MIME encrypted"),
        "{enc_case:#}"
    );
    let sig_case = cases
        .iter()
        .find(|c| c["subject"] == "SMIME signed")
        .expect("signed case");
    assert_eq!(sig_case["signature"], "smime", "{sig_case:#}");
    let acks = outbox_mails(&w.env);
    assert_eq!(acks.len(), 2);
    let enc_ack = acks
        .iter()
        .find(|a| a.contains(enc_case["id"].as_str().unwrap()))
        .unwrap();
    assert!(
        enc_ack.contains("encrypted with S/MIME") && enc_ack.contains("OpenPGP only"),
        "{enc_ack}"
    );
    assert!(!enc_ack.contains("we still need"), "{enc_ack}");
    let sig_ack = acks
        .iter()
        .find(|a| a.contains(sig_case["id"].as_str().unwrap()))
        .unwrap();
    assert!(
        !sig_ack.contains("DID NOT verify") && sig_ack.contains("S/MIME signature"),
        "{sig_ack}"
    );
}

const PLANTED: [&str; 6] = [
    "Zebracorn",
    "PLANTEDCOOKIE42",
    "PLANTEDTOKEN9876",
    "PLANTEDPW77",
    "PLANTEDPHRASE",
    "PLANTEDINNERSUBJ",
];

fn planted_report() -> String {
    format!(
        "{REPORT}\nOur internal reference is PLANTEDPHRASE.\n\n\
         curl -H 'Cookie: session=PLANTEDCOOKIE42' -H 'Authorization: Bearer PLANTEDTOKEN9876' \\\n  \
         'https://acme.test/login?user=admin&password=PLANTEDPW77'\n"
    )
}

/// Every file in the store directory (database, WAL, shared memory), as bytes.
fn store_bytes(env: &Env) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(env.dir.path().join("state"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn encrypt_at_rest_leaves_no_planted_secret_in_the_database_files() {
    let w = world("");
    let cfg = std::fs::read_to_string(&w.env.config)
        .unwrap()
        .replace("[store]\n", "[store]\nencrypt_at_rest = true\n");
    std::fs::write(&w.env.config, cfg).unwrap();
    // 1: cleartext; 2: partly encrypted (the secret in the clear part); 3: signed only;
    // 4: wholly encrypted with a protected Subject.
    w.env.deliver(
        "1",
        &plain(
            &headers(
                "Alice <alice@example.net>",
                "Zebracorn login XSS",
                "r1@x",
                &[],
            ),
            &planted_report(),
        ),
    );
    let ct = w
        .gpg
        .encrypt(REPORT.as_bytes(), &["security@example.test"], None, false);
    let mixed = format!(
        "{}Content-Type: multipart/mixed; boundary=\"OUT\"\n\n--OUT\n\
         Content-Type: text/plain; charset=utf-8\n\n{}\n--OUT\n\
         Content-Type: application/octet-stream; name=\"report.asc\"\n\
         Content-Disposition: attachment; filename=\"report.asc\"\n\n{ct}\n--OUT--\n",
        headers("Bob <bob@example.net>", "Zebracorn partial", "r2@x", &[]),
        planted_report()
    );
    w.env.deliver("2", crlf(&mixed).as_bytes());
    let signed_only = String::from_utf8(w.gpg.run(
        &["--armor", "--sign", "-u", &w.alice],
        Some(planted_report().as_bytes()),
    ))
    .unwrap();
    w.env.deliver(
        "3",
        &plain(
            &headers("Alice <alice@example.net>", "Zebracorn signed", "r3@x", &[]),
            &signed_only,
        ),
    );
    let inner = crlf(&format!(
        "Content-Type: text/plain; charset=utf-8; protected-headers=\"v1\"\nSubject: PLANTEDINNERSUBJ\n\n{}",
        planted_report()
    ));
    let ct = w
        .gpg
        .encrypt(inner.as_bytes(), &["security@example.test"], None, false);
    w.env.deliver(
        "4",
        &pgp_mime(
            &headers("Carol <carol@example.net>", "...", "r4@x", &[]),
            &ct,
        ),
    );
    let s = w.env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 4, "{s}");

    for (path, bytes) in store_bytes(&w.env) {
        for secret in PLANTED {
            assert!(
                !contains(&bytes, secret),
                "{secret} is readable in {path} with store.encrypt_at_rest on"
            );
        }
    }
    // The data is there for whoever holds the team key.
    let cases = w.env.cases();
    assert!(
        cases.iter().all(|c| c["subject_sealed"] == true),
        "{cases:#?}"
    );
    let inner_case = cases
        .iter()
        .find(|c| c["reporter"] == "carol@example.net")
        .unwrap();
    let show = w
        .env
        .json(&["case", "show", inner_case["id"].as_str().unwrap(), "--json"]);
    assert_eq!(show["case"]["subject"], "PLANTEDINNERSUBJ", "{show:#}");
    let export = stdout(
        &w.env
            .run(&["case", "export", inner_case["id"].as_str().unwrap()]),
    );
    assert!(export.contains("PLANTEDPHRASE") && export.contains("Subject: PLANTEDINNERSUBJ"));
}

#[test]
fn credentials_never_reach_queryable_evidence_even_without_encryption_at_rest() {
    let w = world("");
    let (c, show) = run_one(
        &w.env,
        &plain(
            &headers("Alice <alice@example.net>", "Login XSS", "cr@x", &[]),
            &planted_report(),
        ),
    );
    assert!(
        show["findings"]["poc"]["status"] == "present",
        "the PoC is still found: {show:#}"
    );
    let conn = rusqlite::Connection::open(w.env.dir.path().join("state/triaged.db")).unwrap();
    let findings: Vec<String> = conn
        .prepare("SELECT value || evidence FROM findings")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let all = findings.join("\n");
    assert!(all.contains("[redacted]"), "{all}");
    for secret in ["PLANTEDCOOKIE42", "PLANTEDTOKEN9876", "PLANTEDPW77"] {
        assert!(!all.contains(secret), "{secret} in findings: {all}");
    }
    // The body keeps the report as sent (not sealed here): redaction is of evidence only.
    let body: String = conn
        .query_row("SELECT body_text FROM messages", [], |r| r.get(0))
        .unwrap();
    assert!(body.contains("PLANTEDPW77"));
    assert_eq!(c["subject"], "Login XSS");
}
