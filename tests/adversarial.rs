//! Hostile input: every message still becomes a case, nothing crashes, nothing leaks
//! into outgoing headers, and the ack goes to From, never to a forged Reply-To.

mod common;
use common::*;

fn team_env(extra: &str) -> Env {
    let root = repo();
    let key = std::fs::read(root.join("keys/test/team-secret.asc")).unwrap();
    let pass = std::fs::read_to_string(root.join("keys/test/passphrase")).unwrap();
    Env::new(&[("team.asc", &key)], Some(pass.trim()), extra)
}

#[test]
fn compression_bomb_becomes_a_case_with_its_raw_bytes_not_an_out_of_memory() {
    let env = team_env("[limits]\nmax_decrypted_size = \"1MiB\"\n");
    let gpg = Gpg::new();
    gpg.run(
        &[
            "--import",
            repo().join("keys/test/team-public.asc").to_str().unwrap(),
        ],
        None,
    );
    let zeros = vec![0u8; 20 * 1024 * 1024];
    let ct = String::from_utf8(gpg.run(
        &[
            "--armor",
            "--encrypt",
            "--compress-level",
            "9",
            "-r",
            "security@example.test",
        ],
        Some(&zeros),
    ))
    .unwrap();
    assert!(
        ct.len() < 200_000,
        "the bomb is small on the wire: {}",
        ct.len()
    );
    let raw = plain(&headers("bomb@example.net", "Bomb", "bomb@x", &[]), &ct);
    env.deliver("1", &raw);
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 1, "{s}");
    let c = &env.cases()[0];
    assert_eq!(c["state"], "oversize", "{c:#}");
    assert!(
        c["state_reason"]
            .as_str()
            .unwrap()
            .contains("compression bomb"),
        "{c:#}"
    );
    let show = env.json(&["case", "show", c["id"].as_str().unwrap(), "--json"]);
    assert_eq!(show["messages"][0]["size"], raw.len());
}

#[test]
fn ten_thousand_parts_and_deep_nesting_are_cut_off_with_a_note() {
    let env = team_env("");
    let mut many = String::from(&headers("parts@example.net", "Many parts", "many@x", &[]));
    many.push_str("Content-Type: multipart/mixed; boundary=\"=_p\"\n\n");
    for i in 0..10_000 {
        many.push_str(&format!("--=_p\nContent-Type: text/plain\n\npart {i}\n"));
    }
    many.push_str("--=_p--\n");
    env.deliver("1", crlf(&many).as_bytes());
    let mut deep = String::from(&headers("deep@example.net", "Deep", "deep@x", &[]));
    for i in 0..100 {
        deep.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"=_d{i}\"\n\n--=_d{i}\n"
        ));
    }
    deep.push_str("Content-Type: text/plain\n\nthe bottom\n");
    for i in (0..100).rev() {
        deep.push_str(&format!("--=_d{i}--\n"));
    }
    env.deliver("2", crlf(&deep).as_bytes());
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 2, "{s}");
    for c in env.cases() {
        let show = env.json(&["case", "show", c["id"].as_str().unwrap(), "--json"]);
        let notes = show["messages"][0]["notes"].to_string();
        assert!(
            notes.contains("max_mime_parts") || notes.contains("max_mime_depth"),
            "{notes}"
        );
    }
}

#[test]
fn invalid_utf8_and_mixed_charsets_are_read_not_rejected() {
    let env = team_env("");
    let mut raw = headers(
        "u@example.net",
        "=?iso-8859-1?q?Sch=F6ne_L=FCcke?=",
        "u@x",
        &[],
    )
    .into_bytes();
    raw.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\n\r\nbroken \xff\xfe utf-8, then an XSS: <script>alert(1)</script>\r\n");
    env.deliver("1", &raw);
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 1, "{s}");
    let c = &env.cases()[0];
    assert_eq!(c["subject"], "Schöne Lücke");
    assert_ne!(c["state"], "unparseable");
}

