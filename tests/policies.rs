//! Each example policy (examples/policies/*.toml) behaves as the SECURITY.md it
//! encodes promises: its windows, its required items, its supported versions.

use triaged::config::Duration;
use triaged::judge::classify::{Input, classify};
use triaged::judge::policy::{Verdict, evaluate};

/// Friday 2026-11-27 10:00:00 UTC.
const FRIDAY: i64 = 1_795_773_600;
const HOUR: i64 = 3600;

const FULL: &str = "Steps to reproduce:\n1. Start acme 2.4.1 with the default config.\n2. Run:\n\n    \
    curl -s \"http://localhost:8080/api/search?q=%27%20OR%20%271%27=%271\"\n\n\
    Affected versions: <= 2.4.1.\n\
    Impact: an unauthenticated attacker can read every user's data (SQL injection).\n\
    Suggested fix: use parameterised queries in the search handler.\n";
const NO_POC: &str = "The admin panel of acme 2.4.1 is vulnerable to cross-site scripting; \
    an attacker can steal administrator sessions.";
const NO_VERSION: &str = "Steps to reproduce:\n1. Log in.\n2. Run:\n\n    curl -s \"http://localhost/api/files?path=../../../../etc/passwd\"\n\n\
    Impact: arbitrary file read as the service user.\n";
const VAGUE: &str = "Hello, I found a critical vulnerability in your website. \
    Please tell me the bounty amount before I share the details.";

fn policy(file: &str) -> (String, triaged::config::PolicyConfig) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/policies")
        .join(file);
    triaged::cli::load_policy_file(&path).unwrap_or_else(|e| panic!("{file}: {e:#}"))
}

fn judge(file: &str, text: &str) -> Verdict {
    let (name, p) = policy(file);
    let f = classify(&Input {
        subject: "report",
        text,
        attachments: vec![],
    });
    evaluate(&name, &p, &f, FRIDAY)
}

fn judge_with_latest(file: &str, latest: &str, text: &str) -> Verdict {
    let (name, mut p) = policy(file);
    p.latest = Some(latest.into());
    let f = classify(&Input {
        subject: "report",
        text,
        attachments: vec![],
    });
    evaluate(&name, &p, &f, FRIDAY)
}

fn ack_hours(v: &Verdict) -> i64 {
    (v.ack_due - FRIDAY) / HOUR
}

#[test]
fn every_example_policy_loads_and_accepts_a_complete_report() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/policies");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("examples/policies")
                .join(&name),
        )
        .unwrap();
        assert!(
            text.starts_with("# Encodes "),
            "{name} must say which SECURITY.md it encodes"
        );
        let v = judge(&name, FULL);
        assert_eq!(v.next_state, "triaged", "{name}: {v:#?}");
        assert!(v.missing.is_empty(), "{name}: {v:#?}");
        n += 1;
    }
    assert_eq!(n, 15, "one policy per SECURITY.md in the corpus");
}

#[test]
fn requests_needs_code_and_answers_within_two_days() {
    let v = judge("requests.toml", NO_POC);
    assert_eq!(v.next_state, "needs-info");
    assert_eq!(v.missing, vec!["poc"]);
    assert_eq!(ack_hours(&v), 48);
    assert_eq!(
        v.deadlines.resolve_due.as_deref(),
        Some("2026-12-11T10:00:00Z")
    );
}

#[test]
fn tokio_requires_nothing() {
    let v = judge("tokio.toml", NO_POC);
    assert_eq!(v.next_state, "triaged");
}

#[test]
fn caddy_supports_only_the_latest_2x() {
    let v = judge("caddy.toml", NO_POC);
    assert_eq!(v.missing, vec!["poc", "repro_steps"]);
    let old = judge_with_latest(
        "caddy.toml",
        "2.8.4",
        "Caddy 2.7.6 is affected.\n\n    curl -v http://localhost/x\n",
    );
    assert_eq!(old.version.status, "unsupported", "{old:#?}");
    let cur = judge_with_latest(
        "caddy.toml",
        "2.8.4",
        "Caddy 2.8.4 is affected.\n\n    curl -v http://localhost/x\n",
    );
    assert_eq!(cur.version.status, "supported", "{cur:#?}");
}

