//! The store across versions, and the case CLI's contract (JSON fields, exit codes).

mod common;
use common::*;

use triaged::store::{SCHEMA_VERSION, Store};

fn env_with_one_case() -> Env {
    let root = repo();
    let key = std::fs::read(root.join("keys/test/team-secret.asc")).unwrap();
    let pass = std::fs::read_to_string(root.join("keys/test/passphrase")).unwrap();
    let env = Env::new(&[("team.asc", &key)], Some(pass.trim()), "");
    env.deliver(
        "1",
        &plain(
            &headers(
                "Zed <zed@example.net>",
                "XXE in the SAML endpoint",
                "z@t",
                &[],
            ),
            "details",
        ),
    );
    env.json(&["run", "--once", "--json"]);
    env
}

#[test]
fn existing_database_is_reopened_and_kept() {
    let env = env_with_one_case();
    let db = env.dir.path().join("state/triaged.db");
    let s = Store::open(&db).unwrap();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    drop(s);
    // A second run on the existing DB applies no migration and keeps the data.
    let cases = env.cases();
    assert_eq!(cases.len(), 1);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&db).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the database holds report plaintext");
}

#[test]
fn newer_database_is_refused() {
    let env = env_with_one_case();
    let db = env.dir.path().join("state/triaged.db");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.pragma_update(None, "user_version", 999).unwrap();
    drop(conn);
    let o = env.run(&["case", "list"]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("schema version 999"), "{err}");
    assert!(err.contains("newer triaged"), "{err}");
}

#[test]
fn case_list_json_has_stable_fields() {
    let env = env_with_one_case();
    let cases = env.cases();
    let c = &cases[0];
    for field in [
        "id",
        "state",
        "state_reason",
        "reporter",
        "reporter_name",
        "subject",
        "mailbox",
        "policy",
        "signature",
        "severity",
        "arrived_at",
        "created_at",
        "updated_at",
        "ack_due",
        "followup_due",
        "acked_at",
        "responded_at",
        "messages",
        "encryption",
    ] {
        assert!(c.get(field).is_some(), "missing {field} in {c:#}");
    }
    assert!(c["id"].as_str().unwrap().starts_with("SEC-"));
    assert!(c["arrived_at"].as_str().unwrap().ends_with('Z'));
    // 48 h default window from arrival.
    let arrived = chrono::DateTime::parse_from_rfc3339(c["arrived_at"].as_str().unwrap()).unwrap();
    let due = chrono::DateTime::parse_from_rfc3339(c["ack_due"].as_str().unwrap()).unwrap();
    assert_eq!((due - arrived).num_hours(), 48);

    let filtered = env.json(&["case", "list", "--state", "undecryptable", "--json"]);
    assert_eq!(filtered.as_array().unwrap().len(), 0);
    let o = env.run(&["case", "list", "--state", "bogus"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("unknown state"));
}

#[test]
fn case_show_table_and_unknown_case() {
    let env = env_with_one_case();
    let id = env.cases()[0]["id"].as_str().unwrap().to_string();
    let o = env.run(&["case", "show", &id]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(out.contains("zed@example.net"), "{out}");
    assert!(out.contains("created"), "{out}");
    let o = env.run(&["case", "list"]);
    assert!(stdout(&o).contains(&id));

    let o = env.run(&["case", "show", "SEC-1999-0001"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("triaged case list"));
}

#[test]
fn unparseable_bytes_still_make_a_case() {
    let env = env_with_one_case();
    env.deliver("junk", b"\x00\x01\x02 this is not mail");
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 1);
    let cases = env.json(&["case", "list", "--state", "unparseable", "--json"]);
    assert_eq!(cases.as_array().unwrap().len(), 1, "{cases:#}");
}
