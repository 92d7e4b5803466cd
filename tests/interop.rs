//! Mail made by other clients, end to end (Maildir intake, file outbox, the real binary):
//! the case a team sees and the ack a reporter gets for messages from neomutt, rnp in
//! Thunderbird's layout, Exchange's mixed-up rewrite, old SHA-1 clients, OpenPGP.js
//! clients (Proton Mail's and FlowCrypt's layouts)
//! (`tests/fixtures/interop/`, see SOURCES.md there), and keys that belong to an address.

mod common;
use common::*;

/// A Maildir + file-outbox environment with the test team key and, as the configured
/// reporter keyring, the public keys of the interop corpus's reporters.
fn interop_env() -> Env {
    let root = repo();
    let key = std::fs::read(root.join("keys/test/team-secret.asc")).unwrap();
    let pass = std::fs::read_to_string(root.join("keys/test/passphrase")).unwrap();
    let env = Env::new(&[("team.asc", &key)], Some(pass.trim()), "");
    let mut ring = Vec::new();
    let dir = root.join("tests/fixtures/interop/keyring");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        ring.extend(std::fs::read(f).unwrap());
        ring.push(b'\n');
    }
    std::fs::write(env.dir.path().join("reporters.asc"), ring).unwrap();
    let cfg = std::fs::read_to_string(&env.config).unwrap().replacen(
        "[keys]\n",
        "[keys]\nreporter_keyring = \"reporters.asc\"\n",
        1,
    );
    std::fs::write(&env.config, cfg).unwrap();
    env
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("tests/fixtures/interop").join(name)).unwrap()
}

#[test]
fn a_thunderbird_style_signed_and_encrypted_report_shows_its_real_subject_and_a_good_signature() {
    let env = interop_env();
    env.deliver("1", &fixture("08-rnp-thunderbird-signed-encrypted.eml"));
    env.deliver("2", &fixture("10-exchange-mixed-up-neomutt.eml"));
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 2, "{s}");
    let cases = env.cases();
    let by = |who: &str| {
        cases
            .iter()
            .find(|c| c["reporter"] == who)
            .unwrap_or_else(|| panic!("no case from {who}: {cases:#?}"))
            .clone()
    };
    let tb = by("tom@example.com");
    assert_eq!(
        tb["subject"], "Private pages readable through the export endpoint",
        "{tb:#}"
    );
    assert_eq!(tb["signature"], "good", "{tb:#}");
    assert_eq!(tb["encryption"], "pgp-mime", "{tb:#}");
    let mixed = by("rita@example.net");
    assert_eq!(
        mixed["subject"], "Stored XSS in acme-wiki page titles",
        "{mixed:#}"
    );
    assert_eq!(mixed["signature"], "good", "{mixed:#}");
    assert_eq!(mixed["encryption"], "pgp-mime", "{mixed:#}");
    // Both reporters' keys are in the keyring: both acks are encrypted, and no ack
    // carries the placeholder subject "...".
    for ack in outbox_mails(&env) {
        assert!(ack.contains("multipart/encrypted"), "{ack}");
        assert!(!ack.contains("Subject: Re: ...\r"), "{ack}");
    }
}

#[test]
fn a_valid_sha1_signature_is_weak_algorithm_not_bad_and_the_ack_says_so() {
    let env = interop_env();
    env.deliver("1", &fixture("05-neomutt-sha1-signed.eml"));
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 1, "{s}");
    let c = &env.cases()[0];
    assert_eq!(c["signature"], "weak-algorithm", "{c:#}");
    let shown = env.json(&["case", "show", c["id"].as_str().unwrap(), "--json"]);
    let sigs = shown["messages"][0]["signatures"].to_string();
    assert!(
        sigs.contains("SHA1"),
        "the detail names the algorithm: {sigs}"
    );
    // The ack is encrypted to rita's key (keyring), so its words are checked in
    // reply::outbox's unit tests; here: it went out, encrypted.
    let ack = &outbox_mails(&env)[0];
    assert!(ack.contains("multipart/encrypted"), "{ack}");
}

