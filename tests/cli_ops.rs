//! The operator's commands: list filters, assign, merge, export, stats, keys,
//! security-txt, completions.

mod common;
use common::*;

fn env_with_cases() -> Env {
    let root = repo();
    let key = std::fs::read(root.join("keys/test/team-secret.asc")).unwrap();
    let pass = std::fs::read_to_string(root.join("keys/test/passphrase")).unwrap();
    let env = Env::new(
        &[("team.asc", &key)],
        Some(pass.trim()),
        "[policy.default]\nsource = \"https://example.test/SECURITY.md\"\n",
    );
    env.deliver("1", &plain(&headers("a@example.net", "RCE", "c1@x", &[]), "An unauthenticated attacker can execute arbitrary code: curl -d 'x=$(id)' http://h/run\nFrom the shell it is easy.\n"));
    env.deliver(
        "2",
        &plain(
            &headers("b@example.net", "Open redirect", "c2@x", &[]),
            "Open redirect on /logout?next=https://evil.example in acme 2.4.1\n",
        ),
    );
    env.deliver(
        "3",
        &plain(
            &headers("c@example.net", "RCE again", "c3@x", &[]),
            "Same RCE as before, remote code execution via /run.\n",
        ),
    );
    env.json(&["run", "--once", "--json"]);
    env
}

