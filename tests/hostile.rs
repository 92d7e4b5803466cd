//! Hostile senders (issue 13): attacks anyone can mount by email, each performed
//! against the real binary. Memory and time: small mails that decompress to a lot,
//! keys that cost minutes to canonicalise, under a real memory limit (a memory
//! cgroup, as the unit's MemoryMax) and with the daemon's watchdog observed.

mod common;
use common::*;

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sequoia_openpgp as openpgp;

fn team_env(extra: &str) -> Env {
    let root = repo();
    let key = std::fs::read(root.join("keys/test/team-secret.asc")).unwrap();
    let pass = std::fs::read_to_string(root.join("keys/test/passphrase")).unwrap();
    Env::new(&[("team.asc", &key)], Some(pass.trim()), extra)
}

#[test]
fn four_small_mails_that_decompress_to_60_mib_each_become_cases_under_a_512_mib_limit() {
    let Some(cg) = MemCgroup::new(512 * 1024 * 1024) else {
        eprintln!(
            "SKIPPED: cannot create a memory cgroup here (not root, or no memory controller); \
             this attack needs a real memory limit"
        );
        return;
    };
    let env = team_env("");
    let gpg = Gpg::new();
    gpg.run(
        &[
            "--import",
            repo().join("keys/test/team-public.asc").to_str().unwrap(),
        ],
        None,
    );
    // The issue's repro: `yes 'The quick brown fox' | head -c 60M | gpg -z9 -ear TEAM`.
    let text: Vec<u8> = b"The quick brown fox\n"
        .iter()
        .copied()
        .cycle()
        .take(60 * 1024 * 1024)
        .collect();
    let bomb = String::from_utf8(gpg.run(
        &[
            "--armor",
            "--encrypt",
            "-z",
            "9",
            "--compress-algo",
            "zlib",
            "-r",
            "security@example.test",
        ],
        Some(&text),
    ))
    .unwrap();
    drop(text);
    assert!(bomb.len() < 400_000, "small on the wire: {}", bomb.len());
    for i in 0..4 {
        let raw = plain(
            &headers(
                &format!("r{i}@example.org"),
                &format!("bomb {i}"),
                &format!("bomb{i}@example.org"),
                &[],
            ),
            &bomb,
        );
        env.deliver(&format!("b{i}"), &raw);
    }
    let out = cg.run(&env.config, &["run", "--once", "--json"]);
    assert!(
        out.status.success(),
        "the daemon survived the batch under 512 MiB: {:?} {}",
        out.status,
        stderr(&out)
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["created"], 4, "{s}");
    let cases = env.cases();
    assert_eq!(cases.len(), 4);
    for c in &cases {
        let state = c["state"].as_str().unwrap();
        assert!(
            ["triaged", "needs-info", "oversize"].contains(&state),
            "each bomb is a case, read or quarantined: {c:#}"
        );
    }
    // Nothing is read again: the batch was committed and marked (no crash loop).
    let again = cg.run(&env.config, &["run", "--once", "--json"]);
    assert!(again.status.success(), "{}", stderr(&again));
    let s: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(s["seen"], 0, "{s}");
    eprintln!("OOM kills inside the group: {}", cg.oom_kills());
}

/// A reporter key with `n` user ids, each with a valid binding signature: the attack
/// key whose canonicalisation costs minutes (sequoia's cost grows faster than linear).
fn key_with_user_ids(n: usize) -> Vec<u8> {
    use openpgp::cert::prelude::*;
    use openpgp::packet::signature::SignatureBuilder;
    use openpgp::serialize::SerializeInto;
    use openpgp::types::SignatureType;
    let (cert, _) = CertBuilder::new()
        .add_userid("Eve <eve@example.org>")
        .generate()
        .unwrap();
    let mut signer = cert
        .primary_key()
        .key()
        .clone()
        .parts_into_secret()
        .unwrap()
        .into_keypair()
        .unwrap();
    let mut bytes = cert.clone().strip_secret_key_material().to_vec().unwrap();
    for i in 0..n {
        let uid = openpgp::packet::UserID::from(format!("Eve {i} <eve{i}@example.org>"));
        let sig = uid
            .bind(
                &mut signer,
                &cert,
                SignatureBuilder::new(SignatureType::PositiveCertification),
            )
            .unwrap();
        bytes.extend(openpgp::Packet::from(uid).to_vec().unwrap());
        bytes.extend(openpgp::Packet::from(sig).to_vec().unwrap());
    }
    bytes
}

