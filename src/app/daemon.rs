//! The daemon: wiring sources to intake, the watch loop, graceful shutdown.
//!
//! `process_pending` runs one pass over every configured mailbox (what
//! `run --once` does); `run` repeats it on each mailbox's poll interval until
//! SIGTERM or SIGINT, finishing the message in hand before it exits.

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::config::{Config, MailboxKind};
use crate::deliver::sender::Wake;
use crate::ingest::intake;
use crate::ingest::maildir::Maildir;
use crate::ingest::source::Incoming;
use crate::read::crypto::TeamKeys;
use crate::read::reader::Reader;
use crate::store::Store;

/// Counts of one pass, printed by `run --once`.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Summary {
    pub seen: usize,
    #[serde(flatten)]
    pub counts: intake::Counts,
    pub errors: usize,
    /// Escalations queued and breaches recorded by the SLA sweep.
    pub escalations: usize,
    pub sent: usize,
    pub send_failed: usize,
}

/// One pass over every mailbox, IMAP included: what `run --once` does. The sender
/// runs beside intake (woken by each commit), so acks go out while later batches are
/// read; once intake is done it sends what is left, then the SLA sweep runs and what it
/// queued is sent.
pub fn run_once(store: Store, cfg: &Config, keys: &TeamKeys) -> Result<Summary> {
    crate::ingest::spool::clear(cfg)?;
    let reader = Reader::for_config(cfg)?;
    let store = Mutex::new(store);
    let wake = Wake::new();
    let rt = runtime()?;
    let done = std::sync::atomic::AtomicBool::new(false);
    let (intake, sent) = std::thread::scope(|s| {
        let sender = s.spawn(|| rt.block_on(send_until_done(&store, cfg, &wake, &done)));
        let intake = (|| -> Result<Summary> {
            let mut sum = process_pending(&store, cfg, keys, &reader, &wake)?;
            for mb in cfg.mailboxes.iter().filter(|m| m.kind == MailboxKind::Imap) {
                let s = rt
                    .block_on(crate::ingest::imap::sync_once(
                        &store,
                        cfg,
                        keys,
                        &reader,
                        mb,
                        &|| wake.kick(),
                    ))
                    .with_context(|| format!("mailbox {}", mb.name))?;
                sum.seen += s.fetched;
                sum.counts.merge(&s.counts);
            }
            Ok(sum)
        })();
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        wake.kick();
        let sent = sender
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("the sender thread panicked")));
        (intake, sent)
    });
    let mut sum = intake?;
    let more = |sum: &mut Summary| -> Result<crate::deliver::sender::SendStats> {
        {
            let st = store
                .lock()
                .map_err(|_| anyhow::anyhow!("store lock poisoned"))?;
            sum.escalations += crate::sla::sweep(st.db(), cfg, keys)?;
        }
        rt.block_on(crate::deliver::sender::send_due(&store, cfg))
    };
    let s = sent.as_ref().map(|s| s.refused).unwrap_or(0);
    let after = more(&mut sum)?;
    let mut sent = sent?;
    sent.add(&after);
    if s + after.refused > 0 {
        // Tell the team now about mail the server refused for good, not at the next run.
        let again = more(&mut sum)?;
        sent.add(&again);
    }
    sum.sent = sent.sent;
    sum.send_failed = sent.failed;
    Ok(sum)
}

/// Sends what is due whenever intake commits (or every 250 ms), until `done`; then
/// once more, so nothing committed before `done` is left behind.
async fn send_until_done(
    store: &Mutex<Store>,
    cfg: &Config,
    wake: &Wake,
    done: &std::sync::atomic::AtomicBool,
) -> Result<crate::deliver::sender::SendStats> {
    let mut total = crate::deliver::sender::SendStats::default();
    loop {
        let last = done.load(std::sync::atomic::Ordering::SeqCst);
        total.add(&crate::deliver::sender::send_due(store, cfg).await?);
        if last {
            return Ok(total);
        }
        tokio::select! {
            _ = wake.kicked() => {}
            _ = tokio::time::sleep(std::time::Duration::from_millis(250)) => {}
        }
    }
}

