//! IMAP source: fetch, bookkeeping, IDLE, reconnect.
//!
//! This module owns one IMAP mailbox: connecting (implicit TLS, STARTTLS, or plain
//! to loopback only), fetching new messages with `BODY.PEEK[]` + INTERNALDATE in
//! batches, the UIDVALIDITY/UID bookkeeping in the store, marking (`\Seen`) or
//! moving messages only after intake committed them, IDLE (RFC 2177) re-issued
//! every `idle_refresh`, polling when the server lacks IDLE, and reconnecting
//! with exponential backoff and jitter. It never parses or decrypts.
//!
//! Resync: when UIDVALIDITY changes, or the server lowers UIDNEXT below what we
//! committed, every message is fetched again; intake's content hash turns the
//! ones already stored into no-ops, so nothing becomes a second case.

use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;

use anyhow::{Context, Result, anyhow, bail};
use async_imap::extensions::idle::IdleResponse;
use futures_util::TryStreamExt;

use crate::config::{AfterCommit, Config, MailboxConfig};
use crate::ingest::intake;
use crate::ingest::source::Incoming;
use crate::read::crypto::TeamKeys;
use crate::read::reader::Reader;
use crate::store::{self, Store};

pub use crate::net::imap::{Session, connect};

/// Called after each committed group, so that the caller can wake whoever acts on
/// new cases (the daemon wakes its sender). Sources know nothing of delivery.
pub type Committed<'a> = dyn Fn() + Send + Sync + 'a;

/// Counts of one sync pass.
#[derive(Debug, Default, Clone, Copy)]
pub struct SyncStats {
    pub fetched: usize,
    pub counts: intake::Counts,
}

/// One pass: fetch everything above the bookkeeping, ingest it, mark it.
pub async fn sync(
    session: &mut Session,
    store: &Mutex<Store>,
    cfg: &Config,
    keys: &TeamKeys,
    reader: &Reader,
    mb: &MailboxConfig,
    committed: &Committed<'_>,
) -> Result<SyncStats> {
    let mut stats = SyncStats::default();
    let mailbox = session
        .select(&mb.folder)
        .await
        .with_context(|| format!("cannot select the folder {:?}", mb.folder))?;
    let (uidvalidity, mut last, first_contact) = resume_point(store, mb, &mailbox)?;
    if mailbox.exists == 0 {
        return Ok(stats);
    }
    let found = session
        .uid_search(format!("UID {}:*", last + 1))
        .await
        .context("UID SEARCH failed")?;
    let mut uids: Vec<u32> = found.into_iter().filter(|u| *u > last).collect();
    uids.sort_unstable();
    let total = uids.len();
    if total > mb.batch as usize {
        tracing::info!(mailbox = %mb.name, total, "fetching a backlog");
    }
    let horizon = crate::store::now() - mb.import_horizon.secs();
    let limit = cfg.limits.max_message_size.0;
    for chunk in uids.chunks(mb.batch.max(1) as usize) {
        let set = chunk
            .iter()
            .map(|u| u.to_string())
            .collect::<Vec<_>>()
            .join(",");
        // Sizes and arrival times first, so an oversized message is never loaded whole.
        let info = fetch_sizes_and_dates(session, &set).await?;
        // Fetch and ingest in groups of at most `limits.batch_bytes` (by the sizes the
        // server declared; at least one message), so a batch of large mail is never
        // held in memory at once.
        let groups = byte_groups(&info, limit, cfg.limits.batch_bytes.0.max(1));
        for group in groups {
            let spool = SpoolTo {
                cfg,
                above: cfg.limits.stream_above.0,
                prefix: format!("{}-{uidvalidity}", spool_safe(&mb.name)),
            };
            let mut bodies = fetch_bodies(session, &group, &info, limit, &spool).await?;
            let mut uids_in = Vec::new();
            let mut incs = Vec::new();
            for uid in &group {
                let Some(&(size, date)) = info.get(uid) else {
                    continue;
                };
                let Some(body) = bodies.remove(uid) else {
                    tracing::warn!(mailbox = %mb.name, uid, "the server returned no body; will retry on the next pass");
                    continue;
                };
                let (raw, spool) = match body {
                    Body::Held(raw) => (raw, None),
                    Body::Spooled(s) => (Vec::new(), Some(s)),
                };
                uids_in.push(*uid);
                incs.push(Incoming {
                    mailbox: mb.name.clone(),
                    position: format!("{uidvalidity}:{uid}"),
                    arrived_at: date,
                    raw,
                    imported: first_contact && date < horizon,
                    oversize: (size > limit).then_some(size),
                    spool,
                });
            }
            // Read (decrypt, verify) in reader processes without holding the store
            // (block_in_place: the runtime's other thread keeps the watchdog, signals
            // and sender going), write in transactions cut by bytes (group commit),
            // then mark: a crash before the commit leaves the group unmarked, and it is
            // read again.
            let outcomes = tokio::task::block_in_place(|| {
                intake::ingest_batch(store, cfg, keys, reader, &incs)
            })
            .with_context(|| {
                format!(
                    "ingesting UIDs {}..{} of mailbox {}",
                    uids_in.first().unwrap_or(&0),
                    uids_in.last().unwrap_or(&0),
                    mb.name
                )
            })?;
            committed();
            let mut done = Vec::new();
            for (uid, outcome) in uids_in.into_iter().zip(outcomes) {
                stats.fetched += 1;
                stats.counts.add(&outcome, &mb.name, &uid.to_string());
                done.push(uid);
            }
            if !done.is_empty() {
                mark(session, mb, &done).await?;
                let max = *done.iter().max().unwrap_or(&last);
                last = last.max(max);
                let st = store.lock().map_err(|_| anyhow!("store lock poisoned"))?;
                store::set_mailbox_state(st.db(), &mb.name, "imap", uidvalidity, last)?;
            }
        }
        if total > mb.batch as usize {
            report_progress(&mb.name, stats.fetched, total);
        }
    }
    Ok(stats)
}