fn mail_with_key(msgid: &str, key: &[u8]) -> Vec<u8> {
    let b64 = base64(key);
    let head = headers("eve@example.org", "Report with my key", msgid, &[]);
    let head = head.replace(
        "MIME-Version: 1.0\n",
        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n",
    );
    format!(
        "{head}\n--b1\nContent-Type: text/plain\n\nSQL injection in /api/login of acme 2.4.1:\n\
         curl 'https://acme.example/api/login' -d \"user=' OR 1=1--\"\nAn attacker reads every account.\n\
         --b1\nContent-Type: application/pgp-keys\nContent-Disposition: attachment; filename=eve.gpg\n\
         Content-Transfer-Encoding: base64\n\n{b64}\n--b1--\n"
    )
    .into_bytes()
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for (i, c) in data.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            out.push('\n');
        }
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            if k <= c.len() {
                out.push(T[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn a_key_with_10000_user_ids_is_cut_to_the_limit_and_the_report_is_read() {
    let env = team_env("");
    env.deliver(
        "1",
        &mail_with_key("uids1@example.org", &key_with_user_ids(10_000)),
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 1, "{s}");
    let c = &env.cases()[0];
    assert_ne!(c["state"], "oversize", "read within the budget: {c:#}");
    let show = env.json(&["case", "show", c["id"].as_str().unwrap(), "--json"]);
    let text = show.to_string();
    assert!(
        text.contains("read only in part") && text.contains("user ids after the first 64"),
        "the case says the key was cut: {text}"
    );
}

#[test]
fn a_reader_stuck_in_one_openpgp_operation_is_killed_while_the_daemon_stays_live() {
    // Without the key limits (raised here), the 10,000-user-id key keeps sequoia busy
    // for minutes inside one call that the cooperative time budget cannot interrupt.
    let env = team_env(
        "[limits]\nmax_key_user_ids = 1000000\nmax_key_subkeys = 1000000\ntime_budget = \"20s\"\n",
    );
    let mail = mail_with_key("wedge@example.org", &key_with_user_ids(10_000));
    // 1. The daemon: watchdog pings go on and SIGTERM is obeyed while a reader is stuck.
    let sock_path = env.dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_triaged"))
        .arg("--config")
        .arg(&env.config)
        .arg("run")
        .env("NOTIFY_SOCKET", &sock_path)
        .env("WATCHDOG_USEC", "200000")
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let listener = Listener::start(sock);
    assert!(
        listener.wait("READY=1", Duration::from_secs(10)),
        "no READY=1"
    );
    let file = env.deliver("wedge", &mail);
    std::thread::sleep(Duration::from_secs(2)); // the scan picks it up; the reader is busy
    let before = pings(&listener);
    std::thread::sleep(Duration::from_secs(2));
    let during = pings(&listener) - before;
    assert!(
        during >= 5,
        "WATCHDOG=1 kept coming while the reader was stuck ({during} in 2 s)"
    );
    let cases = env.cases();
    assert!(
        cases.is_empty(),
        "the message should still be in its reader, but it is a case already: {cases:?}"
    );
    let t = Instant::now();
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "SIGTERM obeyed within 5 s while a reader was stuck"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    assert!(
        file.exists(),
        "the message stays in new/ and is read at the next start"
    );
    assert!(
        env.cases().is_empty(),
        "a read cut short by the shutdown is no case"
    );
    // 2. The budget: the reader is killed, the message becomes an oversize case.
    std::fs::write(
        &env.config,
        std::fs::read_to_string(&env.config)
            .unwrap()
            .replace("time_budget = \"20s\"", "time_budget = \"1s\""),
    )
    .unwrap();
    let t = Instant::now();
    let s = env.json(&["run", "--once", "--json"]);
    let took = t.elapsed();
    assert_eq!(s["created"], 1, "{s}");
    assert!(
        took < Duration::from_secs(15),
        "killed after the budget, not after minutes: {took:?}"
    );
    let c = &env.cases()[0];
    assert_eq!(c["state"], "oversize", "{c:#}");
    let show = env.json(&["case", "show", c["id"].as_str().unwrap(), "--json"]);
    assert!(
        show.to_string().contains("time budget"),
        "the reason names the budget: {show}"
    );
    assert_eq!(
        c["reporter"], "eve@example.org",
        "headers are read without the body"
    );
}

fn pings(l: &Listener) -> usize {
    l.got
        .lock()
        .unwrap()
        .iter()
        .filter(|m| m.contains("WATCHDOG=1"))
        .count()
}

fn message_id_of(mail: &str) -> String {
    mail.lines()
        .find_map(|l| l.strip_prefix("Message-ID: <"))
        .unwrap()
        .trim_end_matches('>')
        .to_string()
}

#[test]
fn a_copied_ciphertext_gets_an_ack_that_quotes_nothing_of_it() {
    let env = team_env("");
    let gpg = Gpg::new();
    gpg.run(
        &[
            "--import",
            repo().join("keys/test/team-public.asc").to_str().unwrap(),
        ],
        None,
    );
    let eve = gpg.generate("Eve <eve@example.org>", "ed25519", "cv25519", "");
    std::fs::write(env.dir.path().join("ring.asc"), gpg.export_public(&eve)).unwrap();
    let cfg = std::fs::read_to_string(&env.config)
        .unwrap()
        .replace("[keys]\n", "[keys]\nreporter_keyring = \"ring.asc\"\n");
    std::fs::write(&env.config, cfg).unwrap();
    let inner = crlf(
        "Content-Type: text/plain; protected-headers=\"v1\"\nSubject: RCE in the acme upload handler (secret)\n\n\
         acme 2.4.1: POST /upload with a .phtml file runs code:\ncurl -F f=@x.phtml https://acme.example/upload\n\
         Impact: remote code execution as www-data.\n",
    );
    let ct = gpg.encrypt(inner.as_bytes(), &["security@example.test"], None, false);
    env.deliver(
        "1",
        &pgp_mime(&headers("alice@example.net", "...", "a1@x", &[]), &ct),
    );
    // Eve pastes Alice's encrypted part into her own mail.
    env.deliver(
        "2",
        &pgp_mime(&headers("eve@example.org", "...", "e1@x", &[]), &ct),
    );
    env.json(&["run", "--once", "--json"]);
    let cases = env.cases();
    assert_eq!(cases.len(), 2);
    let acks = outbox_mails(&env);
    let to_eve: Vec<_> = acks
        .iter()
        .filter(|a| a.contains("To: eve@example.org"))
        .collect();
    assert_eq!(to_eve.len(), 1, "{acks:?}");
    let plain = String::from_utf8(gpg.run(&["--decrypt"], Some(to_eve[0].as_bytes()))).unwrap();
    assert!(plain.contains("Case:"), "{plain}");
    for leak in [
        "RCE in the acme",
        "secret",
        "everything our policy",
        "still need",
    ] {
        assert!(
            !plain.contains(leak),
            "the ack to Eve reveals {leak:?}: {plain}"
        );
    }
    let eve_case = cases
        .iter()
        .find(|c| c["reporter"] == "eve@example.org")
        .unwrap();
    let show = env.json(&["case", "show", eve_case["id"].as_str().unwrap(), "--json"]);
    assert!(
        show.to_string().contains("re-used ciphertext"),
        "the case records the replay: {show}"
    );
}

#[test]
fn ack_message_ids_are_unpredictable_and_a_stranger_replying_to_one_does_not_join_the_case() {
    let env = team_env("");
    let report = "SQL injection in acme 2.4.1 /api/login:\ncurl -d \"user=' OR 1=1--\" https://acme.example/api/login\n\
                  Impact: an attacker reads every account.\n";
    env.deliver(
        "1",
        &plain(&headers("alice@example.net", "SQLi", "a1@x", &[]), report),
    );
    env.json(&["run", "--once", "--json"]);
    let ack = &outbox_mails(&env)[0];
    let id = message_id_of(ack);
    let random = id.split('@').next().unwrap().rsplit('.').next().unwrap();
    assert!(
        random.len() == 32 && random.chars().all(|c| c.is_ascii_hexdigit()),
        "128 random bits in {id}"
    );
    // The same report in another deployment gets another Message-ID.
    let other = team_env("");
    other.deliver(
        "1",
        &plain(&headers("alice@example.net", "SQLi", "a1@x", &[]), report),
    );
    other.json(&["run", "--once", "--json"]);
    assert_ne!(message_id_of(&outbox_mails(&other)[0]), id);
    // Mallory replies to the ack (he saw its Message-ID): a case of his own.
    let case = env.cases()[0]["id"].as_str().unwrap().to_string();
    let irt = format!("In-Reply-To: <{id}>");
    env.deliver(
        "2",
        &plain(
            &headers(
                "mallory@example.org",
                &format!("Re: [{case}] Report received"),
                "m1@x",
                &[&irt],
            ),
            "Please close this case, it is a duplicate.\n",
        ),
    );
    // Alice's own reply joins.
    env.deliver(
        "3",
        &plain(
            &headers(
                "Alice@Example.net",
                &format!("Re: [{case}] Report received"),
                "a2@x",
                &[&irt],
            ),
            "More detail: also affects 2.3.0.\n",
        ),
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 1, "Mallory's reply opens its own case: {s}");
    assert_eq!(s["follow_ups"], 1, "Alice's reply joins: {s}");
    let show = env.json(&["case", "show", &case, "--json"]);
    assert!(!show.to_string().contains("mallory"), "{show}");
}

#[test]
fn escape_sequences_and_line_breaks_from_a_report_never_reach_the_terminal() {
    let env = team_env("");
    let raw = crlf(
        "From: =?utf-8?q?Eve=1B]0;pwned=07=1B[2J?= <eve@example.org>\n\
         To: security@example.test\n\
         Subject: =?utf-8?q?XSS=0D=0ASEC-2026-9999__triaged__good=1B[31m?=\n\
         Message-ID: <esc@x>\nMIME-Version: 1.0\n\
         Content-Type: multipart/mixed; boundary=\"b\"\n\n\
         --b\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n\
         XSS=1B[2J in acme 2.4.1: <script>alert(1)</script>\n\
         --b\nContent-Type: text/plain; name=\"=?utf-8?q?poc=1B[8m.txt?=\"\n\
         Content-Disposition: attachment; filename=\"=?utf-8?q?poc=1B[8m.txt?=\"\n\npoc\n--b--\n",
    );
    env.deliver("1", raw.as_bytes());
    env.json(&["run", "--once", "--json"]);
    let id = env.cases()[0]["id"].as_str().unwrap().to_string();
    for args in [
        vec!["case", "show", id.as_str()],
        vec!["case", "list"],
        vec!["keys", "list"],
        vec!["case", "export", id.as_str()],
    ] {
        let out = stdout(&env.run(&args));
        assert!(
            !out.contains('\u{1b}') && !out.contains('\u{7}') && !out.contains('\r'),
            "{args:?}: {out:?}"
        );
        assert!(
            !out.lines().any(|l| l.starts_with("SEC-2026-9999")),
            "{args:?}: a forged line: {out}"
        );
    }
    let show = stdout(&env.run(&["case", "show", &id]));
    assert!(show.contains("\\u{1b}"), "escaped, not dropped: {show}");
}

#[test]
fn a_reporter_key_with_300_encryption_subkeys_gets_an_ack_encrypted_to_a_few() {
    // Issue 13 item 11: 3,000 subkeys made a 399 KB ack. Every PKESK is a public-key
    // operation and ~150 bytes; a reply is encrypted to the newest few valid subkeys.
    use openpgp::cert::prelude::*;
    use openpgp::parse::{PacketParser, PacketParserResult, Parse};
    use openpgp::serialize::SerializeInto;
    let mut b = CertBuilder::new().add_userid("Many <many@example.org>");
    for _ in 0..300 {
        b = b.add_transport_encryption_subkey();
    }
    let (cert, _) = b.generate().unwrap();
    let env = team_env("");
    std::fs::write(
        env.dir.path().join("ring.asc"),
        cert.armored().to_vec().unwrap(),
    )
    .unwrap();
    let cfg = std::fs::read_to_string(&env.config)
        .unwrap()
        .replace("[keys]\n", "[keys]\nreporter_keyring = \"ring.asc\"\n");
    std::fs::write(&env.config, cfg).unwrap();
    env.deliver(
        "1",
        &plain(
            &headers("many@example.org", "SQLi", "many@x", &[]),
            "SQL injection in /api/login of acme 2.4.1: curl 'https://acme.example/api/login' -d \"user=' OR 1=1--\"\n",
        ),
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 1, "{s}");
    let ack = &outbox_mails(&env)[0];
    let start = ack
        .find("-----BEGIN PGP MESSAGE-----")
        .expect("encrypted ack");
    let end = ack.find("-----END PGP MESSAGE-----").unwrap() + 25;
    let mut pkesks = 0;
    let mut ppr = PacketParser::from_bytes(&ack.as_bytes()[start..end]).unwrap();
    while let PacketParserResult::Some(pp) = ppr {
        if matches!(pp.packet, openpgp::Packet::PKESK(_)) {
            pkesks += 1;
        }
        ppr = pp.next().unwrap().1;
    }
    // At most 4 of the reporter's subkeys, plus the team's own key (a copy we can read).
    assert!((2..=5).contains(&pkesks), "{pkesks} PKESKs");
    assert!(ack.len() < 20_000, "the ack is {} bytes", ack.len());
}

/// Issue 13 item 11, the smaller holes, each as an operator or attacker meets it.
#[test]
fn a_10_mb_folded_subject_is_kept_once_not_three_times() {
    let env = team_env("[limits]\nmax_message_size = \"32MiB\"\n");
    let mut subject = String::from("Overflow");
    for i in 0..200_000 {
        subject.push_str(&format!(
            "\n  fold{i:06} xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        ));
    }
    let raw = plain(
        &headers("fold@example.net", &subject, "fold@x", &[]),
        "SQL injection in acme 2.4.1: curl 'https://acme.test/?id=1%27--'\n",
    );
    assert!(raw.len() > 10_000_000);
    env.deliver("1", &raw);
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 1, "{s}");
    let c = &env.cases()[0];
    let stored = c["subject"].as_str().unwrap();
    assert!(stored.chars().count() <= 998, "{}", stored.len());
    let show = env.json(&["case", "show", c["id"].as_str().unwrap(), "--json"]);
    assert!(
        show["messages"][0]["notes"]
            .to_string()
            .contains("only its first 998 characters are kept"),
        "{}",
        show["messages"][0]["notes"]
    );
    let db: u64 = std::fs::read_dir(env.dir.path().join("state"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(
        db < raw.len() as u64 + 4_000_000,
        "store is {db} bytes for a {} byte message",
        raw.len()
    );
}

#[test]
fn classify_obeys_max_message_size_for_files_and_standard_input() {
    let env = team_env("[limits]\nmax_message_size = \"1MiB\"\n");
    let big = env.dir.path().join("big.txt");
    std::fs::write(&big, "A".repeat(2 * 1024 * 1024)).unwrap();
    let o = env.run(&["classify", big.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("larger than limits.max_message_size (1048576 bytes)"),
        "{}",
        stderr(&o)
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_triaged"))
        .args(["--config", env.config.to_str().unwrap(), "classify", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        // The reader stops at the limit; the rest of the write may meet a closed pipe.
        let _ = stdin.write_all(&vec![b'B'; 3 * 1024 * 1024]);
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("standard input is larger"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn doctor_finds_a_damaged_database_and_outbox_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let env = team_env("");
    env.deliver(
        "1",
        &plain(
            &headers("alice@example.net", "XSS", "x@x", &[]),
            "XSS <script>alert(1)</script> in acme 2.4.1\n",
        ),
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 1, "{s}");
    for e in std::fs::read_dir(env.dir.path().join("outbox")).unwrap() {
        let mode = e.unwrap().metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "outbox files are private");
    }
    let ok = env.run(&["doctor", "--json"]);
    let checks: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    let store = |v: &serde_json::Value| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == "store")
            .cloned()
            .unwrap()
    };
    assert_eq!(store(&checks)["status"], "ok", "{checks:#}");
    // Damage the root pages of two tables with rows (not the schema, which SQLite reads
    // at open): the file still opens and counts its cases, which is why doctor has to
    // ask SQLite to check it.
    let db = env.dir.path().join("state/triaged.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE").ok();
    let roots: Vec<i64> = conn
        .prepare("SELECT rootpage FROM sqlite_schema WHERE name IN ('events', 'findings')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    drop(conn);
    assert_eq!(roots.len(), 2);
    let mut bytes = std::fs::read(&db).unwrap();
    let page = 4096;
    for root in roots {
        let at = (root as usize - 1) * page;
        assert!(
            at > 0 && bytes.len() >= at + page,
            "page {root} in the file"
        );
        for b in bytes[at..at + page].iter_mut().step_by(7) {
            *b ^= 0x5a;
        }
    }
    std::fs::write(&db, &bytes).unwrap();
    let bad = env.run(&["doctor", "--json"]);
    assert_eq!(bad.status.code(), Some(1), "{}", stderr(&bad));
    let checks: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    let st = store(&checks);
    assert_eq!(st["status"], "fail", "{checks:#}");
    assert!(
        st["detail"]
            .as_str()
            .unwrap()
            .contains("is damaged (PRAGMA quick_check)"),
        "{st:#}"
    );
    assert!(st["fix"].as_str().unwrap().contains(".recover"), "{st:#}");
}

#[test]
fn a_read_only_store_directory_gets_a_hint_not_a_bare_sqlite_error() {
    use std::os::unix::fs::PermissionsExt;
    let env = team_env("");
    env.json(&["run", "--once", "--json"]);
    let state = env.dir.path().join("state");
    // Another user than the service user (root ignores permissions, so drop to nobody).
    let as_nobody = unsafe { libc::getuid() } == 0;
    if as_nobody {
        for p in [env.dir.path().to_path_buf(), state.clone()] {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::set_permissions(&env.config, std::fs::Permissions::from_mode(0o644)).unwrap();
        for e in std::fs::read_dir(&state).unwrap() {
            let p = e.unwrap().path();
            std::os::unix::fs::chown(&p, Some(65534), Some(65534)).unwrap();
        }
    } else {
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    // nobody must be able to reach the binary: a clone in a private directory (mktemp -d
    // is 0700) is not, so run a link to it placed in the (now 0755) scratch directory.
    let exe = if as_nobody {
        let link = env.dir.path().join("triaged-bin");
        std::fs::hard_link(env!("CARGO_BIN_EXE_triaged"), &link)
            .or_else(|_| std::fs::copy(env!("CARGO_BIN_EXE_triaged"), &link).map(|_| ()))
            .unwrap();
        link
    } else {
        PathBuf::from(env!("CARGO_BIN_EXE_triaged"))
    };
    let mut cmd = Command::new(&exe);
    cmd.args(["--config", env.config.to_str().unwrap(), "case", "list"]);
    if as_nobody {
        use std::os::unix::process::CommandExt;
        cmd.uid(65534).gid(65534);
    }
    let o = cmd.output().unwrap();
    std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("is not writable by this user")
            && err.contains("fix: run triaged as the service user"),
        "{err}"
    );
}

#[test]
fn two_hundred_thousand_anonymous_pkesks_cost_at_most_max_pkesks_tries() {
    // Issue 13 item 2: each anonymous (--throw-keyids) PKESK is tried against every team
    // key, and each try is an RSA operation: 200,000 of them took minutes. Only
    // limits.max_pkesks are tried; the message is then undecryptable, and says why.
    use openpgp::cert::prelude::*;
    use openpgp::crypto::mpi;
    use openpgp::packet::pkesk::PKESK3;
    use openpgp::serialize::SerializeInto;
    use openpgp::serialize::stream::{Encryptor, LiteralWriter, Message};
    use openpgp::types::PublicKeyAlgorithm;
    use std::io::Write;
    let (other, _) = CertBuilder::new()
        .add_userid("Other <other@example.org>")
        .add_transport_encryption_subkey()
        .generate()
        .unwrap();
    let policy = openpgp::policy::StandardPolicy::new();
    let recipients = other
        .keys()
        .with_policy(&policy, None)
        .for_transport_encryption()
        .collect::<Vec<_>>();
    let mut real = Vec::new();
    {
        let m = Message::new(&mut real);
        let m = Encryptor::for_recipients(m, recipients).build().unwrap();
        let mut w = LiteralWriter::new(m).build().unwrap();
        w.write_all(b"SQL injection in acme 2.4.1").unwrap();
        w.finalize().unwrap();
    }
    let one = openpgp::Packet::from(openpgp::packet::PKESK::from(
        PKESK3::new(
            None,
            PublicKeyAlgorithm::RSAEncryptSign,
            mpi::Ciphertext::RSA {
                c: mpi::MPI::new(&[0x42; 16]),
            },
        )
        .unwrap(),
    ))
    .to_vec()
    .unwrap();
    let mut bin = Vec::with_capacity(200_000 * one.len() + real.len());
    for _ in 0..200_000 {
        bin.extend_from_slice(&one);
    }
    bin.extend_from_slice(&real);
    let mut armored = Vec::new();
    {
        let mut w =
            openpgp::armor::Writer::new(&mut armored, openpgp::armor::Kind::Message).unwrap();
        w.write_all(&bin).unwrap();
        w.finalize().unwrap();
    }
    let env = team_env("[limits]\nmax_message_size = \"32MiB\"\n");
    env.deliver(
        "1",
        &pgp_mime(
            &headers("anon@example.org", "...", "anon@x", &[]),
            std::str::from_utf8(&armored).unwrap(),
        ),
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 1, "{s}");
    let c = &env.cases()[0];
    assert_eq!(c["state"], "undecryptable", "{c:#}");
    let reason = c["state_reason"].as_str().unwrap();
    assert!(
        reason.contains("200001 encrypted session keys in the message")
            && reason
                .contains("gave up after trying 32 encrypted session keys (limits.max_pkesks)"),
        "{reason}"
    );
}
