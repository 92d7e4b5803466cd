//! `triaged policy …` and `triaged promises`: policies read from files and SECURITY.md,
//! checked against what the project publishes and against what was kept.

use anyhow::{Context, Result};

use crate::store::{self, rfc3339};

use super::args::Cli;
use super::{load, no_case, open_store, print_json, safe};

/// Loads a policy from a file: `[policy.NAME]` tables (the first is used) or bare policy keys.
pub fn load_policy_file(path: &std::path::Path) -> Result<(String, crate::config::PolicyConfig)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the policy file {}", path.display()))?;
    #[derive(serde::Deserialize)]
    struct Wrapper {
        policy: std::collections::BTreeMap<String, crate::config::PolicyConfig>,
    }
    if let Ok(w) = toml::from_str::<Wrapper>(&text)
        && let Some((name, p)) = w.policy.into_iter().next()
    {
        return Ok((name, p));
    }
    let p: crate::config::PolicyConfig = toml::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}: not a policy: {}\n  fix: write a [policy.NAME] table with ack_within, require, supported_versions (see config.example.toml)",
            path.display(),
            e.message()
        )
    })?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    Ok((name, p))
}

/// `policy check`: the running policy against its SECURITY.md (and security.txt).
pub(super) fn policy_check(
    cli: &Cli,
    name: Option<&str>,
    md: Option<&std::path::Path>,
    txt: Option<&std::path::Path>,
) -> Result<i32> {
    let cfg = load(cli)?;
    let (name, p) = match name {
        Some(n) => (
            n.to_string(),
            cfg.policy.get(n).cloned().with_context(|| {
                format!(
                    "no [policy.{n}] in {}; the policies there: {}",
                    cfg.file.display(),
                    cfg.policy.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            })?,
        ),
        None => {
            let mb = cfg
                .mailboxes
                .first()
                .map(|m| m.name.clone())
                .unwrap_or_default();
            cfg.policy_for(&mb)
        }
    };
    let md_path = match md {
        Some(m) => m.to_path_buf(),
        None => {
            let src = p.source.clone().with_context(|| {
                format!("policy {name} has no `source`: pass --security-md FILE")
            })?;
            cfg.resolve(std::path::Path::new(&src))
        }
    };
    let text = std::fs::read_to_string(&md_path).with_context(|| {
        format!(
            "cannot read {}: pass the SECURITY.md with --security-md FILE",
            md_path.display()
        )
    })?;
    let doc = crate::judge::policy_import::import(&text, store::now());
    let want = doc.policy(&md_path.display().to_string());
    let mut drift = 0;
    let deviations = p.deviations.clone();
    let mut report = |ok: bool, what: String| {
        let field = what.split(':').next().unwrap_or_default();
        if ok {
            println!("OK     {what}");
        } else if let Some(why) = deviations.get(field) {
            // Recorded on purpose in the policy: said, not counted as drift.
            println!("DEVIATION  {what} (recorded: {why})");
        } else {
            println!("DRIFT  {what}");
            drift += 1;
        }
    };
    let line = |c: Option<&crate::judge::policy_import::Cite>| {
        c.map(|c| format!(" (SECURITY.md line {})", c.line))
            .unwrap_or_default()
    };
    if let Some((d, c)) = &doc.ack_within {
        report(
            p.ack_within == *d,
            format!(
                "ack_within: policy {} / SECURITY.md {d}{}",
                p.ack_within,
                line(Some(c))
            ),
        );
    }
    if let Some((d, c)) = &doc.followup_within {
        report(
            p.followup_within == Some(*d),
            format!(
                "followup_within: policy {} / SECURITY.md {d}{}",
                p.followup_within.map_or("-".into(), |x| x.to_string()),
                line(Some(c))
            ),
        );
    }
    let mut have: Vec<&String> = p.require.iter().collect();
    have.sort();
    let mut asked: Vec<&String> = want.require.iter().collect();
    asked.sort();
    report(
        have == asked,
        format!("require: policy {have:?} / SECURITY.md {asked:?}"),
    );
    report(
        p.reject_low_effort == want.reject_low_effort,
        format!(
            "reject_low_effort: policy {} / SECURITY.md {}{}",
            p.reject_low_effort,
            want.reject_low_effort,
            line(doc.reject_low_effort.as_ref())
        ),
    );
    if !want.supported_versions.is_empty() {
        let fmt = |rows: &[crate::config::VersionRow]| {
            rows.iter()
                .map(|r| {
                    format!(
                        "{}={}",
                        r.range.split_whitespace().collect::<String>(),
                        if r.supported { "yes" } else { "no" }
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        report(
            fmt(&p.supported_versions) == fmt(&want.supported_versions),
            format!(
                "supported_versions: policy [{}] / SECURITY.md [{}]",
                fmt(&p.supported_versions),
                fmt(&want.supported_versions)
            ),
        );
    }
    if let (Some((addr, c)), Some(from)) = (doc.contacts.first(), cfg.outbox.from.as_deref()) {
        report(
            addr.eq_ignore_ascii_case(from),
            format!(
                "contact: outbox.from {from} / SECURITY.md {addr}{}",
                line(Some(c))
            ),
        );
    }
    let mut code = i32::from(drift > 0);
    if let Some(t) = txt {
        println!("security.txt {}:", t.display());
        if security_txt_check(cli, t, None)? != 0 {
            code = 1;
        }
    }
    if code != 0 {
        println!(
            "hint: `triaged policy import {}` prints the policy the document promises today",
            md_path.display()
        );
    }
    Ok(code)
}

pub(super) fn security_txt_check(
    cli: &Cli,
    file: &std::path::Path,
    published_key: Option<&std::path::Path>,
) -> Result<i32> {
    let cfg = load(cli)?;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let field = |name: &str| {
        text.lines().find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.trim().eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_string())
        })
    };
    let mut problems = 0;
    match field("Expires").and_then(|e| chrono::DateTime::parse_from_rfc3339(&e).ok()) {
        None => {
            println!("FAIL  Expires is missing or not RFC 3339 (RFC 9116 requires it)");
            problems += 1;
        }
        Some(e) => {
            let left = e.timestamp() - store::now();
            if left < 0 {
                println!(
                    "FAIL  expired on {e}: publish a new security.txt (triaged security-txt --encryption URL)"
                );
                problems += 1;
            } else if left < 30 * 86_400 {
                println!(
                    "WARN  expires on {e}, in {} days: renew it soon",
                    left / 86_400
                );
                problems += 1;
            } else {
                println!("OK    expires on {e}");
            }
        }
    }
    match field("Contact") {
        Some(c) if cfg.outbox.from.as_deref().is_some_and(|f| c.contains(f)) => {
            println!("OK    Contact {c}")
        }
        Some(c) => {
            println!(
                "WARN  Contact {c} is not outbox.from ({})",
                cfg.outbox.from.as_deref().unwrap_or("-")
            );
            problems += 1;
        }
        None => {
            println!("FAIL  Contact is missing");
            problems += 1;
        }
    }
    if let Some(path) = published_key {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let published: Vec<String> =
            crate::read::crypto::read_certs(&bytes, crate::read::crypto::KeySource::Published)
                .into_iter()
                .map(|k| k.fingerprint)
                .collect();
        let ours = crate::read::keys::team_keys(&cfg)
            .map(|k| k.fingerprints())
            .unwrap_or_default();
        let aead = crate::read::crypto::librepgp_aead_certs(&bytes);
        if let Some(fpr) = aead.first() {
            println!(
                "FAIL  the published key {fpr} advertises GnuPG's \"AEAD\" feature: GnuPG 2.3 and later encrypt to it with their OCB packet, which triaged cannot decrypt\n      fix: {}",
                crate::read::crypto::LIBREPGP_AEAD_FIX.replace("FPR", fpr)
            );
            problems += 1;
        } else if published.iter().any(|p| ours.contains(p)) {
            println!(
                "OK    the published key {} decrypts our mail",
                published.join(", ")
            );
        } else {
            println!(
                "FAIL  the published key ({}) is not a team key that decrypts ({}): reporters encrypt to the wrong key",
                if published.is_empty() {
                    "none found".to_string()
                } else {
                    published.join(", ")
                },
                ours.join(", ")
            );
            problems += 1;
        }
    } else if let Some(e) = field("Encryption") {
        println!("NOTE  Encryption {e}: pass --published-key FILE to check it is our key");
    }
    Ok(if problems > 0 { 1 } else { 0 })
}

/// The mail that kept a promise: kind, when sent, Message-ID, author (replies).
#[derive(serde::Serialize)]
pub(super) struct KeptBy {
    kind: crate::domain::status::OutboxKind,
    sent_at: String,
    message_id: String,
    author: Option<String>,
}

/// One promise of a case: its deadline and what kept it.
#[derive(serde::Serialize)]
pub(super) struct Promise {
    clock: &'static str,
    due: Option<String>,
    /// kept | open | broken
    status: &'static str,
    /// The mail that kept it.
    kept_by: Option<KeptBy>,
    on_time: Option<bool>,
}

/// `sla --case ID`: the acknowledgment, response and resolution promises of one case.
pub(super) fn promises_cmd(cli: &Cli, id: &str, json: bool) -> Result<i32> {
    let cfg = load(cli)?;
    let store = open_store(&cfg)?;
    let Some(c) = store::case_by_public_id(store.db(), id)? else {
        return Ok(no_case(id));
    };
    let sent = store::sent_of(store.db(), c.id)?;
    let now = store::now();
    let kept = |s: &store::SentRow| KeptBy {
        kind: s.kind,
        sent_at: rfc3339(s.at),
        message_id: s.message_id.clone(),
        author: s.author.clone(),
    };
    let promise =
        |clock: &'static str, due: Option<i64>, by: Option<&store::SentRow>, done: Option<i64>| {
            let status = match (done, due) {
                (Some(_), _) => "kept",
                (None, Some(d)) if d < now => "broken",
                _ => "open",
            };
            Promise {
                clock,
                due: due.map(rfc3339),
                status,
                kept_by: by.map(kept),
                on_time: done.zip(due).map(|(t, d)| t <= d),
            }
        };
    let first_ack = sent
        .iter()
        .find(|s| s.kind.acknowledges() && s.state == crate::domain::status::OutboxState::Sent);
    let reply = c
        .responded_by
        .and_then(|by| sent.iter().find(|s| s.outbox_id == by));
    let resolved = c.state.is_closed()
        || matches!(
            c.state,
            crate::domain::case::State::Fixed | crate::domain::case::State::Disclosed
        );
    let mut resolution = promise("resolution", c.resolve_due, None, None);
    if resolved && c.resolve_due.is_some() {
        // When it was resolved is in the audit trail, not a column: no on-time claim.
        resolution.status = "kept";
    }
    let promises = vec![
        promise("ack", c.ack_due, first_ack, c.acked_at),
        promise("response", c.followup_due, reply, c.responded_at),
        resolution,
    ];
    if json {
        print_json(
            &serde_json::json!({"case": c.id_public, "state": c.state, "promises": promises}),
        )?;
        return Ok(0);
    }
    println!("{}  {}  (policy {})", c.id_public, c.state, c.policy);
    for p in &promises {
        let by = p
            .kept_by
            .as_ref()
            .map(|k| {
                format!(
                    " by the {} sent {}{}",
                    k.kind,
                    k.sent_at,
                    k.author
                        .as_deref()
                        .map(|a| format!(" (written by {})", safe(a)))
                        .unwrap_or_default()
                )
            })
            .unwrap_or_default();
        let timing = match p.on_time {
            Some(true) => ", on time",
            Some(false) => ", late",
            None => "",
        };
        println!(
            "  {:<11} due {:<21} {}{by}{timing}",
            p.clock,
            p.due.as_deref().unwrap_or("-"),
            p.status
        );
    }
    Ok(0)
}