/// Where to resume in a mailbox: its UIDVALIDITY, the last UID committed (0 after a
/// UIDVALIDITY change or a lowered UIDNEXT: a full resync, deduplicated by content hash)
/// and whether this is the first contact; recorded before anything is fetched.
fn resume_point(
    store: &Mutex<Store>,
    mb: &MailboxConfig,
    mailbox: &async_imap::types::Mailbox,
) -> Result<(u32, u32, bool)> {
    let uidvalidity = mailbox
        .uid_validity
        .context("the server sent no UIDVALIDITY")?;
    let state = {
        let st = store.lock().map_err(|_| anyhow!("store lock poisoned"))?;
        store::mailbox_state(st.db(), &mb.name)?
    };
    let first_contact = state.is_none();
    let mut last = match state {
        Some((v, last)) if v == uidvalidity => last,
        Some((v, _)) => {
            tracing::warn!(mailbox = %mb.name, old = v, new = uidvalidity, "UIDVALIDITY changed: resyncing by content hash");
            0
        }
        None => 0,
    };
    if let Some(next) = mailbox.uid_next
        && last > 0
        && next <= last
    {
        tracing::warn!(mailbox = %mb.name, uidnext = next, last, "the server lowered UIDNEXT without a new UIDVALIDITY: resyncing by content hash");
        last = 0;
    }
    {
        let st = store.lock().map_err(|_| anyhow!("store lock poisoned"))?;
        store::set_mailbox_state(st.db(), &mb.name, "imap", uidvalidity, last)?;
    }
    Ok((uidvalidity, last, first_contact))
}

/// The declared size and arrival time (INTERNALDATE) of each UID in `set`.
async fn fetch_sizes_and_dates(
    session: &mut Session,
    set: &str,
) -> Result<std::collections::BTreeMap<u32, (u64, i64)>> {
    let meta: Vec<_> = session
        .uid_fetch(set, "(UID RFC822.SIZE INTERNALDATE)")
        .await
        .context("UID FETCH (size, date) failed")?
        .try_collect()
        .await
        .context("reading UID FETCH (size, date)")?;
    let mut info: std::collections::BTreeMap<u32, (u64, i64)> = std::collections::BTreeMap::new();
    for f in &meta {
        if let Some(uid) = f.uid {
            let size = u64::from(f.size.unwrap_or(0));
            let date = f
                .internal_date()
                .map(|d| d.timestamp())
                .unwrap_or_else(store::now);
            info.insert(uid, (size, date));
        }
    }
    Ok(info)
}

