//! `triaged stats`: counts and medians over the store.

use anyhow::Result;

use crate::store;

use super::args::Cli;
use super::{load, open_store, print_json};

pub(super) fn median(mut v: Vec<i64>) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    v.get(v.len() / 2).copied()
}

pub(super) fn stats_cmd(cli: &Cli, json: bool, prometheus: bool) -> Result<i32> {
    let cfg = load(cli)?;
    let store = open_store(&cfg)?;
    let cases = store::list_cases(store.db(), None)?;
    if prometheus {
        let text = prometheus_text(
            &cases,
            store::count_breaches(store.db())?,
            &store::outbox_counts(store.db())?,
            store::now(),
        );
        print!("{text}");
        return Ok(0);
    }
    let mut by_state = std::collections::BTreeMap::new();
    let mut by_severity = std::collections::BTreeMap::new();
    for c in &cases {
        *by_state.entry(c.state.as_str().to_string()).or_insert(0) += 1;
        *by_severity
            .entry(c.severity.map_or("unknown", |s| s.as_str()).to_string())
            .or_insert(0) += 1;
    }
    let first_response = median(
        cases
            .iter()
            .filter_map(|c| c.acked_at.map(|a| a - c.arrived_at))
            .collect(),
    );
    let triage = median(
        cases
            .iter()
            .filter_map(|c| c.responded_at.map(|a| a - c.arrived_at))
            .collect(),
    );
    // The first answer a person wrote (a reply that was sent), apart from the
    // automatic ack (as HackerOne's response-efficiency figures separate them).
    let human = median(
        cases
            .iter()
            .filter(|c| c.responded_by.is_some())
            .filter_map(|c| c.responded_at.map(|a| a - c.arrived_at))
            .collect(),
    );
    let with_response_clock = cases
        .iter()
        .filter(|c| c.followup_due.is_some() && c.state != crate::domain::case::State::Imported)
        .count();
    let responded_in_time = cases
        .iter()
        .filter(|c| c.responded_by.is_some())
        .filter(|c| matches!((c.responded_at, c.followup_due), (Some(a), Some(d)) if a <= d))
        .count();
    let breaches = store::count_breaches(store.db())?;
    let acked_in_time = cases
        .iter()
        .filter(|c| matches!((c.acked_at, c.ack_due), (Some(a), Some(d)) if a <= d))
        .count();
    let with_ack_clock = cases
        .iter()
        .filter(|c| c.ack_due.is_some() && c.state != crate::domain::case::State::Imported)
        .count();
    let v = serde_json::json!({
        "cases": cases.len(),
        "by_state": by_state,
        "by_severity": by_severity,
        "median_seconds_to_first_response": first_response,
        "median_seconds_to_triage": triage,
        "sla_breaches": breaches,
        "acknowledged_within_window": acked_in_time,
        "response_efficiency": if with_ack_clock == 0 { serde_json::Value::Null } else { serde_json::json!(acked_in_time as f64 / with_ack_clock as f64) },
        "median_seconds_to_ack": first_response,
        "median_seconds_to_first_human_response": human,
        "responded_within_window": responded_in_time,
        "cases_with_response_window": with_response_clock,
    });
    if json {
        print_json(&v)?;
    } else {
        println!("cases: {}", cases.len());
        println!(
            "by state:    {}",
            by_state
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "by severity: {}",
            by_severity
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let h = |s: Option<i64>| {
            s.map(|s| format!("{}h{:02}m", s / 3600, (s % 3600) / 60))
                .unwrap_or_else(|| "-".into())
        };
        println!("median time to the ack:        {}", h(first_response));
        println!("median time to a human reply:  {}", h(human));
        println!("median time to triage:         {}", h(triage));
        println!(
            "acknowledged within the window: {acked_in_time} of {with_ack_clock}; SLA breaches: {breaches}"
        );
        println!(
            "answered by a person within the response window: {responded_in_time} of {with_response_clock}"
        );
    }
    Ok(0)
}

/// The store's figures in Prometheus' text exposition format (version 0.0.4): what a
/// team alerts on (open cases past a deadline, breaches, mail the server refused or that
/// waits, the newest arrival) and counts by state. Every state is listed, zeros too, so
/// a series never disappears.
fn prometheus_text(
    cases: &[store::CaseRow],
    breaches: i64,
    outbox: &[(crate::domain::status::OutboxState, i64)],
    now: i64,
) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut metric = |name: &str, kind: &str, help: &str, rows: Vec<(String, i64)>| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (labels, v) in rows {
            let _ = writeln!(out, "{name}{labels} {v}");
        }
    };
    metric(
        "triaged_cases",
        "gauge",
        "Cases by state.",
        crate::domain::case::ALL_STATES
            .iter()
            .map(|s| {
                (
                    format!("{{state=\"{}\"}}", s.as_str()),
                    cases.iter().filter(|c| c.state == *s).count() as i64,
                )
            })
            .collect(),
    );
    let open: Vec<&store::CaseRow> = cases.iter().filter(|c| !c.state.is_closed()).collect();
    metric(
        "triaged_cases_overdue",
        "gauge",
        "Open cases past their acknowledgment or detailed-response deadline.",
        vec![(
            String::new(),
            open.iter()
                .filter(|c| c.next_due().is_some_and(|d| d < now))
                .count() as i64,
        )],
    );
    metric(
        "triaged_cases_due_within_24h",
        "gauge",
        "Open cases whose next deadline falls within the next 24 hours.",
        vec![(
            String::new(),
            open.iter()
                .filter(|c| c.next_due().is_some_and(|d| d >= now && d < now + 86_400))
                .count() as i64,
        )],
    );
    metric(
        "triaged_sla_breaches_total",
        "counter",
        "SLA breaches recorded since the store was created.",
        vec![(String::new(), breaches)],
    );
    metric(
        "triaged_outbox_messages",
        "gauge",
        "Outgoing mail (acks, replies, escalations, digests) by state.",
        outbox
            .iter()
            .map(|(st, n)| (format!("{{state=\"{}\"}}", st.as_str()), *n))
            .collect(),
    );
    metric(
        "triaged_last_arrival_timestamp_seconds",
        "gauge",
        "When the newest case arrived (Unix time; 0 when there is none).",
        vec![(
            String::new(),
            cases.iter().map(|c| c.arrived_at).max().unwrap_or(0),
        )],
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line is a HELP or TYPE comment or a sample as the exposition format
    /// spells it (name, optional labels with quoted values, a number), each metric has
    /// its HELP and TYPE before its samples, and nothing else is printed.
    #[test]
    fn an_empty_store_prints_well_formed_zeros() {
        let text = prometheus_text(
            &[],
            0,
            &[(crate::domain::status::OutboxState::Queued, 3)],
            1_800_000_000,
        );
        let sample = regex::Regex::new(
            r#"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")*\})? -?[0-9]+$"#,
        )
        .unwrap();
        let mut typed = std::collections::HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert!(["gauge", "counter"].contains(&kind), "{line}");
                typed.insert(name.to_string());
            } else if line.starts_with("# HELP ") {
                continue;
            } else {
                let c = sample
                    .captures(line)
                    .unwrap_or_else(|| panic!("not a sample: {line:?}"));
                assert!(typed.contains(&c[1]), "{line}: no TYPE before it");
            }
        }
        assert!(text.contains("triaged_cases{state=\"new\"} 0\n"), "{text}");
        assert!(
            text.contains("triaged_outbox_messages{state=\"queued\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("triaged_last_arrival_timestamp_seconds 0\n"),
            "{text}"
        );
    }
}