/// The async runtime: two worker threads, so that reading a batch (which blocks, in
/// `block_in_place`) never stops the watchdog, the signals or the sender.
fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// One pass over every Maildir mailbox: ingest what is pending, mark it after commit.
/// The store is locked only while a batch is written, never while it is read.
pub fn process_pending(
    store: &Mutex<Store>,
    cfg: &Config,
    keys: &TeamKeys,
    reader: &Reader,
    wake: &Wake,
) -> Result<Summary> {
    let mut sum = Summary::default();
    let max_msg = cfg.limits.max_message_size.0;
    let budget = cfg.limits.batch_bytes.0.max(1);
    for mb in &cfg.mailboxes {
        if mb.kind != MailboxKind::Maildir {
            continue;
        }
        let Some(path) = &mb.path else { continue };
        let md = Maildir::open(&cfg.resolve(path))?;
        let pending = md.pending()?;
        // Batches of at most `batch` files and `limits.batch_bytes` of mail (at least
        // one file): read in reader processes, written in transactions cut by bytes
        // (group commit), then marked; a crash before the commit re-reads the batch.
        let mut i = 0;
        while i < pending.len() {
            if crate::read::reader::shutting_down() {
                return Ok(sum);
            }
            let mut j = i;
            let mut bytes = 0u64;
            while let Some(next) = pending.get(j)
                && j - i < mb.batch.max(1) as usize
                && (j == i
                    || bytes + next.size.min(max_msg).min(cfg.limits.stream_above.0) <= budget)
            {
                bytes += next.size.min(max_msg).min(cfg.limits.stream_above.0);
                j += 1;
            }
            let chunk = pending.get(i..j).unwrap_or_default();
            i = j;
            let mut files = Vec::new();
            let mut incs = Vec::new();
            for p in chunk {
                sum.seen += 1;
                // An oversized file: only its head is read (the file itself stays in
                // the Maildir, moved to cur/), as IMAP fetches only its headers.
                let oversize = (p.size > max_msg).then_some(p.size);
                // Above limits.stream_above the file itself is the spool: read as a
                // stream from where it lies, never held.
                let spool = (oversize.is_none() && p.size > cfg.limits.stream_above.0).then(|| {
                    crate::ingest::source::Spooled {
                        path: p.path.clone(),
                        size: p.size,
                        sha: None,
                        owned: false,
                    }
                });
                let raw = match (oversize, &spool) {
                    (Some(_), _) => md.read_head(p, 64 * 1024),
                    // Opened now, so an unreadable file is skipped here like any other
                    // (not found out in the middle of the batch's transaction).
                    (None, Some(_)) => std::fs::File::open(&p.path)
                        .map(|_| Vec::new())
                        .with_context(|| format!("cannot read {}", p.path.display())),
                    (None, None) => md.read(p),
                };
                let raw = match raw {
                    Ok(r) => r,
                    Err(e) => {
                        // Vanished or unreadable: leave it where it is; the next pass retries.
                        tracing::warn!(mailbox = %mb.name, file = %p.name, "cannot read message: {e:#}");
                        sum.errors += 1;
                        continue;
                    }
                };
                files.push(p);
                incs.push(Incoming {
                    mailbox: mb.name.clone(),
                    position: p.name.clone(),
                    arrived_at: p.arrived_at,
                    raw,
                    imported: false,
                    oversize,
                    spool,
                });
            }
            // A store error (disk full, locked past the timeout) stops the pass
            // without marking the batch: nothing is lost, the next pass retries.
            let outcomes =
                intake::ingest_batch(store, cfg, keys, reader, &incs).with_context(|| {
                    format!(
                        "ingesting {} message(s) from mailbox {}{}",
                        incs.len(),
                        mb.name,
                        crate::store::disk_hint(&cfg.store_path())
                    )
                })?;
            wake.kick();
            for (p, outcome) in files.iter().zip(outcomes) {
                sum.counts.add(&outcome, &mb.name, &p.name);
            }
            md.mark_all_seen(files.iter().copied())
                .with_context(|| format!("marking {} processed messages", files.len()))?;
        }
    }
    Ok(sum)
}

