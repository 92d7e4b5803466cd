//! `triaged classify`: any .eml (decrypted with the configured keys) or text file,
//! with or without a policy, without touching the store.

mod common;
use common::*;

fn classify(config: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let mut a = vec!["classify"];
    a.extend_from_slice(args);
    let o = triaged(config, &a);
    (o.status.code().unwrap_or(-1), stdout(&o), stderr(&o))
}

#[test]
fn encrypted_eml_is_decrypted_and_classified_with_a_policy_file() {
    let root = repo();
    let cfg = root.join("examples/demo.toml");
    let eml = root.join("examples/reports/01-pgp-mime-sqli.eml");
    let policy = root.join("examples/policies/requests.toml");
    let store = root.join("target/demo/triaged.db");
    let existed = store.exists();
    let (code, out, err) = classify(
        &cfg,
        &[
            "--json",
            "--policy",
            policy.to_str().unwrap(),
            eml.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["poc"]["status"], "present");
    assert!(
        v["poc"]["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["rule"] == "command")
    );
    assert_eq!(v["versions"]["present"], true);
    assert!(
        v["versions"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["normalized"] == "<= 2.4.1")
    );
    assert_eq!(v["impact"]["present"], true);
    assert_eq!(v["impact"]["severity_source"], "cvss");
    assert_eq!(v["impact"]["cvss"]["score"], 9.1);
    assert!(
        v["impact"]["class"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "sqli")
    );
    assert_eq!(v["cwe_ids"][0], "CWE-89");
    assert_eq!(v["credit"]["name"], "Alice Reporter");
    assert_eq!(v["low_effort"]["flag"], false);
    assert_eq!(v["policy"]["policy"], "requests");
    assert_eq!(v["policy"]["next_state"], "triaged");
    // classify never creates the store.
    assert_eq!(store.exists(), existed);
    // --show-text: the decrypted text the evidence offsets point into.
    let (code, text, err) = classify(&cfg, &["--show-text", eml.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let ev = &v["poc"]["evidence"][0];
    let (start, end) = (
        ev["start"].as_u64().unwrap() as usize,
        ev["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(text.get(start..end), ev["text"].as_str(), "{text}");
    assert!(!text.contains("BEGIN PGP MESSAGE"), "{text}");
}

#[test]
fn plain_text_from_stdin_and_policy_by_name() {
    let root = repo();
    let cfg = root.join("examples/demo.toml");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_triaged"))
        .args([
            "--config",
            cfg.to_str().unwrap(),
            "classify",
            "--policy",
            "default",
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(
                b"Your site is missing DMARC and X-Frame-Options. What is the bounty?",
            )?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("low effort:     yes"), "{out}");
    assert!(
        out.contains("policy default: missing [poc, versions, impact]"),
        "{out}"
    );
}

#[test]
fn unknown_policy_name_is_a_clear_error() {
    let root = repo();
    let cfg = root.join("examples/demo.toml");
    let (code, _, err) = classify(
        &cfg,
        &["--policy", "nope", root.join("README.md").to_str().unwrap()],
    );
    assert_eq!(code, 2);
    assert!(err.contains("no policy \"nope\""), "{err}");
}

#[test]
fn without_a_config_encrypted_mail_is_reported_not_decryptable() {
    let root = repo();
    let eml = root.join("examples/reports/03-inline-path-traversal.eml");
    let (code, out, err) = classify(
        std::path::Path::new("/nonexistent.toml"),
        &["--json", eml.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("could not be decrypted"), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(v["policy"].is_null());
}
