//! Outages: the database locked by a CLI command, the disk full under the database.
//! Both recover without losing or double-processing mail.

mod common;
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