/// UIDs in groups of at most `budget` declared bytes (at least one message each); an
/// oversized message, of which only the header is fetched, weighs 64 KiB.
fn byte_groups(
    info: &std::collections::BTreeMap<u32, (u64, i64)>,
    limit: u64,
    budget: u64,
) -> Vec<Vec<u32>> {
    let mut groups: Vec<Vec<u32>> = Vec::new();
    let mut bytes = 0u64;
    for (&uid, &(size, _)) in info {
        let weight = if size <= limit { size } else { 64 * 1024 };
        match groups.last_mut() {
            Some(g) if bytes + weight <= budget => {
                g.push(uid);
                bytes += weight;
            }
            _ => {
                groups.push(vec![uid]);
                bytes = weight;
            }
        }
    }
    groups
}

/// A fetched message: in memory, or (above `limits.stream_above`) in a spool file.
enum Body {
    Held(Vec<u8>),
    Spooled(crate::ingest::source::Spooled),
}

/// Where messages above `above` bytes are fetched to.
struct SpoolTo<'a> {
    cfg: &'a Config,
    above: u64,
    /// Mailbox and UIDVALIDITY, for the file names.
    prefix: String,
}

/// A mailbox name as part of a file name.
fn spool_safe(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .take(40)
        .collect()
}

/// The bodies of a group: whole messages within `limit`, only the header of larger ones.
async fn fetch_bodies(
    session: &mut Session,
    group: &[u32],
    info: &std::collections::BTreeMap<u32, (u64, i64)>,
    limit: u64,
    spool: &SpoolTo<'_>,
) -> Result<std::collections::BTreeMap<u32, Body>> {
    let (small, big): (Vec<u32>, Vec<u32>) = group
        .iter()
        .copied()
        .partition(|u| info.get(u).is_some_and(|i| i.0 <= limit));
    let mut bodies: std::collections::BTreeMap<u32, Body> = std::collections::BTreeMap::new();
    // A large message comes in pieces into a buffer of its size: fetched whole, the IMAP
    // library holds the literal in its own buffer while we copy it out (twice the
    // message), and more while that buffer grows.
    let (small, pieced): (Vec<u32>, Vec<u32>) = small
        .into_iter()
        .partition(|u| info.get(u).is_none_or(|i| i.0 <= FETCH_PIECE));
    for uid in pieced {
        let size = info.get(&uid).map_or(0, |i| i.0);
        let body = if size > spool.above {
            // Too large to hold: the pieces go to a spool file, never to memory.
            let mut w = crate::ingest::spool::Writer::create(
                spool.cfg,
                &format!("{}-{uid}.eml", spool.prefix),
            )?;
            fetch_in_pieces(session, uid, size, limit, &mut w).await?;
            Body::Spooled(w.finish()?)
        } else {
            let mut buf = Vec::with_capacity(usize::try_from(size.min(limit)).unwrap_or(0));
            fetch_in_pieces(session, uid, size, limit, &mut buf).await?;
            Body::Held(buf)
        };
        bodies.insert(uid, body);
    }
    for (uids, item) in [
        (small, "(UID BODY.PEEK[])"),
        (big, "(UID BODY.PEEK[HEADER])"),
    ] {
        if uids.is_empty() {
            continue;
        }
        let set = uids
            .iter()
            .map(|u| u.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let fetched: Vec<_> = session
            .uid_fetch(&set, item)
            .await
            .with_context(|| format!("UID FETCH {item} failed"))?
            .try_collect()
            .await
            .context("reading message bodies")?;
        for f in fetched {
            if let Some(uid) = f.uid {
                let b = f.body().or_else(|| f.header()).unwrap_or_default().to_vec();
                bodies.insert(uid, Body::Held(b));
            }
        }
    }
    Ok(bodies)
}

/// Messages larger than this are fetched in pieces of this size.
const FETCH_PIECE: u64 = 1024 * 1024;

/// Where the pieces of a message go: a buffer, or a spool file.
trait Pieces {
    fn put(&mut self, piece: &[u8]) -> Result<()>;
    fn len(&self) -> u64;
}

impl Pieces for Vec<u8> {
    fn put(&mut self, piece: &[u8]) -> Result<()> {
        self.extend_from_slice(piece);
        Ok(())
    }
    fn len(&self) -> u64 {
        Vec::len(self) as u64
    }
}

impl Pieces for crate::ingest::spool::Writer {
    fn put(&mut self, piece: &[u8]) -> Result<()> {
        self.append(piece)
    }
    fn len(&self) -> u64 {
        crate::ingest::spool::Writer::len(self)
    }
}

/// One message by partial fetches (`BODY.PEEK[]<offset.length>`, RFC 3501 6.4.5): at
/// most one piece is held beside what `body` keeps (a buffer of the message's size, or
/// a spool file). `size` is RFC822.SIZE; the server's pieces decide where the message ends.
async fn fetch_in_pieces(
    session: &mut Session,
    uid: u32,
    size: u64,
    limit: u64,
    body: &mut impl Pieces,
) -> Result<()> {
    loop {
        let item = format!("(UID BODY.PEEK[]<{}.{FETCH_PIECE}>)", body.len());
        let fetched: Vec<_> = session
            .uid_fetch(uid.to_string(), &item)
            .await
            .with_context(|| format!("UID FETCH {uid} {item} failed"))?
            .try_collect()
            .await
            .context("reading a message piece")?;
        // No answer for the UID: the message went away while it was fetched. The pass
        // fails and nothing is marked; the next pass sees the mailbox as it is.
        let Some(row) = fetched.iter().find(|f| f.uid == Some(uid)) else {
            anyhow::bail!(
                "message UID {uid} disappeared after {} of {size} bytes were fetched",
                body.len()
            );
        };
        let piece = row.body().unwrap_or_default();
        let n = piece.len() as u64;
        body.put(piece)?;
        drop(fetched);
        if n < FETCH_PIECE || body.len() > limit {
            return Ok(());
        }
    }
}

/// Backlog progress: a bar on a terminal, a log line otherwise.
fn report_progress(mailbox: &str, fetched: usize, total: usize) {
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        let w = 30 * fetched / total.max(1);
        eprint!(
            "\r{} [{}{}] {}/{}",
            mailbox,
            "#".repeat(w),
            " ".repeat(30usize.saturating_sub(w)),
            fetched,
            total
        );
        if fetched >= total {
            eprintln!();
        }
    } else {
        tracing::info!(mailbox = %mailbox, done = fetched, total, "backlog progress");
    }
}

