//! Duplicate reports: a paraphrased, reformatted copy of the same bug is flagged with
//! the other case, a score and the reasons; a different bug in the same product is
//! not; a shared CVE id is; nothing is merged and the ack does not tell.

mod common;
use common::*;

fn team_env() -> Env {
    let root = repo();
    let key = std::fs::read(root.join("keys/test/team-secret.asc")).unwrap();
    let pass = std::fs::read_to_string(root.join("keys/test/passphrase")).unwrap();
    Env::new(&[("team.asc", &key)], Some(pass.trim()), "")
}

const ORIGINAL: &str = "Hello,\n\nThe search endpoint of acme 2.4.1 is vulnerable to SQL injection. \
The q parameter of /api/v1/search is concatenated into the query.\n\n\
Steps to reproduce:\n1. Start acme 2.4.1.\n2. Run:\n\n    curl -s \"https://acme.example/api/v1/search?q=%27%20OR%201=1--\"\n\n\
Impact: an unauthenticated attacker can dump the users table, password hashes included.\n";

// The same bug, another reporter: reworded, reordered, other formatting.
const PARAPHRASE: &str = "Hi team,\n\nI believe I found an SQLi. Affected: acme versions up to 2.4.1.\n\n\
PoC: GET /api/v1/search?q=1'+UNION+SELECT+username,password+FROM+users--\n\n\
Because the `q` argument goes straight into the SQL statement, anyone can read the database \
without logging in. Please fix soon.\n";

// A different bug in the same product.
const OTHER_BUG: &str = "Hello,\n\nThe profile editor of acme 2.4.1 stores the display name without escaping: \
<script>alert(document.cookie)</script> saved in /profile/edit runs for every visitor of the profile page.\n\n\
Impact: stored XSS, session theft of administrators.\n";

const WITH_CVE_1: &str = "Remote code execution in the image resizer of acme 2.3.0, see CVE-2026-31337. \
An uploaded file named `a;id` is passed to a shell.\n";
const WITH_CVE_2: &str = "Hi, is acme affected by CVE-2026-31337? I could run commands on my test server \
through a crafted upload.\n";

#[test]
fn paraphrased_copies_match_different_bugs_do_not_and_nothing_is_merged_or_told() {
    let env = team_env();
    let mail = |n: &str, from: &str, subject: &str, body: &str| {
        env.deliver(
            n,
            &plain(&headers(from, subject, &format!("{n}@dup"), &[]), body),
        );
    };
    mail(
        "1",
        "alice@example.net",
        "SQL injection in search",
        ORIGINAL,
    );
    env.json(&["run", "--once", "--json"]);
    mail("2", "bob@example.org", "Security issue", PARAPHRASE);
    mail("3", "carol@example.com", "XSS in profile", OTHER_BUG);
    mail("4", "dave@example.net", "RCE", WITH_CVE_1);
    env.json(&["run", "--once", "--json"]);
    mail(
        "5",
        "erin@example.org",
        "question about CVE-2026-31337",
        WITH_CVE_2,
    );
    env.json(&["run", "--once", "--json"]);
    let cases = env.cases();
    assert_eq!(cases.len(), 5, "nothing is merged");
    let id = |i: usize| cases[i]["id"].as_str().unwrap().to_string();
    assert_eq!(cases[0]["possible_duplicate_of"], serde_json::Value::Null);
    let dup = &cases[1]["possible_duplicate_of"];
    assert_eq!(
        dup["case"],
        id(0),
        "the paraphrase matches the original: {:#}",
        cases[1]
    );
    assert!(dup["score"].as_f64().unwrap() >= 0.6, "{dup}");
    assert_eq!(
        cases[2]["possible_duplicate_of"],
        serde_json::Value::Null,
        "a different bug in the same product is not a duplicate: {:#}",
        cases[2]
    );
    assert_eq!(
        cases[4]["possible_duplicate_of"]["case"],
        id(3),
        "{:#}",
        cases[4]
    );
    // case show: the finding with its evidence, and the event.
    let show = env.json(&["case", "show", &id(1), "--json"]);
    let f = &show["findings"]["duplicate"];
    assert_eq!(f["case"], id(0), "{show:#}");
    let why = f["evidence"].to_string();
    assert!(
        why.contains("same endpoint /api/v1/search") && why.contains("same class sqli"),
        "{why}"
    );
    assert!(
        show["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "possible-duplicate"),
        "{show:#}"
    );
    // The table marks it.
    let table = stdout(&env.run(&["case", "list"]));
    assert!(table.contains(&format!("[dup? {}", id(0))), "{table}");
    // The ack to the second reporter does not reveal the first case.
    let outbox = env.dir.path().join("outbox");
    let mut bobs = 0;
    for e in std::fs::read_dir(outbox).unwrap() {
        let body = std::fs::read_to_string(e.unwrap().path()).unwrap();
        if body.contains("To: bob@example.org") {
            bobs += 1;
            assert!(body.contains(&id(1)), "the ack names its own case");
            assert!(
                !body.contains(&id(0)),
                "the ack names the other case: {body}"
            );
        }
    }
    assert_eq!(bobs, 1, "the second reporter got an ack");
}

#[test]
fn the_score_is_flat_in_cost_and_symmetric() {
    use triaged::judge::classify::{Input, classify};
    use triaged::judge::duplicates::{features, score};
    let f = |t: &str| {
        features(
            "",
            t,
            &classify(&Input {
                subject: "",
                text: t,
                attachments: vec![],
            }),
        )
    };
    let (a, b, c) = (f(ORIGINAL), f(PARAPHRASE), f(OTHER_BUG));
    let (ab, _) = score(&a, &b);
    let (ba, _) = score(&b, &a);
    assert_eq!(ab, ba);
    assert!(ab >= 0.6, "{ab}");
    let (ac, why) = score(&a, &c);
    assert!(ac < 0.6, "{ac} {why:?}");
    let (aa, _) = score(&a, &a);
    assert!(aa >= 0.99, "a report is its own duplicate: {aa}");
}
