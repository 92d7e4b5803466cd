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

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration as StdDuration;

use anyhow::{Context, Result, anyhow, bail};
use async_imap::extensions::idle::IdleResponse;
use futures_util::TryStreamExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::config::{AfterCommit, Config, MailboxConfig, TlsMode};
use crate::read::crypto::TeamKeys;
use crate::ingest::intake;
use crate::read::reader::Reader;
use crate::ingest::source::Incoming;
use crate::store::{self, Store};

/// A connection: plain TCP (loopback only) or TLS.
pub enum Conn {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Conn::Plain(_) => "Conn::Plain",
            Conn::Tls(_) => "Conn::Tls",
        })
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

pub type Session = async_imap::Session<Conn>;

/// A TLS client configuration trusting the Web PKI roots, plus the certificates in
/// `extra_ca` (PEM) for servers with an internal CA or a self-signed certificate.
pub fn tls_config(extra_ca: Option<&[u8]>) -> Arc<tokio_rustls::rustls::ClientConfig> {
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    let mut roots =
        rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = extra_ca {
        for cert in tokio_rustls::rustls::pki_types::CertificateDer::pem_slice_iter(pem).flatten() {
            let _ = roots.add(cert);
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
        .unwrap_or_else(|_| {
            rustls::ClientConfig::builder()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth()
        });
    Arc::new(cfg)
}

async fn tls_wrap(tcp: TcpStream, host: &str, extra_ca: Option<&[u8]>) -> Result<Conn> {
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|_| anyhow!("{host:?} is not a valid TLS server name"))?;
    let tls = tokio_rustls::TlsConnector::from(tls_config(extra_ca))
        .connect(name, tcp)
        .await
        .with_context(|| format!("TLS handshake with {host} failed"))?;
    Ok(Conn::Tls(Box::new(tls)))
}

/// Connects and logs in.
pub async fn connect(mb: &MailboxConfig, password: &str) -> Result<Session> {
    let host = mb.host.as_deref().context("the mailbox has no host")?;
    let user = mb.user.as_deref().context("the mailbox has no user")?;
    let port = mb.port.unwrap_or(match mb.tls {
        TlsMode::Implicit => 993,
        _ => 143,
    });
    if mb.tls == TlsMode::Plain && !crate::config::is_loopback(host) {
        bail!("refusing plain IMAP to {host}: use tls = \"implicit\" or \"starttls\"");
    }
    let tcp = tokio::time::timeout(StdDuration::from_secs(15), TcpStream::connect((host, port)))
        .await
        .map_err(|_| anyhow!("connecting to {host}:{port} timed out"))?
        .with_context(|| format!("cannot connect to {host}:{port}"))?;
    let _ = tcp.set_nodelay(true);
    let ca = match &mb.tls_ca_file {
        Some(p) => Some(
            std::fs::read(p).with_context(|| format!("cannot read tls_ca_file {}", p.display()))?,
        ),
        None => None,
    };
    let ca = ca.as_deref();
    let client = match mb.tls {
        TlsMode::Implicit => {
            let mut c = async_imap::Client::new(tls_wrap(tcp, host, ca).await?);
            greeting(&mut c).await?;
            c
        }
        TlsMode::Plain => {
            let mut c = async_imap::Client::new(Conn::Plain(tcp));
            greeting(&mut c).await?;
            c
        }
        TlsMode::Starttls => {
            let mut c = async_imap::Client::new(Conn::Plain(tcp));
            greeting(&mut c).await?;
            c.run_command_and_check_ok("STARTTLS", None)
                .await
                .with_context(|| format!("{host} refused STARTTLS"))?;
            let Conn::Plain(tcp) = c.into_inner() else {
                bail!("unexpected TLS before STARTTLS");
            };
            async_imap::Client::new(tls_wrap(tcp, host, ca).await?)
        }
    };
    client.login(user, password).await.map_err(|(e, _)| {
        anyhow!(
            "login as {user} on {host}:{port} failed: {e} (check the mailbox's user and password)"
        )
    })
}

async fn greeting(c: &mut async_imap::Client<Conn>) -> Result<()> {
    match tokio::time::timeout(StdDuration::from_secs(15), c.read_response()).await {
        Ok(Ok(Some(_))) => Ok(()),
        Ok(Ok(None)) => bail!("the server closed the connection before its greeting"),
        Ok(Err(e)) => Err(anyhow!("reading the server greeting failed: {e}")),
        Err(_) => bail!("no server greeting within 15 s"),
    }
}

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
) -> Result<SyncStats> {
    let mut stats = SyncStats::default();
    let mailbox = session
        .select(&mb.folder)
        .await
        .with_context(|| format!("cannot select the folder {:?}", mb.folder))?;
    let uidvalidity = mailbox
        .uid_validity
        .context("the server sent no UIDVALIDITY")?;
    let state = {
        let st = store.lock().map_err(|_| anyhow!("store lock poisoned"))?;
        store::mailbox_state(&st.conn, &mb.name)?
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
        store::set_mailbox_state(&st.conn, &mb.name, "imap", uidvalidity, last)?;
    }
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
        let meta: Vec<_> = session
            .uid_fetch(&set, "(UID RFC822.SIZE INTERNALDATE)")
            .await
            .context("UID FETCH (size, date) failed")?
            .try_collect()
            .await
            .context("reading UID FETCH (size, date)")?;
        let mut info: std::collections::BTreeMap<u32, (u64, i64)> =
            std::collections::BTreeMap::new();
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
        // Fetch and ingest in groups of at most `limits.batch_bytes` (by the sizes the
        // server declared; at least one message), so a batch of large mail is never
        // held in memory at once.
        let budget = cfg.limits.batch_bytes.0.max(1);
        let mut groups: Vec<Vec<u32>> = Vec::new();
        let mut bytes = 0u64;
        for (&uid, &(size, _)) in &info {
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
        for group in groups {
            let (small, big): (Vec<u32>, Vec<u32>) =
                group.iter().copied().partition(|u| info[u].0 <= limit);
            let mut bodies: std::collections::BTreeMap<u32, Vec<u8>> =
                std::collections::BTreeMap::new();
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
                        bodies.insert(uid, b);
                    }
                }
            }
            let mut uids_in = Vec::new();
            let mut incs = Vec::new();
            for uid in &group {
                let (size, date) = info[uid];
                let Some(raw) = bodies.remove(uid) else {
                    tracing::warn!(mailbox = %mb.name, uid, "the server returned no body; will retry on the next pass");
                    continue;
                };
                uids_in.push(*uid);
                incs.push(Incoming {
                    mailbox: mb.name.clone(),
                    position: format!("{uidvalidity}:{uid}"),
                    arrived_at: date,
                    raw,
                    imported: first_contact && date < horizon,
                    oversize: (size > limit).then_some(size),
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
            crate::reply::outbox::kick();
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
                store::set_mailbox_state(&st.conn, &mb.name, "imap", uidvalidity, last)?;
            }
        }
        if total > mb.batch as usize {
            if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                let w = 30 * stats.fetched / total.max(1);
                eprint!(
                    "\r{} [{}{}] {}/{}",
                    mb.name,
                    "#".repeat(w),
                    " ".repeat(30 - w),
                    stats.fetched,
                    total
                );
                if stats.fetched >= total {
                    eprintln!();
                }
            } else {
                tracing::info!(mailbox = %mb.name, done = stats.fetched, total, "backlog progress");
            }
        }
    }
    Ok(stats)
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

