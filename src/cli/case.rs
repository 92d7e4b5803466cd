//! `triaged case …`: list, show, move, note, export (mbox) and the case views.

use std::io::IsTerminal;

use anyhow::{Context, Result};

use crate::config::Config;
use crate::domain::findings::Findings;
use crate::domain::status::ReadStatus;
use crate::domain::verdict::Verdict;
use crate::ingest::intake;
use crate::store::{self, Store, rfc3339};

use super::args::{CaseCmd, Cli, Sort};
use super::classify::print_findings;
use super::{date, first_problem, load, no_case, open_store, operator, print_json, safe, trunc};
use super::{disclose, render};

pub(super) fn case_cmd(cli: &Cli, cmd: &CaseCmd) -> Result<i32> {
    let cfg = load(cli)?;
    let mut store = open_store(&cfg)?;
    match cmd {
        // Past the acknowledgment (`cli::disclose`): these open what they need.
        CaseCmd::Reply {
            id,
            file,
            template,
            no_edit,
            cleartext,
            state,
            dry_run,
            actor,
            json,
        } => disclose::reply(
            cli,
            &disclose::ReplyArgs {
                id,
                file: file.as_deref(),
                template: template.as_deref(),
                no_edit: *no_edit,
                cleartext: *cleartext,
                state: state.as_deref(),
                dry_run: *dry_run,
                actor: actor.as_deref(),
                json: *json,
            },
        ),
        CaseCmd::Templates { id } => disclose::list_templates(cli, id),
        CaseCmd::Set {
            id,
            facts,
            actor,
            json,
        } => disclose::set(cli, id, facts, actor.as_deref(), *json),
        CaseCmd::Advisory {
            id,
            format,
            output,
            publisher,
            namespace,
        } => disclose::advisory(
            cli,
            id,
            *format,
            output.as_deref(),
            publisher.as_deref(),
            namespace.as_deref(),
        ),
        CaseCmd::List {
            state,
            severity,
            policy,
            overdue,
            open,
            since,
            sort,
            limit,
            json,
        } => case_list(
            &store,
            &CaseFilter {
                // Parsed here rather than by clap: an unknown state is an operator error
                // (exit 1, with the list of states), like an unknown case id.
                state: state
                    .as_deref()
                    .map(str::parse::<crate::domain::case::State>)
                    .transpose()?,
                severity: *severity,
                policy: policy.as_deref(),
                overdue: *overdue,
                open: *open,
                since: since.as_deref(),
                sort: *sort,
                limit: *limit,
            },
            *json,
        ),
        CaseCmd::Show { id, json } => case_show(&cfg, &store, id, *json),
        CaseCmd::Move {
            id,
            state,
            note,
            actor,
        } => {
            let Some(c) = store::case_by_public_id(store.db(), id)? else {
                return Ok(no_case(id));
            };
            let to: crate::domain::case::State = state.parse()?;
            let from = c.state;
            if !from.can_move_to(to) {
                let allowed: Vec<&str> = crate::domain::case::ALL_STATES
                    .iter()
                    .filter(|s| from.can_move_to(**s))
                    .map(|s| s.as_str())
                    .collect();
                eprintln!(
                    "error: {id} is {from}; it cannot move to {to}\n  hint: from {from} a case can move to: {}",
                    allowed.join(", ")
                );
                return Ok(4);
            }
            let actor = actor.clone().unwrap_or_else(operator);
            store.move_case(c.id, from, to, note.as_deref(), &actor)?;
            println!("{id}: {from} -> {to}");
            Ok(0)
        }
        CaseCmd::Assign { id, to, actor } => {
            let Some(c) = store::case_by_public_id(store.db(), id)? else {
                return Ok(no_case(id));
            };
            store.assign_case(c.id, to, &actor.clone().unwrap_or_else(operator))?;
            println!("{id}: assigned to {to}");
            Ok(0)
        }
        CaseCmd::Merge { id, into, actor } => {
            let (Some(c), Some(target)) = (
                store::case_by_public_id(store.db(), id)?,
                store::case_by_public_id(store.db(), into)?,
            ) else {
                eprintln!(
                    "error: no case {id} or {into}\n  hint: list cases with `triaged case list`"
                );
                return Ok(3);
            };
            if c.id == target.id {
                eprintln!("error: a case cannot be merged into itself");
                return Ok(4);
            }
            let from = c.state;
            if !from.can_move_to(crate::domain::case::State::Duplicate) {
                eprintln!("error: {id} is {from} and cannot become a duplicate");
                return Ok(4);
            }
            let actor = actor.clone().unwrap_or_else(operator);
            store.merge_case(&c, from, &target, &actor)?;
            println!("{id}: duplicate of {into}");
            Ok(0)
        }
        CaseCmd::Export { id } => {
            let Some(c) = store::case_by_public_id(store.db(), id)? else {
                return Ok(no_case(id));
            };
            // Sealed text at rest and replies (encrypted to the team) open with the
            // team key; without encryption at rest an export works without it.
            let keys = match crate::read::keys::team_keys(&cfg) {
                Ok(k) => Some(k),
                Err(p) if cfg.store.encrypt_at_rest => {
                    anyhow::bail!("{}", first_problem(&p))
                }
                Err(_) => None,
            };
            print!("{}", export_mbox(store.db(), &c, keys.as_ref())?);
            Ok(0)
        }
        CaseCmd::Note { id, text, actor } => {
            let Some(c) = store::case_by_public_id(store.db(), id)? else {
                return Ok(no_case(id));
            };
            store::event(
                store.db(),
                Some(c.id),
                &actor.clone().unwrap_or_else(operator),
                crate::domain::status::EventKind::Note,
                Some(text),
            )?;
            println!("{id}: note added");
            Ok(0)
        }
        CaseCmd::Retry { id, json } => {
            let keys = crate::read::keys::validate(&cfg)?;
            if store::case_by_public_id(store.db(), id)?.is_none() {
                return Ok(no_case(id));
            }
            let reader = crate::read::reader::Reader::for_config(&cfg)?;
            let r = intake::retry(&mut store, &cfg, &keys, &reader, id, &operator())?;
            if *json {
                print_json(&r)?;
            } else {
                println!(
                    "{}: re-read {} message(s), {} readable; state {} -> {}",
                    r.case, r.messages, r.readable, r.before, r.after
                );
            }
            Ok(0)
        }
    }
}

