//! Golden JSON: the public `--json` output of `case list`, `case show`, `sla` and
//! `stats` for a fixed set of reports, compared with `tests/golden/*.json`. The
//! JSON fields are a stable interface (README "JSON fields"); a refactoring that
//! renames or retypes one fails here. Volatile values (times, random Message-ID
//! parts, hashes, Maildir names) are normalised before the comparison.
//! `UPDATE_GOLDEN=1 cargo test --test golden` rewrites the files after an
//! intended change (review the diff).

mod common;
use common::*;

fn normalise(v: &mut serde_json::Value) {
    use regex::Regex;
    let time = Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").unwrap();
    let hex = Regex::new(r"\b[0-9a-f]{32,64}\b").unwrap();
    let maildir = Regex::new(r"\b\d{10}\.(\w+)\.test\b").unwrap();
    let secs = Regex::new(r"\b\d+ h \d+ min\b").unwrap();
    let tmp = Regex::new(r"/tmp/\.tmp\w+").unwrap();
    // Case ids carry the year of arrival (now): the test must pass next year too.
    let year = Regex::new(r"\bSEC-\d{4}-").unwrap();
    match v {
        serde_json::Value::String(s) => {
            let t = time.replace_all(s, "<time>");
            let t = hex.replace_all(&t, "<hex>");
            let t = maildir.replace_all(&t, "<maildir>.$1");
            let t = secs.replace_all(&t, "<duration>");
            let t = tmp.replace_all(&t, "<tmpdir>");
            let t = year.replace_all(&t, "SEC-<year>-");
            *s = t.into_owned();
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(normalise),
        serde_json::Value::Object(o) => {
            for (k, v) in o.iter_mut() {
                if k.starts_with("median_seconds") || k == "seconds_left" {
                    *v = serde_json::json!("<number>");
                } else {
                    normalise(v);
                }
            }
        }
        _ => {}
    }
}

fn check(name: &str, mut v: serde_json::Value) {
    normalise(&mut v);
    let path = repo().join("tests/golden").join(format!("{name}.json"));
    let got = serde_json::to_string_pretty(&v).unwrap() + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: run UPDATE_GOLDEN=1 cargo test --test golden",
            path.display()
        )
    });
    if got != want {
        let diff: Vec<String> = want
            .lines()
            .zip(got.lines())
            .enumerate()
            .filter(|(_, (a, b))| a != b)
            .take(10)
            .map(|(i, (a, b))| format!("line {}:\n  want {a}\n  got  {b}", i + 1))
            .collect();
        panic!(
            "{name}: the JSON changed ({} vs {} lines)\n{}\n(an intended change: UPDATE_GOLDEN=1 cargo test --test golden, and review the diff)",
            want.lines().count(),
            got.lines().count(),
            diff.join("\n")
        );
    }
}

#[test]
fn the_public_json_of_case_list_show_sla_and_stats_is_stable() {
    let root = repo();
    let key = std::fs::read(root.join("keys/test/team-secret.asc")).unwrap();
    let pass = std::fs::read_to_string(root.join("keys/test/passphrase")).unwrap();
    let env = Env::new(
        &[("team.asc", &key)],
        Some(pass.trim()),
        "[policy.default]\nack_within = \"48h\"\nfollowup_within = \"7d\"\nrequire = [\"poc\", \"versions\", \"impact\"]\n\
         supported_versions = [{ range = \">= 2.0\", supported = true }, { range = \"< 2.0\", supported = false }]\n",
    );
    env.deliver(
        "1",
        &plain(
            &headers("Rita Reporter <rita@example.net>", "Stored XSS in comments", "golden1@example.net", &[]),
            "Affected versions: acme <= 2.4.1\n\nSteps to reproduce:\n1. Log in.\n2. Post a comment with <script>alert(document.cookie)</script>\n3. Open the page.\n\n\
             Impact: an attacker steals the session of every visitor (CVSS:3.1/AV:N/AC:L/PR:L/UI:R/S:C/C:H/I:L/A:N).\n\
             Fix: escape the comment body. CWE-79.\n\nPlease credit me as Rita Reporter.\n",
        ),
    );
    env.deliver(
        "2",
        &plain(
            &headers("hunter@example.com", "Critical vulnerability found", "golden2@example.com", &[]),
            "Hello, I found a critical vulnerability in your website. Do you pay a bounty? I will send details after.\n",
        ),
    );
    env.deliver(
        "3",
        &plain(
            &headers("sam@example.org", "Path traversal in 1.9", "golden3@example.org", &[]),
            "GET /download?file=../../../../etc/passwd HTTP/1.1\nHost: acme.test\n\nWorks on acme 1.9.3. An attacker reads any file on the server.\n",
        ),
    );
    let s = env.json(&["run", "--once", "--json"]);
    assert_eq!(s["created"], 3, "{s}");
    check("run_once", s);
    let list = env.json(&["case", "list", "--json"]);
    let ids: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    check("case_list", list);
    for (i, id) in ids.iter().enumerate() {
        check(
            &format!("case_show_{}", i + 1),
            env.json(&["case", "show", id, "--json"]),
        );
    }
    check("sla", env.json(&["sla", "--json"]));
    check("stats", env.json(&["stats", "--json"]));
}
