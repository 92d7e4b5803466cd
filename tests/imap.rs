//! IMAP intake against a real Dovecot (and OpenSMTPD delivering into it over LMTP).

mod common;
use common::servers::{MailServers, PASSWORD};
use common::*;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A config watching `user`'s `folder` on the test Dovecot.
fn imap_env(servers: &MailServers, user: &str, extra_mailbox: &str, extra: &str) -> Env {
    let root = repo();
    let key = std::fs::read(root.join("keys/test/team-secret.asc")).unwrap();
    let pass = std::fs::read_to_string(root.join("keys/test/passphrase")).unwrap();
    let env = Env::new(&[("team.asc", &key)], Some(pass.trim()), extra);
    std::fs::write(env.dir.path().join("imap-password"), PASSWORD).unwrap();
    let cfg = std::fs::read_to_string(&env.config).unwrap();
    let mailbox = format!(
        "[[mailbox]]\nname = \"security\"\nkind = \"imap\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"plain\"\n\
         user = \"{user}\"\npassword_file = \"imap-password\"\n{extra_mailbox}\n",
        servers.imap_port
    );
    let cfg = cfg.replace(
        "[[mailbox]]\nname = \"security\"\nkind = \"maildir\"\npath = \"Maildir\"\n",
        &mailbox,
    );
    std::fs::write(&env.config, cfg).unwrap();
    env
}

fn report(n: usize) -> Vec<u8> {
    plain(
        &headers(
            "Rita <rita@example.net>",
            &format!("Report {n}: XSS in search"),
            &format!("r{n}@example.net"),
            &[],
        ),
        &format!(
            "Report number {n}. The search page reflects <script>alert({n})</script>; an attacker can steal sessions. acme 2.4.{n}\n"
        ),
    )
}

/// `triaged run` in the background; killed with SIGTERM on drop.
struct Daemon {
    child: Child,
    log: std::path::PathBuf,
}

