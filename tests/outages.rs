//! Outages: the database locked by a CLI command, the disk full under the database,
//! a real SMTP server answering 451 and then accepting. Each recovers without losing
//! or double-processing mail. (IMAP down and back is in tests/imap.rs; SMTP
//! unreachable and back in tests/acks.rs.)

mod common;
use common::servers::{MailServers, PASSWORD};
use common::*;

use std::time::Duration;

fn team_env() -> Env {
    let root = repo();
    let key = std::fs::read(root.join("keys/test/team-secret.asc")).unwrap();
    let pass = std::fs::read_to_string(root.join("keys/test/passphrase")).unwrap();
    Env::new(&[("team.asc", &key)], Some(pass.trim()), "")
}

fn report(n: usize) -> Vec<u8> {
    plain(
        &headers(
            &format!("r{n}@example.net"),
            &format!("Report {n}"),
            &format!("o{n}@x"),
            &[],
        ),
        &format!("XSS {n}: <script>alert({n})</script> steals sessions\n"),
    )
}

#[test]
fn a_database_locked_by_another_writer_is_waited_for() {
    let env = team_env();
    env.json(&["run", "--once", "--json"]); // creates the database
    env.deliver("1", &report(1));
    let db = env.dir.path().join("state/triaged.db");
    let holder = std::thread::spawn(move || {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        conn.execute_batch("COMMIT").unwrap();
    });
    std::thread::sleep(Duration::from_millis(200));
    let s = env.json(&["run", "--once", "--json"]);
    holder.join().unwrap();
    assert_eq!(s["created"], 1, "{s}");
}

#[test]
fn a_full_disk_stops_intake_without_marking_mail_processed_and_recovers() {
    // A small tmpfs holds the database; filling it makes SQLite fail with "disk is full".
    let env = team_env();
    let state = env.dir.path().join("state");
    std::fs::create_dir_all(&state).unwrap();
    let ok = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(&state)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("cannot mount a tmpfs here (needs root): test skipped");
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _guard = Unmount(state.clone());
    env.json(&["run", "--once", "--json"]); // creates the database
    // Fill the disk.
    let filler = state.join("filler");
    let _ = std::process::Command::new("dd")
        .args(["if=/dev/zero", "bs=64k", "count=64"])
        .arg(format!("of={}", filler.display()))
        .stderr(std::process::Stdio::null())
        .status();
    let mut big = report(1);
    big.extend(std::iter::repeat_n(b'x', 600 * 1024));
    env.deliver("1", &big);
    let o = env.run(&["run", "--once"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.to_lowercase().contains("full"), "says why: {err}");
    // Not marked processed: still waiting in new/.
    assert_eq!(
        std::fs::read_dir(env.maildir().join("new"))
            .unwrap()
            .count(),
        1
    );
    // Space again: the same message is processed, once.
    std::fs::remove_file(&filler).unwrap();
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 1, "{s}");
    assert_eq!(
        std::fs::read_dir(env.maildir().join("new"))
            .unwrap()
            .count(),
        0
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["seen"], 0, "{s}");
}

#[test]
fn smtp_refusing_with_451_then_accepting_sends_the_ack_once() {
    let mut servers = MailServers::start();
    let env = team_env();
    std::fs::write(env.dir.path().join("imap-password"), PASSWORD).unwrap();
    let cfg = std::fs::read_to_string(&env.config).unwrap()
        .replace(
            "[[mailbox]]\nname = \"security\"\nkind = \"maildir\"\npath = \"Maildir\"\n",
            &format!("[[mailbox]]\nname = \"security\"\nkind = \"imap\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"plain\"\nuser = \"security@example.test\"\npassword_file = \"imap-password\"\n", servers.imap_port),
        )
        .replace(
            "[outbox]\ntransport = \"file\"\ndir = \"outbox\"\n",
            &format!("[outbox]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"plain\"\n", servers.smtp_port),
        );
    std::fs::write(&env.config, &cfg).unwrap();
    let raw = plain(
        &headers("reporter@example.test", "XSS", "t451@example.test", &[]),
        "XSS <script>alert(1)</script> in acme 2.4.1 lets an attacker steal sessions.\n",
    );
    servers.send("reporter@example.test", &["security@example.test"], &raw);
    for _ in 0..50 {
        if servers.imap("security@example.test").count("INBOX") == 1 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    // The real OpenSMTPD now answers every RCPT with 451 4.3.0.
    servers.set_smtp_tempfail(true);
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
    let db = rusqlite::Connection::open(env.dir.path().join("state/triaged.db")).unwrap();
    let (state, attempts, err): (String, i64, String) = db
        .query_row(
            "SELECT state, attempts, last_error FROM outbox WHERE kind = 'ack'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((state.as_str(), attempts), ("queued", 1), "{err}");
    assert!(err.contains("451"), "the server's answer is kept: {err}");
    // Accepting again; the retry is due: the ack goes out once, and only once.
    servers.set_smtp_tempfail(false);
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
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));
    let inbox = if inbox.is_empty() {
        inbox
    } else {
        servers.imap("reporter@example.test").fetch_all("INBOX")
    };
    assert_eq!(inbox.len(), 1, "exactly one ack reached the reporter");
}