#[test]
fn puma_supports_8x_and_7x_only() {
    assert_eq!(
        judge("puma.toml", "Puma 8.0.1 is affected: it crashes.")
            .version
            .status,
        "supported"
    );
    assert_eq!(
        judge("puma.toml", "Puma 7.2.0 is affected: it crashes.")
            .version
            .status,
        "supported"
    );
    assert_eq!(
        judge("puma.toml", "Puma 6.4.2 is affected: it crashes.")
            .version
            .status,
        "unsupported"
    );
}

#[test]
fn rack_supports_two_newest_series() {
    let status =
        |latest: &str, text: &str| judge_with_latest("rack.toml", latest, text).version.status;
    // The rows follow the current release: 3.1.x and 3.0.x while 3.1.8 is the latest.
    assert_eq!(
        status("3.1.8", "rack 3.1.2 is affected: it leaks headers."),
        "supported"
    );
    assert_eq!(
        status("3.1.8", "rack 3.0.11 is affected: it leaks headers."),
        "supported"
    );
    assert_eq!(
        status("3.1.8", "rack 2.2.10 is affected: it leaks headers."),
        "unsupported"
    );
    assert_eq!(
        status("3.1.8", "rack 3.2.0 is affected: it leaks headers."),
        "supported"
    );
    // A new series moves them: 3.0.x drops out.
    assert_eq!(
        status("3.2.0", "rack 3.0.11 is affected: it leaks headers."),
        "unsupported"
    );
    // After a new major the series before it is some 3.y nobody named: not known,
    // so not called unsupported; 2.x is older than any 3.y and is.
    assert_eq!(
        status("4.0.1", "rack 3.1.8 is affected: it leaks headers."),
        "unknown"
    );
    assert_eq!(
        status("4.0.1", "rack 4.0.0 is affected: it leaks headers."),
        "supported"
    );
}

#[test]
fn rows_relative_to_the_current_release_decide_nothing_without_it() {
    // No `latest`: 2.2.10 may be the current release for all the policy knows, so the
    // "older" row below the relative ones does not call it unsupported.
    let v = judge("rack.toml", "rack 2.2.10 is affected: it leaks headers.");
    assert_eq!(v.version.status, "unknown", "{v:#?}");
    // Caddy's "2.latest" is undecided without `latest`, and its "*" row below does not
    // decide instead; puma's concrete rows ("7.x", "All other releases") still do.
    let v = judge(
        "caddy.toml",
        "Caddy 2.7.6 is affected.\n\n    curl -v http://localhost/x\n",
    );
    assert_eq!(v.version.status, "unknown", "{v:#?}");
    let v = judge("puma.toml", "Puma 6.4.2 is affected: it crashes.");
    assert_eq!(v.version.status, "unsupported", "{v:#?}");
}

#[test]
fn a_report_on_the_current_release_is_never_refused_by_a_catch_all_row() {
    // 6.x is refused by "All other releases", but the report says the latest release
    // is affected too, and a policy that supports anything supports that.
    let v = judge(
        "puma.toml",
        "Puma 6.x and later are affected, including the latest release: it crashes.",
    );
    assert_eq!(v.version.status, "supported", "{v:#?}");
    assert_eq!(v.version.reported.as_deref(), Some("the latest release"));
}

#[test]
fn fastify_answers_within_four_business_days() {
    let v = judge("fastify.toml", FULL);
    // Friday + 4 business days = Thursday (the weekend does not count).
    assert_eq!(v.deadlines.ack_due, "2026-12-03T10:00:00Z");
    assert_eq!(Duration::parse("4bd").unwrap().to_string(), "4bd");
    assert_eq!(
        v.deadlines.followup_due.as_deref(),
        Some("2027-02-25T10:00:00Z")
    );
}