/// Creates the move target folder when it does not exist yet.
async fn ensure_folder(session: &mut Session, folder: &str) -> Result<()> {
    let exists = {
        let list: Vec<_> = session
            .list(None, Some(folder))
            .await
            .context("LIST failed")?
            .try_collect()
            .await
            .context("reading LIST")?;
        !list.is_empty()
    };
    if !exists {
        session
            .create(folder)
            .await
            .with_context(|| format!("cannot create the folder {folder:?}"))?;
    }
    Ok(())
}

/// Connects, syncs once, logs out: `run --once`.
pub async fn sync_once(
    store: &Mutex<Store>,
    cfg: &Config,
    keys: &TeamKeys,
    reader: &Reader,
    mb: &MailboxConfig,
) -> Result<SyncStats> {
    let password = mb
        .imap_password(cfg)
        .map_err(|p| anyhow!("{}: {}", p.key, p.what))?;
    let mut session = connect(mb, &password).await?;
    if mb.after == AfterCommit::Move {
        ensure_folder(&mut session, &mb.move_to).await?;
    }
    let stats = sync(&mut session, store, cfg, keys, reader, mb).await?;
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
) {
    let mut backoff_ms: u64 = 1000;
    loop {
        if *shutdown.borrow() {
            return;
        }
        match watch_session(&store, &cfg, &keys, &reader, &mb, &mut shutdown).await {
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
) -> Result<()> {
    let password = mb
        .imap_password(cfg)
        .map_err(|p| anyhow!("{}: {}", p.key, p.what))?;
    let mut session = connect(mb, &password).await?;
    let caps = session.capabilities().await.context("CAPABILITY failed")?;
    let can_idle = caps.has_str("IDLE");
    if mb.after == AfterCommit::Move {
        ensure_folder(&mut session, &mb.move_to).await?;
    }
    tracing::info!(mailbox = %mb.name, idle = can_idle, "connected");
    loop {
        let s = sync(&mut session, store, cfg, keys, reader, mb).await?;
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