fn ids(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn list_filters_assign_merge_export_stats() {
    let env = env_with_cases();
    let all = env.cases();
    assert_eq!(all.len(), 3);
    let first = all[0]["id"].as_str().unwrap().to_string();
    let third = all[2]["id"].as_str().unwrap().to_string();
    let crit = env.json(&["case", "list", "--severity", "critical", "--json"]);
    assert_eq!(ids(&crit), vec![first.clone(), third.clone()]);
    assert_eq!(
        ids(&env.json(&["case", "list", "--policy", "nope", "--json"])).len(),
        0
    );
    assert_eq!(
        ids(&env.json(&["case", "list", "--since", "2000-01-01", "--json"])).len(),
        3
    );
    assert_eq!(
        ids(&env.json(&["case", "list", "--since", "2100-01-01", "--json"])).len(),
        0
    );
    let by_sev = env.json(&["case", "list", "--sort", "severity", "--json"]);
    assert_eq!(by_sev[2]["severity"], "low", "{by_sev:#}");

    assert!(
        env.run(&["case", "assign", &first, "alice", "--as", "bob"])
            .status
            .success()
    );
    let show = env.json(&["case", "show", &first, "--json"]);
    assert_eq!(show["case"]["assignee"], "alice");
    assert!(
        show["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "assigned" && e["actor"] == "bob")
    );

    assert!(env.run(&["case", "merge", &third, &first]).status.success());
    let show = env.json(&["case", "show", &third, "--json"]);
    assert_eq!(show["case"]["state"], "duplicate");
    assert_eq!(show["case"]["merged_into"], first.as_str());
    assert_eq!(
        env.run(&["case", "merge", &first, &first]).status.code(),
        Some(4)
    );

    let o = env.run(&["case", "export", &first]);
    assert!(o.status.success());
    let mbox = stdout(&o);
    assert!(mbox.starts_with("From a@example.net "), "{mbox}");
    assert!(mbox.contains("X-Triaged-Case: "), "{mbox}");
    assert!(
        mbox.contains("\n>From the shell it is easy."),
        "mboxrd quoting: {mbox}"
    );
    assert!(mbox.contains("[ack to a@example.net, sent"), "{mbox}");

    let s = env.json(&["stats", "--json"]);
    assert_eq!(s["cases"], 3);
    assert_eq!(s["by_state"]["duplicate"], 1);
    assert_eq!(s["by_severity"]["critical"], 2);
    assert!(s["median_seconds_to_first_response"].is_number(), "{s}");
    assert_eq!(s["acknowledged_within_window"], 3);
}

#[test]
fn keys_list_export_import_and_security_txt_and_completions() {
    let env = env_with_cases();
    let k = env.json(&["keys", "list", "--json"]);
    assert_eq!(
        k["team"][0]["fingerprint"],
        "A2C3BC3FD507C7230A253F0DFA045DF9247F8F27"
    );
    let o = env.run(&["keys", "export"]);
    assert!(stdout(&o).starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
    assert!(!stdout(&o).contains("PRIVATE KEY"), "never the secret key");
    // Import needs a keyring in the config: a clear error first, then it works.
    let gpg = Gpg::new();
    let fpr = gpg.generate("Rita <rita@example.net>", "ed25519", "cv25519", "");
    let file = env.dir.path().join("rita.asc");
    std::fs::write(&file, gpg.export_public(&fpr)).unwrap();
    let o = env.run(&["keys", "import", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("keys.reporter_keyring is not set"),
        "{}",
        stderr(&o)
    );
    let cfg = std::fs::read_to_string(&env.config)
        .unwrap()
        .replace("[keys]\n", "[keys]\nreporter_keyring = \"reporters.asc\"\n");
    std::fs::write(&env.config, cfg).unwrap();
    let o = env.run(&["keys", "import", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains(&fpr), "{}", stdout(&o));
    assert!(env.run(&["check-config"]).status.success());

    let o = env.run(&[
        "security-txt",
        "--encryption",
        "https://example.test/key.asc",
    ]);
    let txt = stdout(&o);
    assert!(
        txt.contains("Contact: mailto:security@example.test"),
        "{txt}"
    );
    assert!(txt.contains("Expires: "), "{txt}");
    assert!(
        txt.contains("Encryption: https://example.test/key.asc"),
        "{txt}"
    );
    assert!(
        txt.contains("Policy: https://example.test/SECURITY.md"),
        "{txt}"
    );

    // Check a published security.txt: good, then expiring soon with the wrong key.
    let good = env.dir.path().join("security.txt");
    std::fs::write(&good, &txt).unwrap();
    let team_pub = env.dir.path().join("team.pub.asc");
    std::fs::write(&team_pub, stdout(&env.run(&["keys", "export"]))).unwrap();
    let o = env.run(&[
        "security-txt",
        "--check",
        good.to_str().unwrap(),
        "--published-key",
        team_pub.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    let soon = (chrono::Utc::now() + chrono::Duration::days(10))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let stale = env.dir.path().join("stale.txt");
    std::fs::write(
        &stale,
        format!("Contact: mailto:security@example.test\nExpires: {soon}\n"),
    )
    .unwrap();
    let o = env.run(&[
        "security-txt",
        "--check",
        stale.to_str().unwrap(),
        "--published-key",
        file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("WARN  expires on"), "{out}");
    assert!(out.contains("reporters encrypt to the wrong key"), "{out}");

    let o = env.run(&["completions", "bash"]);
    assert!(
        stdout(&o).contains("_triaged()"),
        "bash completion function"
    );
    assert!(
        stdout(&o).contains("security-txt"),
        "every subcommand is completed"
    );
    let o = env.run(&["man"]);
    let man = stdout(&o);
    assert!(
        man.starts_with(".ie") || man.contains(".TH triaged"),
        "{man}"
    );
    assert!(
        man.contains("check\\-config") || man.contains("check-config"),
        "{man}"
    );
}

#[test]
fn list_limit_keeps_the_last_cases_in_the_chosen_order_and_says_so() {
    let env = env_with_cases();
    let all = ids(&env.json(&["case", "list", "--json"]));
    assert_eq!(all.len(), 3);
    // The SQL fast path (no other filter): the newest two, still oldest first.
    let out = env.run(&["case", "list", "--limit", "2", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let two: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ids(&two), all[1..].to_vec());
    assert!(
        stderr(&out).contains("(2 of 3 cases shown"),
        "{}",
        stderr(&out)
    );
    // With a reordering: the last one in severity order (the lowest).
    let by_sev = ids(&env.json(&["case", "list", "--sort", "severity", "--json"]));
    let last = ids(&env.json(&[
        "case", "list", "--sort", "severity", "--limit", "1", "--json",
    ]));
    assert_eq!(last, vec![by_sev[2].clone()]);
    // The table shows everything when there are fewer than 100, and says nothing more.
    let table = env.run(&["case", "list"]);
    assert_eq!(stdout(&table).lines().count(), 4, "{}", stdout(&table));
    assert!(!stderr(&table).contains("shown"), "{}", stderr(&table));
    // --limit 0: all.
    assert_eq!(
        ids(&env.json(&["case", "list", "--limit", "0", "--json"])),
        all
    );
}
