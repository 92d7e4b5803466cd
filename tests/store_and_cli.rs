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

#[test]
fn encrypt_at_rest_keeps_plaintext_out_of_the_database() {
    let root = repo();
    let key = std::fs::read(root.join("keys/test/team-secret.asc")).unwrap();
    let pass = std::fs::read_to_string(root.join("keys/test/passphrase")).unwrap();
    let env = Env::new(
        &[("team.asc", &key)],
        Some(pass.trim()),
        "[policy.default]\nrequire = [\"poc\", \"versions\"]\n",
    );
    let cfg = std::fs::read_to_string(&env.config)
        .unwrap()
        .replace("[store]\n", "[store]\nencrypt_at_rest = true\n");
    std::fs::write(&env.config, cfg).unwrap();
    let secret = "UNIQUE-SECRET-SENTENCE the admin token is leaked by /debug";
    let raw = crlf(&format!(
        "{}Content-Type: multipart/mixed; boundary=\"=_b_42\"\n\n--=_b_42\nContent-Type: text/plain\n\n{secret}; an attacker can read it.\n\
         --=_b_42\nContent-Type: text/x-python; name=\"poc.py\"\nContent-Disposition: attachment; filename=\"poc.py\"\n\nprint('ATTACHMENT-SECRET')\n--=_b_42--\n",
        headers("Zed <zed@example.net>", "Leak", "z1@x", &[])
    ));
    env.deliver("1", raw.as_bytes());
    env.json(&["run", "--once", "--json"]);
    let c = &env.cases()[0];
    let id = c["id"].as_str().unwrap().to_string();
    // Classification ran on the plaintext: PoC (the attachment) present, versions missing.
    assert_eq!(c["state"], "needs-info", "{c:#}");
    // Bodies, raw bytes and attachments are ciphertext; only findings' evidence snippets
    // stay queryable (by design).
    let conn = rusqlite::Connection::open(env.dir.path().join("state/triaged.db")).unwrap();
    let (body, raw, sealed): (String, Vec<u8>, i64) = conn
        .query_row("SELECT body_text, raw, raw_sealed FROM messages", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert!(body.starts_with("-----BEGIN PGP MESSAGE-----"), "{body}");
    assert_eq!(sealed, 1);
    assert!(!String::from_utf8_lossy(&raw).contains("UNIQUE-SECRET-SENTENCE"));
    let att: Vec<u8> = conn
        .query_row("SELECT content FROM attachments", [], |r| r.get(0))
        .unwrap();
    assert!(!String::from_utf8_lossy(&att).contains("ATTACHMENT-SECRET"));
    drop(conn);
    // The operator still reads it: export decrypts on demand.
    let o = env.run(&["case", "export", &id]);
    assert!(stdout(&o).contains(secret), "{}", stdout(&o));
    // A follow-up re-classifies the whole (encrypted) thread and completes the report.
    env.deliver(
        "2",
        &plain(
            &headers(
                "Zed <zed@example.net>",
                "Re: Leak",
                "z2@x",
                &["In-Reply-To: <z1@x>"],
            ),
            "Affected versions: <= 3.2.1\n",
        ),
    );
    env.json(&["run", "--once", "--json"]);
    assert_eq!(env.cases()[0]["state"], "triaged");
    // And retry re-reads the encrypted raw bytes.
    let r = env.json(&["case", "retry", &id, "--json"]);
    assert_eq!(r["readable"], 2, "{r}");
}