impl Daemon {
    fn start(env: &Env) -> Daemon {
        let log = env.dir.path().join("daemon.log");
        let child = Command::new(env!("CARGO_BIN_EXE_triaged"))
            .arg("--config")
            .arg(&env.config)
            .arg("run")
            .env("TRIAGED_LOG", "triaged=debug")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Daemon { child, log }
    }
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
    fn wait_log(&self, needle: &str, max: Duration) -> bool {
        let t = Instant::now();
        while t.elapsed() < max {
            if self.log().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
    fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
    }
}

fn wait_cases(env: &Env, n: usize, max: Duration) -> (usize, Duration) {
    let t = Instant::now();
    loop {
        let c = env.cases().len();
        if c >= n || t.elapsed() > max {
            return (c, t.elapsed());
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[test]
fn idling_daemon_opens_a_case_for_an_encrypted_report_sent_over_smtp() {
    let servers = MailServers::start();
    let env = imap_env(&servers, "security@example.test", "", "");
    let daemon = Daemon::start(&env);
    assert!(
        daemon.wait_log("connected", Duration::from_secs(10)),
        "{}",
        daemon.log()
    );
    // The daemon is idling; a reporter sends a gpg-encrypted report over SMTP.
    let gpg = Gpg::new();
    gpg.run(
        &[
            "--import",
            repo().join("keys/test/team-public.asc").to_str().unwrap(),
        ],
        None,
    );
    let inner = crlf(
        "Content-Type: text/plain; protected-headers=\"v1\"\nSubject: Encrypted over SMTP\n\nSQL injection: curl 'http://x/?q=1%27%20OR%201=1'\n",
    );
    let ct = gpg.encrypt(inner.as_bytes(), &["security@example.test"], None, false);
    let raw = pgp_mime(
        &headers("reporter@example.test", "...", "smtp1@example.test", &[]),
        &ct,
    );
    servers.send("reporter@example.test", &["security@example.test"], &raw);
    let sent = Instant::now();
    let (n, _) = wait_cases(&env, 1, Duration::from_secs(15));
    let took = sent.elapsed();
    assert_eq!(n, 1, "{}", daemon.log());
    // Dovecot wakes IDLE clients 500 ms after delivery; the rest is ours. Generous bound here,
    // the timing itself belongs in the benchmarks.
    assert!(took < Duration::from_secs(4), "took {took:?}");
    let c = &env.cases()[0];
    assert_eq!(c["subject"], "Encrypted over SMTP");
    assert_eq!(c["encryption"], "pgp-mime");
    // Marked \Seen after commit.
    assert_eq!(servers.imap("security@example.test").unseen("INBOX"), 0);
}

#[test]
fn backlog_of_200_is_triaged_exactly_once_and_a_restart_reprocesses_nothing() {
    let servers = MailServers::start();
    let mut imap = servers.imap("security@example.test");
    for n in 0..200 {
        imap.append("INBOX", &report(n), None);
    }
    let env = imap_env(&servers, "security@example.test", "batch = 40", "");
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["seen"], 200, "{s}");
    assert_eq!(s["created"], 200, "{s}");
    assert_eq!(env.cases().len(), 200);
    assert_eq!(imap.unseen("INBOX"), 0);
    // A restart (a new process) fetches nothing: the UID bookkeeping holds.
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["seen"], 0, "{s}");
    // New mail after the restart is picked up, and only it.
    imap.append("INBOX", &report(999), None);
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(
        (s["seen"].as_u64(), s["created"].as_u64()),
        (Some(1), Some(1)),
        "{s}"
    );
    assert_eq!(env.cases().len(), 201);
}

#[test]
fn dovecot_restart_while_idling_reconnects_and_picks_up_mail() {
    let mut servers = MailServers::start();
    let env = imap_env(&servers, "security@example.test", "", "");
    let daemon = Daemon::start(&env);
    assert!(
        daemon.wait_log("connected", Duration::from_secs(10)),
        "{}",
        daemon.log()
    );
    // Let the first pass finish and IDLE begin before pulling the plug.
    std::thread::sleep(Duration::from_millis(300));
    servers.stop_dovecot();
    // triaged notices the lost connection and backs off.
    assert!(
        daemon.wait_log("retrying in", Duration::from_secs(10)),
        "{}\n--- dovecot:\n{}",
        daemon.log(),
        std::fs::read_to_string(servers.path("dovecot.log")).unwrap_or_default()
    );
    servers.start_dovecot();
    // Mail arrives before triaged is back.
    servers
        .imap("security@example.test")
        .append("INBOX", &report(1), None);
    let (n, _) = wait_cases(&env, 1, Duration::from_secs(20));
    assert_eq!(n, 1, "{}", daemon.log());
    assert!(
        daemon.log().matches("connected").count() >= 2,
        "{}",
        daemon.log()
    );
}

#[test]
fn recreated_mailbox_with_new_uidvalidity_makes_no_duplicate_cases() {
    let servers = MailServers::start();
    let mut imap = servers.imap("security@example.test");
    imap.create("Reports");
    for n in 0..3 {
        imap.append("Reports", &report(n), None);
    }
    let env = imap_env(
        &servers,
        "security@example.test",
        "folder = \"Reports\"",
        "",
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 3, "{s}");
    let before = imap.uidvalidity("Reports");
    imap.delete("Reports");
    // Make sure the next UIDVALIDITY differs (Dovecot derives it from the clock).
    std::thread::sleep(Duration::from_millis(1100));
    imap.create("Reports");
    for n in 0..3 {
        imap.append("Reports", &report(n), None);
    }
    imap.append("Reports", &report(3), None);
    assert_ne!(imap.uidvalidity("Reports"), before);
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["seen"], 4, "{s}");
    assert_eq!(s["duplicates"], 3, "{s}");
    assert_eq!(s["created"], 1, "{s}");
    assert_eq!(env.cases().len(), 4);
}

#[test]
fn move_after_commit_empties_the_inbox_into_the_target_folder() {
    moves_into(&MailServers::start(), "Triaged");
}

/// Cyrus (without `altnamespace`) and Courier keep a user's folders under INBOX and
/// refuse a top-level `Triaged` (measured against Cyrus 3.6: "Permission denied", and
/// `run` stopped before reading anything). The move target is then `INBOX.Triaged`.
#[test]
fn move_after_commit_on_a_server_that_keeps_folders_under_inbox() {
    let mut servers = MailServers::start();
    servers.folders_under_inbox();
    moves_into(&servers, "INBOX.Triaged");
}

/// With `move_to = "Triaged"`, committed messages leave INBOX for `folder` (the
/// server's name for it), which the first run creates and the next one finds.
fn moves_into(servers: &MailServers, folder: &str) {
    let mut imap = servers.imap("security@example.test");
    for n in 0..3 {
        imap.append("INBOX", &report(n), None);
    }
    let env = imap_env(
        servers,
        "security@example.test",
        "after = \"move\"\nmove_to = \"Triaged\"",
        "",
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 3, "{s}");
    assert_eq!(imap.count("INBOX"), 0);
    assert_eq!(imap.count(folder), 3);
    imap.append("INBOX", &report(3), None);
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 1, "{s}");
    assert_eq!(imap.count("INBOX"), 0);
    assert_eq!(imap.count(folder), 4);
}

