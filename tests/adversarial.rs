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

fn outbox(env: &Env) -> Vec<String> {
    let dir = env.dir.path().join("outbox");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.sort();
    v.into_iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
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
    let ack = &outbox(&env)[0];
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
    assert_eq!(c["signature"], "good");
    let show = env.json(&["case", "show", c["id"].as_str().unwrap(), "--json"]);
    let notes = show["messages"][0]["notes"].to_string();
    assert!(notes.contains("signature-mismatch: signed by Mallory <mallory@example.org>, but From is alice@example.net"), "{notes}");
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