#[test]
fn the_teams_own_key_pasted_into_a_report_is_not_taken_as_the_reporters_key() {
    let env = interop_env();
    env.deliver(
        "1",
        &fixture("13-rnp-inline-signed-encrypted-pasting-team-key.eml"),
    );
    env.json(&["run", "--once", "--json"]);
    let c = &env.cases()[0];
    let shown = env.json(&["case", "show", c["id"].as_str().unwrap(), "--json"]);
    let keys = shown["reporter_keys"].to_string();
    assert!(
        !keys.contains("A2C3BC3FD507C7230A253F0DFA045DF9247F8F27"),
        "{keys}"
    );
    // The ack is encrypted to the reporter (keyring), never to the team key alone.
    let ack = &outbox_mails(&env)[0];
    assert!(ack.contains("multipart/encrypted"), "{ack}");
}

#[test]
fn openpgpjs_clients_proton_with_its_attached_key_and_flowcrypt_with_an_encrypted_attachment() {
    let env = interop_env();
    env.deliver("1", &fixture("16-openpgpjs-proton-html-attached-key.eml"));
    env.deliver(
        "2",
        &fixture("18-openpgpjs-flowcrypt-encrypted-attachment.eml"),
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 2, "{s}");
    let cases = env.cases();
    for (who, encryption) in [
        ("pat@example.net", "pgp-mime"),
        ("flo@example.com", "inline"),
    ] {
        let c = cases
            .iter()
            .find(|c| c["reporter"] == who)
            .unwrap_or_else(|| panic!("no case from {who}: {cases:#?}"));
        assert_eq!(c["signature"], "good", "{c:#}");
        assert_eq!(c["encryption"], encryption, "{c:#}");
    }
    // Pat's key is in no keyring, only attached to the report: the ack is encrypted to
    // it all the same; Flo's comes from the configured keyring.
    let acks = outbox_mails(&env);
    assert_eq!(acks.len(), 2);
    for ack in &acks {
        assert!(ack.contains("multipart/encrypted"), "{ack}");
    }
}

