//! The committed demo samples (examples/reports/, made by gpg with
//! examples/make-samples.py) must come out with the right state, encryption and
//! signature status, and re-delivery must change nothing.

mod common;
use common::*;

fn sample_env() -> Env {
    let root = repo();
    let secret = std::fs::read(root.join("keys/test/team-secret.asc")).unwrap();
    let pass = std::fs::read_to_string(root.join("keys/test/passphrase")).unwrap();
    // The demo's policy: PoC, versions and impact required; 2.3 and later supported.
    let env = Env::new(
        &[("team.asc", &secret)],
        Some(pass.trim()),
        "[policy.default]\nack_within = \"48h\"\nrequire = [\"poc\", \"versions\", \"impact\"]\n\
         supported_versions = [{ range = \">= 2.3\", supported = true }, { range = \"< 2.3\", supported = false }]\n",
    );
    let mut names: Vec<_> = std::fs::read_dir(root.join("examples/reports"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    names.sort();
    assert!(names.len() >= 8, "the demo needs at least 8 samples");
    for p in names {
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        env.deliver(&stem, &std::fs::read(&p).unwrap());
    }
    env
}

fn find<'a>(cases: &'a [serde_json::Value], subject_part: &str) -> &'a serde_json::Value {
    cases
        .iter()
        .find(|c| c["subject"].as_str().unwrap_or("").contains(subject_part))
        .unwrap_or_else(|| panic!("no case with subject containing {subject_part:?}: {cases:#?}"))
}

#[test]
fn every_sample_gets_the_right_state_and_signature() {
    let env = sample_env();
    let summary = env.json(&["run", "--once", "--json"]);
    assert_eq!(summary["seen"], 12);
    assert_eq!(summary["created"], 11);
    assert_eq!(summary["follow_ups"], 1);
    assert_eq!(summary["quarantined"], 1);

    let cases = env.cases();
    assert_eq!(cases.len(), 11);
    // (subject fragment, state, encryption, signature, reporter)
    let expect = [
        (
            "SQL injection in /api/login",
            "triaged",
            "pgp-mime",
            "unsigned",
            "alice@example.net",
        ),
        (
            "Stored XSS",
            "triaged",
            "pgp-mime",
            "good",
            "bob@example.org",
        ),
        (
            "Path traversal",
            "triaged",
            "inline",
            "unsigned",
            "alice@example.net",
        ),
        (
            "SSRF in webhook",
            "triaged",
            "inline",
            "good",
            "dave@example.io",
        ),
        (
            "DoS in JSON import",
            "triaged",
            // An encrypted attachment under a cleartext body: only part of it was encrypted.
            "partial",
            "unsigned",
            "alice@example.net",
        ),
        (
            "Open redirect",
            "needs-info",
            "none",
            "unsigned",
            "frank@example.com",
        ),
        (
            "Auth bypass with an empty JWT",
            "needs-info",
            "pgp-mime",
            "unknown-key",
            "carol@example.com",
        ),
        (
            "Predictable password reset",
            "needs-info",
            "none",
            "good",
            "alice@example.net",
        ),
        (
            "IDOR on /api/invoices",
            "triaged",
            "pgp-mime",
            "unsigned",
            "bob@example.org",
        ),
        (
            "Critical vulnerability found",
            "needs-info",
            "none",
            "unsigned",
            "hunter@example.com",
        ),
    ];
    for (subj, state, enc, sig, reporter) in expect {
        let c = find(&cases, subj);
        assert_eq!(c["state"], state, "{subj}: {c:#}");
        assert_eq!(c["encryption"], enc, "{subj}: {c:#}");
        assert_eq!(c["signature"], sig, "{subj}: {c:#}");
        assert_eq!(c["reporter"], reporter, "{subj}: {c:#}");
    }
    // Encrypted to another key: quarantined with the reason, raw kept.
    let bad = cases
        .iter()
        .find(|c| c["state"] == "undecryptable")
        .unwrap();
    assert!(
        bad["state_reason"]
            .as_str()
            .unwrap()
            .contains("no team key can decrypt"),
        "{bad:#}"
    );
    assert_eq!(bad["subject"], "Report", "the outer subject is kept");

    // The follow-up joined the first case (threaded by In-Reply-To).
    let first = find(&cases, "SQL injection in /api/login");
    assert_eq!(first["messages"], 2);

    // Protected headers: the inner subject replaced the outer "...".
    let show = env.json(&["case", "show", first["id"].as_str().unwrap(), "--json"]);
    assert_eq!(
        show["messages"][0]["subject"],
        "SQL injection in /api/login (acme-web <= 2.4.1)"
    );
    assert_eq!(show["messages"][1]["status"], "ok");

    // Keys found: Bob's attached key, Dave's Autocrypt key.
    let bob = find(&cases, "Stored XSS");
    let show = env.json(&["case", "show", bob["id"].as_str().unwrap(), "--json"]);
    assert_eq!(show["reporter_keys"][0]["source"], "attachment");
    assert!(
        show["messages"][0]["signatures"][0]["user_id"]
            .as_str()
            .unwrap()
            .contains("bob@example.org")
    );
    let dave = find(&cases, "SSRF in webhook");
    let show = env.json(&["case", "show", dave["id"].as_str().unwrap(), "--json"]);
    assert_eq!(show["reporter_keys"][0]["source"], "autocrypt");

    // The encrypted attachment was decrypted and renamed.
    let dos = find(&cases, "DoS in JSON import");
    let show = env.json(&["case", "show", dos["id"].as_str().unwrap(), "--json"]);
    let att = &show["messages"][0]["attachments"][0];
    assert_eq!(att["name"], "poc.py");
    assert_eq!(att["encrypted"], true);
    assert_eq!(att["content_type"], "text/x-python");

    // Every message was moved to cur/ with the S flag.
    assert_eq!(
        std::fs::read_dir(env.maildir().join("new"))
            .unwrap()
            .count(),
        0
    );
    for e in std::fs::read_dir(env.maildir().join("cur")).unwrap() {
        let n = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(n.ends_with(":2,S"), "{n}");
    }
}

#[test]
fn redelivery_of_the_same_bytes_is_a_no_op() {
    let env = sample_env();
    env.json(&["run", "--once", "--json"]);
    let before = env.cases();
    // The same file delivered again under new names (e.g. a re-sync or a second MX).
    let root = repo();
    for name in ["01-pgp-mime-sqli", "07-wrong-key-undecryptable"] {
        let bytes = std::fs::read(root.join(format!("examples/reports/{name}.eml"))).unwrap();
        env.deliver(&format!("again-{name}"), &bytes);
    }
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["seen"], 2);
    assert_eq!(s["duplicates"], 2);
    assert_eq!(s["created"], 0);
    let after = env.cases();
    assert_eq!(before.len(), after.len());
    assert_eq!(
        before.iter().map(|c| &c["messages"]).collect::<Vec<_>>(),
        after.iter().map(|c| &c["messages"]).collect::<Vec<_>>()
    );
    // A third run sees nothing at all.
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["seen"], 0);
}