/// Watches every mailbox until SIGTERM/SIGINT: one task per IMAP mailbox (IDLE),
/// and a scan of the Maildirs every `poll_interval`.
pub fn run(store: Store, cfg: Config, keys: TeamKeys) -> Result<()> {
    crate::ingest::spool::clear(&cfg)?;
    let rt = runtime()?;
    let reader = Arc::new(Reader::for_config(&cfg)?);
    let store = Arc::new(Mutex::new(store));
    let cfg = Arc::new(cfg);
    let keys = Arc::new(keys);
    // The explicit wake channel: intake (Maildir and IMAP) kicks, the sender waits.
    let wake = Wake::new();
    rt.block_on(async move {
        let (tx, rx) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        for mb in cfg.mailboxes.iter().filter(|m| m.kind == MailboxKind::Imap) {
            tasks.push(tokio::spawn(crate::ingest::imap::watch(
                store.clone(),
                cfg.clone(),
                keys.clone(),
                reader.clone(),
                mb.clone(),
                rx.clone(),
                {
                    let wake = wake.clone();
                    Arc::new(move || wake.kick())
                },
            )));
        }
        // The sender: delivers queued mail shortly after it is queued, retries with backoff.
        {
            let (store, cfg, mut rx, wake) = (store.clone(), cfg.clone(), rx.clone(), wake.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    if let Err(e) = crate::deliver::sender::send_due(&store, &cfg).await {
                        tracing::error!("outbox: {e:#}");
                    }
                    // Woken by intake as soon as an ack is queued; the periodic pass
                    // picks up retries that have come due.
                    tokio::select! {
                        _ = wake.kicked() => {}
                        _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                        _ = rx.changed() => return,
                    }
                }
            }));
        }
        // The SLA sweep and the digest, each on its cron schedule.
        {
            let (store, cfg2, keys) = (store.clone(), cfg.clone(), keys.clone());
            tasks.push(spawn_cron(cfg.schedule.sla_sweep.clone(), rx.clone(), move || {
                let res = match store.lock() {
                    Ok(st) => crate::sla::sweep(st.db(), &cfg2, &keys),
                    Err(_) => Err(anyhow::anyhow!("store lock poisoned")),
                };
                match res {
                    Ok(n) if n > 0 => tracing::info!(escalations = n, "SLA sweep"),
                    Ok(_) => {}
                    Err(e) => tracing::error!("SLA sweep failed: {e:#}"),
                }
            }));
        }
        if !cfg.schedule.digest.is_empty() {
            let (store, cfg2, keys) = (store.clone(), cfg.clone(), keys.clone());
            tasks.push(spawn_cron(cfg.schedule.digest.clone(), rx.clone(), move || {
                let res = match store.lock() {
                    Ok(st) => crate::sla::enqueue_digest(st.db(), &cfg2, &keys),
                    Err(_) => Err(anyhow::anyhow!("store lock poisoned")),
                };
                if let Err(e) = res {
                    tracing::error!("digest failed: {e:#}");
                }
            }));
        }
        let has_maildir = cfg.mailboxes.iter().any(|m| m.kind == MailboxKind::Maildir);
        let interval = cfg
            .mailboxes
            .iter()
            .filter(|m| m.kind == MailboxKind::Maildir)
            .map(|m| m.poll_interval.secs())
            .min()
            .unwrap_or(5)
            .max(1) as u64;
        // The watchdog: pinged only while the store answers, so a wedged daemon is restarted.
        if let Some(every) = crate::app::notify::watchdog_interval() {
            let (store, mut rx) = (store.clone(), rx.clone());
            tasks.push(tokio::spawn(async move {
                loop {
                    // A store busy writing a batch is a working store (try_lock: this
                    // task never waits behind a commit).
                    let healthy = match store.try_lock() {
                        Ok(st) => st.ping().is_ok(),
                        Err(std::sync::TryLockError::WouldBlock) => true,
                        Err(std::sync::TryLockError::Poisoned(_)) => false,
                    };
                    if healthy {
                        crate::app::notify::notify("WATCHDOG=1");
                    } else {
                        tracing::error!("health check failed: not pinging the watchdog");
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(every) => {}
                        _ = rx.changed() => return,
                    }
                }
            }));
        }
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("installing the SIGTERM handler")?;
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .context("installing the SIGHUP handler")?;
        tracing::info!(mailboxes = cfg.mailboxes.len(), "watching");
        crate::app::notify::notify(&format!("READY=1\nSTATUS=watching {} mailbox(es)", cfg.mailboxes.len()));
        // The Maildir scans run on a blocking thread: reading a message (in a reader
        // process, killed when its budget is spent) never stops the signals, the
        // watchdog or the sender, and the store is locked only while writing.
        let maildir = has_maildir.then(|| {
            let (store, cfg, keys, reader, wake) = (store.clone(), cfg.clone(), keys.clone(), reader.clone(), wake.clone());
            tokio::task::spawn_blocking(move || {
                while !crate::read::reader::shutting_down() {
                    match process_pending(&store, &cfg, &keys, &reader, &wake) {
                        Ok(s) if s.seen > 0 => tracing::info!(
                            created = s.counts.created,
                            follow_ups = s.counts.follow_ups,
                            duplicates = s.counts.duplicates,
                            "maildir pass done"
                        ),
                        Ok(_) => {}
                        Err(e) if crate::read::reader::shutting_down() => {
                            tracing::info!("maildir pass stopped: {e:#}");
                        }
                        Err(e) => tracing::error!("maildir pass failed (will retry): {e:#}"),
                    }
                    let until = std::time::Instant::now() + std::time::Duration::from_secs(interval);
                    while std::time::Instant::now() < until && !crate::read::reader::shutting_down() {
                        std::thread::sleep(std::time::Duration::from_millis(100));
                    }
                }
            })
        });
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                _ = term.recv() => break,
                _ = hup.recv() => {
                    tracing::warn!("SIGHUP: the configuration is read only at start; restart the service to apply changes (systemctl restart triaged)");
                }
            }
        }
        // Stop readers in progress at once (their messages are read again at the next
        // start), then let every task finish what it is writing.
        crate::read::reader::shutdown();
        if let Some(m) = maildir {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(20), m).await;
        }
        tracing::info!("shutting down");
        crate::app::notify::notify("STOPPING=1");
        let _ = tx.send(true);
        for t in tasks {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(10), t).await;
        }
        Ok(())
    })
}

/// Runs `job` at every time of the cron expression until shutdown. An invalid expression
/// (rejected earlier by `check-config`) runs nothing.
fn spawn_cron(
    expr: String,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    mut job: impl FnMut() + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Ok(schedule) = <cron::Schedule as std::str::FromStr>::from_str(&expr) else {
            return;
        };
        loop {
            let Some(next) = schedule.upcoming(chrono::Utc).next() else {
                return;
            };
            let wait = (next - chrono::Utc::now()).to_std().unwrap_or_default();
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => return,
            }
            job();
        }
    })
}
