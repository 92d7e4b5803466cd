//! `triaged sla`: open deadlines, soonest first.

use anyhow::{Context, Result};

use crate::store;

use super::args::Cli;
use super::{load, open_store};

pub(super) fn sla_cmd(cli: &Cli, json: bool, limit: Option<usize>) -> Result<i32> {
    use crate::domain::time::Rfc3339;
    use std::io::Write;
    #[derive(serde::Serialize)]
    struct SlaRow<'a> {
        id: &'a str,
        state: crate::domain::case::State,
        clock: &'static str,
        due: Rfc3339,
        seconds_left: i64,
        overdue: bool,
    }
    let cfg = load(cli)?;
    let store = open_store(&cfg)?;
    let now = store::now();
    // Keep only the running clock of each case, sort by deadline, then write each row
    // as it is formatted (nothing holds the whole output).
    let mut clocks = store::open_clocks(store.db(), |c| {
        let (clock, due) = match (c.acked_at, c.ack_due, c.responded_at, c.followup_due) {
            (None, Some(d), _, _) => ("ack", d),
            (_, _, None, Some(d)) => ("followup", d),
            _ => return None,
        };
        Some((c.public_id, c.state, clock, due))
    })?;
    clocks.sort_by_key(|c| c.3);
    let total = clocks.len();
    let limit = limit.unwrap_or(if json { 0 } else { 100 });
    if limit > 0 && clocks.len() > limit {
        clocks.truncate(limit);
        eprintln!("({limit} of {total} open deadlines shown, the soonest; --limit 0 shows all)");
    }
    let rows = clocks.iter().map(|(id, state, clock, due)| SlaRow {
        id,
        state: *state,
        clock,
        due: Rfc3339(*due),
        seconds_left: due - now,
        overdue: *due < now,
    });
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    if json {
        use serde::Serializer as _;
        serde_json::Serializer::pretty(&mut out)
            .collect_seq(rows)
            .context("serialising JSON")?;
        writeln!(out)?;
    } else if clocks.is_empty() {
        writeln!(out, "no open deadlines")?;
    } else {
        writeln!(
            out,
            "{:<14} {:<13} {:<9} {:<21} LEFT",
            "CASE", "STATE", "CLOCK", "DUE"
        )?;
        for r in rows {
            let left = r.seconds_left;
            let human = if left < 0 {
                format!("overdue {}h{:02}m", -left / 3600, (-left % 3600) / 60)
            } else {
                format!("{}h{:02}m", left / 3600, (left % 3600) / 60)
            };
            writeln!(
                out,
                "{:<14} {:<13} {:<9} {:<21} {}",
                r.id, r.state, r.clock, r.due, human
            )?;
        }
    }
    out.flush()?;
    Ok(0)
}