/// Microsoft 365 and Google Workspace take only OAuth 2.0 for IMAP: with
/// `auth = "xoauth2"` (or `"oauthbearer"`) the secret is an access token, printed by
/// `password_command` at every login, so a token that expired is replaced by the
/// helper's next one without a restart. Dovecot checks the tokens with a token-info
/// endpoint (tests/common/servers.rs).
#[test]
fn oauth2_login_takes_a_fresh_access_token_from_password_command_at_every_login() {
    let mut servers = MailServers::start();
    let issuer = servers.enable_oauth2();
    let mut imap = servers.imap("security@example.test");
    for mech in ["xoauth2", "oauthbearer"] {
        let folder = format!("Reports-{mech}");
        imap.create(&folder);
        imap.append(&folder, &report(0), None);
        let env = imap_env(
            &servers,
            "security@example.test",
            &format!("auth = \"{mech}\"\nfolder = \"{folder}\""),
            "",
        );
        env.token_helper(&issuer.issue("security@example.test"));
        let cfg = std::fs::read_to_string(&env.config).unwrap().replace(
            "password_file = \"imap-password\"\n",
            "password_command = [\"./token.sh\"]\n",
        );
        std::fs::write(&env.config, cfg).unwrap();
        let o = env.run(&["check-config"]);
        assert!(o.status.success(), "{}", stderr(&o));
        let s = env.json(&["run", "--once", "--json"]);
        assert_eq!(s["created"], 1, "{mech}: {s}");
        // The token expires: the login fails and says where the token comes from.
        issuer.revoke_all();
        imap.append(&folder, &report(1), None);
        let o = env.run(&["run", "--once"]);
        assert!(!o.status.success());
        let err = stderr(&o);
        assert!(
            err.contains(&format!(
                "{} login as security@example.test",
                mech.to_uppercase()
            )) && err.contains("password_command"),
            "{err}"
        );
        // The helper has a new one: the next login takes it.
        env.set_token(&issuer.issue("security@example.test"));
        let s = env.json(&["run", "--once", "--json"]);
        assert_eq!(s["created"], 1, "{mech}: {s}");
        assert_eq!(env.cases().len(), 2);
        // A token issued to another user does not open this mailbox.
        env.set_token(&issuer.issue("reporter@example.test"));
        assert!(!env.run(&["run", "--once"]).status.success());
    }
}

#[test]
fn old_mail_at_first_contact_is_imported_without_ack_and_oversize_keeps_headers() {
    let servers = MailServers::start();
    let mut imap = servers.imap("security@example.test");
    imap.append("INBOX", &report(1), Some("01-Jan-2020 10:00:00 +0000"));
    imap.append("INBOX", &report(2), None);
    let mut big = plain(
        &headers(
            "Big <big@example.net>",
            "A very large report",
            "big@example.net",
            &[],
        ),
        "x",
    );
    big.extend(std::iter::repeat_n(b'a', 300 * 1024));
    imap.append("INBOX", &big, None);
    let env = imap_env(
        &servers,
        "security@example.test",
        "import_horizon = \"30d\"",
        "[limits]\nmax_message_size = \"256KiB\"\n",
    );
    env.json(&["run", "--once", "--json"]);
    let cases = env.cases();
    assert_eq!(cases.len(), 3);
    let old = cases
        .iter()
        .find(|c| c["subject"] == "Report 1: XSS in search")
        .unwrap();
    assert_eq!(old["state"], "imported");
    assert_eq!(
        old["arrived_at"], "2020-01-01T10:00:00Z",
        "the clock starts at INTERNALDATE"
    );
    let new = cases
        .iter()
        .find(|c| c["subject"] == "Report 2: XSS in search")
        .unwrap();
    assert_ne!(new["state"], "imported");
    let big = cases
        .iter()
        .find(|c| c["reporter"] == "big@example.net")
        .unwrap();
    assert_eq!(big["state"], "oversize");
    assert_eq!(big["subject"], "A very large report", "headers are kept");
}

