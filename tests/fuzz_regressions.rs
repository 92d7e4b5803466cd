//! Inputs the fuzz targets (fuzz/, `scripts/fuzz`) once crashed on, kept as tests.
//! Each file under tests/fuzz-regressions/ is named after the target that found it;
//! the message ones go through the whole read path with the test team key and
//! must come back as a report (never a panic), with the rest of the message read.

mod common;
use common::*;

use triaged::config::Limits;
use triaged::read::crypto::TeamKeys;

fn team() -> TeamKeys {
    let root = repo();
    let key = std::fs::read(root.join("keys/test/team-secret.asc")).unwrap();
    let pass = std::fs::read_to_string(root.join("keys/test/passphrase")).unwrap();
    TeamKeys::load(&[("team-secret.asc".into(), key)], Some(pass.trim()), None).unwrap()
}

fn inputs(prefix: &str) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(repo().join("tests/fuzz-regressions"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix))
        })
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect();
    v.sort();
    v
}

#[test]
fn every_message_that_crashed_a_fuzz_target_is_read_without_a_panic() {
    let team = team();
    let found = inputs("message-");
    assert!(
        !found.is_empty(),
        "the regression inputs are in the repository"
    );
    for (name, raw) in found {
        // No catch_unwind here: a panic escaping analyze fails this test.
        let a = triaged::read::mime::analyze(&raw, &team, &Limits::default());
        assert!(a.report.from_addr.is_some(), "{name}: headers read");
        let _ = a.status;
    }
}

#[test]
fn a_panic_in_sequoias_seip_parser_costs_only_that_block() {
    let raw = std::fs::read(repo().join("tests/fuzz-regressions/message-sequoia-seip-panic.eml"))
        .unwrap();
    let a = triaged::read::mime::analyze(&raw, &team(), &Limits::default());
    let errors = a.report.decrypt_errors.join("; ");
    assert!(
        errors.contains("OpenPGP parser failed on malformed input"),
        "{errors}"
    );
    assert!(
        a.report.text.contains("the import endpoint recurses"),
        "the plain text part is still read: {}",
        a.report.text
    );
}

/// The classify target's input shape: the first line is the subject, the rest the body.
#[test]
fn every_text_that_crashed_the_classifier_is_classified_with_evidence_inside_the_text() {
    let found = inputs("classify-");
    assert!(!found.is_empty());
    for (name, data) in found {
        let text = String::from_utf8_lossy(&data);
        let (subject, body) = text.split_once('\n').unwrap_or(("", &text));
        let f = triaged::judge::classify::classify(&triaged::judge::classify::Input {
            subject,
            text: body,
            attachments: Vec::new(),
        });
        for e in f.evidence() {
            let src = if e.location == "subject" {
                subject
            } else {
                body
            };
            assert!(
                e.start <= e.end && src.get(e.start..e.end).is_some(),
                "{name}: evidence span {}..{} outside its {} text ({} bytes): {e:?}",
                e.start,
                e.end,
                e.location,
                src.len()
            );
        }
    }
}

#[test]
fn a_huge_business_day_count_is_refused_not_added_up_day_by_day() {
    // Found by the config fuzz target: "999999999bd" took 40 s in Duration::after.
    let e = triaged::config::Duration::parse("999999999bd").unwrap_err();
    assert!(e.contains("at most 2600 business days"), "{e}");
    let d = triaged::config::Duration::parse("2600bd").unwrap();
    assert!(d.after(1_795_500_000) > 1_795_500_000);
}