/// What `case list` selects and how it orders.
pub(super) struct CaseFilter<'a> {
    state: Option<crate::domain::case::State>,
    severity: Option<crate::domain::status::Severity>,
    policy: Option<&'a str>,
    overdue: bool,
    open: bool,
    since: Option<&'a str>,
    sort: Sort,
    limit: Option<usize>,
}

/// `case list`: filter, order, limit, print (table or JSON).
pub(super) fn case_list(store: &Store, filter: &CaseFilter<'_>, json: bool) -> Result<i32> {
    let CaseFilter {
        state,
        severity,
        policy,
        overdue,
        open,
        since,
        sort,
        limit,
    } = filter;
    let limit = limit.unwrap_or(if json { 0 } else { 100 });
    let since_ts = match since {
        Some(d) => Some(
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .with_context(|| format!("--since {d:?}: use YYYY-MM-DD"))?
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc().timestamp())
                .unwrap_or(0),
        ),
        None => None,
    };
    let now = store::now();
    let next_due = store::CaseRow::next_due;
    // Only the newest `limit` rows are read when nothing else filters or reorders.
    let plain = severity.is_none()
        && policy.is_none()
        && since_ts.is_none()
        && !*overdue
        && !*open
        && *sort == Sort::Arrived;
    let total = store::count_cases(store.db(), *state)?;
    let sql_limit = (plain && limit > 0).then_some(limit);
    let mut cases: Vec<store::CaseRow> = store::list_cases_newest(store.db(), *state, sql_limit)?
        .into_iter()
        .filter(|c| severity.is_none_or(|s| c.severity == Some(s)))
        .filter(|c| policy.as_deref().is_none_or(|p| c.policy == p))
        .filter(|c| since_ts.is_none_or(|t| c.arrived_at >= t))
        .filter(|c| !*overdue || (!c.state.is_closed() && next_due(c).is_some_and(|d| d < now)))
        .filter(|c| !*open || !c.state.is_closed())
        .collect();
    match sort {
        Sort::Arrived => {}
        Sort::Deadline => cases.sort_by_key(|c| next_due(c).unwrap_or(i64::MAX)),
        // Most severe first; unknown severity last.
        Sort::Severity => cases.sort_by_key(|c| std::cmp::Reverse(c.severity)),
    }
    let matched = if plain { total } else { cases.len() };
    if limit > 0 && cases.len() > limit {
        cases.drain(..cases.len() - limit);
    }
    if cases.len() < matched {
        eprintln!(
            "({} of {matched} cases shown, the last in this order; --limit 0 shows all)",
            cases.len()
        );
    }
    if json {
        print_json(&cases.iter().map(render::case).collect::<Vec<_>>())?;
    } else {
        print_case_table(&cases)?;
    }
    Ok(0)
}

