//! Mail made by other clients, end to end (Maildir intake, file outbox, the real binary):
//! the case a team sees and the ack a reporter gets for messages from neomutt, rnp in
//! Thunderbird's layout, Exchange's mixed-up rewrite and old SHA-1 clients
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