#[test]
fn laravel_and_jackson_have_no_requirements() {
    for f in ["laravel.toml", "jackson-databind.toml"] {
        let v = judge(f, NO_POC);
        assert_eq!(v.next_state, "triaged", "{f}");
        assert_eq!(v.version.status, "unknown", "{f}: no table");
    }
}

#[test]
fn sinatra_acks_in_24h_and_answers_in_48h() {
    let v = judge("sinatra.toml", FULL);
    assert_eq!(ack_hours(&v), 24);
    assert_eq!(v.followup_due.map(|t| (t - FRIDAY) / HOUR), Some(48));
}

#[test]
fn socket_io_needs_a_reproduction_and_drops_versions_before_2_4() {
    assert_eq!(judge("socket.io.toml", NO_POC).missing, vec!["poc"]);
    let v = judge(
        "socket.io.toml",
        "socket.io 2.3.0 and earlier are affected: it crashes.",
    );
    assert_eq!(v.version.status, "unsupported", "{v:#?}");
    let v = judge("socket.io.toml", "socket.io 2.4.1 is affected: it crashes.");
    assert_eq!(v.version.status, "supported", "{v:#?}");
    assert_eq!(v.version.row.as_ref().unwrap().range, "2.4.x");
}

#[test]
fn localai_versions_before_2_are_unsupported() {
    assert_eq!(
        judge(
            "localai.toml",
            "LocalAI 1.40.0 is affected: it leaks the API key."
        )
        .version
        .status,
        "unsupported"
    );
    assert_eq!(
        judge(
            "localai.toml",
            "LocalAI 2.19.4 is affected: it leaks the API key."
        )
        .version
        .status,
        "supported"
    );
    assert_eq!(ack_hours(&judge("localai.toml", FULL)), 48);
}

#[test]
fn librechat_wants_steps_and_versions_within_72h() {
    let v = judge("librechat.toml", NO_VERSION);
    assert_eq!(v.missing, vec!["versions"]);
    assert_eq!(v.next_state, "needs-info");
    assert_eq!(ack_hours(&v), 72);
}

#[test]
fn openembeddings_48h_7d_and_1x_only() {
    let v = judge("openembeddings.toml", NO_VERSION);
    assert_eq!(v.missing, vec!["versions"]);
    assert_eq!(ack_hours(&v), 48);
    assert_eq!(v.followup_due.map(|t| (t - FRIDAY) / HOUR), Some(7 * 24));
    assert_eq!(
        judge(
            "openembeddings.toml",
            "OpenEmbeddings 0.9.2 is affected: it leaks keys."
        )
        .version
        .status,
        "unsupported"
    );
    assert_eq!(
        judge(
            "openembeddings.toml",
            "OpenEmbeddings 1.2.0 is affected: it leaks keys."
        )
        .version
        .status,
        "supported"
    );
}

#[test]
fn open_webui_rejects_low_effort_and_demands_poc_and_patch() {
    let v = judge("open-webui.toml", VAGUE);
    assert_eq!(v.next_state, "rejected", "{v:#?}");
    let v = judge("open-webui.toml", NO_POC);
    assert_eq!(v.missing, vec!["poc", "fix_suggestion"]);
    let v = judge(
        "open-webui.toml",
        "Found on the main branch:\n\n    curl http://localhost/api -d '<script>alert(1)</script>'\n\nAn attacker can steal sessions.",
    );
    assert_eq!(v.version.status, "supported", "{v:#?}");
    assert_eq!(v.missing, vec!["fix_suggestion"]);
}

#[test]
fn generic_template_wants_steps_and_acks_in_48h() {
    let v = judge("generic-template.toml", NO_POC);
    assert_eq!(v.missing, vec!["repro_steps"]);
    assert_eq!(ack_hours(&v), 48);
}