/// `case show`: the case, its messages (subjects opened with the team key when sealed),
/// reporter keys, findings and events.
pub(super) fn case_show(cfg: &Config, store: &Store, id: &str, json: bool) -> Result<i32> {
    let Some(mut c) = store::case_by_public_id(store.db(), id)? else {
        return Ok(no_case(id));
    };
    let mut messages = store::messages_of(store.db(), c.id)?;
    if c.subject_sealed || messages.iter().any(|m| m.subject_sealed) {
        // Subjects sealed at rest open with the team key; without it they stay sealed.
        match crate::read::keys::team_keys(cfg) {
            Ok(k) => {
                c.open(&k)?;
                for m in &mut messages {
                    m.open(&k)?;
                }
            }
            Err(p) => eprintln!(
                "note: the subject is encrypted at rest and the team key could not be loaded ({}); run `triaged check-config`",
                first_problem(&p)
            ),
        }
    }
    let keys = store::keys_of(store.db(), c.id)?;
    let findings = store::findings_of(store.db(), c.id)?;
    let events = store::events_of(store.db(), c.id)?;
    let sent = store::sent_of(store.db(), c.id)?;
    let (disclosure, credit) = store::disclosure_of(store.db(), c.id)?;
    let merged = merged_findings(&findings);
    if json {
        print_json(&serde_json::json!({
            "case": render::case(&c),
            "messages": messages.iter().map(render::message).collect::<Vec<_>>(),
            "reporter_keys": keys.iter().map(render::key).collect::<Vec<_>>(),
            "findings": merged,
            "events": events.iter().map(render::event).collect::<Vec<_>>(),
            "sent": sent.iter().map(render::sent).collect::<Vec<_>>(),
            "disclosure": disclosure,
            "credit": credit,
        }))?;
    } else {
        print_case(
            &c,
            &CaseView {
                messages: &messages,
                keys: &keys,
                events: &events,
                sent: &sent,
                disclosure: &disclosure,
                credit: credit.as_ref(),
            },
        );
        if !findings.is_empty() {
            println!("findings:");
            // The rows are what this version wrote; rows it cannot read (an older or
            // partial classification) are shown as JSON rather than hidden.
            match serde_json::from_value::<Findings>(merged.clone()) {
                Ok(f) => {
                    let verdict = merged
                        .get("policy")
                        .and_then(|p| serde_json::from_value::<Verdict>(p.clone()).ok());
                    print_findings(&f, verdict.as_ref());
                }
                Err(_) => println!("{}", serde_json::to_string_pretty(&merged)?),
            }
        }
    }
    Ok(0)
}

/// A case's stored finding rows as one object by kind (`case show --json` "findings"),
/// each finding with its evidence back in place; later rows of a kind win.
pub(super) fn merged_findings(rows: &[store::FindingRow]) -> serde_json::Value {
    let mut merged = serde_json::Map::new();
    for f in rows {
        let mut val = f.value.clone();
        if let serde_json::Value::Object(o) = &mut val
            && f.kind != "policy"
        {
            o.insert("evidence".into(), f.evidence.clone());
        }
        merged.insert(f.kind.as_str().to_string(), val);
    }
    serde_json::Value::Object(merged)
}