#[test]
fn wrong_password_or_server_down_is_a_clear_error_with_backoff() {
    let servers = MailServers::start();
    let env = imap_env(&servers, "security@example.test", "", "");
    std::fs::write(env.dir.path().join("imap-password"), "wrong").unwrap();
    let o = env.run(&["run", "--once"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("login as security@example.test"), "{err}");
    assert!(
        err.contains("check the mailbox's user and password"),
        "{err}"
    );

    // As a daemon: it stays up and retries with growing waits, not in a tight loop.
    let mut daemon = Daemon::start(&env);
    std::thread::sleep(Duration::from_secs(8));
    assert!(daemon.alive(), "the daemon must not exit: {}", daemon.log());
    // Dovecot delays each failed login by 2 s; triaged then waits 1 s, 2 s, 4 s ...
    let attempts = daemon.log().matches("retrying in").count();
    assert!(
        (1..=4).contains(&attempts),
        "{attempts} attempts in 8 s: {}",
        daemon.log()
    );
    assert!(
        daemon.log().contains("login as security@example.test"),
        "{}",
        daemon.log()
    );
    drop(daemon);

    // Server down at start.
    drop(servers);
    let o = env.run(&["run", "--once"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("cannot connect to 127.0.0.1"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn plain_imap_to_a_remote_host_is_refused_by_check_config() {
    let servers = MailServers::start();
    let env = imap_env(&servers, "security@example.test", "", "");
    let cfg = std::fs::read_to_string(&env.config)
        .unwrap()
        .replace("host = \"127.0.0.1\"", "host = \"imap.example.org\"");
    std::fs::write(&env.config, cfg).unwrap();
    let o = env.run(&["check-config"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("would send the password to imap.example.org unencrypted"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn doctor_diagnoses_a_wrong_password_and_an_unreachable_server_in_plain_words() {
    let mut servers = MailServers::start();
    let env = imap_env(&servers, "security@example.test", "", "");
    let o = env.run(&["doctor"]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("OK    imap security"), "{out}");
    assert!(out.contains("IDLE supported"), "{out}");
    let line = |out: &str, status: &str, check: &str, detail: &str| {
        out.lines()
            .any(|l| l.starts_with(status) && l.contains(check) && l.contains(detail))
    };
    assert!(
        line(
            &out,
            "OK",
            "team key",
            "A2C3BC3FD507C7230A253F0DFA045DF9247F8F27"
        ),
        "{out}"
    );
    std::fs::write(env.dir.path().join("imap-password"), "wrong").unwrap();
    let o = env.run(&["doctor", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let imap = v
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "imap security")
        .unwrap();
    assert_eq!(imap["status"], "fail");
    assert!(
        imap["detail"]
            .as_str()
            .unwrap()
            .contains("login as security@example.test"),
        "{imap}"
    );
    assert!(imap["fix"].as_str().unwrap().contains("password"), "{imap}");
    servers.stop_dovecot();
    let o = env.run(&["doctor"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        line(&out, "FAIL", "imap security", "cannot connect to 127.0.0.1"),
        "{out}"
    );
    assert!(out.contains("fix: check host, port and tls"), "{out}");
}

#[test]
fn doctor_reports_an_expired_team_key() {
    let gpg = Gpg::new();
    gpg.run(
        &[
            "--faked-system-time",
            "20200101T000000",
            "--passphrase",
            "",
            "--quick-gen-key",
            "Old Team <security@example.test>",
            "ed25519",
            "sign",
            "1d",
        ],
        None,
    );
    let fpr = gpg.fingerprint("security@example.test");
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
    let env = Env::new(&[("team.asc", &gpg.export_secret(&fpr, ""))], None, "");
    let o = env.run(&["doctor"]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.lines()
            .any(|l| l.starts_with("FAIL") && l.contains("team key") && l.contains(&fpr)),
        "{out}"
    );
    assert!(out.contains("expired on 2020-01-02"), "{out}");
    assert!(out.contains("gpg --quick-set-expire"), "{out}");
}

#[test]
fn implicit_tls_and_starttls_with_a_private_ca_and_refusal_without_it() {
    let mut servers = MailServers::start();
    let cert = servers.enable_tls();
    servers
        .imap("security@example.test")
        .append("INBOX", &report(1), None);
    servers
        .imap("security@example.test")
        .append("INBOX", &report(2), None);
    // Implicit TLS, the server's certificate trusted through tls_ca_file.
    let env = imap_env(
        &servers,
        "security@example.test",
        &format!("tls_ca_file = \"{}\"", cert.display()),
        "",
    );
    let cfg = std::fs::read_to_string(&env.config)
        .unwrap()
        .replace("tls = \"plain\"", "tls = \"implicit\"")
        .replace(
            &format!("port = {}", servers.imap_port),
            &format!("port = {}", servers.imaps_port),
        );
    std::fs::write(&env.config, &cfg).unwrap();
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 2, "{s}");
    // STARTTLS on the plain port.
    let starttls = cfg
        .replace("tls = \"implicit\"", "tls = \"starttls\"")
        .replace(
            &format!("port = {}", servers.imaps_port),
            &format!("port = {}", servers.imap_port),
        );
    std::fs::write(&env.config, &starttls).unwrap();
    servers
        .imap("security@example.test")
        .append("INBOX", &report(3), None);
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 1, "{s}");
    // Without the CA the self-signed certificate is refused: no password is sent.
    let untrusted: String = starttls
        .lines()
        .filter(|l| !l.starts_with("tls_ca_file"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&env.config, untrusted).unwrap();
    let o = env.run(&["run", "--once"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("TLS handshake with 127.0.0.1 failed"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn sigkill_at_random_points_during_a_1000_message_backlog_and_smtp_sending_loses_nothing() {
    let servers = MailServers::start();
    let mut imap = servers.imap("security@example.test");
    const N: usize = 1000;
    for n in 0..N {
        // Every report is due an ack, sent over SMTP to the real OpenSMTPD, which hands
        // it to Dovecot: the reporter's mailbox is what went over the wire.
        let raw = plain(
            &headers(
                "reporter@example.test",
                &format!("Report {n}"),
                &format!("k{n}@example.net"),
                &[],
            ),
            &format!("Report {n}: <script>alert({n})</script> steals sessions in acme 2.4.{n}\n"),
        );
        imap.append("INBOX", &raw, None);
    }
    let env = imap_env(&servers, "security@example.test", "batch = 25", "");
    let cfg = std::fs::read_to_string(&env.config).unwrap().replace(
        "[outbox]\ntransport = \"file\"\ndir = \"outbox\"\n",
        &format!(
            "[outbox]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"plain\"\nrate_limit_per_hour = 100000\n",
            servers.smtp_port
        ),
    );
    std::fs::write(&env.config, cfg).unwrap();
    let db = env.dir.path().join("state/triaged.db");
    let count = |sql: &str| -> i64 {
        rusqlite::Connection::open(&db)
            .and_then(|c| c.query_row(sql, [], |r| r.get(0)))
            .unwrap_or(0)
    };
    // Pseudo-random kill points from the clock; a bounded number of kills, and at least
    // two of them while the outbox was part-way through sending.
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    let (mut kills, mut kills_while_sending) = (0, 0);
    // Up to 40 kills: on a loaded machine intake of the backlog is slower and the
    // sender starts later, so more kills may be needed before two land mid-send.
    for _ in 0..40 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_triaged"))
            .arg("--config")
            .arg(&env.config)
            .arg("run")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        std::thread::sleep(Duration::from_millis(300 + (seed >> 33) % 900));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        kills += 1;
        let sent = count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'");
        let queued = count("SELECT COUNT(*) FROM outbox WHERE state = 'queued'");
        if sent > 0 && queued > 0 {
            kills_while_sending += 1;
        }
        let stored = count("SELECT COUNT(*) FROM messages");
        if kills >= 8 && kills_while_sending >= 2 || stored == N as i64 && queued == 0 {
            break;
        }
    }
    eprintln!("{kills} kills, {kills_while_sending} of them while the outbox was sending");
    assert!(
        kills >= 8,
        "only {kills} kills happened before the work was done"
    );
    // Two are aimed for (the loop goes on until then while there is work); on a loaded
    // machine the backlog can finish first, so one is the floor that proves the point.
    assert!(
        kills_while_sending >= 1,
        "{kills_while_sending} kills hit the outbox mid-way"
    );
    // Recovery: one clean pass finishes the backlog and the outbox.
    let t = std::time::Instant::now();
    let s = env.json(&["run", "--once", "--json"]);
    eprintln!("recovery pass: {:?} {s}", t.elapsed());
    assert!(s["send_failed"] == 0, "{s}");
    let q = count;
    assert_eq!(
        q("SELECT COUNT(*) FROM messages"),
        N as i64,
        "every message stored exactly once after {kills} kills"
    );
    assert_eq!(q("SELECT COUNT(DISTINCT sha256) FROM messages"), N as i64);
    assert_eq!(
        q("SELECT COUNT(*) FROM cases"),
        N as i64,
        "every case exists once"
    );
    assert_eq!(
        q("SELECT COUNT(*) FROM outbox WHERE kind = 'ack'"),
        N as i64,
        "one ack per case"
    );
    assert_eq!(
        q("SELECT COUNT(*) FROM outbox WHERE kind = 'ack' AND state = 'sent'"),
        N as i64,
        "every due ack was sent"
    );
    assert_eq!(imap.unseen("INBOX"), 0);
    // What reached the reporter: every ack; a duplicate only for a message in flight at a
    // kill (the documented crash window), and then with the same Message-ID.
    let t = std::time::Instant::now();
    let mut got = Vec::new();
    for _ in 0..100 {
        got = servers.imap("reporter@example.test").fetch_all("INBOX");
        if got.len() >= N {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("fetch: {:?}", t.elapsed());
    let ids: std::collections::HashSet<String> = got
        .iter()
        .filter_map(|m| {
            let t = String::from_utf8_lossy(m);
            t.lines()
                .find(|l| l.to_ascii_lowercase().starts_with("message-id:"))
                .map(|l| l[11..].trim().to_string())
        })
        .collect();
    let rows: std::collections::HashSet<String> = {
        let c = rusqlite::Connection::open(&db).unwrap();
        let mut st = c
            .prepare("SELECT message_id FROM outbox WHERE kind = 'ack'")
            .unwrap();
        st.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(|r| format!("<{}>", r.unwrap().trim_matches(['<', '>'])))
            .collect()
    };
    assert_eq!(
        ids, rows,
        "every ack arrived, under the Message-ID recorded for it"
    );
    let dups = got.len() - ids.len();
    eprintln!(
        "{} acks delivered, {dups} duplicate(s) from the crash window",
        got.len()
    );
    assert!(dups <= kills, "{dups} duplicates after {kills} kills");
}

#[test]
fn messages_over_a_mebibyte_are_fetched_in_pieces_and_stored_byte_for_byte() {
    // Partial fetches (BODY.PEEK[]<offset.length>, 1 MiB each) against Dovecot: a
    // message that ends inside a piece, one that is exactly two pieces (the last,
    // empty piece ends it), and a small one fetched whole in the same pass. Twice: held
    // in memory (the default), and with limits.stream_above at 2 MiB, where the first
    // goes to a spool file piece by piece and is read as a stream (the second is not
    // above the limit and is held).
    for (extra, streamed) in [("", 0), ("[limits]\nstream_above = \"2MiB\"\n", 1)] {
        let servers = MailServers::start();
        let mut imap = servers.imap("security@example.test");
        let mut sent = Vec::new();
        for (n, target) in [(1usize, 3 * 1024 * 1024 + 17), (2, 2 * 1024 * 1024), (3, 0)] {
            let mut m = plain(
                &headers(
                    &format!("Big {n} <big{n}@example.net>"),
                    &format!("Large report {n}"),
                    &format!("big{n}@example.net"),
                    &[],
                ),
                "SQL injection in acme-web <= 2.4.1; the server log follows.\r\n",
            );
            let mut i = 0u64;
            while m.len() + 64 < target {
                m.extend_from_slice(format!("log line {i:08} of the attached run\r\n").as_bytes());
                i += 1;
            }
            while m.len() < target {
                m.push(b'x');
            }
            if target > 0 {
                assert_eq!(m.len(), target);
            }
            imap.append("INBOX", &m, None);
            sent.push(m);
        }
        let env = imap_env(&servers, "security@example.test", "", extra);
        let s = env.json(&["run", "--once", "--json"]);
        assert_eq!(s["created"], 3, "{s}");
        let db = rusqlite::Connection::open(env.dir.path().join("state/triaged.db")).unwrap();
        let mut stored: Vec<Vec<u8>> = db
            .prepare(
                "SELECT COALESCE(r.data, m.raw) FROM messages m LEFT JOIN message_raw r ON r.message_id = m.id ORDER BY m.id",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        stored.sort();
        sent.sort();
        assert!(
            stored == sent,
            "stored sizes {:?}, sent sizes {:?}",
            stored.iter().map(Vec::len).collect::<Vec<_>>(),
            sent.iter().map(Vec::len).collect::<Vec<_>>()
        );
        let notes: i64 = db
            .query_row(
                "SELECT count(*) FROM messages WHERE notes LIKE '%read as a stream%'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(notes, streamed, "messages read as a stream ({extra:?})");
        // Nothing is left in the spool once the pass is committed.
        let spool = env.dir.path().join("state/spool");
        assert!(
            !spool.exists() || std::fs::read_dir(&spool).unwrap().count() == 0,
            "spool left empty"
        );
    }
}