#[test]
fn header_injection_never_reaches_an_outgoing_header_and_reply_to_is_ignored() {
    let env = team_env("");
    let raw = crlf(
        "From: \"Evil\\r\\nBcc: victim@example.org\" <evil@example.net>\n\
         Reply-To: victim@example.org\n\
         To: security@example.test\n\
         Subject: =?utf-8?q?Hi=0D=0ABcc=3A_victim=40example=2Eorg?=\n\
         Message-ID: <inj@x>\n\
         Date: Tue, 24 Nov 2026 10:00:00 +0000\n\
         MIME-Version: 1.0\n\
         Content-Type: text/plain\n\n\
         XSS <script>alert(1)</script> in acme 2.4.1 lets an attacker steal sessions.\n",
    );
    env.deliver("1", raw.as_bytes());
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 1, "{s}");
    let ack = &outbox_mails(&env)[0];
    let head = &ack[..ack.find("\r\n\r\n").unwrap()];
    assert!(
        head.contains("To: evil@example.net"),
        "the ack goes to From: {head}"
    );
    assert!(
        !head.to_ascii_lowercase().contains("victim"),
        "no injected or Reply-To recipient: {head}"
    );
    assert!(!head.contains("Bcc"), "{head}");
    assert!(!ack.contains("Hi\r\nBcc"), "{ack}");
}

#[test]
fn a_signature_by_someone_else_than_from_is_flagged() {
    let env = team_env("");
    let gpg = Gpg::new();
    let mallory = gpg.generate("Mallory <mallory@example.org>", "ed25519", "cv25519", "");
    std::fs::write(env.dir.path().join("ring.asc"), gpg.export_public(&mallory)).unwrap();
    let cfg = std::fs::read_to_string(&env.config)
        .unwrap()
        .replace("[keys]\n", "[keys]\nreporter_keyring = \"ring.asc\"\n");
    std::fs::write(&env.config, cfg).unwrap();
    let signed = gpg.clearsign(b"XSS <script>alert(1)</script> in acme 2.4.1\n", &mallory);
    env.deliver(
        "1",
        &plain(
            &headers("Alice <alice@example.net>", "Signed by another", "m@x", &[]),
            &signed,
        ),
    );
    env.json(&["run", "--once", "--json"]);
    let c = &env.cases()[0];
    assert_eq!(
        c["signature"], "signer-mismatch",
        "a valid signature by someone else is not good"
    );
    let show = env.json(&["case", "show", c["id"].as_str().unwrap(), "--json"]);
    let notes = show["messages"][0]["notes"].to_string();
    assert!(notes.contains("signature-mismatch: signed by Mallory <mallory@example.org>, but From is alice@example.net"), "{notes}");
    let ack = &outbox_mails(&env)[0];
    assert!(
        !ack.contains("the signature is valid") && ack.contains("do not name your From address"),
        "the ack does not tell Alice her message was signed: {ack}"
    );
}

#[test]
fn a_signer_whose_address_merely_contains_from_is_not_the_sender() {
    // The old check was a substring test: notalice@example.net passed for alice@example.net.
    let env = team_env("");
    let gpg = Gpg::new();
    let eve = gpg.generate("Eve <notalice@example.net>", "ed25519", "cv25519", "");
    std::fs::write(env.dir.path().join("ring.asc"), gpg.export_public(&eve)).unwrap();
    let cfg = std::fs::read_to_string(&env.config)
        .unwrap()
        .replace("[keys]\n", "[keys]\nreporter_keyring = \"ring.asc\"\n");
    std::fs::write(&env.config, cfg).unwrap();
    let signed = gpg.clearsign(b"Please pay the bounty to IBAN XX00 EVIL\n", &eve);
    env.deliver(
        "1",
        &plain(
            &headers("Alice <alice@example.net>", "Invoice", "inv@x", &[]),
            &signed,
        ),
    );
    env.json(&["run", "--once", "--json"]);
    assert_eq!(env.cases()[0]["signature"], "signer-mismatch");
}

#[test]
fn a_flood_of_1000_messages_from_one_sender_is_stored_whole_and_acks_are_rate_limited() {
    let env = team_env("");
    for n in 0..1000 {
        env.deliver(
            &format!("{n:04}"),
            &plain(
                &headers(
                    "Flood <flood@example.net>",
                    &format!("Flood {n}"),
                    &format!("fl{n}@x"),
                    &[],
                ),
                &format!("message {n}: <script>alert({n})</script>\n"),
            ),
        );
    }
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 1000, "{s}");
    assert_eq!(s["sent"], 5, "{s}");
    let conn = rusqlite::Connection::open(env.dir.path().join("state/triaged.db")).unwrap();
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1000);
    let suppressed: i64 = conn
        .query_row("SELECT COUNT(*) FROM events WHERE kind = 'ack-suppressed' AND detail LIKE 'rate limit%'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(suppressed, 995);
}

