//! `triaged classify`: one message or text file judged without touching the store, and
//! the findings printed for a person (`print_findings`, shared with `case show`).

use anyhow::{Context, Result};

use crate::config::Config;
use crate::domain::findings::{Evidence, Findings};
use crate::domain::verdict::Verdict;
use crate::store;

use super::args::Cli;
use super::policy::load_policy_file;
use super::{print_json, trunc};

pub(super) fn classify_cmd(
    cli: &Cli,
    policy: Option<&str>,
    json: bool,
    show_text: bool,
    file: &std::path::Path,
) -> Result<i32> {
    use std::io::Read;
    // The config is optional here: it supplies keys (to decrypt), named policies and limits.
    let cfg = if cli.config.exists() {
        match Config::load(&cli.config) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("warning: ignoring the config: {e}");
                None
            }
        }
    } else {
        None
    };
    let limits = cfg.as_ref().map(|c| c.limits.clone()).unwrap_or_default();
    // The same limits as intake: never more than limits.max_message_size in memory.
    let max = limits.max_message_size.0;
    let mut bytes = Vec::new();
    let name = if file.as_os_str() == "-" {
        std::io::stdin()
            .take(max.saturating_add(1))
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
        "standard input".to_string()
    } else {
        std::fs::File::open(file)
            .with_context(|| format!("cannot read {}", file.display()))?
            .take(max.saturating_add(1))
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read {}", file.display()))?;
        file.display().to_string()
    };
    if bytes.len() as u64 > max {
        eprintln!(
            "error: {name} is larger than limits.max_message_size ({} bytes), the most triaged reads of one message\n  fix: raise [limits] max_message_size in {} if such reports are expected",
            limits.max_message_size.0,
            cli.config.display()
        );
        return Ok(2);
    }
    let keys = match cfg.as_ref().map(crate::read::keys::team_keys) {
        Some(Ok(k)) => k,
        Some(Err(problems)) => {
            for p in problems {
                eprintln!(
                    "warning: {}: {}: {} (continuing without keys)",
                    cli.config.display(),
                    p.key,
                    p.what
                );
            }
            crate::read::crypto::TeamKeys::empty()
        }
        None => crate::read::crypto::TeamKeys::empty(),
    };
    let policy = match policy {
        None => None,
        Some(p) if std::path::Path::new(p).exists() => {
            Some(load_policy_file(std::path::Path::new(p))?)
        }
        Some(name) => match cfg.as_ref().and_then(|c| c.policy.get(name)) {
            Some(pc) => Some((name.to_string(), pc.clone())),
            None => {
                eprintln!(
                    "error: no policy {name:?}: not a file, and not a [policy.{name}] in {}\n  hint: pass a policy file, e.g. --policy examples/policies/caddy.toml",
                    cli.config.display()
                );
                return Ok(2);
            }
        },
    };
    let is_mail = mail_parser::MessageParser::default()
        .parse(&bytes[..])
        .is_some_and(|m| {
            m.headers().iter().any(|h| {
                ["from", "subject", "date", "message-id", "content-type"]
                    .iter()
                    .any(|k| h.name().eq_ignore_ascii_case(k))
            })
        });
    let (subject, text, atts, arrived, note) = if is_mail {
        let a = crate::read::mime::analyze(&bytes, &keys, &limits);
        let note = match &a.status {
            crate::read::mime::Status::Ok => None,
            crate::read::mime::Status::Undecryptable(r) => Some(format!(
                "the message could not be decrypted ({r}); classified what is readable"
            )),
            crate::read::mime::Status::Unparseable(r) => {
                Some(format!("the message could not be parsed ({r})"))
            }
            crate::read::mime::Status::Oversize(r) => Some(format!(
                "the message was not read within its limits ({r}); classified what is readable"
            )),
        };
        let r = a.report;
        let atts: Vec<(Option<String>, String, Vec<u8>)> = r
            .attachments
            .into_iter()
            .map(|x| (x.name, x.content_type, x.data))
            .collect();
        (
            r.subject.unwrap_or_default(),
            r.text,
            atts,
            r.date.unwrap_or_else(store::now),
            note,
        )
    } else {
        (
            String::new(),
            String::from_utf8_lossy(&bytes).into_owned(),
            Vec::new(),
            store::now(),
            None,
        )
    };
    if let Some(n) = &note {
        eprintln!("warning: {n}");
    }
    // Like intake, classify a bounded prefix of the text (limits.classify_bytes).
    let mut text = text;
    let cap = usize::try_from(limits.classify_bytes.0).unwrap_or(usize::MAX);
    if text.len() > cap {
        let mut cut = cap;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    if show_text {
        print!("{text}");
        if !text.ends_with('\n') {
            println!();
        }
        return Ok(0);
    }
    let input = crate::judge::classify::Input {
        subject: &subject,
        text: &text,
        attachments: atts
            .iter()
            .map(|(n, t, d)| crate::judge::classify::AttachmentIn {
                name: n.as_deref(),
                content_type: t,
                data: d,
            })
            .collect(),
    };
    let findings = crate::judge::classify::classify(&input);
    let verdict =
        policy.map(|(name, p)| crate::judge::policy::evaluate(&name, &p, &findings, arrived));
    if json {
        let mut v = serde_json::to_value(&findings).context("serialising findings")?;
        if let serde_json::Value::Object(o) = &mut v {
            o.insert(
                "policy".into(),
                serde_json::to_value(&verdict).context("serialising the verdict")?,
            );
        }
        print_json(&v)?;
    } else {
        print_findings(&findings, verdict.as_ref());
    }
    Ok(0)
}