/// The findings of a case as the classifier's type, when its rows can be read as one.
pub(super) fn typed_findings(rows: &[store::FindingRow]) -> Option<Findings> {
    serde_json::from_value(merged_findings(rows)).ok()
}

/// The thread as an mbox (mboxrd quoting): each message with its decrypted text and
/// the headers a tracker needs, then the mail triaged sent.
pub(super) fn export_mbox(
    conn: store::Db<'_>,
    c: &store::CaseRow,
    keys: Option<&crate::read::crypto::TeamKeys>,
) -> Result<String> {
    let mut out = String::new();
    let mut put = |from: &str, at: i64, headers: &str, body: &str| {
        let date = chrono::DateTime::from_timestamp(at, 0).unwrap_or_default();
        out.push_str(&format!(
            "From {} {}\n",
            if from.is_empty() {
                "MAILER-DAEMON"
            } else {
                from
            },
            date.format("%a %b %e %H:%M:%S %Y")
        ));
        out.push_str(headers);
        out.push('\n');
        for line in body.replace("\r\n", "\n").lines() {
            let stripped = line.trim_start_matches('>');
            if stripped.starts_with("From ") {
                out.push('>');
            }
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
    };
    let msgs = store::thread_for_export(conn, c.id)?;
    for m in msgs {
        let store::ExportedMessage {
            from,
            arrived_at: at,
            subject,
            message_id: mid,
            body,
            status,
            status_reason: reason,
        } = m;
        let from = safe(&from.unwrap_or_default());
        let subject = match (subject, keys) {
            (Some(s), Some(k)) => Some(crate::domain::seal::Opener::open_field(k, &s)?),
            (Some(s), None) if s.starts_with(crate::read::crypto::SEALED) => {
                Some("[encrypted at rest]".into())
            }
            (s, _) => s,
        };
        let subject = subject.as_deref().map(safe);
        let mid = mid.as_deref().map(safe);
        let reason = reason.as_deref().map(safe);
        let headers = format!(
            "From: {from}\nDate: {}\nSubject: {}\nMessage-ID: <{}>\nX-Triaged-Case: {}\nX-Triaged-Status: {status}\nContent-Type: text/plain; charset=utf-8\n",
            chrono::DateTime::from_timestamp(at, 0)
                .unwrap_or_default()
                .to_rfc2822(),
            subject.unwrap_or_default(),
            mid.unwrap_or_default(),
            c.id_public
        );
        let body = match (status, body) {
            (ReadStatus::Ok, Some(b)) if b.starts_with("sealed:") => match keys {
                Some(k) => k
                    .unseal_text(b.strip_prefix("sealed:").unwrap_or(&b))
                    .context("decrypting a stored text")?,
                None => "[encrypted at rest]".into(),
            },
            (ReadStatus::Ok, Some(b)) => b,
            (_, _) => format!("[not readable: {}]", reason.unwrap_or_default()),
        };
        // The body keeps its lines; every other control character is shown escaped.
        let body = body.lines().map(safe).collect::<Vec<_>>().join("\n");
        put(&from, at, &headers, &body);
    }
    let sent = store::sent_of(conn, c.id)?;
    for store::SentRow {
        recipient: to,
        at,
        subject,
        message_id: mid,
        kind,
        state,
        author,
        last_error,
        original,
        ..
    } in sent
    {
        let headers = format!(
            "From: {}\nTo: {to}\nDate: {}\nSubject: {subject}\nMessage-ID: <{mid}>\nX-Triaged-Case: {}\nX-Triaged-Status: {state}\nContent-Type: text/plain; charset=utf-8\n",
            author
                .as_deref()
                .map(safe)
                .unwrap_or_else(|| "triaged".into()),
            chrono::DateTime::from_timestamp(at, 0)
                .unwrap_or_default()
                .to_rfc2822(),
            c.id_public
        );
        let failed = last_error
            .filter(|_| state == crate::domain::status::OutboxState::Failed)
            .map(|e| format!("\n[not delivered: {}]", safe(&e)))
            .unwrap_or_default();
        let body = match (original, keys) {
            // A reply: what the reporter reads, opened with the team key (replies are
            // encrypted to the team too).
            (Some(raw), Some(k)) => {
                let a = crate::read::mime::analyze(&raw, k, &crate::config::Limits::default());
                a.report
                    .text
                    .lines()
                    .map(safe)
                    .collect::<Vec<_>>()
                    .join("\n")
            }
            (Some(_), None) => "[a reply; the team key opens the original in the outbox]".into(),
            (None, _) => format!("[{kind} to {to}, {state}; the signed original is in the outbox]"),
        };
        put("triaged", at, &headers, &format!("{body}{failed}"));
    }
    Ok(out)
}

pub(super) fn print_case_table(cases: &[store::CaseRow]) -> Result<()> {
    use std::io::Write;
    if cases.is_empty() {
        println!("no cases");
        return Ok(());
    }
    let wide = std::io::stdout().is_terminal();
    let subj = if wide { 40 } else { 60 };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    writeln!(
        out,
        "{:<14} {:<13} {:<11} {:<10} {:<28} {:<16} SUBJECT",
        "CASE", "STATE", "SIGNATURE", "ENCRYPTION", "REPORTER", "ARRIVED"
    )?;
    for c in cases {
        writeln!(
            out,
            "{:<14} {:<13} {:<11} {:<10} {:<28} {:<16} {}",
            c.id_public,
            c.state,
            c.signature,
            c.encryption.map_or("-", |e| e.as_str()),
            trunc(&safe(c.reporter.as_deref().unwrap_or("-")), 28),
            date(c.arrived_at),
            trunc(
                &match &c.possible_duplicate_of {
                    Some(d) => format!(
                        "[dup? {} {}] {}",
                        d["case"].as_str().unwrap_or("?"),
                        d["score"],
                        safe(c.subject.as_deref().unwrap_or(""))
                    ),
                    None if c.subject_sealed =>
                        "(encrypted at rest: `triaged case show` opens it)".into(),
                    None => safe(c.subject.as_deref().unwrap_or_default()),
                },
                subj
            )
        )?;
    }
    out.flush()?;
    Ok(())
}

/// What `case show` prints besides the case row.
pub(super) struct CaseView<'a> {
    messages: &'a [store::MessageRow],
    keys: &'a [store::KeyRow],
    events: &'a [store::EventRow],
    sent: &'a [store::SentRow],
    disclosure: &'a crate::domain::disclosure::Disclosure,
    credit: Option<&'a crate::domain::disclosure::Credit>,
}