#[test]
fn attachments_beyond_max_attachments_are_not_stored_but_stay_in_the_raw_message() {
    let env = team_env("[limits]\nmax_attachments = 10\n");
    let mut m = String::from(&headers("att@example.net", "Many files", "att@x", &[]));
    m.push_str("Content-Type: multipart/mixed; boundary=\"=_a\"\n\n");
    m.push_str("--=_a\nContent-Type: text/plain\n\nXSS in acme 2.4.1, files attached.\n");
    for i in 0..30 {
        m.push_str(&format!(
            "--=_a\nContent-Type: text/plain\nContent-Disposition: attachment; filename=\"f{i}.txt\"\n\nfile {i}\n"
        ));
    }
    m.push_str("--=_a--\n");
    let raw = crlf(&m);
    env.deliver("1", raw.as_bytes());
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 1, "{s}");
    let c = &env.cases()[0];
    let show = env.json(&["case", "show", c["id"].as_str().unwrap(), "--json"]);
    let msg = &show["messages"][0];
    let atts = msg["attachments"].as_array().unwrap();
    assert_eq!(atts.len(), 10, "{msg:#}");
    assert_eq!(atts[9]["name"], "f9.txt");
    let notes = msg["notes"].to_string();
    assert!(
        notes.contains("limits.max_attachments (10): 20 attachment(s) not stored"),
        "{notes}"
    );
    assert_eq!(msg["size"], raw.len(), "the raw message is kept whole");
    assert_ne!(c["state"], "oversize");
}

#[test]
fn a_header_line_longer_than_max_header_line_is_cut_for_reading_only() {
    let env = team_env("[limits]\nmax_header_line = \"1KiB\"\n");
    let long_subject = format!("XSS in acme {}", "A".repeat(100_000));
    let raw = plain(
        &headers("long@example.net", &long_subject, "long@x", &[]),
        "XSS <script>alert(1)</script> in acme 2.4.1 lets an attacker steal sessions.\n",
    );
    env.deliver("1", &raw);
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 1, "{s}");
    let c = &env.cases()[0];
    let subject = c["subject"].as_str().unwrap();
    assert!(subject.starts_with("XSS in acme AAAA"), "{subject:.80}");
    assert!(subject.len() < 1024, "cut: {} bytes", subject.len());
    let show = env.json(&["case", "show", c["id"].as_str().unwrap(), "--json"]);
    let msg = &show["messages"][0];
    let notes = msg["notes"].to_string();
    assert!(
        notes.contains("(Subject...)")
            && notes.contains("longer than limits.max_header_line (1024 bytes)"),
        "{notes}"
    );
    assert_eq!(msg["size"], raw.len(), "the raw message is kept whole");
    assert_eq!(s["sent"], 1, "{s}");
    let ack = &outbox_mails(&env)[0];
    let head = &ack[..ack.find("\r\n\r\n").unwrap()];
    assert!(
        head.len() < 8 * 1024,
        "the ack's header stays small: {}",
        head.len()
    );
}