pub(super) fn ev_list(evidence: &[Evidence], n: usize) -> String {
    evidence
        .iter()
        .take(n)
        .map(|e| format!("{} {:?}", e.rule, trunc(&e.text.replace('\n', " "), 60)))
        .collect::<Vec<_>>()
        .join("; ")
}

pub(super) fn present(b: bool) -> &'static str {
    if b { "present" } else { "absent" }
}

/// Prints findings (and the policy verdict when present) for a person.
pub(crate) fn print_findings(f: &Findings, verdict: Option<&Verdict>) {
    println!(
        "  poc:            {}  {}",
        f.poc.status,
        ev_list(&f.poc.evidence, 2)
    );
    let items: Vec<String> = f
        .versions
        .items
        .iter()
        .map(|i| {
            let n = i.normalized.as_deref().unwrap_or("?");
            match &i.product {
                Some(p) => format!("{n} ({p})"),
                None => n.to_string(),
            }
        })
        .collect();
    println!(
        "  versions:       {}",
        if items.is_empty() {
            "absent".to_string()
        } else {
            items.join(", ")
        }
    );
    let imp = &f.impact;
    let cvss = imp
        .cvss
        .as_ref()
        .map(|c| format!(", CVSS {:?} {}", c.score, c.vector))
        .unwrap_or_default();
    println!(
        "  impact:         {}; class {}; severity {} ({}{})",
        present(imp.present),
        if imp.class.is_empty() {
            "-".to_string()
        } else {
            imp.class.join(", ")
        },
        imp.severity,
        imp.severity_source,
        cvss
    );
    println!("  repro steps:    {}", present(f.repro_steps.present));
    println!(
        "  fix suggestion: {}  {}",
        present(f.fix_suggestion.present),
        ev_list(&f.fix_suggestion.evidence, 1)
    );
    let ids: Vec<&str> = [&f.cve_ids, &f.cwe_ids, &f.ghsa_ids]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    if !ids.is_empty() {
        println!("  ids:            {}", ids.join(", "));
    }
    if let Some(c) = &f.credit {
        println!(
            "  credit:         {}",
            if c.anonymous {
                "anonymous"
            } else {
                c.name.as_deref().unwrap_or("?")
            }
        );
    }
    if f.low_effort.flag {
        println!(
            "  low effort:     yes ({})",
            f.low_effort.reasons.join(", ")
        );
    }
    if let Some(p) = verdict {
        println!(
            "  policy {}: missing [{}]; version {}{}; next state {}; ack due {}",
            p.policy,
            p.missing.join(", "),
            p.version.status,
            p.version
                .row
                .as_ref()
                .map(|r| format!(" (row \"{}\")", r.range))
                .unwrap_or_default(),
            p.next_state,
            p.deadlines.ack_due
        );
    }
}