pub(super) fn print_case(c: &store::CaseRow, v: &CaseView<'_>) {
    let CaseView {
        messages,
        keys,
        events,
        sent,
        disclosure,
        credit,
    } = *v;
    println!("{}  {}", c.id_public, c.state);
    if let Some(r) = &c.state_reason {
        println!("  reason:     {}", safe(r));
    }
    println!(
        "  reporter:   {}{}",
        safe(c.reporter.as_deref().unwrap_or("(unknown)")),
        c.reporter_name
            .as_deref()
            .map(|n| format!(" ({})", safe(n)))
            .unwrap_or_default()
    );
    println!(
        "  subject:    {}",
        trunc(&safe(c.subject.as_deref().unwrap_or("")), 100)
    );
    println!("  mailbox:    {} (policy {})", c.mailbox, c.policy);
    println!("  signature:  {}", c.signature);
    println!("  arrived:    {}", rfc3339(c.arrived_at));
    if let Some(t) = c.ack_due {
        println!("  ack due:    {}", rfc3339(t));
    }
    if let Some(t) = c.followup_due {
        println!("  follow-up:  {}", rfc3339(t));
    }
    if let Some(t) = c.resolve_due {
        println!("  resolve by: {}", rfc3339(t));
    }
    match (c.responded_at, c.responded_by) {
        (Some(t), Some(by)) => {
            let who = sent
                .iter()
                .find(|s| s.outbox_id == by)
                .and_then(|s| s.author.as_deref())
                .unwrap_or("?");
            println!("  responded:  {} (reply by {})", rfc3339(t), safe(who));
        }
        (Some(t), None) => println!(
            "  responded:  {} (recorded by a move, before migration 0011)",
            rfc3339(t)
        ),
        _ => {}
    }
    print_disclosure(disclosure, credit);
    println!("messages:");
    for (i, m) in messages.iter().enumerate() {
        println!(
            "  {}. {}  from {}  {} bytes  encryption {}  status {}",
            i + 1,
            rfc3339(m.arrived_at),
            safe(m.from.as_deref().unwrap_or("?")),
            m.size,
            m.encryption,
            m.status
        );
        if let Some(r) = &m.status_reason {
            println!("     reason: {}", safe(r));
        }
        let sigs = &m.signatures;
        if sigs.is_empty() {
            println!("     signature: unsigned");
        }
        for s in sigs {
            println!(
                "     signature: {} {} {}",
                s.status,
                s.signer.as_deref().unwrap_or(""),
                safe(s.user_id.as_deref().unwrap_or(""))
            );
        }
        for a in &m.attachments {
            println!(
                "     attachment: {} ({}, {} bytes{})",
                safe(a.name.as_deref().unwrap_or("(unnamed)")),
                safe(&a.content_type),
                a.size,
                if a.encrypted {
                    ", arrived encrypted"
                } else {
                    ""
                }
            );
        }
    }
    if !keys.is_empty() {
        println!("reporter keys:");
        for k in keys {
            println!(
                "  {} ({}) {}",
                k.fingerprint,
                k.source,
                safe(k.user_ids.first().map(String::as_str).unwrap_or(""))
            );
        }
    }
    if !sent.is_empty() {
        println!("sent:");
        for s in sent {
            println!(
                "  {}  {:<14} to {}  {}{}",
                date(s.at),
                s.kind,
                safe(&s.recipient),
                s.state,
                s.author
                    .as_deref()
                    .map(|a| format!("  by {}", safe(a)))
                    .unwrap_or_default()
            );
            if s.state == crate::domain::status::OutboxState::Failed
                && let Some(e) = &s.last_error
            {
                println!("     refused for good, not retried: {}", safe(e));
            } else if let Some(e) = s
                .last_error
                .as_deref()
                .filter(|_| s.state == crate::domain::status::OutboxState::Queued)
            {
                println!("     last attempt failed (will retry): {}", safe(e));
            }
        }
    }
    println!("events:");
    for e in events {
        println!(
            "  {}  {:<8} {:<14} {}",
            date(e.at),
            e.actor,
            e.kind,
            safe(e.detail.as_deref().unwrap_or(""))
        );
    }
}

/// The disclosure facts and credit, one line each, when set.
pub(super) fn print_disclosure(
    d: &crate::domain::disclosure::Disclosure,
    credit: Option<&crate::domain::disclosure::Credit>,
) {
    let mut lines: Vec<(&str, String)> = Vec::new();
    if !d.cve_ids.is_empty() {
        lines.push(("cve", d.cve_ids.join(", ")));
    }
    if !d.cwe_ids.is_empty() {
        lines.push(("cwe", d.cwe_ids.join(", ")));
    }
    for (k, v) in [
        ("cvss", &d.cvss),
        ("affected", &d.affected),
        ("fixed in", &d.fixed_in),
        ("package", &d.package),
        ("ecosystem", &d.ecosystem),
        ("embargo", &d.embargo_until),
        ("advisory", &d.advisory_url),
    ] {
        if let Some(v) = v {
            lines.push((k, v.clone()));
        }
    }
    if let Some(l) = credit.and_then(|c| c.line()) {
        lines.push(("credit", l));
    }
    for (k, v) in lines {
        println!("  {:<11} {}", format!("{k}:"), safe(&v));
    }
}