/// After commit: set \Seen, or move to the configured folder.
async fn mark(session: &mut Session, mb: &MailboxConfig, uids: &[u32]) -> Result<()> {
    let set = uids
        .iter()
        .map(|u| u.to_string())
        .collect::<Vec<_>>()
        .join(",");
    match mb.after {
        AfterCommit::Seen => {
            let _: Vec<_> = session
                .uid_store(&set, "+FLAGS.SILENT (\\Seen)")
                .await
                .context("marking messages \\Seen failed")?
                .try_collect()
                .await
                .context("reading the STORE response")?;
        }
        AfterCommit::Move => {
            if session.uid_mv(&set, &mb.move_to).await.is_err() {
                // No MOVE (RFC 6851): copy, flag deleted, expunge.
                session
                    .uid_copy(&set, &mb.move_to)
                    .await
                    .with_context(|| format!("copying to {} failed", mb.move_to))?;
                let _: Vec<_> = session
                    .uid_store(&set, "+FLAGS.SILENT (\\Deleted)")
                    .await
                    .context("flagging moved messages failed")?
                    .try_collect()
                    .await
                    .context("reading the STORE response")?;
                let _: Vec<_> = session
                    .expunge()
                    .await
                    .context("EXPUNGE failed")?
                    .try_collect()
                    .await
                    .context("reading the EXPUNGE response")?;
            }
        }
    }
    Ok(())
}

