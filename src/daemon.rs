//! The daemon: wiring sources to intake, the watch loop, graceful shutdown.
//!
//! `process_pending` runs one pass over every configured mailbox (what
//! `run --once` does); `run` repeats it on each mailbox's poll interval until
//! SIGTERM or SIGINT, finishing the message in hand before it exits.

use anyhow::{Context, Result};
use serde::Serialize;

use crate::config::{Config, MailboxKind};
use crate::crypto::TeamKeys;
use crate::intake::{self, Outcome};
use crate::source::Incoming;
use crate::source::maildir::Maildir;
use crate::store::Store;

/// Counts of one pass, printed by `run --once`.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Summary {
    pub seen: usize,
    pub created: usize,
    pub follow_ups: usize,
    pub duplicates: usize,
    pub quarantined: usize,
    pub errors: usize,
}

/// One pass over every mailbox: ingest what is pending, mark it after commit.
pub fn process_pending(store: &mut Store, cfg: &Config, keys: &TeamKeys) -> Result<Summary> {
    let mut sum = Summary::default();
    for mb in &cfg.mailboxes {
        if mb.kind != MailboxKind::Maildir {
            continue;
        }
        let Some(path) = &mb.path else { continue };
        let md = Maildir::open(&cfg.resolve(path))?;
        for p in md.pending()? {
            sum.seen += 1;
            let raw = match md.read(&p) {
                Ok(r) => r,
                Err(e) => {
                    // Vanished or unreadable: leave it where it is; the next pass retries.
                    tracing::warn!(mailbox = %mb.name, file = %p.name, "cannot read message: {e:#}");
                    sum.errors += 1;
                    continue;
                }
            };
            let inc = Incoming {
                mailbox: mb.name.clone(),
                position: p.name.clone(),
                arrived_at: p.arrived_at,
                raw,
            };
            // A store error (disk full, locked past the timeout) stops the pass
            // without marking the message: nothing is lost, the next pass retries.
            let outcome = intake::ingest(store, cfg, keys, &inc)
                .with_context(|| format!("ingesting {} from mailbox {}", p.name, mb.name))?;
            match &outcome {
                Outcome::Created { case, state } => {
                    sum.created += 1;
                    if state
                        .parse::<crate::case::State>()
                        .is_ok_and(|s| s.is_quarantine())
                    {
                        sum.quarantined += 1;
                    }
                    tracing::info!(case = %case, mailbox = %mb.name, state = %state, "case opened");
                }
                Outcome::FollowUp { case } => {
                    sum.follow_ups += 1;
                    tracing::info!(case = %case, mailbox = %mb.name, "follow-up added");
                }
                Outcome::Duplicate { case } => {
                    sum.duplicates += 1;
                    tracing::debug!(case = %case, mailbox = %mb.name, "already stored");
                }
            }
            md.mark_seen(&p)
                .with_context(|| format!("marking {} as processed", p.name))?;
        }
    }
    Ok(sum)
}

/// Watches every mailbox until SIGTERM/SIGINT.
pub fn run(store: &mut Store, cfg: &Config, keys: &TeamKeys) -> Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async {
        let interval = cfg
            .mailboxes
            .iter()
            .map(|m| m.poll_interval.secs())
            .min()
            .unwrap_or(5)
            .max(1) as u64;
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("installing the SIGTERM handler")?;
        tracing::info!(mailboxes = cfg.mailboxes.len(), "watching");
        loop {
            match process_pending(store, cfg, keys) {
                Ok(s) if s.seen > 0 => tracing::info!(
                    created = s.created,
                    follow_ups = s.follow_ups,
                    duplicates = s.duplicates,
                    "pass done"
                ),
                Ok(_) => {}
                Err(e) => tracing::error!("intake pass failed (will retry): {e:#}"),
            }
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(interval)) => {}
                _ = tokio::signal::ctrl_c() => break,
                _ = term.recv() => break,
            }
        }
        tracing::info!("shutting down");
        Ok(())
    })
}