#[test]
fn a_spent_time_budget_makes_an_oversize_case_that_retry_reads_with_a_larger_budget() {
    // A budget of 0 is refused by check-config, so the message has to be slow: 1,000
    // inline blocks, each an RSA-3072 decryption with the team key (~6 s in all here).
    let gpg = Gpg::new();
    let team = gpg.generate("Team <security@example.test>", "rsa3072", "rsa3072", "pw");
    let env = Env::new(
        &[("team.asc", &gpg.export_secret(&team, "pw"))],
        Some("pw"),
        "[limits]\ntime_budget = \"1s\"\n",
    );
    let block = gpg.encrypt(b"part of the PoC\n", &[&team], None, false);
    let mut body = String::from(
        "XSS <script>alert(1)</script> in acme 2.4.1 lets an attacker steal sessions.\n\n",
    );
    for _ in 0..1000 {
        body.push_str(&block);
        body.push('\n');
    }
    env.deliver(
        "1",
        &plain(&headers("slow@example.net", "Slow", "slow@x", &[]), &body),
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 1, "{s}");
    assert_eq!(s["sent"], 0, "no ack for a message that was not read: {s}");
    let c = &env.cases()[0];
    assert_eq!(c["state"], "oversize", "{c:#}");
    let reason = c["state_reason"].as_str().unwrap();
    assert!(reason.contains("limits.time_budget (1s)"), "{reason}");
    // The operator raises the budget and retries: the report is read from the kept raw bytes.
    let cfg = std::fs::read_to_string(&env.config)
        .unwrap()
        .replace("time_budget = \"1s\"", "time_budget = \"120s\"");
    std::fs::write(&env.config, cfg).unwrap();
    let id = c["id"].as_str().unwrap();
    let out = env.run(&["case", "retry", id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let c = &env.cases()[0];
    assert_ne!(c["state"], "oversize", "{c:#}");
    let show = env.json(&["case", "show", id, "--json"]);
    assert_eq!(show["messages"][0]["status"], "ok", "{show:#}");
    assert!(show.to_string().contains("steal sessions"), "{show:#}");
}

/// Makes `n` throw-away recipient keys in one gpg run (a parameter file), so the
/// 500-recipient test takes seconds, not minutes.
fn many_keys(gpg: &Gpg, n: usize) -> Vec<String> {
    let mut params = String::new();
    for i in 0..n {
        params.push_str(&format!(
            "Key-Type: eddsa\nKey-Curve: ed25519\nSubkey-Type: ecdh\nSubkey-Curve: cv25519\n\
             Name-Email: r{i}@example.org\nExpire-Date: 0\n%no-protection\n%commit\n"
        ));
    }
    let file = gpg.home.path().join("params");
    std::fs::write(&file, params).unwrap();
    gpg.run(&["--gen-key", file.to_str().unwrap()], None);
    (0..n).map(|i| format!("r{i}@example.org")).collect()
}

#[test]
fn a_message_encrypted_to_500_recipients_is_read() {
    let env = team_env("");
    let gpg = Gpg::new();
    gpg.run(
        &[
            "--import",
            repo().join("keys/test/team-public.asc").to_str().unwrap(),
        ],
        None,
    );
    let others = many_keys(&gpg, 499);
    let mut to: Vec<&str> = others.iter().map(String::as_str).collect();
    // Ours is the last of 500 recipient packets.
    to.push("security@example.test");
    let body = b"XSS <script>alert(1)</script> in acme 2.4.1 lets an attacker steal sessions.\n";
    let ct = gpg.encrypt(body, &to, None, false);
    let listed = String::from_utf8_lossy(&gpg.run(&["--list-packets"], Some(ct.as_bytes())))
        .matches(":pubkey enc packet:")
        .count();
    assert_eq!(listed, 500, "the message carries 500 recipient packets");
    env.deliver(
        "1",
        &pgp_mime(&headers("many@example.net", "...", "many@x", &[]), &ct),
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 1, "{s}");
    let c = &env.cases()[0];
    assert_eq!(c["encryption"], "pgp-mime", "{c:#}");
    assert_ne!(c["state"], "undecryptable", "{c:#}");
    let show = env.json(&["case", "show", c["id"].as_str().unwrap(), "--json"]);
    assert!(show.to_string().contains("steal sessions"), "{show:#}");
}

#[test]
fn a_revoked_reporter_key_makes_its_signature_invalid_and_the_ack_is_not_encrypted_to_it() {
    let env = team_env("");
    let gpg = Gpg::new();
    let fpr = gpg.generate("Rev <rev@example.net>", "ed25519", "cv25519", "");
    let signed = gpg.clearsign(
        b"XSS <script>alert(1)</script> in acme 2.4.1 lets an attacker steal sessions.\n",
        &fpr,
    );
    // gpg writes a revocation certificate for every new key; import it to revoke the key.
    let rev = std::fs::read_to_string(
        gpg.home
            .path()
            .join("openpgp-revocs.d")
            .join(format!("{fpr}.rev")),
    )
    .unwrap()
    .replace(
        ":-----BEGIN PGP PUBLIC KEY BLOCK-----",
        "-----BEGIN PGP PUBLIC KEY BLOCK-----",
    );
    gpg.run(&["--import"], Some(rev.as_bytes()));
    let public = String::from_utf8(gpg.export_public(&fpr)).unwrap();
    let listed = String::from_utf8_lossy(&gpg.run(&["--with-colons", "--list-keys", &fpr], None))
        .into_owned();
    assert!(listed.lines().any(|l| l.starts_with("pub:r:")), "{listed}");
    let raw = crlf(&format!(
        "{}Content-Type: multipart/mixed; boundary=\"=_r\"\n\n--=_r\nContent-Type: text/plain\n\n{signed}\n\
         --=_r\nContent-Type: application/pgp-keys\nContent-Disposition: attachment; filename=\"key.asc\"\n\n{public}\n--=_r--\n",
        headers("Rev <rev@example.net>", "XSS", "rev@x", &[])
    ));
    env.deliver("1", raw.as_bytes());
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 1, "{s}");
    let c = &env.cases()[0];
    assert_eq!(c["signature"], "invalid-key", "{c:#}");
    let ack = &outbox_mails(&env)[0];
    assert!(ack.contains("multipart/signed"), "{ack}");
    assert!(!ack.contains("multipart/encrypted"), "{ack}");
    assert!(ack.contains("revoked"), "the ack says why: {ack}");
}

#[test]
fn ambiguous_or_unanswerable_from_addresses_get_a_case_but_never_an_ack() {
    // Issue 13 item 10: each of these used to be answered (or answered at a wrong address).
    let env = team_env("");
    let body = "XSS <script>alert(1)</script> in acme 2.4.1 lets an attacker steal sessions.\n";
    let msg = |from_lines: &str, extra: &str, id: &str| -> Vec<u8> {
        crlf(&format!(
            "{from_lines}\nTo: security@example.test\nSubject: Report {id}\nDate: Tue, 24 Nov 2026 10:00:00 +0000\n\
             Message-ID: <{id}@x>\nMIME-Version: 1.0\n{extra}Content-Type: text/plain; charset=utf-8\n\n{body}"
        ))
        .into_bytes()
    };
    env.deliver("1", &msg("From: \"a,b\"@evil.test", "", "quoted"));
    env.deliver("2", &msg("From: Jörg <jörg@exämple.test>", "", "utf8"));
    env.deliver("3", &msg("From: MAILER-DAEMON+x@example.net", "", "daemon"));
    env.deliver(
        "4",
        &msg(
            "From: loop@example.net",
            "X-Loop: security@example.test\n",
            "xloop",
        ),
    );
    env.deliver(
        "5",
        &msg(
            "From: alice@example.net\nFrom: eve@evil.test",
            "",
            "twofrom",
        ),
    );
    env.deliver(
        "6",
        &msg("From: alice@example.net, eve@evil.test", "", "twoboxes"),
    );
    env.deliver("7", &msg("From: Normal <normal@example.net>", "", "normal"));
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 7, "every message is a case: {s}");
    let mails = outbox_mails(&env);
    assert_eq!(
        mails.len(),
        1,
        "only the normal sender is answered: {mails:#?}"
    );
    let head = &mails[0][..mails[0].find("\r\n\r\n").unwrap()];
    assert!(head.contains("To: normal@example.net\r\n"), "{head}");
    assert!(
        head.contains("X-Loop: security@example.test\r\n"),
        "our acks carry X-Loop: {head}"
    );
    assert!(head.is_ascii(), "{head}");
    let conn = rusqlite::Connection::open(env.dir.path().join("state/triaged.db")).unwrap();
    let why: Vec<String> = conn
        .prepare("SELECT c.subject || ': ' || e.detail FROM events e JOIN cases c ON c.id = e.case_id WHERE e.kind = 'ack-suppressed' ORDER BY c.id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let expect = [
        ("Report quoted", "quoted local part"),
        ("Report utf8", "SMTPUTF8"),
        ("Report daemon", "automated sender"),
        ("Report xloop", "X-Loop: security@example.test"),
        ("Report twofrom", "2 From headers"),
        ("Report twoboxes", "2 mailboxes"),
    ];
    for (subject, reason) in expect {
        assert!(
            why.iter()
                .any(|w| w.starts_with(subject) && w.contains(reason)),
            "{subject}: {reason} not in {why:#?}"
        );
    }
    // The quoted local part is stored as written, not cut to "@evil.test".
    let cases = env.cases();
    let q = cases
        .iter()
        .find(|c| c["subject"] == "Report quoted")
        .unwrap();
    assert_eq!(q["reporter"], "\"a,b\"@evil.test", "{q:#}");
}