/// The move target as this server names it, created when it does not exist yet.
/// `folder` itself is used when it exists or can be created. Servers that keep a user's
/// folders under INBOX (Cyrus without `altnamespace`, Courier; RFC 2342's personal
/// namespace "INBOX.") refuse a top-level folder: then `INBOX` + delimiter + `folder`
/// is used, found or created. The name returned is the one to MOVE or COPY to.
async fn ensure_folder(session: &mut Session, folder: &str) -> Result<String> {
    if folder_exists(session, folder).await? {
        return Ok(folder.to_string());
    }
    let under_inbox = inbox_child(session, folder).await?;
    if let Some(child) = &under_inbox
        && folder_exists(session, child).await?
    {
        return Ok(child.clone());
    }
    let refused = match session.create(folder).await {
        Ok(()) => return Ok(folder.to_string()),
        Err(e) => e,
    };
    if let Some(child) = under_inbox {
        match session.create(&child).await {
            Ok(()) => {
                tracing::info!(folder = %child, "created the move target under INBOX (the server refused a top-level {folder:?})");
                return Ok(child);
            }
            Err(e) => {
                return Err(anyhow!(
                    "cannot create the folder {folder:?} ({refused}) nor {child:?} ({e}); create it with a mail client, or set move_to to a folder that exists (`after = \"seen\"` needs none)"
                ));
            }
        }
    }
    Err(anyhow!(refused).context(format!(
        "cannot create the folder {folder:?}; create it with a mail client, or set move_to to a folder that exists (`after = \"seen\"` needs none)"
    )))
}

/// `mb` moving to `folder` (the server's name for the configured move target).
fn with_move_to(mb: &MailboxConfig, folder: String) -> MailboxConfig {
    MailboxConfig {
        move_to: folder,
        ..mb.clone()
    }
}

/// Whether LIST finds exactly `folder`.
async fn folder_exists(session: &mut Session, folder: &str) -> Result<bool> {
    let list: Vec<_> = session
        .list(None, Some(folder))
        .await
        .context("LIST failed")?
        .try_collect()
        .await
        .context("reading LIST")?;
    Ok(!list.is_empty())
}

/// `INBOX` + INBOX's hierarchy delimiter + `folder`, when `folder` is not already under
/// INBOX and the server has a delimiter.
async fn inbox_child(session: &mut Session, folder: &str) -> Result<Option<String>> {
    let list: Vec<_> = session
        .list(None, Some("INBOX"))
        .await
        .context("LIST INBOX failed")?
        .try_collect()
        .await
        .context("reading LIST")?;
    let Some(delim) = list.iter().find_map(|n| n.delimiter().map(str::to_string)) else {
        return Ok(None);
    };
    let prefix = format!("INBOX{delim}");
    if folder
        .get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(&prefix))
    {
        return Ok(None);
    }
    Ok(Some(format!("{prefix}{folder}")))
}

/// Connects, syncs once, logs out: `run --once`.
pub async fn sync_once(
    store: &Mutex<Store>,
    cfg: &Config,
    keys: &TeamKeys,
    reader: &Reader,
    mb: &MailboxConfig,
    committed: &Committed<'_>,
) -> Result<SyncStats> {
    let password = mb
        .imap_password_async(cfg)
        .await
        .map_err(|p| anyhow!("{}: {}", p.key, p.what))?;
    let mut session = connect(mb, &password).await?;
    let resolved;
    let mb = if mb.after == AfterCommit::Move {
        resolved = with_move_to(mb, ensure_folder(&mut session, &mb.move_to).await?);
        &resolved
    } else {
        mb
    };
    let stats = sync(&mut session, store, cfg, keys, reader, mb, committed).await?;
    let _ = session.logout().await;
    Ok(stats)
}

fn jitter(max_ms: u64) -> u64 {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    if max_ms == 0 { 0 } else { n % max_ms }
}

