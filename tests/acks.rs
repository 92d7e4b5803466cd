//! Acknowledgments: composed as RFC 3156, verified and decrypted by GnuPG, parsed by
//! Python's `email`, delivered over a real SMTP server, silent when they must be.

mod common;
use common::servers::{MailServers, PASSWORD};
use common::*;

fn team_env(extra: &str) -> Env {
    let root = repo();
    let key = std::fs::read(root.join("keys/test/team-secret.asc")).unwrap();
    let pass = std::fs::read_to_string(root.join("keys/test/passphrase")).unwrap();
    Env::new(&[("team.asc", &key)], Some(pass.trim()), extra)
}

fn outbox_files(env: &Env) -> Vec<Vec<u8>> {
    let dir = env.dir.path().join("outbox");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| {
            d.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v.into_iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// Splits a multipart/signed message into (signed part bytes, signature) by its boundary.
fn signed_parts(raw: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let text = String::from_utf8(raw.to_vec()).unwrap();
    let b = text
        .split("boundary=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let delim = format!("\r\n--{b}\r\n");
    let first = text.find(&format!("--{b}\r\n")).unwrap() + b.len() + 4;
    let second = text[first..].find(&delim).unwrap() + first;
    let part = text.as_bytes()[first..second].to_vec();
    let sig_start = text[second + delim.len()..]
        .find("-----BEGIN PGP SIGNATURE")
        .unwrap()
        + second
        + delim.len();
    let sig_end = text.find("-----END PGP SIGNATURE-----").unwrap() + 27;
    (part, text.as_bytes()[sig_start..sig_end].to_vec())
}

/// `gpg --verify` of a detached signature with only the team's public key known.
fn gpg_verify(raw: &[u8]) -> String {
    let gpg = Gpg::new();
    gpg.run(
        &[
            "--import",
            repo().join("keys/test/team-public.asc").to_str().unwrap(),
        ],
        None,
    );
    let (part, sig) = signed_parts(raw);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("part"), &part).unwrap();
    std::fs::write(dir.path().join("sig.asc"), &sig).unwrap();
    let o = std::process::Command::new("gpg")
        .env("GNUPGHOME", gpg.home.path())
        .args(["--batch", "--status-fd", "1", "--verify"])
        .arg(dir.path().join("sig.asc"))
        .arg(dir.path().join("part"))
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "gpg --verify failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Python's email parser: content type, number of parts, protocol and micalg parameters.
fn python_parse(raw: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.eml");
    std::fs::write(&p, raw).unwrap();
    let o = std::process::Command::new("python3")
        .arg("-c")
        .arg(
            "import email,sys\nm=email.message_from_bytes(open(sys.argv[1],'rb').read())\n\
             print(m.get_content_type(), len(m.get_payload()), m.get_param('protocol'), m.get_param('micalg'), m.defects, [p.get_content_type() for p in m.get_payload()], m['Auto-Submitted'])",
        )
        .arg(&p)
        .output()
        .expect("python3");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// The reporter's INBOX once it holds `n` messages (or after 5 s).
fn reporter_inbox(servers: &MailServers, n: usize) -> Vec<Vec<u8>> {
    let mut got = Vec::new();
    for _ in 0..50 {
        got = servers.imap("reporter@example.test").fetch_all("INBOX");
        if got.len() >= n {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    got
}

/// Runs once, expecting the one queued ack to fail and stay queued; its last error.
fn run_expecting_a_send_failure(env: &Env) -> String {
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(
        (s["sent"].as_u64(), s["send_failed"].as_u64()),
        (Some(0), Some(1)),
        "{s}"
    );
    rusqlite::Connection::open(env.dir.path().join("state/triaged.db"))
        .unwrap()
        .query_row(
            "SELECT last_error FROM outbox WHERE state = 'queued'",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

fn report_from(from: &str, msgid: &str, extra: &[&str]) -> Vec<u8> {
    plain(
        &headers(from, "XSS in search", msgid, extra),
        "The search page reflects <script>alert(1)</script>; an attacker can steal sessions in acme 2.4.1.\n",
    )
}

#[test]
fn ack_is_a_pgp_mime_signature_gpg_and_python_accept() {
    let env = team_env(
        "[policy.default]\nrequire = [\"poc\", \"versions\", \"impact\", \"fix_suggestion\"]\n",
    );
    env.deliver(
        "1",
        &report_from("Rita <rita@example.net>", "r1@example.net", &[]),
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 1, "{s}");
    let acks = outbox_files(&env);
    assert_eq!(acks.len(), 1);
    let raw = &acks[0];
    let text = String::from_utf8_lossy(raw);
    assert!(text.contains("Subject: [SEC-"), "{text}");
    assert!(text.contains("Auto-Submitted: auto-replied"));
    assert!(text.contains("In-Reply-To: <r1@example.net>"));
    assert!(text.contains("Autocrypt: addr=security@example.test"));
    assert!(
        text.contains("a patch or concrete steps to remediate"),
        "the missing item is named: {text}"
    );
    assert!(
        !text.contains("<script>"),
        "an unencrypted ack never quotes the report"
    );
    let status = gpg_verify(raw);
    assert!(status.contains("GOODSIG"), "{status}");
    assert!(
        status.contains("A2C3BC3FD507C7230A253F0DFA045DF9247F8F27"),
        "{status}"
    );
    // RFC 9788 hp="clear": the header fields are copied into the signed part.
    let (signed_part, _) = signed_parts(raw);
    let signed_part = String::from_utf8_lossy(&signed_part);
    assert!(signed_part.contains("hp=\"clear\""), "{signed_part}");
    let subject_line = text
        .lines()
        .find(|l| l.starts_with("Subject: [SEC-"))
        .unwrap();
    assert!(signed_part.contains(subject_line), "{signed_part}");
    let py = python_parse(raw);
    assert!(
        py.starts_with("multipart/signed 2 application/pgp-signature pgp-sha256 [] ['text/plain', 'application/pgp-signature'] auto-replied"),
        "{py}"
    );
    // Re-running sends nothing more (once in intent).
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 0, "{s}");
}

#[test]
fn ack_is_encrypted_to_a_valid_reporter_key_and_gpg_decrypts_it() {
    let gpg = Gpg::new();
    let fpr = gpg.generate("Rita <rita@example.net>", "ed25519", "cv25519", "");
    let public = String::from_utf8(gpg.export_public(&fpr)).unwrap();
    let env = team_env("");
    let raw = crlf(&format!(
        "{}Content-Type: multipart/mixed; boundary=\"=_rpt_boundary_7\"\n\n--=_rpt_boundary_7\nContent-Type: text/plain\n\n\
         SQL injection: curl 'http://x/login?u=%27%20OR%201=1' works on acme 2.4.1; an attacker can read every account.\n\
         --=_rpt_boundary_7\nContent-Type: application/pgp-keys; name=\"rita.asc\"\n\n{public}\n--=_rpt_boundary_7--\n",
        headers(
            "Rita <rita@example.net>",
            "SQLi in login",
            "r2@example.net",
            &[]
        )
    ));
    env.deliver("1", raw.as_bytes());
    env.json(&["run", "--once", "--json"]);
    let acks = outbox_files(&env);
    assert_eq!(acks.len(), 1);
    let text = String::from_utf8_lossy(&acks[0]).into_owned();
    assert!(
        text.contains("multipart/encrypted; protocol=\"application/pgp-encrypted\""),
        "{text}"
    );
    assert!(
        text.contains("Subject: [SEC-"),
        "the outer subject is neutral"
    );
    let start = text.find("-----BEGIN PGP MESSAGE-----").unwrap();
    let end = text.find("-----END PGP MESSAGE-----").unwrap() + 25;
    gpg.run(
        &[
            "--import",
            repo().join("keys/test/team-public.asc").to_str().unwrap(),
        ],
        None,
    );
    let o = std::process::Command::new("gpg")
        .env("GNUPGHOME", gpg.home.path())
        .args(["--batch", "--status-fd", "2", "--decrypt"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(&text.as_bytes()[start..end])?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let plain = String::from_utf8_lossy(&o.stdout);
    let status = String::from_utf8_lossy(&o.stderr);
    assert!(
        status.contains("GOODSIG"),
        "signed inside the encryption: {status}"
    );
    assert!(
        plain.contains("protected-headers=\"v1\"; hp=\"cipher\""),
        "{plain}"
    );
    // What was left outside is recorded inside (RFC 9788 HP-Outer): here the same.
    let outer_subject = text
        .lines()
        .find(|l| l.starts_with("Subject: [SEC-"))
        .unwrap();
    assert!(
        plain.contains(&format!("\r\nHP-Outer: {outer_subject}\r\n")),
        "{plain}"
    );
    assert!(
        plain.contains("SQLi in login"),
        "encrypted: the report subject may be quoted: {plain}"
    );
    assert!(
        plain.contains("everything our policy asks for") || plain.contains("we still need"),
        "{plain}"
    );
}

#[test]
fn expired_reporter_key_gets_a_signed_ack_that_says_why() {
    let gpg = Gpg::new();
    // A key made in 2020 that expired after a day.
    gpg.run(
        &[
            "--faked-system-time",
            "20200101T000000",
            "--passphrase",
            "",
            "--quick-gen-key",
            "Old <old@example.net>",
            "ed25519",
            "sign",
            "1d",
        ],
        None,
    );
    let fpr = gpg.fingerprint("old@example.net");
    gpg.run(
        &[
            "--faked-system-time",
            "20200101T000000",
            "--passphrase",
            "",
            "--quick-add-key",
            &fpr,
            "cv25519",
            "encr",
            "1d",
        ],
        None,
    );
    let public = String::from_utf8(gpg.export_public(&fpr)).unwrap();
    let env = team_env("");
    let raw = crlf(&format!(
        "{}Content-Type: multipart/mixed; boundary=\"=_rpt_boundary_7\"\n\n--=_rpt_boundary_7\nContent-Type: text/plain\n\nXSS <script>alert(1)</script> in acme 2.4.1 lets an attacker steal sessions.\n\
         --=_rpt_boundary_7\nContent-Type: application/pgp-keys\n\n{public}\n--=_rpt_boundary_7--\n",
        headers("Old <old@example.net>", "XSS", "r3@example.net", &[])
    ));
    env.deliver("1", raw.as_bytes());
    env.json(&["run", "--once", "--json"]);
    let acks = outbox_files(&env);
    assert_eq!(acks.len(), 1);
    let text = String::from_utf8_lossy(&acks[0]);
    assert!(text.contains("multipart/signed"), "{text}");
    assert!(text.contains("signed but not encrypted: the key"), "{text}");
    assert!(
        text.contains("expired") || text.contains("no valid encryption subkey"),
        "{text}"
    );
    assert!(gpg_verify(&acks[0]).contains("GOODSIG"));
}

#[test]
fn automatic_list_bounce_and_own_mail_get_no_ack_and_each_silence_is_recorded() {
    let env = team_env("");
    let cases = [
        (
            "a",
            report_from("bot@example.net", "a@x", &["Auto-Submitted: auto-replied"]),
            "Auto-Submitted",
        ),
        (
            "b",
            report_from("news@example.net", "b@x", &["Precedence: bulk"]),
            "Precedence",
        ),
        (
            "c",
            report_from(
                "list@example.net",
                "c@x",
                &["List-Id: <sec.lists.example.net>"],
            ),
            "List-Id",
        ),
        (
            "d",
            report_from("x@example.net", "d@x", &["Return-Path: <>"]),
            "null Return-Path",
        ),
        (
            "e",
            report_from("MAILER-DAEMON@example.net", "e@x", &[]),
            "automated sender",
        ),
        (
            "f",
            report_from("security@example.test", "f@x", &[]),
            "our own address",
        ),
        (
            "h",
            report_from("away@example.net", "h@x", &["X-Autoreply: yes"]),
            "X-Autoreply",
        ),
        (
            "i",
            report_from(
                "ticket@example.net",
                "i@x",
                &["X-Auto-Response-Suppress: DR, AutoReply"],
            ),
            "X-Auto-Response-Suppress",
        ),
    ];
    for (n, raw, _) in &cases {
        env.deliver(n, raw);
    }
    // Auto-Submitted: no is a person; so is one who only asks for no out-of-office
    // replies (our ack is not one).
    env.deliver(
        "g",
        &report_from("person@example.net", "g@x", &["Auto-Submitted: no"]),
    );
    env.deliver(
        "k",
        &report_from(
            "outlook@example.net",
            "k@x",
            &["X-Auto-Response-Suppress: OOF"],
        ),
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 10, "{s}");
    assert_eq!(s["sent"], 2, "only the two people get an ack: {s}");
    let all = env.cases();
    for (_, _, why) in &cases {
        let found = all.iter().any(|c| {
            let show = env.json(&["case", "show", c["id"].as_str().unwrap(), "--json"]);
            show["events"].as_array().unwrap().iter().any(|e| {
                e["kind"] == "ack-suppressed" && e["detail"].as_str().unwrap_or("").contains(why)
            })
        });
        assert!(found, "no ack-suppressed event mentioning {why}");
    }
    // Our own ack fed back in (a loop) is answered with silence.
    let ack = outbox_files(&env).pop().unwrap();
    env.deliver("loop", &ack);
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 0, "{s}");
}

/// Spam that forges the team's address makes mail servers send it bounces
/// (backscatter), often in floods. A delivery report about mail triaged did not send is
/// kept as a case, closed at once with the reason, never answered, and owes no clock:
/// `sla` lists nothing and no escalation goes out. An operator can reopen it.
#[test]
fn a_bounce_about_mail_triaged_did_not_send_is_kept_closed_and_owes_nothing() {
    let env = team_env("");
    // An RFC 3464 report as Postfix writes it, returning someone else's message.
    let dsn = crlf(&format!(
        "{}Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n\
         --B\nContent-Type: text/plain\n\nI'm sorry to have to inform you that your message could not be delivered.\n\
         --B\nContent-Type: message/delivery-status\n\n\
         Reporting-MTA: dns; mx.example.org\n\n\
         Final-Recipient: rfc822; nobody@example.org\nAction: failed\nStatus: 5.1.1\n\
         Diagnostic-Code: smtp; 550 5.1.1 <nobody@example.org>: Recipient address rejected\n\n\
         --B\nContent-Type: text/rfc822-headers\n\n\
         From: Security <security@example.test>\nTo: nobody@example.org\nSubject: Your account is locked\n\
         Message-ID: <phish-1@forged.example>\n\n--B--\n",
        headers(
            "Mail Delivery System <MAILER-DAEMON@mx.example.org>",
            "Undelivered Mail Returned to Sender",
            "dsn-1@mx.example.org",
            &["Return-Path: <>", "Auto-Submitted: auto-replied"]
        )
    ));
    // A plain-text notice (Exim), the returned headers pasted into the text.
    let notice = plain(
        &headers(
            "Mail Delivery System <Mailer-Daemon@mail.example.net>",
            "Mail delivery failed: returning message to sender",
            "exim-1@mail.example.net",
            &["Return-Path: <>", "Auto-Submitted: auto-replied"],
        ),
        "This message was created automatically by mail delivery software.\n\n\
         A message that you sent could not be delivered to one or more of its recipients.\n\n\
           someone@example.net\n    Unrouteable address\n\n\
         ------ This is a copy of the message, including all the headers. ------\n\n\
         From: security@example.test\nSubject: Invoice overdue\nMessage-ID: <phish-2@forged.example>\n",
    );
    env.deliver("dsn", dsn.as_bytes());
    env.deliver("notice", &notice);
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(
        (s["created"].as_u64(), s["sent"].as_u64()),
        (Some(2), Some(0)),
        "{s}"
    );
    let cases = env.cases();
    for c in &cases {
        assert_eq!(c["state"], "closed", "{c:#}");
        assert!(
            c["state_reason"]
                .as_str()
                .unwrap()
                .contains("a delivery report about mail triaged did not send"),
            "{c:#}"
        );
    }
    assert!(
        cases
            .iter()
            .any(|c| c["state_reason"].as_str().unwrap().contains("550 5.1.1")),
        "the reason says what the report said: {cases:#?}"
    );
    assert_eq!(env.json(&["sla", "--json"]), serde_json::json!([]));
    assert!(outbox_files(&env).is_empty());
    // Reopened by an operator, it is an ordinary case again.
    let id = cases[0]["id"].as_str().unwrap();
    let o = env.run(&[
        "case",
        "move",
        id,
        "triaged",
        "--note",
        "the team's own mail",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// The To address of every mail in the outbox, sorted.
fn ack_recipients(env: &Env) -> Vec<String> {
    let mut to: Vec<String> = outbox_files(env)
        .iter()
        .map(|raw| {
            String::from_utf8_lossy(raw)
                .lines()
                .find_map(|l| l.strip_prefix("To: ").map(str::to_string))
                .unwrap()
        })
        .collect();
    to.sort();
    to
}

/// Rita's report, acknowledged: her case's id and the ack as sent.
fn rita_acknowledged(env: &Env) -> (String, String) {
    env.deliver(
        "r",
        &report_from("rita@example.net", "rita-1@example.net", &[]),
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 1, "{s}");
    let id = env.cases()[0]["id"].as_str().unwrap().to_string();
    let ack = String::from_utf8(outbox_files(env).pop().unwrap()).unwrap();
    (id, ack)
}

/// A read receipt (RFC 8098) that a reporter's client sends when they open our ack is
/// recorded on the case (`read-receipt`) and opens none; one about mail triaged did not
/// send is kept closed, like a bounce of forged mail.
#[test]
fn a_read_receipt_for_our_ack_is_recorded_on_its_case_and_opens_none() {
    let env = team_env("");
    let (_, ack) = rita_acknowledged(&env);
    let ack_id = ack
        .lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .unwrap()
        .trim()
        .to_string();
    let mdn = |msgid: &str, original: &str, subject: &str| {
        crlf(&format!(
            "{}Content-Type: multipart/report; report-type=disposition-notification; boundary=\"R\"\n\n\
             --R\nContent-Type: text/plain\n\nThe message was displayed.\n\
             --R\nContent-Type: message/disposition-notification\n\n\
             Reporting-UA: rita.example.net; Thunderbird 128.5.0\nFinal-Recipient: rfc822;rita@example.net\n\
             Original-Message-ID: {original}\n\
             Disposition: manual-action/MDN-sent-manually; displayed\n--R--\n",
            headers("Rita <rita@example.net>", subject, msgid, &[])
        ))
    };
    env.deliver(
        "mdn-ours",
        mdn(
            "mdn-1@example.net",
            &ack_id,
            "Read: [SEC-2026-0001] Report received",
        )
        .as_bytes(),
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(
        (
            s["created"].as_u64(),
            s["delivery_reports"].as_u64(),
            s["sent"].as_u64()
        ),
        (Some(0), Some(1), Some(0)),
        "{s}"
    );
    let id = env.cases()[0]["id"].as_str().unwrap().to_string();
    let show = env.json(&["case", "show", &id, "--json"]);
    let receipt = show["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "read-receipt")
        .unwrap_or_else(|| panic!("no read-receipt event: {show:#}"));
    assert!(
        receipt["detail"]
            .as_str()
            .unwrap()
            .contains("displayed for rita@example.net"),
        "{receipt:#}"
    );
    env.deliver(
        "mdn-other",
        mdn(
            "mdn-2@example.net",
            "<newsletter-7@example.test>",
            "Read: Our newsletter",
        )
        .as_bytes(),
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(
        (s["created"].as_u64(), s["sent"].as_u64()),
        (Some(1), Some(0)),
        "{s}"
    );
    let other = env
        .cases()
        .into_iter()
        .find(|c| c["id"] != id.as_str())
        .unwrap();
    assert_eq!(other["state"], "closed", "{other:#}");
    assert!(
        other["state_reason"]
            .as_str()
            .unwrap()
            .contains("a read receipt about mail triaged did not send"),
        "{other:#}"
    );
}

/// Reports receivers send about the domain's mail when its DMARC or TLSRPT record
/// names this mailbox: real DMARC aggregate and failure reports and an SMTP TLS report
/// (Google, Mimecast, LinkedIn, Domino, NetEase, Exim; `tests/fixtures/machine`). None
/// carries an RFC 3834 header, and Google's come from an address no rule knows: each is
/// kept as a case closed at once, its reason saying what it is; no ack, no clock. A
/// spam complaint (RFC 5965) about our ack opens no case and is recorded on its case.
#[test]
fn dmarc_tls_and_feedback_reports_owe_nothing_and_a_complaint_about_our_ack_is_recorded() {
    let env = team_env("");
    let (rita, ack) = rita_acknowledged(&env);
    let ack_head = ack.split("\r\n\r\n").next().unwrap().replace("\r\n", "\n");
    let dir = repo().join("tests/fixtures/machine");
    let mut fixtures: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    fixtures.sort();
    assert_eq!(fixtures.len(), 8);
    for p in &fixtures {
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        env.deliver(&name, &std::fs::read(p).unwrap());
    }
    // RFC 5965 §2 as Yahoo's and Microsoft's feedback loops send it: the recipient
    // pressed "spam" on our ack, whose headers come back in a text/rfc822-headers part.
    let complaint = crlf(&format!(
        "{}Content-Type: multipart/report; report-type=feedback-report; boundary=\"F\"\n\n\
         --F\nContent-Type: text/plain\n\nThis is an email abuse report for an email message received from IP 192.0.2.7.\n\
         --F\nContent-Type: message/feedback-report\n\n\
         Feedback-Type: abuse\nUser-Agent: ExampleFBL/2.1\nVersion: 1\n\
         Original-Rcpt-To: <rita@example.net>\nSource-IP: 192.0.2.7\nReported-Domain: example.test\n\n\
         --F\nContent-Type: text/rfc822-headers\n\n{ack_head}\n\n--F--\n",
        headers(
            "Feedback Loop <fbl@feedback.example.net>",
            "Complaint about message from 192.0.2.7",
            "fbl-1@feedback.example.net",
            &[]
        )
    ));
    env.deliver("fbl", complaint.as_bytes());
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(
        (
            s["created"].as_u64(),
            s["delivery_reports"].as_u64(),
            s["sent"].as_u64()
        ),
        (Some(8), Some(1), Some(0)),
        "eight closed cases, the complaint on Rita's, nothing sent: {s}"
    );
    for c in env.cases().iter().filter(|c| c["id"] != rita.as_str()) {
        assert_eq!(c["state"], "closed", "{c:#}");
        let why = c["state_reason"].as_str().unwrap();
        assert!(why.contains("nothing is owed"), "{c:#}");
        let show = env.json(&["case", "show", c["id"].as_str().unwrap(), "--json"]);
        assert!(
            !show["events"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["kind"] == "ack-queued"),
            "{show:#}"
        );
    }
    let reasons: Vec<String> = env
        .cases()
        .iter()
        .filter_map(|c| c["state_reason"].as_str().map(str::to_string))
        .collect();
    for said in [
        "a DMARC aggregate report (RFC 7489) from google.com about twlnet.com",
        "a DMARC aggregate report (RFC 7489) from mimecast.org about ab.id.au",
        "an SMTP TLS report (RFC 8460) from google.com about cardinalhealth.ca",
        "an authentication failure report (RFC 6591) about mail triaged did not send (Feedback-Type: auth-failure (Auth-Failure: dmarc)",
        "a mail system's report (multipart/report, RFC 6522)",
    ] {
        assert!(
            reasons.iter().any(|r| r.contains(said)),
            "{said}: {reasons:#?}"
        );
    }
    // Only Rita's case keeps a clock.
    let sla = env.json(&["sla", "--json"]);
    let open: Vec<&str> = sla
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["case"].as_str().or(c["id"].as_str()).unwrap())
        .collect();
    assert_eq!(open, [rita.as_str()], "{sla:#}");
    // `case list --open` shows the one case that is open.
    let listed = env.json(&["case", "list", "--open", "--json"]);
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [rita.as_str()], "{listed:#}");
    // Nor do they count in the team's figures: one case owed an ack, and got it.
    let stats = env.json(&["stats", "--json"]);
    assert_eq!(stats["response_efficiency"], 1.0, "{stats:#}");
    let show = env.json(&["case", "show", &rita, "--json"]);
    let fb = show["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "feedback-report")
        .unwrap_or_else(|| panic!("no feedback-report event: {show:#}"));
    let detail = fb["detail"].as_str().unwrap();
    assert!(
        detail.contains("Feedback-Type: abuse")
            && detail.contains("to rita@example.net")
            && detail.contains("marked it as spam"),
        "{detail}"
    );
    // The team's digest says what was closed on arrival, by kind (a rise in failure
    // reports means someone sends mail as the domain), and names the complaint.
    let o = env.run(&["digest"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let digest = stdout(&o);
    let closed = digest
        .split("Closed on arrival in the last 24 hours")
        .nth(1)
        .unwrap_or_else(|| panic!("{digest}"));
    let count = |kind: &str| {
        closed
            .lines()
            .find_map(|l| l.trim().strip_prefix(kind).map(|n| n.trim().to_string()))
    };
    assert_eq!(count("dmarc-aggregate").as_deref(), Some("3"), "{digest}");
    assert_eq!(count("auth-failure").as_deref(), Some("3"), "{digest}");
    assert_eq!(count("tls-report").as_deref(), Some("1"), "{digest}");
    assert_eq!(
        count("mail-system-report").as_deref(),
        Some("1"),
        "{digest}"
    );
    let feedback = digest
        .split("Receivers' feedback about our mail")
        .nth(1)
        .unwrap_or_else(|| panic!("{digest}"));
    assert!(
        feedback.contains(&format!("{rita}  feedback-report")),
        "{digest}"
    );
}

/// security@ published as the team's own mailing list (Google Groups, Mailman), with
/// triaged's mailbox among its members: every report carries `List-Id` and
/// `Precedence: list`, and a list that rewrites From for DMARC puts its own address
/// there. With `list_id` set, that list's mail is acknowledged, to the sender the list
/// names; without it (and for any other list) it is list mail, never answered.
#[test]
fn reports_through_the_teams_own_list_are_answered_to_the_sender_it_names() {
    // Headers as Google Groups writes them when it rewrites From (copied in shape from
    // a public archive of a Google Group), as Mailman 3 writes them with
    // dmarc_mitigate_action = munge_from, and as Mailman 2.1 delivers unmunged mail.
    let google = report_from(
        "\"'Rita Reporter' via Security\" <security@example.test>",
        "gg-1@mail.example.net",
        &[
            "X-Original-Sender: rita@example.net",
            "X-Original-From: Rita Reporter <rita@example.net>",
            "Reply-To: Rita Reporter <rita@example.net>",
            "Precedence: list",
            "Mailing-list: list security@example.test; contact security+owners@example.test",
            "List-ID: <security.example.test>",
            "X-Google-Group-Id: 357212215037",
            "List-Post: <https://groups.google.com/a/example.test/group/security/post>, <mailto:security@example.test>",
            "List-Unsubscribe: <mailto:googlegroups-manage+357212215037+unsubscribe@googlegroups.com>",
        ],
    );
    let mailman = report_from(
        "Mo Maintainer via Security <security@lists.example.test>",
        "mm3-1@example.org",
        &[
            "Reply-To: Mo Maintainer <mo@example.org>",
            "X-Mailman-Version: 3.3.8",
            "Precedence: list",
            "List-Id: Security reports <security.example.test>",
            "List-Post: <mailto:security@lists.example.test>",
        ],
    );
    let unmunged = report_from(
        "Nina <nina@example.org>",
        "mm2-1@example.org",
        &[
            "X-BeenThere: security@lists.example.test",
            "X-Mailman-Version: 2.1.29",
            "Precedence: list",
            "List-Id: <security.example.test>",
            "List-Post: <mailto:security@lists.example.test>",
        ],
    );
    let munged_without_sender = report_from(
        "\"'Anonymous' via Security\" <security@example.test>",
        "gg-2@mail.example.net",
        &[
            "Precedence: list",
            "List-ID: <security.example.test>",
            "List-Post: <mailto:security@example.test>",
        ],
    );
    let other_list = report_from(
        "Vendor <advisories@vendor.example>",
        "vsa-1@vendor.example",
        &["Precedence: list", "List-Id: <advisories.vendor.example>"],
    );
    let all = [
        ("1-google", &google),
        ("2-mailman", &mailman),
        ("3-unmunged", &unmunged),
        ("4-no-sender", &munged_without_sender),
        ("5-other", &other_list),
    ];
    // Without list_id: list mail, never answered.
    let plain_env = team_env("");
    for (n, raw) in &all {
        plain_env.deliver(n, raw);
    }
    let s = plain_env.json(&["run", "--once", "--json"]);
    assert_eq!(
        (s["created"].as_u64(), s["sent"].as_u64()),
        (Some(5), Some(0)),
        "{s}"
    );

    let env = team_env("");
    let config = std::fs::read_to_string(&env.config).unwrap().replace(
        "path = \"Maildir\"\n",
        "path = \"Maildir\"\nlist_id = \"security.example.test\"\n",
    );
    std::fs::write(&env.config, config).unwrap();
    for (n, raw) in &all {
        env.deliver(n, raw);
    }
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(
        (s["created"].as_u64(), s["sent"].as_u64()),
        (Some(5), Some(3)),
        "{s}"
    );
    assert_eq!(
        ack_recipients(&env),
        ["mo@example.org", "nina@example.org", "rita@example.net"],
        "each ack goes to the sender the list names, never to the list"
    );
    let cases = env.cases();
    let reporter = |subject_id: &str| {
        let c = cases
            .iter()
            .find(|c| {
                let show = env.json(&["case", "show", c["id"].as_str().unwrap(), "--json"]);
                show.to_string().contains(subject_id)
            })
            .unwrap_or_else(|| panic!("no case with {subject_id}"));
        env.json(&["case", "show", c["id"].as_str().unwrap(), "--json"])
    };
    let rita = reporter("gg-1@mail.example.net");
    assert!(rita.to_string().contains("rita@example.net"), "{rita:#}");
    assert!(
        rita.to_string()
            .contains("the sender is rita@example.net (its X-Original-From header)"),
        "{rita:#}"
    );
    for (id, why) in [
        ("gg-2@mail.example.net", "names no sender"),
        ("vsa-1@vendor.example", "Precedence: list"),
    ] {
        let show = reporter(id);
        assert!(
            show["events"].as_array().unwrap().iter().any(|e| {
                e["kind"] == "ack-suppressed" && e["detail"].as_str().unwrap_or("").contains(why)
            }),
            "{id}: {show:#}"
        );
    }
}

/// A "report a vulnerability" web form mails the team from its own address with the
/// submitter in Reply-To (WordPress' Contact Form 7 and most form plugins do). Without
/// configuration the ack goes to the form's address; with it in `form_from`, to the
/// submitter, and a form mail without a Reply-To is left to a person.
#[test]
fn a_web_forms_report_is_answered_to_its_submitter_when_the_form_is_configured() {
    let form = report_from(
        "Acme website <wordpress@www.example.test>",
        "wpcf7-1@www.example.test",
        &[
            "Reply-To: Rita Reporter <rita@example.net>",
            "X-Mailer: WPMailSMTP/Mailer/smtp 4.1.1",
        ],
    );
    let without_reply_to = report_from(
        "Acme website <wordpress@www.example.test>",
        "wpcf7-2@www.example.test",
        &[],
    );
    let plain_env = team_env("");
    plain_env.deliver("1", &form);
    plain_env.json(&["run", "--once", "--json"]);
    assert_eq!(ack_recipients(&plain_env), ["wordpress@www.example.test"]);

    let env = team_env("");
    let config = std::fs::read_to_string(&env.config).unwrap().replace(
        "path = \"Maildir\"\n",
        "path = \"Maildir\"\nform_from = [\"WordPress@www.example.test\"]\n",
    );
    std::fs::write(&env.config, config).unwrap();
    env.deliver("1", &form);
    env.deliver("2", &without_reply_to);
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(
        (s["created"].as_u64(), s["sent"].as_u64()),
        (Some(2), Some(1)),
        "{s}"
    );
    assert_eq!(ack_recipients(&env), ["rita@example.net"]);
    let cases = env.cases();
    let shows: Vec<serde_json::Value> = cases
        .iter()
        .map(|c| env.json(&["case", "show", c["id"].as_str().unwrap(), "--json"]))
        .collect();
    assert!(
        shows
            .iter()
            .any(|s| s["case"]["reporter"] == "rita@example.net"),
        "{shows:#?}"
    );
    assert!(
        shows
            .iter()
            .any(|s| s["events"].as_array().unwrap().iter().any(|e| {
                e["kind"] == "ack-suppressed"
                    && e["detail"]
                        .as_str()
                        .unwrap_or("")
                        .contains("without a Reply-To")
            })),
        "{shows:#?}"
    );
}

#[test]
fn a_flood_from_one_sender_is_rate_limited() {
    let env = team_env("");
    for n in 0..7 {
        env.deliver(
            &format!("{n}"),
            &plain(
                &headers(
                    "Flood <flood@example.net>",
                    &format!("Bug {n}"),
                    &format!("f{n}@x"),
                    &[],
                ),
                &format!(
                    "XSS number {n}: <script>alert({n})</script> steals sessions in acme 2.4.1\n"
                ),
            ),
        );
    }
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 7, "every message is stored: {s}");
    assert_eq!(
        s["sent"], 5,
        "outbox.rate_limit_per_hour defaults to 5: {s}"
    );
}

#[test]
fn follow_up_that_changes_nothing_gets_no_second_ack() {
    let env = team_env(
        "[policy.default]\nrequire = [\"poc\", \"versions\", \"impact\", \"fix_suggestion\"]\n",
    );
    env.deliver("1", &report_from("Rita <rita@example.net>", "t1@x", &[]));
    env.json(&["run", "--once", "--json"]);
    env.deliver(
        "2",
        &plain(
            &headers(
                "Rita <rita@example.net>",
                "Re: XSS",
                "t2@x",
                &["In-Reply-To: <t1@x>"],
            ),
            "Any news?\n",
        ),
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(
        (s["follow_ups"].as_u64(), s["sent"].as_u64()),
        (Some(1), Some(0)),
        "{s}"
    );
    env.deliver(
        "3",
        &plain(
            &headers(
                "Rita <rita@example.net>",
                "Re: XSS",
                "t3@x",
                &["In-Reply-To: <t1@x>"],
            ),
            "Suggested fix: escape the query parameter before rendering.\n",
        ),
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(
        s["sent"], 1,
        "what is missing changed: a new ack says so: {s}"
    );
}

#[test]
fn report_over_smtp_gets_a_verified_ack_in_the_reporters_mailbox_and_smtp_outage_is_survived() {
    let servers = MailServers::start();
    let env = team_env("");
    std::fs::write(env.dir.path().join("imap-password"), PASSWORD).unwrap();
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = std::fs::read_to_string(&env.config).unwrap()
        .replace(
            "[[mailbox]]\nname = \"security\"\nkind = \"maildir\"\npath = \"Maildir\"\n",
            &format!("[[mailbox]]\nname = \"security\"\nkind = \"imap\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"plain\"\nuser = \"security@example.test\"\npassword_file = \"imap-password\"\n", servers.imap_port),
        )
        .replace("[outbox]\ntransport = \"file\"\ndir = \"outbox\"\n", &format!("[outbox]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {dead_port}\ntls = \"plain\"\nsent_folder = \"Sent\"\n"));
    std::fs::write(&env.config, &cfg).unwrap();
    servers.send(
        "reporter@example.test",
        &["security@example.test"],
        &report_from("reporter@example.test", "s1@example.test", &[]),
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SMTP is down: the report becomes a case, the ack stays queued.
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(
        (
            s["created"].as_u64(),
            s["sent"].as_u64(),
            s["send_failed"].as_u64()
        ),
        (Some(1), Some(0), Some(1)),
        "{s}"
    );
    // SMTP is back (and the retry is due): the ack goes out, once.
    std::fs::write(
        &env.config,
        cfg.replace(
            &format!("port = {dead_port}"),
            &format!("port = {}", servers.smtp_port),
        ),
    )
    .unwrap();
    let db = rusqlite::Connection::open(env.dir.path().join("state/triaged.db")).unwrap();
    db.execute("UPDATE outbox SET next_attempt_at = 0", [])
        .unwrap();
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 1, "{s}");
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 0, "{s}");
    let mut inbox = Vec::new();
    for _ in 0..50 {
        inbox = servers.imap("reporter@example.test").fetch_all("INBOX");
        if !inbox.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(inbox.len(), 1, "exactly one ack in the reporter's mailbox");
    let status = gpg_verify(&inbox[0]);
    assert!(status.contains("GOODSIG"), "{status}");
    assert!(
        String::from_utf8_lossy(&inbox[0]).contains("Return-Path: <>"),
        "null envelope sender (RFC 3834)"
    );
    // A copy of the ack is in the team's Sent folder.
    assert_eq!(servers.imap("security@example.test").count("Sent"), 1);
}

#[test]
fn sla_sweep_escalates_an_unacknowledged_case_and_records_the_breach() {
    let env = team_env("[policy.default]\nack_within = \"1h\"\nfollowup_within = \"7d\"\n");
    let cfg = std::fs::read_to_string(&env.config)
        .unwrap()
        .replace("[outbox]\n", "[outbox]\nauto_ack = false\n");
    std::fs::write(&env.config, cfg).unwrap();
    // Delivered hours ago (the Maildir name carries the delivery time).
    let raw = report_from("Rita <rita@example.net>", "old@x", &[]);
    let t = chrono::Utc::now().timestamp() - 3 * 3600;
    std::fs::write(
        env.maildir().join("new").join(format!("{t}.old.test")),
        &raw,
    )
    .unwrap();
    let s = env.json(&["run", "--once", "--json"]);
    assert!(
        s["escalations"].as_u64().unwrap() >= 2,
        "escalation + breach: {s}"
    );
    let esc: Vec<_> = outbox_files(&env)
        .into_iter()
        .filter(|m| String::from_utf8_lossy(m).contains("SLA escalation"))
        .collect();
    assert_eq!(esc.len(), 1);
    assert!(String::from_utf8_lossy(&esc[0]).contains("To: team@example.test"));
    assert!(gpg_verify(&esc[0]).contains("GOODSIG"));
    let sla = env.json(&["sla", "--json"]);
    assert_eq!(sla[0]["clock"], "ack");
    assert_eq!(sla[0]["overdue"], true);
    // What monitoring reads (`stats --prometheus`, node_exporter's textfile format).
    let prom = |env: &Env| {
        let o = env.run(&["stats", "--prometheus"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let text = stdout(&o);
        move |series: &str| -> i64 {
            text.lines()
                .find_map(|l| l.strip_prefix(&format!("{series} ")))
                .unwrap_or_else(|| panic!("no {series} in:\n{text}"))
                .parse()
                .unwrap()
        }
    };
    let m = prom(&env);
    assert_eq!(m("triaged_cases_overdue"), 1);
    assert!(m("triaged_sla_breaches_total") >= 1);
    assert_eq!(m("triaged_cases{state=\"closed\"}"), 0);
    assert!(
        m("triaged_outbox_messages{state=\"sent\"}") >= 1,
        "the escalation went out"
    );
    assert_eq!(m("triaged_outbox_messages{state=\"failed\"}"), 0);
    assert_eq!(m("triaged_last_arrival_timestamp_seconds"), t);
    // A second sweep does not escalate again.
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["escalations"], 0, "{s}");
    // The operator closes the case. A move is not an answer to the reporter (issue 17:
    // honest clocks): no response is recorded, and a closed case has no open deadline.
    let id = env.cases()[0]["id"].as_str().unwrap().to_string();
    let o = env.run(&["case", "move", &id, "closed"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = prom(&env);
    assert_eq!(
        m("triaged_cases_overdue"),
        0,
        "a closed case is past no deadline"
    );
    assert_eq!(m("triaged_cases{state=\"closed\"}"), 1);
    let o = env.run(&["case", "move", &id, "fixed"]);
    assert_eq!(o.status.code(), Some(4), "closed -> fixed is not allowed");
    assert!(stderr(&o).contains("can move to"), "{}", stderr(&o));
    let show = env.json(&["case", "show", &id, "--json"]);
    assert!(show["case"]["responded_at"].is_null(), "{show:#}");
    let sla = env.json(&["sla", "--json"]);
    assert_eq!(sla.as_array().map(Vec::len), Some(0), "{sla}");
    let o = env.run(&["case", "note", &id, "called the reporter"]);
    assert!(o.status.success());
}

#[test]
fn digest_lists_open_cases_and_is_sent_signed_to_the_team() {
    let env = team_env("");
    env.deliver("1", &report_from("Rita <rita@example.net>", "d1@x", &[]));
    env.json(&["run", "--once", "--json"]);
    let o = env.run(&["digest", "--queue"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("Open cases by state:"), "{text}");
    assert!(
        text.contains("needs-info") || text.contains("triaged"),
        "{text}"
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 1, "{s}");
    let digest: Vec<_> = outbox_files(&env)
        .into_iter()
        .filter(|m| String::from_utf8_lossy(m).contains("triaged digest"))
        .collect();
    assert_eq!(digest.len(), 1);
    assert!(gpg_verify(&digest[0]).contains("GOODSIG"));
    // Once per day.
    env.run(&["digest", "--queue"]);
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 0, "{s}");
}

#[test]
fn acks_go_over_implicit_tls_and_starttls_with_auth_to_a_relay_with_a_private_ca_and_not_without_it()
 {
    let mut servers = MailServers::start();
    let cert = servers.enable_tls();
    let (smtps, starttls) = servers.enable_submission();
    let env = team_env("");
    std::fs::write(env.dir.path().join("smtp-password"), PASSWORD).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        env.dir.path().join("smtp-password"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    let relay = |port: u16, tls: &str, ca: Option<&std::path::Path>| {
        let cfg = std::fs::read_to_string(&env.config).unwrap();
        let start = cfg.find("[outbox]").unwrap();
        let end = cfg[start..].find("from = ").map(|i| start + i).unwrap();
        let ca_line = ca
            .map(|p| format!("tls_ca_file = \"{}\"\n", p.display()))
            .unwrap_or_default();
        let new = format!(
            "{}[outbox]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"{tls}\"\n{ca_line}\
             user = \"security@example.test\"\npassword_file = \"smtp-password\"\n{}",
            &cfg[..start],
            &cfg[end..]
        );
        std::fs::write(&env.config, new).unwrap();
    };
    let inbox = |n: usize| reporter_inbox(&servers, n);
    // Implicit TLS, our CA trusted: delivered.
    relay(smtps, "implicit", Some(&cert));
    env.deliver(
        "1",
        &report_from("reporter@example.test", "tls1@example.test", &[]),
    );
    let s = env.json(&["run", "--once", "--json"]);
    let last_error = || -> String {
        rusqlite::Connection::open(env.dir.path().join("state/triaged.db"))
            .unwrap()
            .query_row(
                "SELECT COALESCE(group_concat(last_error, ' | '), '') FROM outbox",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(s["sent"], 1, "{s} {}", last_error());
    assert_eq!(inbox(1).len(), 1);
    // STARTTLS (required by the server), our CA trusted: delivered.
    relay(starttls, "starttls", Some(&cert));
    env.deliver(
        "2",
        &report_from("reporter@example.test", "tls2@example.test", &[]),
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 1, "{s} {}", last_error());
    let got = inbox(2);
    assert_eq!(got.len(), 2);
    assert!(gpg_verify(&got[1]).contains("GOODSIG"));
    // Without the CA the certificate is not trusted: nothing is sent, the ack stays queued.
    relay(smtps, "implicit", None);
    env.deliver(
        "3",
        &report_from("reporter@example.test", "tls3@example.test", &[]),
    );
    let err = run_expecting_a_send_failure(&env);
    assert!(err.contains("TLS handshake"), "{err}");
}

/// The relay of Microsoft 365 or Gmail takes only OAuth 2.0: with `outbox.auth =
/// "xoauth2"` the ack goes out with a token from `password_command`, asked at every
/// login; an expired token leaves the ack queued with an error that says so, and the
/// helper's next token sends it.
#[test]
fn acks_go_to_a_relay_that_takes_only_oauth2_with_a_fresh_token_at_every_login() {
    let mut servers = MailServers::start();
    let cert = servers.enable_tls();
    let (smtps, _) = servers.enable_submission();
    let issuer = servers.enable_oauth2();
    let env = team_env("");
    env.token_helper(&issuer.issue("security@example.test"));
    let cfg = std::fs::read_to_string(&env.config).unwrap();
    let start = cfg.find("[outbox]").unwrap();
    let end = cfg[start..].find("from = ").map(|i| start + i).unwrap();
    std::fs::write(
        &env.config,
        format!(
            "{}[outbox]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {smtps}\ntls = \"implicit\"\n\
             tls_ca_file = \"{}\"\nuser = \"security@example.test\"\nauth = \"xoauth2\"\n\
             password_command = [\"./token.sh\"]\n{}",
            &cfg[..start],
            cert.display(),
            &cfg[end..]
        ),
    )
    .unwrap();
    let o = env.run(&["check-config"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let inbox = |n: usize| reporter_inbox(&servers, n);
    env.deliver(
        "1",
        &report_from("reporter@example.test", "oauth1@example.test", &[]),
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 1, "{s}");
    assert_eq!(inbox(1).len(), 1);
    // Expired: nothing sent, the ack stays queued and the error names the login.
    issuer.revoke_all();
    env.deliver(
        "2",
        &report_from("reporter@example.test", "oauth2@example.test", &[]),
    );
    let err = run_expecting_a_send_failure(&env);
    assert!(err.contains("AUTH"), "{err}");
    // Refreshed: the queued ack goes out at its next attempt (brought forward here).
    env.set_token(&issuer.issue("security@example.test"));
    rusqlite::Connection::open(env.dir.path().join("state/triaged.db"))
        .unwrap()
        .execute("UPDATE outbox SET next_attempt_at = 0", [])
        .unwrap();
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["sent"], 1, "{s}");
    assert_eq!(inbox(2).len(), 2);
}

#[test]
fn hostile_senders_over_real_servers_smime_is_answered_plainly_and_ambiguous_from_is_not() {
    // Issue 13 items 9 and 10 through OpenSMTPD, Dovecot and IMAP intake, with the
    // acks sent over SMTP: only the S/MIME reporter gets an answer, and it says why.
    let servers = MailServers::start();
    let env = team_env("");
    std::fs::write(env.dir.path().join("imap-password"), PASSWORD).unwrap();
    let cfg = std::fs::read_to_string(&env.config).unwrap()
        .replace(
            "[[mailbox]]\nname = \"security\"\nkind = \"maildir\"\npath = \"Maildir\"\n",
            &format!("[[mailbox]]\nname = \"security\"\nkind = \"imap\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"plain\"\nuser = \"security@example.test\"\npassword_file = \"imap-password\"\n", servers.imap_port),
        )
        .replace("[outbox]\ntransport = \"file\"\ndir = \"outbox\"\n", &format!("[outbox]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"plain\"\n", servers.smtp_port));
    std::fs::write(&env.config, &cfg).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (cert, _) = openssl_cert(tmp.path());
    let smime = openssl_smime(
        &[
            "-encrypt",
            "-aes256",
            "-subject",
            "SMIME report",
            cert.to_str().unwrap(),
        ],
        tmp.path(),
        "Content-Type: text/plain\n\nXSS in acme 2.4.1: <script>alert(1)</script>\n",
    );
    let date = "Date: Tue, 24 Nov 2026 10:00:00 +0000\nTo: security@example.test\n";
    let mails = [
        format!("From: reporter@example.test\n{date}Message-ID: <sm@x>\n{smime}"),
        format!(
            "From: \"a,b\"@example.test\n{date}Message-ID: <q@x>\nSubject: quoted\n\nXSS in acme 2.4.1\n"
        ),
        format!(
            "From: reporter@example.test\nFrom: eve@example.test\n{date}Message-ID: <two@x>\nSubject: two\n\nXSS in acme 2.4.1\n"
        ),
        format!(
            "From: reporter@example.test\nX-Loop: security@example.test\n{date}Message-ID: <loop@x>\nSubject: loop\n\nXSS in acme 2.4.1\n"
        ),
    ];
    for m in &mails {
        servers.send(
            "reporter@example.test",
            &["security@example.test"],
            crlf(m).as_bytes(),
        );
    }
    let mut created = 0;
    for _ in 0..50 {
        let s = env.json(&["run", "--once", "--json"]);
        created += s["created"].as_u64().unwrap_or(0);
        if created >= 4 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(created, 4, "every message is a case");
    for _ in 0..50 {
        if !servers
            .imap("reporter@example.test")
            .fetch_all("INBOX")
            .is_empty()
        {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // Give any wrongly sent second answer time to arrive too.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let all = servers.imap("reporter@example.test").fetch_all("INBOX");
    assert_eq!(
        all.len(),
        1,
        "one answer only: {:?}",
        all.iter()
            .map(|m| String::from_utf8_lossy(m).into_owned())
            .collect::<Vec<_>>()
    );
    let ack = String::from_utf8_lossy(&all[0]).into_owned();
    assert!(gpg_verify(&all[0]).contains("GOODSIG"));
    assert!(
        ack.contains("encrypted with S/MIME") && ack.contains("OpenPGP only"),
        "{ack}"
    );
    let db = rusqlite::Connection::open(env.dir.path().join("state/triaged.db")).unwrap();
    let suppressed: Vec<String> = db
        .prepare("SELECT detail FROM events WHERE kind = 'ack-suppressed' ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for want in ["quoted local part", "2 From headers", "X-Loop"] {
        assert!(
            suppressed.iter().any(|s| s.contains(want)),
            "{want}: {suppressed:#?}"
        );
    }
}
