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

pub(super) fn stats_cmd(cli: &Cli, json: bool) -> Result<i32> {
    let cfg = load(cli)?;
    let store = open_store(&cfg)?;
    let cases = store::list_cases(store.db(), None)?;
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
