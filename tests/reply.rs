//! Answering the reporter from the case and carrying it to disclosure (issue 17):
//! `case reply` (threaded, signed, encrypted when a key is known, refused in cleartext
//! unless asked, templates, $EDITOR), honest clocks (`case move` stops nothing; a sent
//! reply does), `case set`, permanent SMTP refusals, our own copies coming back, and
//! the whole walk with the real servers: report -> ack -> reply -> the reporter's
//! gpg opens and verifies it, threaded -> their answer joins the case -> `sla` says
//! the response promise was kept by that reply.

mod common;
use common::servers::{MailServers, PASSWORD};
use common::*;

fn team_env() -> Env {
    let root = repo();
    let key = std::fs::read(root.join("keys/test/team-secret.asc")).unwrap();
    let pass = std::fs::read_to_string(root.join("keys/test/passphrase")).unwrap();
    Env::new(&[("team.asc", &key)], Some(pass.trim()), "")
}

/// The team's environment reading security@example.test over IMAP from `servers` and
/// sending through its OpenSMTPD.
fn servers_env(servers: &MailServers) -> Env {
    let env = team_env();
    std::fs::write(env.dir.path().join("imap-password"), PASSWORD).unwrap();
    let cfg = std::fs::read_to_string(&env.config)
        .unwrap()
        .replace(
            "[[mailbox]]\nname = \"security\"\nkind = \"maildir\"\npath = \"Maildir\"\n",
            &format!(
                "[[mailbox]]\nname = \"security\"\nkind = \"imap\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"plain\"\n\
                 user = \"security@example.test\"\npassword_file = \"imap-password\"\n",
                servers.imap_port
            ),
        )
        .replace(
            "[outbox]\ntransport = \"file\"\ndir = \"outbox\"\n",
            &format!(
                "[outbox]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"plain\"\n",
                servers.smtp_port
            ),
        );
    std::fs::write(&env.config, &cfg).unwrap();
    env
}

/// The team's INBOX, once something has arrived there (at most 5 s).
fn team_inbox(servers: &MailServers) -> Vec<Vec<u8>> {
    let mut team = Vec::new();
    for _ in 0..50 {
        team = servers.imap("team@example.test").fetch_all("INBOX");
        if !team.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    team
}

/// A gpg home with a reporter key and the team's public key.
fn reporter_gpg(uid: &str) -> (Gpg, String) {
    let gpg = Gpg::new();
    let fpr = gpg.generate(uid, "ed25519", "cv25519", "");
    gpg.run(
        &[
            "--import",
            repo().join("keys/test/team-public.asc").to_str().unwrap(),
        ],
        None,
    );
    (gpg, fpr)
}

/// A report encrypted to the team and signed by the reporter, carrying their public key.
fn encrypted_report(gpg: &Gpg, fpr: &str, from: &str, msgid: &str) -> Vec<u8> {
    let public = String::from_utf8(gpg.export_public(fpr)).unwrap();
    let inner = crlf(&format!(
        "Content-Type: multipart/mixed; boundary=\"=_in_1\"\n\n--=_in_1\nContent-Type: text/plain\n\n\
         The export endpoint of acme-server 2.4.1 reads any file:\n\
         curl 'http://localhost:8080/api/v1/export?file=../../etc/passwd'\n\
         An unauthenticated attacker can read credentials from the server.\n\
         --=_in_1\nContent-Type: application/pgp-keys; name=\"key.asc\"\n\n{public}\n--=_in_1--\n"
    ));
    let ct = gpg.encrypt(
        inner.as_bytes(),
        &["security@example.test"],
        Some(fpr),
        false,
    );
    pgp_mime(&headers(from, "Path traversal in export", msgid, &[]), &ct)
}

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    let head = raw.split("\r\n\r\n").next().unwrap_or(raw);
    let mut found = None;
    let mut lines = head.split("\r\n").peekable();
    while let Some(l) = lines.next() {
        if l.len() > name.len()
            && l.get(..name.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(name))
            && l.as_bytes().get(name.len()) == Some(&b':')
        {
            let start = l.as_ptr() as usize - raw.as_ptr() as usize;
            let mut end = start + l.len();
            while let Some(next) = lines.peek() {
                if next.starts_with([' ', '\t']) {
                    end = next.as_ptr() as usize - raw.as_ptr() as usize + next.len();
                    lines.next();
                } else {
                    break;
                }
            }
            found = raw.get(start + name.len() + 1..end).map(str::trim);
            break;
        }
    }
    found
}

