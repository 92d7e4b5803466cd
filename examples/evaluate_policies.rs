//! Evaluates `triaged policy import` against labelled SECURITY.md files.
//!
//!   cargo run --release --example evaluate_policies -- ../shared/corpus/policies [--floors] [--explain]
//!
//! DIR holds the documents and labels.jsonl (one object per document: file, ack_hours,
//! followup_days, requires_poc, requires_versions, supported_versions [{range,
//! supported}], contact_email, pgp_key_offered, channels). Prints per-field accuracy.
//! Supported-versions rows count as right when the table has the same number of rows
//! with the same supported flags in order and each labelled range reads as the same
//! range triaged wrote (both through `policy_import::normalize_range`). With
//! `--floors` exits 1 below 0.9 on the ack window, required PoC and supported rows, and
//! below 0.8 on the channels and the contact address.

use std::collections::BTreeMap;
use std::path::PathBuf;

use triaged::judge::policy_import::{import, normalize_range};

/// Ranges compare without spaces: "> 2.0" and ">2.0" are the same range.
fn squash(s: &str) -> String {
    s.split_whitespace()
        .collect::<String>()
        .to_ascii_lowercase()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(
        args.get(1)
            .expect("usage: evaluate_policies DIR [--floors] [--explain]"),
    );
    let floors = args.iter().any(|a| a == "--floors");
    let explain = args.iter().any(|a| a == "--explain");
    let labels = std::fs::read_to_string(dir.join("labels.jsonl")).expect("DIR/labels.jsonl");
    let mut right: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut score = |field: &'static str, ok: bool, file: &str, got: String, want: String| {
        let e = right.entry(field).or_insert((0, 0));
        e.1 += 1;
        if ok {
            e.0 += 1;
        } else if explain {
            println!("  {file}: {field}: want {want}, got {got}");
        }
    };
    for line in labels.lines().filter(|l| !l.trim().is_empty()) {
        let l: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let file = l["file"].as_str().unwrap_or("");
        let text = std::fs::read_to_string(dir.join(file)).expect("the labelled document");
        let im = import(&text, triaged::store::now());
        // The printed block must load as a policy whose version rows the check reads
        // (what `check-config` verifies), unchanged.
        let tmp = std::env::temp_dir().join(format!("triaged-eval-{}.toml", std::process::id()));
        std::fs::write(&tmp, im.to_toml("imported", file)).expect("writing a temp file");
        let loads = triaged::cli::load_policy_file(&tmp).is_ok_and(|(_, p)| {
            p.supported_versions
                .iter()
                .all(|r| triaged::judge::policy::VersionRange::parse(&r.range).is_ok())
        });
        let _ = std::fs::remove_file(&tmp);
        score(
            "output loads as a policy",
            loads,
            file,
            loads.to_string(),
            "true".into(),
        );
        let ack_h = im.ack_within.as_ref().map(|(d, _)| d.secs() / 3600);
        score(
            "ack window (hours)",
            ack_h == l["ack_hours"].as_i64(),
            file,
            format!("{ack_h:?}"),
            l["ack_hours"].to_string(),
        );
        let fu_d = im.followup_within.as_ref().map(|(d, _)| d.secs() / 86_400);
        score(
            "follow-up window (days)",
            fu_d == l["followup_days"].as_i64(),
            file,
            format!("{fu_d:?}"),
            l["followup_days"].to_string(),
        );
        let has = |n: &str| im.require.iter().any(|(x, _)| x == n);
        score(
            "requires PoC",
            has("poc") == l["requires_poc"].as_bool().unwrap_or(false),
            file,
            has("poc").to_string(),
            l["requires_poc"].to_string(),
        );
        score(
            "requires versions",
            has("versions") == l["requires_versions"].as_bool().unwrap_or(false),
            file,
            has("versions").to_string(),
            l["requires_versions"].to_string(),
        );
        let want_rows: Vec<(Option<String>, bool)> = l["supported_versions"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|r| {
                        (
                            normalize_range(r["range"].as_str().unwrap_or("")).map(|x| squash(&x)),
                            r["supported"].as_bool().unwrap_or(false),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let got_rows: Vec<(Option<String>, bool)> = im
            .supported_versions
            .iter()
            .map(|(r, _)| (Some(squash(&r.range)), r.supported))
            .collect();
        score(
            "supported-versions rows",
            want_rows == got_rows,
            file,
            format!("{got_rows:?}"),
            format!("{want_rows:?}"),
        );
        let contact = im.contacts.first().map(|(a, _)| a.clone());
        let want_contact = l["contact_email"].as_str().map(str::to_ascii_lowercase);
        score(
            "contact email",
            contact == want_contact,
            file,
            format!("{contact:?}"),
            format!("{want_contact:?}"),
        );
        let pgp = im.pgp_key_offered.is_some();
        score(
            "PGP key offered",
            pgp == l["pgp_key_offered"].as_bool().unwrap_or(false),
            file,
            pgp.to_string(),
            l["pgp_key_offered"].to_string(),
        );
        let mut got_ch: Vec<String> = im.channels.iter().map(|(n, _)| n.clone()).collect();
        got_ch.sort();
        let mut want_ch: Vec<String> = l["channels"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        want_ch.sort();
        score(
            "channels (exact set)",
            got_ch == want_ch,
            file,
            format!("{got_ch:?}"),
            format!("{want_ch:?}"),
        );
    }
    println!("{:<26} {:>8}", "field", "accuracy");
    let mut failed = false;
    for (field, (ok, n)) in &right {
        let acc = *ok as f64 / (*n).max(1) as f64;
        println!("{field:<26} {acc:>8.3}  ({ok}/{n})");
        let floor = match *field {
            "ack window (hours)" | "requires PoC" | "supported-versions rows" => Some(0.9),
            // Where reports go: 0.33 / 0.80 before channels needed a reporting sentence.
            "channels (exact set)" | "contact email" => Some(0.8),
            _ => None,
        };
        if floors
            && let Some(f) = floor
            && acc < f
        {
            println!("FLOOR MISSED: {field} {acc:.3} < {f:.3}");
            failed = true;
        }
    }
    if floors {
        println!("floors: {}", if failed { "MISSED" } else { "OK" });
        if failed {
            std::process::exit(1);
        }
    }
}
