//! The classifier on any text: findings, evidence spans (which must lie inside the
//! text they cite), CVSS scoring of whatever looks like a vector.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
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
            e.start <= e.end && e.end <= src.len(),
            "evidence span out of bounds: {e:?}"
        );
    }
    let _ = triaged::judge::classify::score_cvss(&text);
});