/// OpenPGP.js as `scripts/openpgpjs.sh` put it (`scripts/prereqs.sh test` runs it).
fn openpgpjs() -> std::path::PathBuf {
    let out = std::process::Command::new(repo().join("scripts/openpgpjs.sh"))
        .output()
        .expect("scripts/openpgpjs.sh runs");
    assert!(
        out.status.success(),
        "OpenPGP.js is needed to read acks as Proton Mail and Mailvelope do: run scripts/prereqs.sh test ({})",
        String::from_utf8_lossy(&out.stderr)
    );
    std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

#[test]
fn a_reporter_with_an_rfc9580_v6_key_gets_an_ack_openpgpjs_decrypts_and_verifies() {
    let env = interop_env();
    env.deliver("1", &fixture("19-openpgpjs-v6-key-attached.eml"));
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 1, "{s}");
    let case = &env.cases()[0];
    assert_eq!(case["signature"], "good", "{case:#}");
    let acks = outbox_mails(&env);
    assert_eq!(acks.len(), 1);
    assert!(acks[0].contains("multipart/encrypted"), "{}", acks[0]);
    let ack = env.dir.path().join("ack.eml");
    std::fs::write(&ack, &acks[0]).unwrap();
    // Vera's key is in no keyring, only attached to her report; her client opens the ack.
    let out = std::process::Command::new("node")
        .arg(repo().join("tests/js/open-ack.mjs"))
        .arg(openpgpjs())
        .arg(&ack)
        .arg(repo().join("tests/fixtures/interop/test-only-secret/vera-v6.TEST-ONLY.asc"))
        .arg(repo().join("keys/test/team-public.asc"))
        .output()
        .expect("node runs (scripts/prereqs.sh test installs nodejs)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let opened: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(opened["errors"], serde_json::json!([]), "{opened:#}");
    assert_eq!(
        opened["verified"].as_array().unwrap().len(),
        1,
        "{opened:#}"
    );
    let text = opened["text"].as_str().unwrap();
    assert!(
        text.contains("SEC-2026-0001") && text.contains("the signature is valid"),
        "{text}"
    );
}

#[test]
fn a_key_learned_from_one_report_encrypts_the_ack_of_the_next_report_from_that_address() {
    let env = interop_env();
    let gpg = Gpg::new();
    let fpr = gpg.generate("Ada Reporter <ada@example.net>", "ed25519", "cv25519", "");
    let public = String::from_utf8(gpg.export_public(&fpr)).unwrap();
    // 1: a report with the reporter's key attached.
    let first = crlf(&format!(
        "{}Content-Type: multipart/mixed; boundary=\"=_k\"\n\n--=_k\nContent-Type: text/plain\n\n\
         SQL injection in acme 2.4.1: curl 'http://h/search?q=1%27%20OR%201=1--' dumps every row.\n\
         --=_k\nContent-Type: application/pgp-keys\nContent-Disposition: attachment; filename=\"key.asc\"\n\n{public}\n--=_k--\n",
        headers(
            "Ada Reporter <ada@example.net>",
            "SQLi in search",
            "ada-1@x",
            &[]
        )
    ));
    env.deliver("1", first.as_bytes());
    env.json(&["run", "--once", "--json"]);
    // 2: weeks later, a new report (a new thread) from the same address, no key in it.
    let second = plain(
        &headers(
            "Ada Reporter <ada@example.net>",
            "Another bug: XSS in the profile page",
            "ada-2@x",
            &[],
        ),
        "XSS in acme 2.4.1 profile page: <script>alert(1)</script> in the display name.\n",
    );
    env.deliver("2", &second);
    // 3: someone else, no key anywhere: a cleartext (signed) ack.
    let third = plain(
        &headers(
            "Bo Other <bo@example.net>",
            "CSRF in settings",
            "bo-1@x",
            &[],
        ),
        "CSRF in acme 2.4.1 settings form: no token; <form action=/settings method=post>.\n",
    );
    env.deliver("3", &third);
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 2, "{s}");
    assert_eq!(env.cases().len(), 3, "two reports from ada are two cases");
    let acks = outbox_mails(&env);
    let to = |who: &str| {
        acks.iter()
            .filter(|a| a.contains(&format!("To: {who}")) || a.contains(&format!("<{who}>")))
            .cloned()
            .collect::<Vec<_>>()
    };
    let ada = to("ada@example.net");
    assert_eq!(ada.len(), 2, "{acks:#?}");
    for a in &ada {
        assert!(a.contains("multipart/encrypted"), "{a}");
        assert!(!a.contains("no valid key of yours"), "{a}");
    }
    let bo = to("bo@example.net");
    assert_eq!(bo.len(), 1, "{acks:#?}");
    assert!(!bo[0].contains("multipart/encrypted"), "{}", bo[0]);
    // The second ack opens with ada's secret key: it was encrypted to her.
    let newest = ada
        .iter()
        .max_by_key(|a| a.contains("profile page"))
        .unwrap();
    let armored = &newest[newest.find("-----BEGIN PGP MESSAGE-----").unwrap()
        ..newest.find("-----END PGP MESSAGE-----").unwrap() + 25];
    gpg.run(
        &["--import"],
        Some(&std::fs::read(repo().join("keys/test/team-public.asc")).unwrap()),
    );
    let clear = gpg.run(
        &["--decrypt"],
        Some(armored.replace("\r\n", "\n").as_bytes()),
    );
    let clear = String::from_utf8_lossy(&clear);
    assert!(clear.contains("SEC-2026-0002"), "{clear}");
}

/// The reporter's side of an ack: decrypted and signature-checked by gpg, which must
/// have the team's public key. Returns the plaintext.
fn open_ack(gpg: &Gpg, ack: &str) -> String {
    let (status, plain) = gpg.decrypt_mail(ack.as_bytes());
    assert!(
        status.contains("[GNUPG:] GOODSIG FA045DF9247F8F27"),
        "gpg did not verify the team's signature: {status}"
    );
    plain
}

#[test]
fn the_ack_tells_an_unsupported_version_confirms_credit_and_never_asks_again_for_what_was_given() {
    let env = interop_env();
    let cfg = std::fs::read_to_string(&env.config).unwrap()
        + "\n[policy.default]\nack_within = \"48h\"\nfollowup_within = \"7d\"\n\
           require = [\"poc\", \"versions\", \"impact\"]\ncredit = true\n\
           supported_versions = [{ range = \">= 2.0\", supported = true }, { range = \"< 2.0\", supported = false }]\n";
    std::fs::write(&env.config, cfg).unwrap();
    let gpg = Gpg::new();
    let fpr = gpg.generate("Rita Reporter <rita@example.org>", "ed25519", "cv25519", "");
    gpg.run(
        &["--import"],
        Some(&std::fs::read(repo().join("keys/test/team-public.asc")).unwrap()),
    );
    let public = String::from_utf8(gpg.export_public(&fpr)).unwrap();
    let report = |body: &str, subject: &str, id: &str, extra: &[&str]| {
        let inner = crlf(&format!(
            "Content-Type: multipart/mixed; boundary=\"=_i\"\n\n--=_i\nContent-Type: text/plain\n\n{body}\n\
             --=_i\nContent-Type: application/pgp-keys\nContent-Disposition: attachment; filename=\"key.asc\"\n\n{public}\n--=_i--\n"
        ));
        let ct = gpg.encrypt(
            inner.as_bytes(),
            &["security@example.test"],
            Some(&fpr),
            false,
        );
        pgp_mime(
            &headers("Rita Reporter <rita@example.org>", subject, id, extra),
            &ct,
        )
    };
    // 1: an old version, a PoC, an impact, and how to be credited.
    env.deliver(
        "1",
        &report(
            "Path traversal in acme: GET /download?file=../../../../etc/passwd HTTP/1.1 reads any file.\n\
             Affected versions: acme 1.9.3\nImpact: an unauthenticated attacker reads any file on the server.\n\
             Please credit me as \"Rita Reporter (Example Labs)\".\n",
            "Path traversal in acme",
            "rita-1@example.org",
            &[],
        ),
    );
    // 2: a report without versions, then the answer in the thread.
    env.deliver(
        "2",
        &report(
            "SQL injection: curl 'http://h/search?q=1%27%20OR%201=1--' dumps the users table.\n\
             Impact: an attacker reads every user's password hash.\n",
            "SQLi in search",
            "rita-2@example.org",
            &[],
        ),
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 2, "{s}");
    let acks = outbox_mails(&env);
    let first = acks
        .iter()
        .find(|a| a.contains("rita-1@example.org"))
        .unwrap();
    let text = open_ack(&gpg, first);
    assert!(
        text.contains("The version you reported (1.9.3) is not supported"),
        "{text}"
    );
    assert!(text.contains("Supported: >= 2.0."), "{text}");
    assert!(
        text.contains("credit you as \"Rita Reporter (Example Labs)\""),
        "{text}"
    );
    let second = acks
        .iter()
        .find(|a| a.contains("rita-2@example.org"))
        .unwrap();
    let text = open_ack(&gpg, second);
    assert!(
        text.contains("the affected versions"),
        "asked for versions: {text}"
    );
    let case = env
        .cases()
        .into_iter()
        .find(|c| c["subject"] == "SQLi in search")
        .unwrap();
    let id = case["id"].as_str().unwrap().to_string();
    // The answer, in the thread: the versions, with the product named first.
    env.deliver(
        "3",
        &report(
            "Affected Versions: acme 2.1.0 and 2.2.0\n",
            &format!("Re: [{id}] SQLi in search"),
            "rita-3@example.org",
            &["In-Reply-To: <rita-2@example.org>"],
        ),
    );
    env.json(&["run", "--once", "--json"]);
    let case = env.cases().into_iter().find(|c| c["id"] == id).unwrap();
    assert_eq!(
        case["state"], "triaged",
        "nothing is missing any more: {case:#}"
    );
    for a in outbox_mails(&env)
        .iter()
        .filter(|a| a.contains("rita-3@example.org"))
    {
        let text = open_ack(&gpg, a);
        assert!(
            !text.contains("the affected versions"),
            "asked again: {text}"
        );
    }
}

/// A team key made by Sequoia 2 (or `sq` 1.x, or rPGP) advertises RFC 9580's SEIPDv2, so
/// a reporter's client encrypts to it with AEAD, and OCB is the mode every RFC 9580
/// implementation must have. Debian 12's nettle (3.8) has no OCB; such a report was an
/// `undecryptable` case. OpenPGP.js (default configuration) encrypts and signs the
/// report here; triaged must read it, check the signature and answer.
#[test]
fn a_report_openpgpjs_encrypts_with_rfc9580_ocb_to_a_sequoia_made_team_key_is_read_and_signed_off()
{
    rfc9580_ocb_report(None, "");
}

/// The same with 64-octet chunks (so a dozen chunks, each with its own nonce, and the
/// final tag after them), read as a stream from the spool file (`limits.stream_above`).
#[test]
fn an_ocb_report_in_many_chunks_read_as_a_stream_is_read_the_same() {
    rfc9580_ocb_report(Some(0), "[limits]\nstream_above = \"1KiB\"\n");
}

fn rfc9580_ocb_report(chunk_size_byte: Option<u8>, extra: &str) {
    use openpgp::cert::prelude::*;
    use openpgp::serialize::SerializeInto;
    use sequoia_openpgp as openpgp;
    let (team, _) = CertBuilder::new()
        .add_userid("Security <security@example.test>")
        .add_signing_subkey()
        .add_transport_encryption_subkey()
        .generate()
        .unwrap();
    let env = Env::new(
        &[("team.asc", &team.as_tsk().armored().to_vec().unwrap())],
        None,
        extra,
    );
    let dir = env.dir.path();
    std::fs::write(
        dir.join("team-public.asc"),
        team.armored().to_vec().unwrap(),
    )
    .unwrap();
    std::fs::write(
        dir.join("report.txt"),
        "Stored XSS in the comment form of acme-wiki 3.2.0 and earlier.\n\n\
         Steps:\n1. Log in.\n2. curl -X POST https://wiki.example/comment -d 'body=<script>alert(1)</script>'\n\
         3. Open the page: the script runs in every visitor's session.\n",
    )
    .unwrap();
    let out = std::process::Command::new("node")
        .arg(repo().join("tests/js/encrypt-report.mjs"))
        .arg(openpgpjs())
        .arg(dir.join("team-public.asc"))
        .arg(repo().join("tests/fixtures/interop/test-only-secret/vera-v6.TEST-ONLY.asc"))
        .arg(dir.join("report.txt"))
        .args(chunk_size_byte.map(|b| b.to_string()))
        .output()
        .expect("node runs (scripts/prereqs.sh test installs nodejs)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // What OpenPGP.js chose for this key: a v6 PKESK and SEIPDv2 with OCB.
    assert_eq!(made["aead"], "ocb", "{made:#}");
    assert!(
        made["packets"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("18v2")),
        "{made:#}"
    );
    std::fs::write(
        dir.join("reporters.asc"),
        made["reporter_public"].as_str().unwrap(),
    )
    .unwrap();
    let cfg = std::fs::read_to_string(&env.config).unwrap().replacen(
        "[keys]\n",
        "[keys]\nreporter_keyring = \"reporters.asc\"\n",
        1,
    );
    std::fs::write(&env.config, cfg).unwrap();
    env.deliver(
        "1",
        &pgp_mime(
            &headers(
                "Vera Six <vera@example.net>",
                "...",
                "ocb-1@example.net",
                &[],
            ),
            made["armored"].as_str().unwrap(),
        ),
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 1, "{s}");
    let c = &env.cases()[0];
    assert_eq!(c["state"], "triaged", "{c:#}");
    assert_eq!(c["encryption"], "pgp-mime", "{c:#}");
    assert_eq!(c["signature"], "good", "{c:#}");
    let shown = env.json(&["case", "show", c["id"].as_str().unwrap(), "--json"]);
    // The plaintext was read: the classifier found the proof of concept and the version.
    let f = &shown["findings"];
    assert_eq!(f["poc"]["status"], "present", "{f:#}");
    assert!(f["versions"].to_string().contains("3.2.0"), "{f:#}");
    let notes = shown["messages"][0]["notes"].to_string();
    assert_eq!(
        notes.contains("read as a stream"),
        !extra.is_empty(),
        "{notes}"
    );
    // The team key's fingerprint is the one recorded as having decrypted it.
    assert_eq!(
        shown["messages"][0]["team_key"],
        team.fingerprint().to_hex(),
        "{shown:#}"
    );
}