fn write_reply(env: &Env, text: &str) -> String {
    let p = env.dir.path().join("reply.txt");
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn report_ack_reply_answer_and_the_response_promise_kept_by_the_reply_over_real_servers() {
    let servers = MailServers::start();
    let env = servers_env(&servers);
    let (gpg, fpr) = reporter_gpg("Rita Reporter <reporter@example.test>");
    servers.send(
        "reporter@example.test",
        &["security@example.test"],
        &encrypted_report(
            &gpg,
            &fpr,
            "Rita Reporter <reporter@example.test>",
            "report-1@example.test",
        ),
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(
        (s["created"].as_u64(), s["sent"].as_u64()),
        (Some(1), Some(1)),
        "{s}"
    );
    let case = env.cases()[0]["id"].as_str().unwrap().to_string();
    // The key a reply would use can be exported for answering outside triaged.
    let o = env.run(&["keys", "export", "--reporter", "Reporter@Example.test"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let shown = gpg.run(&["--with-colons", "--show-keys"], Some(&o.stdout));
    assert!(
        String::from_utf8_lossy(&shown).contains(&fpr),
        "the reporter's own key"
    );

    // Before any reply, the response promise is open (moving the case changes nothing).
    let o = env.run(&["case", "move", &case, "accepted", "--as", "alice"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let p = env.json(&["sla", "--case", &case, "--json"]);
    assert_eq!(p["promises"][0]["clock"], "ack");
    assert_eq!(p["promises"][0]["status"], "kept", "{p:#}");
    assert_eq!(p["promises"][0]["kept_by"]["kind"], "ack", "{p:#}");
    assert_eq!(
        p["promises"][1]["status"], "open",
        "a move is not a response: {p:#}"
    );

    // The operator answers from the case.
    let f = write_reply(
        &env,
        "Hello Rita,\n\nwe reproduced the path traversal and are preparing a fix.\n\nAlice, security team\n",
    );
    let q = env.json(&[
        "case", "reply", &case, "--file", &f, "--as", "alice", "--json",
    ]);
    assert_eq!(q["encrypted"], true, "{q}");
    assert_eq!(q["in_reply_to"], "report-1@example.test", "{q}");
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 1, "{s}");

    // The reporter's mailbox: the ack, then the reply, which their gpg opens and verifies.
    let mut inbox = Vec::new();
    for _ in 0..50 {
        inbox = servers.imap("reporter@example.test").fetch_all("INBOX");
        if inbox.len() >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(inbox.len(), 2, "the ack and the reply");
    let reply = inbox
        .iter()
        .map(|m| String::from_utf8_lossy(m.as_slice()).into_owned())
        .find(|m| header(m, "Message-ID").is_some_and(|v| v.contains(".reply.")))
        .expect("the reply in the reporter's mailbox");
    let ack = inbox
        .iter()
        .map(|m| String::from_utf8_lossy(m.as_slice()).into_owned())
        .find(|m| header(m, "Message-ID").is_some_and(|v| v.contains(".ack.")))
        .expect("the ack");
    let ack_id = header(&ack, "Message-ID").unwrap().to_string();
    assert_eq!(
        header(&reply, "In-Reply-To"),
        Some("<report-1@example.test>")
    );
    let refs = header(&reply, "References").unwrap();
    assert!(
        refs.contains("<report-1@example.test>") && refs.contains(&ack_id),
        "the whole thread: {refs}"
    );
    assert!(
        refs.trim_end().ends_with("<report-1@example.test>"),
        "the parent last: {refs}"
    );
    assert!(
        header(&reply, "Auto-Submitted").is_none(),
        "a person's reply is not automatic mail"
    );
    assert!(header(&reply, "Subject").unwrap().contains(&case));
    let (status, plain) = gpg.decrypt_mail(reply.as_bytes());
    assert!(
        status.contains("[GNUPG:] GOODSIG FA045DF9247F8F27"),
        "signed by the team key: {status}"
    );
    assert!(status.contains("DECRYPTION_OKAY"), "{status}");
    assert!(
        plain.contains("we reproduced the path traversal"),
        "{plain}"
    );
    assert!(plain.contains("protected-headers=\"v1\""), "{plain}");

    // The reporter answers in the thread; the answer joins the case.
    let reply_id = header(&reply, "Message-ID").unwrap().to_string();
    let answer = crlf(&format!(
        "{}\nThanks! Affected versions: acme-server 2.4.0 and 2.4.1.\n",
        headers(
            "Rita Reporter <reporter@example.test>",
            &format!("Re: [{case}] Your security report"),
            "answer-1@example.test",
            &[
                &format!("In-Reply-To: {reply_id}"),
                &format!("References: <report-1@example.test> {ack_id} {reply_id}"),
            ],
        )
    ));
    servers.send(
        "reporter@example.test",
        &["security@example.test"],
        answer.as_bytes(),
    );
    // A Bcc of our own reply to the team mailbox comes back: recognised, no case.
    servers.send(
        "security@example.test",
        &["security@example.test"],
        reply.as_bytes(),
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(
        (
            s["created"].as_u64(),
            s["follow_ups"].as_u64(),
            s["own_copies"].as_u64()
        ),
        (Some(0), Some(1), Some(1)),
        "{s}"
    );
    let shown = env.json(&["case", "show", &case, "--json"]);
    assert_eq!(shown["messages"].as_array().unwrap().len(), 2, "{shown:#}");
    let sent = shown["sent"].as_array().unwrap();
    let r = sent.iter().find(|m| m["kind"] == "reply").unwrap();
    assert_eq!(
        (r["author"].as_str(), r["state"].as_str()),
        (Some("alice"), Some("sent"))
    );
    assert!(
        shown["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "own-copy"),
        "{shown:#}"
    );

    // `sla` says which promise was kept by what: the response, by alice's reply.
    let p = env.json(&["sla", "--case", &case, "--json"]);
    let resp = &p["promises"][1];
    assert_eq!(resp["clock"], "response");
    assert_eq!(resp["status"], "kept", "{p:#}");
    assert_eq!(resp["kept_by"]["kind"], "reply", "{p:#}");
    assert_eq!(resp["kept_by"]["author"], "alice", "{p:#}");
    assert_eq!(resp["on_time"], true, "{p:#}");
    let human = stdout(&env.run(&["sla", "--case", &case]));
    assert!(human.contains("written by alice"), "{human}");
    let stats = env.json(&["stats", "--json"]);
    assert!(
        stats["median_seconds_to_first_human_response"].is_i64(),
        "{stats}"
    );
    assert_eq!(stats["responded_within_window"], 1, "{stats}");

    // The export holds the reply as the reporter reads it (opened with the team key).
    let mbox = stdout(&env.run(&["case", "export", &case]));
    assert!(mbox.contains("we reproduced the path traversal"), "{mbox}");
    assert!(mbox.contains("From: alice"), "{mbox}");
}

/// A plaintext report from an address with no known key.
fn plain_report(env: &Env, from: &str, n: &str) {
    env.deliver(
        n,
        crlf(&format!(
            "{}\nXSS in the comment form of acme-wiki 1.2.0: <script>alert(1)</script>\n\
             An attacker can steal the session of any visitor.\n",
            headers(from, "XSS in comments", &format!("{n}@example.net"), &[])
        ))
        .as_bytes(),
    );
}

#[test]
fn without_a_key_a_reply_needs_cleartext_and_the_policy_can_forbid_it() {
    let env = team_env();
    plain_report(&env, "Sam <sam@example.net>", "p1");
    env.json(&["run", "--once", "--json"]);
    let case = env.cases()[0]["id"].as_str().unwrap().to_string();
    let o = env.run(&["keys", "export", "--reporter", "sam@example.net"]);
    assert_eq!(o.status.code(), Some(3), "no key known: {}", stderr(&o));
    let f = write_reply(&env, "Hello Sam,\n\nthanks, we are looking into it.\n");
    let o = env.run(&["case", "reply", &case, "--file", &f]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("--cleartext"), "{}", stderr(&o));
    let o = env.run(&[
        "case",
        "reply",
        &case,
        "--file",
        &f,
        "--cleartext",
        "--as",
        "bob",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    env.json(&["run", "--once", "--json"]);
    let mails = outbox_mails(&env);
    let reply = mails
        .iter()
        .find(|m| m.contains(".reply."))
        .expect("the reply in the outbox");
    assert!(reply.contains("multipart/signed"), "{reply}");
    assert!(reply.contains("thanks, we are looking into it"), "{reply}");
    assert!(reply.contains("In-Reply-To: <p1@example.net>"), "{reply}");

    // A policy that requires encryption refuses even with --cleartext.
    let cfg = std::fs::read_to_string(&env.config).unwrap()
        + "\n[policy.default]\nrequire_encryption = true\n";
    std::fs::write(&env.config, cfg).unwrap();
    let o = env.run(&["case", "reply", &case, "--file", &f, "--cleartext"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("require_encryption"), "{}", stderr(&o));
}

#[test]
fn a_reply_quoting_an_encrypted_report_never_goes_in_cleartext() {
    let env = team_env();
    // Encrypted to the team, no reporter key attached or known.
    let gpg = Gpg::new();
    gpg.run(
        &[
            "--import",
            repo().join("keys/test/team-public.asc").to_str().unwrap(),
        ],
        None,
    );
    let ct = gpg.encrypt(
        b"Content-Type: text/plain\r\n\r\nSecret details: curl http://x/?id=1%27 on acme 2.4.1.\r\n",
        &["security@example.test"],
        None,
        false,
    );
    env.deliver(
        "e1",
        &pgp_mime(
            &headers("Eli <eli@example.net>", "report", "e1@example.net", &[]),
            &ct,
        ),
    );
    env.json(&["run", "--once", "--json"]);
    let case = env.cases()[0]["id"].as_str().unwrap().to_string();
    let f = write_reply(
        &env,
        "> Secret details: curl http://x/?id=1%27\n\nConfirmed.\n",
    );
    let o = env.run(&["case", "reply", &case, "--file", &f, "--cleartext"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("quotes the report"), "{}", stderr(&o));
    assert!(
        !outbox_mails(&env).iter().any(|m| m.contains(".reply.")),
        "nothing queued"
    );
}

#[test]
fn templates_fill_from_the_case_and_name_the_command_for_what_is_missing() {
    let env = team_env();
    plain_report(&env, "Sam <sam@example.net>", "t1");
    env.json(&["run", "--once", "--json"]);
    let case = env.cases()[0]["id"].as_str().unwrap().to_string();
    let o = env.run(&[
        "case",
        "reply",
        &case,
        "--template",
        "fixed",
        "--no-edit",
        "--cleartext",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains(&format!("triaged case set {case} --fixed-in")),
        "{}",
        stderr(&o)
    );
    let o = env.run(&[
        "case",
        "set",
        &case,
        "--fixed-in",
        "1.2.1",
        "--cve",
        "cve-2026-12345",
        "--credit-name",
        "Sam Smith",
        "--credit-affiliation",
        "Example Labs",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = env.run(&["case", "set", &case, "--cwe", "XSS"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--cwe"), "{}", stderr(&o));
    let o = env.run(&[
        "case",
        "reply",
        &case,
        "--template",
        "fixed",
        "--no-edit",
        "--dry-run",
    ]);
    let out = stdout(&o);
    assert!(out.contains("fixed in version 1.2.1"), "{out}");
    assert!(out.contains("CVE-2026-12345"), "{out}");
    assert!(out.contains("Sam Smith, Example Labs"), "{out}");
    assert!(out.contains("to: sam@example.net"), "{out}");
    // A policy's own template replaces the built-in one.
    std::fs::create_dir_all(env.dir.path().join("templates")).unwrap();
    std::fs::write(
        env.dir.path().join("templates/fixed.txt"),
        "Fixed in {fixed_in} ({cve}). {{not a placeholder}}\n",
    )
    .unwrap();
    let cfg = std::fs::read_to_string(&env.config).unwrap()
        + "\n[policy.default]\ntemplates = \"templates\"\n";
    std::fs::write(&env.config, cfg).unwrap();
    let out = stdout(&env.run(&[
        "case",
        "reply",
        &case,
        "--template",
        "fixed",
        "--no-edit",
        "--dry-run",
    ]));
    assert!(
        out.contains("Fixed in 1.2.1 (CVE-2026-12345). {not a placeholder}"),
        "{out}"
    );
    let list = stdout(&env.run(&["case", "templates", &case]));
    assert!(list.contains("templates/fixed.txt"), "{list}");
    assert!(list.contains("needs-info"), "{list}");
}

#[test]
fn the_editor_opens_with_the_thread_as_comments_that_are_not_sent() {
    let env = team_env();
    plain_report(&env, "Sam <sam@example.net>", "ed1");
    env.json(&["run", "--once", "--json"]);
    let case = env.cases()[0]["id"].as_str().unwrap().to_string();
    // The "editor" keeps what it was given (to check it) and appends a line.
    let seen = env.dir.path().join("seen.txt");
    let editor = env.dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        format!(
            "#!/bin/sh\ncp \"$1\" {}\nprintf 'Written in the editor.\\n' >> \"$1\"\n",
            seen.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_triaged"))
        .args(["--config", env.config.to_str().unwrap()])
        .args([
            "case",
            "reply",
            &case,
            "--template",
            "accepted",
            "--dry-run",
        ])
        .env("EDITOR", &editor)
        .env_remove("VISUAL")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let started = std::fs::read_to_string(&seen).unwrap();
    assert!(started.contains("# The thread so far:"), "{started}");
    assert!(started.contains("from sam@example.net"), "{started}");
    assert!(
        started.contains("Hello Sam"),
        "the template under the comments: {started}"
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("Written in the editor."), "{out}");
    assert!(
        !out.contains("# The thread so far"),
        "comments are not sent: {out}"
    );
}

#[test]
fn a_recipient_the_server_refuses_for_good_is_not_retried_and_the_team_is_told() {
    let servers = MailServers::start();
    servers.add_user("team@example.test");
    let env = team_env();
    let cfg = std::fs::read_to_string(&env.config).unwrap().replace(
        "[outbox]\ntransport = \"file\"\ndir = \"outbox\"\n",
        &format!(
            "[outbox]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"plain\"\n",
            servers.smtp_port
        ),
    );
    std::fs::write(&env.config, &cfg).unwrap();
    // OpenSMTPD accepts only example.test: the ack to elsewhere.test gets a 550.
    plain_report(&env, "Nina <nina@elsewhere.test>", "n1");
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["send_failed"], 1, "{s}");
    let case = env.cases()[0]["id"].as_str().unwrap().to_string();
    let shown = env.json(&["case", "show", &case, "--json"]);
    let ack = shown["sent"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "ack")
        .unwrap()
        .clone();
    assert_eq!(ack["state"], "failed", "{shown:#}");
    assert!(ack["error"].as_str().unwrap().contains("550"), "{ack}");
    let human = stdout(&env.run(&["case", "show", &case]));
    assert!(human.contains("refused for good, not retried"), "{human}");
    // Nothing is retried, even when every retry is due.
    let db = rusqlite::Connection::open(env.dir.path().join("state/triaged.db")).unwrap();
    db.execute("UPDATE outbox SET next_attempt_at = 0", [])
        .unwrap();
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(
        (s["sent"].as_u64(), s["send_failed"].as_u64()),
        (Some(0), Some(0)),
        "{s}"
    );
    // The team was told, once.
    let team = team_inbox(&servers);
    assert_eq!(team.len(), 1, "one notice");
    let notice = String::from_utf8_lossy(&team[0]);
    assert!(notice.contains("was refused"), "{notice}");
    assert!(notice.contains(&case), "{notice}");
}

#[test]
fn the_sweep_reminds_the_team_before_an_embargo_ends_and_before_the_resolution_deadline() {
    let env = team_env();
    let cfg = std::fs::read_to_string(&env.config).unwrap()
        + "\n[policy.default]\nack_within = \"48h\"\nfollowup_within = \"7d\"\nresolve_within = \"2s\"\n";
    std::fs::write(&env.config, cfg).unwrap();
    plain_report(&env, "Sam <sam@example.net>", "s1");
    env.json(&["run", "--once", "--json"]);
    let case = env.cases()[0]["id"].as_str().unwrap().to_string();
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let o = env.run(&["case", "set", &case, "--embargo", &today]);
    assert!(o.status.success(), "{}", stderr(&o));
    std::thread::sleep(std::time::Duration::from_secs(3));
    // (The resolution escalation may already have gone with the first pass: 75 % of
    // two seconds is short.)
    let s = env.json(&["run", "--once", "--json"]);
    assert!(
        s["escalations"].as_u64().unwrap() >= 2,
        "reminder and breach: {s}"
    );
    let mails = outbox_mails(&env);
    let embargo: Vec<_> = mails
        .iter()
        .filter(|m| m.contains("Embargo ends"))
        .collect();
    assert_eq!(embargo.len(), 1, "{mails:#?}");
    assert!(embargo[0].contains("To: team@example.test"));
    assert!(embargo[0].contains(&today));
    assert_eq!(
        mails
            .iter()
            .filter(|m| m.contains("resolution due"))
            .count(),
        1
    );
    let shown = env.json(&["case", "show", &case, "--json"]);
    assert!(
        shown["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "breach-resolve"),
        "{shown:#}"
    );
    // Idempotent: a second sweep reminds nobody again.
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["escalations"], 0, "{s}");
    let p = env.json(&["sla", "--case", &case, "--json"]);
    assert_eq!(p["promises"][2]["clock"], "resolution");
    assert_eq!(p["promises"][2]["status"], "broken", "{p:#}");
}

/// A person's reply goes out with our address as envelope sender (acks keep the null
/// sender of RFC 3834). When the reporter's server accepts it and later fails to deliver
/// it, the real bounce OpenSMTPD returns reaches the mailbox, is matched to the reply by
/// the returned Message-ID, opens no case, marks the reply failed and tells the team.
#[test]
fn a_reply_that_bounces_after_it_was_accepted_is_matched_to_its_case_and_the_team_is_told() {
    let servers = MailServers::start();
    servers.add_user("team@example.test");
    let env = servers_env(&servers);
    servers.send(
        "gina@gone.test",
        &["security@example.test"],
        crlf(&format!(
            "{}\nXSS in the comment form of acme-wiki 1.2.0: <script>alert(1)</script>\n\
             An attacker can steal the session of any visitor.\n",
            headers(
                "Gina <gina@gone.test>",
                "XSS in comments",
                "g1@gone.test",
                &[]
            )
        ))
        .as_bytes(),
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(
        (s["created"].as_u64(), s["sent"].as_u64()),
        (Some(1), Some(1)),
        "{s}"
    );
    let case = env.cases()[0]["id"].as_str().unwrap().to_string();
    let f = write_reply(
        &env,
        "Hello Gina,\n\nwe reproduced it; a fix is on its way.\n",
    );
    let o = env.run(&[
        "case",
        "reply",
        &case,
        "--file",
        &f,
        "--cleartext",
        "--as",
        "alice",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 1, "{s}");
    // The ack (null sender) bounced silently; the reply's bounce comes back to us.
    let mut inbox = 0;
    for _ in 0..100 {
        inbox = servers.imap("security@example.test").count("INBOX");
        if inbox >= 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        inbox, 2,
        "the report and one bounce (of the reply, not of the ack)"
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(
        (s["created"].as_u64(), s["delivery_reports"].as_u64()),
        (Some(0), Some(1)),
        "{s}"
    );
    assert_eq!(env.cases().len(), 1, "the bounce opened no case");
    let shown = env.json(&["case", "show", &case, "--json"]);
    let reply = shown["sent"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "reply")
        .unwrap()
        .clone();
    assert_eq!(reply["state"], "failed", "{shown:#}");
    let error = reply["error"].as_str().unwrap();
    assert!(
        error.starts_with("bounced: failed for gina@gone.test"),
        "{error}"
    );
    let ev = shown["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "bounced")
        .unwrap_or_else(|| panic!("{shown:#}"))
        .clone();
    assert!(
        ev["detail"].as_str().unwrap().contains("our reply <"),
        "{ev}"
    );
    // The team is told once; reading the bounce again changes nothing.
    let team = team_inbox(&servers);
    assert_eq!(team.len(), 1, "one notice");
    let notice = String::from_utf8_lossy(&team[0]);
    assert!(
        notice.contains("bounced") && notice.contains(&case),
        "{notice}"
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 0, "{s}");
}