/// Watches one mailbox until `shutdown` turns true: sync, IDLE (or poll), repeat;
/// reconnect with exponential backoff (1 s doubling to 5 min, plus jitter) on any error.
pub async fn watch(
    store: Arc<Mutex<Store>>,
    cfg: Arc<Config>,
    keys: Arc<TeamKeys>,
    reader: Arc<Reader>,
    mb: MailboxConfig,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
    committed: Arc<Committed<'static>>,
) {
    let mut backoff_ms: u64 = 1000;
    loop {
        if *shutdown.borrow() {
            return;
        }
        match watch_session(
            &store,
            &cfg,
            &keys,
            &reader,
            &mb,
            &mut shutdown,
            committed.as_ref(),
        )
        .await
        {
            Ok(()) => return, // shutdown requested
            Err(e) => {
                let wait = backoff_ms + jitter(backoff_ms / 4 + 1);
                tracing::error!(mailbox = %mb.name, "IMAP: {e:#}; retrying in {:.1} s", wait as f64 / 1000.0);
                tokio::select! {
                    _ = tokio::time::sleep(StdDuration::from_millis(wait)) => {}
                    _ = shutdown.changed() => return,
                }
                backoff_ms = (backoff_ms * 2).min(300_000);
            }
        }
    }
}

async fn watch_session(
    store: &Arc<Mutex<Store>>,
    cfg: &Config,
    keys: &TeamKeys,
    reader: &Reader,
    mb: &MailboxConfig,
    shutdown: &mut tokio::sync::watch::Receiver<bool>,
    committed: &Committed<'_>,
) -> Result<()> {
    let password = mb
        .imap_password_async(cfg)
        .await
        .map_err(|p| anyhow!("{}: {}", p.key, p.what))?;
    let mut session = connect(mb, &password).await?;
    let caps = session.capabilities().await.context("CAPABILITY failed")?;
    let can_idle = caps.has_str("IDLE");
    let resolved;
    let mb = if mb.after == AfterCommit::Move {
        resolved = with_move_to(mb, ensure_folder(&mut session, &mb.move_to).await?);
        &resolved
    } else {
        mb
    };
    tracing::info!(mailbox = %mb.name, idle = can_idle, "connected");
    loop {
        let s = sync(&mut session, store, cfg, keys, reader, mb, committed).await?;
        if s.fetched > 0 {
            tracing::info!(mailbox = %mb.name, fetched = s.fetched, created = s.counts.created, follow_ups = s.counts.follow_ups, duplicates = s.counts.duplicates, "synced");
        }
        if *shutdown.borrow() {
            let _ = session.logout().await;
            return Ok(());
        }
        if can_idle {
            let mut idle = session.idle();
            idle.init().await.context("IDLE failed")?;
            let (fut, stop) = idle
                .wait_with_timeout(StdDuration::from_secs(mb.idle_refresh.secs().max(1) as u64));
            let mut stopping = false;
            let res = tokio::select! {
                r = fut => Some(r),
                _ = shutdown.changed() => { stopping = true; None }
            };
            drop(stop);
            match res {
                Some(Ok(IdleResponse::NewData(_))) | Some(Ok(IdleResponse::Timeout)) => {}
                Some(Ok(IdleResponse::ManualInterrupt)) => {
                    bail!("the server closed the IDLE connection")
                }
                Some(Err(e)) => return Err(anyhow!("IDLE: {e}")),
                None => {}
            }
            session = idle.done().await.context("ending IDLE failed")?;
            if stopping {
                let _ = session.logout().await;
                return Ok(());
            }
        } else {
            tokio::select! {
                _ = tokio::time::sleep(StdDuration::from_secs(mb.poll_interval.secs().max(1) as u64)) => {}
                _ = shutdown.changed() => {
                    let _ = session.logout().await;
                    return Ok(());
                }
            }
            session.noop().await.context("NOOP failed")?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::byte_groups;

    #[test]
    fn groups_are_cut_by_declared_bytes_and_never_empty() {
        let info: std::collections::BTreeMap<u32, (u64, i64)> = [
            (1, (40, 0)),
            (2, (40, 0)),
            (3, (40, 0)),
            (4, (500, 0)), // larger than the whole budget: a group of its own
            (5, (10, 0)),
            (6, (1_000_000, 0)), // oversize: only its header is fetched (64 KiB)
        ]
        .into_iter()
        .collect();
        let g = byte_groups(&info, 100_000, 100);
        assert_eq!(g, vec![vec![1, 2], vec![3], vec![4], vec![5], vec![6]]);
        assert!(byte_groups(&Default::default(), 100, 100).is_empty());
    }
}
