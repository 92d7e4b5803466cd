//! `triaged policy import`: a SECURITY.md (our own fixture, tests/fixtures/SECURITY.md)
//! becomes a policy whose every value cites its line, which `check-config` accepts
//! unchanged, and which then judges reports as the document promises.

mod common;
use common::*;

fn import(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_triaged"))
        .args(["policy", "import"])
        .arg(repo().join("tests/fixtures/SECURITY.md"))
        .args(args)
        .env_remove("TRIAGED_CONFIG")
        .output()
        .unwrap()
}

#[test]
fn imported_toml_cites_its_lines_and_passes_check_config_unchanged() {
    let out = import(&["--name", "acme"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let toml = stdout(&out);
    for want in [
        "[policy.acme]",
        "# line 23: We will acknowledge your report within 3 business days.",
        "ack_within = \"3bd\"",
        "followup_within = \"10d\"",
        "require = [\"poc\", \"versions\", \"impact\"]",
        "reject_low_effort = true",
        "{ range = \"5.1.x\", supported = true }, # line 7:",
        "{ range = \"< 4.0\", supported = false }, # line 10:",
        "# contact: security@acme.example.org (line 14)",
        "# PGP key offered: yes (line 14)",
        "# safe harbor (recorded, not enforced): line 31:",
    ] {
        assert!(toml.contains(want), "missing {want:?} in:\n{toml}");
    }
    // The fallback promise ("if you have not heard from us within 5 business days") is
    // not taken for the window.
    assert!(!toml.contains("\"5bd\""), "{toml}");
    let root = repo();
    let key = std::fs::read(root.join("keys/test/team-secret.asc")).unwrap();
    let pass = std::fs::read_to_string(root.join("keys/test/passphrase")).unwrap();
    let env = Env::new(&[("team.asc", &key)], Some(pass.trim()), &toml);
    let cfg = std::fs::read_to_string(&env.config).unwrap().replace(
        "[[mailbox]]\nname = \"security\"\n",
        "[[mailbox]]\nname = \"security\"\npolicy = \"acme\"\n",
    );
    std::fs::write(&env.config, cfg).unwrap();
    let o = env.run(&["check-config"]);
    assert!(
        o.status.success(),
        "check-config: {}{}",
        stdout(&o),
        stderr(&o)
    );
    // The policy at work: a report without a PoC against 4.2 (unsupported) is missing the PoC.
    env.deliver(
        "1",
        &plain(
            &headers("r@example.net", "XSS", "imp1@x", &[]),
            "The admin panel of acme 4.2.0 is vulnerable to cross-site scripting; an attacker can steal administrator sessions.\n",
        ),
    );
    env.json(&["run", "--once", "--json"]);
    let c = &env.cases()[0];
    let show = env.json(&["case", "show", c["id"].as_str().unwrap(), "--json"]);
    let policy = &show["findings"]["policy"];
    assert_eq!(policy["policy"], "acme", "{policy:#}");
    assert!(policy["missing"].to_string().contains("poc"), "{policy:#}");
    assert_eq!(policy["version"]["status"], "unsupported", "{policy:#}");
}

#[test]
fn imported_json_has_the_documented_fields() {
    let out = import(&["--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["name"], "imported");
    assert_eq!(v["policy"]["ack_within"], "3bd");
    assert_eq!(
        v["policy"]["supported_versions"].as_array().unwrap().len(),
        4
    );
    assert_eq!(v["evidence"]["ack_within"]["line"], 23);
    assert_eq!(v["evidence"]["require"][0]["item"], "poc");
    assert_eq!(v["contacts"][0]["address"], "security@acme.example.org");
    assert_eq!(v["channels"][0], "email");
    assert_eq!(v["pgp_key_offered"], true);
    assert!(v["credit"]["text"].as_str().unwrap().contains("credit you"));
    assert!(v["undetermined"].as_array().unwrap().is_empty(), "{v:#}");
}

#[test]
fn a_missing_file_and_a_bad_name_are_clear_errors() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_triaged"))
        .args(["policy", "import", "/nonexistent/SECURITY.md"])
        .env_remove("TRIAGED_CONFIG")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("cannot read /nonexistent/SECURITY.md"),
        "{}",
        stderr(&o)
    );
    let o = import(&["--name", "bad name"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--name \"bad name\""), "{}", stderr(&o));
}

#[test]
fn policy_check_reports_what_drifted_from_the_security_md_and_security_txt() {
    let toml = stdout(&import(&["--name", "acme"]));
    let root = repo();
    let key = std::fs::read(root.join("keys/test/team-secret.asc")).unwrap();
    let pass = std::fs::read_to_string(root.join("keys/test/passphrase")).unwrap();
    let env = Env::new(&[("team.asc", &key)], Some(pass.trim()), &toml);
    let md = root.join("tests/fixtures/SECURITY.md");
    let cfg = std::fs::read_to_string(&env.config)
        .unwrap()
        .replace(
            "[[mailbox]]\nname = \"security\"\n",
            "[[mailbox]]\nname = \"security\"\npolicy = \"acme\"\n",
        )
        .replace(
            "from = \"security@example.test\"",
            "from = \"security@acme.example.org\"",
        );
    std::fs::write(&env.config, &cfg).unwrap();
    let md_arg = md.to_str().unwrap();
    let o = env.run(&["policy", "check", "--security-md", md_arg]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert!(!stdout(&o).contains("DRIFT"), "{}", stdout(&o));
    assert!(
        stdout(&o)
            .contains("OK     ack_within: policy 3bd / SECURITY.md 3bd (SECURITY.md line 23)"),
        "{}",
        stdout(&o)
    );
    // The running policy changed; the document did not.
    std::fs::write(
        &env.config,
        cfg.replace("ack_within = \"3bd\"", "ack_within = \"48h\"")
            .replace(
                "require = [\"poc\", \"versions\", \"impact\"]",
                "require = [\"poc\"]",
            ),
    )
    .unwrap();
    let o = env.run(&[
        "policy",
        "check",
        "--policy",
        "acme",
        "--security-md",
        md_arg,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let out = stdout(&o);
    assert!(
        out.contains("DRIFT  ack_within: policy 2d / SECURITY.md 3bd"),
        "{out}"
    );
    assert!(out.contains("DRIFT  require"), "{out}");
    assert!(out.contains("hint: `triaged policy import"), "{out}");
    // The same differences, recorded on purpose with their reasons: not drift any more.
    std::fs::write(
        &env.config,
        cfg.replace("ack_within = \"3bd\"", "ack_within = \"48h\"")
            .replace(
                "require = [\"poc\", \"versions\", \"impact\"]",
                "require = [\"poc\"]\ndeviations = { ack_within = \"we answer faster than the document promises\", require = \"we ask for the rest by hand\" }",
            ),
    )
    .unwrap();
    let o = env.run(&[
        "policy",
        "check",
        "--policy",
        "acme",
        "--security-md",
        md_arg,
    ]);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    assert!(
        out.contains("DEVIATION  ack_within: policy 2d / SECURITY.md 3bd")
            && out.contains("(recorded: we answer faster than the document promises)"),
        "{out}"
    );
    assert!(out.contains("DEVIATION  require"), "{out}");
    assert!(!out.contains("DRIFT"), "{out}");
    // An expired security.txt is drift too.
    std::fs::write(&env.config, &cfg).unwrap();
    let txt = env.dir.path().join("security.txt");
    std::fs::write(
        &txt,
        "Contact: mailto:security@acme.example.org\nExpires: 2020-01-01T00:00:00Z\n",
    )
    .unwrap();
    let o = env.run(&[
        "policy",
        "check",
        "--security-md",
        md_arg,
        "--security-txt",
        txt.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stdout(&o).contains("FAIL  expired on"), "{}", stdout(&o));
}

#[test]
fn supported_versions_and_requests_stated_in_prose_are_imported() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_triaged"))
            .args(["policy", "import"])
            .arg(&p)
            .env_remove("TRIAGED_CONFIG")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    let a = run(
        "a.md",
        "# Security Policy\n\n## Supported Versions\n\nOnly the 2.x release line receives security updates. \
         The 1.x line is no longer maintained.\n\n## Reporting\n\nPlease include steps to reproduce and the affected versions.\n",
    );
    for want in [
        "{ range = \"2.x\", supported = true }",
        "{ range = \"1.x\", supported = false }",
        "{ range = \"others\", supported = false }",
        "require = [\"versions\", \"repro_steps\"]",
    ] {
        assert!(a.contains(want), "{want} not in\n{a}");
    }
    let b = run(
        "b.md",
        "# Security\n\nThe latest version v5 is supported; we back-port patches for v4 in critical cases.\n\n\
         Send a report to security@example.org with a proof of concept and the impact.\n\n\
         ## Process\n\n3. Fixes are prepared for all releases which are still supported.\n",
    );
    for want in [
        "{ range = \"5.x\", supported = true }",
        "{ range = \"4.x\", supported = true }",
        "require = [\"poc\", \"impact\"]",
    ] {
        assert!(b.contains(want), "{want} not in\n{b}");
    }
    // A numbered list item is not a version.
    assert!(!b.contains("\"3.x\""), "{b}");
}
