//! The sender: delivers queued outbox rows (file or SMTP through
//! [`crate::deliver::smtp`]), records each server reply, retries with backoff,
//! and copies what was sent to the team's Sent folder over IMAP. It never decides
//! what to say ([`crate::reply`] does) and is woken through its [`Wake`] channel after a commit.

use anyhow::{Context, Result, anyhow};
use serde::Serialize;

use crate::config::{Config, Transport};
use crate::store::{self};

use crate::store::Due;

/// Counts of one `send_due` pass.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct SendStats {
    pub sent: usize,
    pub failed: usize,
    /// Of the failed: refused for good (5xx), not retried.
    pub refused: usize,
}

impl SendStats {
    /// Adds another pass's counts.
    pub fn add(&mut self, o: &SendStats) {
        self.sent += o.sent;
        self.failed += o.failed;
        self.refused += o.refused;
    }
}

/// The explicit wake channel of the sender: the daemon makes one, gives a clone to
/// every place that queues mail (intake's commit callback), and the sender loop
/// waits on it (at most one stored wake-up) as well as on its periodic timer.
#[derive(Clone, Default)]
pub struct Wake(std::sync::Arc<tokio::sync::Notify>);

impl Wake {
    pub fn new() -> Wake {
        Wake::default()
    }

    /// Tells the sender that mail is queued.
    pub fn kick(&self) {
        self.0.notify_one();
    }

    /// Resolves when [`Wake::kick`] was called.
    pub async fn kicked(&self) {
        self.0.notified().await;
    }
}

/// Sends every due row. Store access is short and never held across the network.
pub async fn send_due(store: &std::sync::Mutex<store::Store>, cfg: &Config) -> Result<SendStats> {
    let mut stats = SendStats::default();
    // Batches of 100 until nothing is due (failed rows move into the future, so this ends).
    for _ in 0..1000 {
        let s = send_batch(store, cfg).await?;
        stats.sent += s.sent;
        stats.failed += s.failed;
        stats.refused += s.refused;
        if s.sent + s.failed == 0 {
            break;
        }
    }
    Ok(stats)
}

async fn send_batch(store: &std::sync::Mutex<store::Store>, cfg: &Config) -> Result<SendStats> {
    let rows = {
        let st = store.lock().map_err(|_| anyhow!("store lock poisoned"))?;
        store::due_rows(st.db())?
    };
    let mut stats = SendStats::default();
    if rows.is_empty() {
        return Ok(stats);
    }
    let mut transport = Sender::new(cfg)?;
    let mut copies = Vec::new();
    for row in rows {
        let res = transport
            .send(&row.recipient, &row.message_id, &row.body)
            .await;
        let mut st = store.lock().map_err(|_| anyhow!("store lock poisoned"))?;
        // One transaction per outcome: the row, the case and the event agree. It is
        // committed relaxed (see `Store::write_relaxed`): losing the last "sent" record
        // in a power cut means the mail is sent again with the same Message-ID, the
        // crash window the outbox documents anyway. Intake keeps FULL.
        st.write_relaxed("send-record", |tx| {
            record_outcome(tx, &row, res, &mut stats, &mut copies)
        })?;
    }
    transport.close().await;
    if let Some(folder) = &cfg.outbox.sent_folder
        && !copies.is_empty()
        && let Err(e) = copy_to_sent(store, cfg, folder, &copies).await
    {
        tracing::warn!("copying sent mail to {folder:?} failed (the mail itself was sent): {e:#}");
    }
    Ok(stats)
}

/// Records one send outcome (sent, or failed with its retry time).
fn record_outcome(
    tx: store::Db<'_>,
    row: &Due,
    res: Result<String>,
    stats: &mut SendStats,
    copies: &mut Vec<(i64, Vec<u8>)>,
) -> Result<()> {
    match res {
        Ok(reply) => {
            stats.sent += 1;
            store::record_sent(tx, row, &reply)?;
            copies.push((row.id, row.body.clone()));
            tracing::info!(outbox = row.id, kind = %row.kind, "sent");
        }
        Err(e) if crate::deliver::smtp::is_permanent(&e) => {
            // A 5xx is the server's final word: retrying would only repeat it. The row
            // is failed, the case says why, and the SLA sweep tells the team.
            stats.failed += 1;
            stats.refused += 1;
            store::record_refused(tx, row, &format!("{e:#}"))?;
            tracing::warn!(outbox = row.id, kind = %row.kind, "refused for good, not retried: {e:#}");
        }
        Err(e) => {
            stats.failed += 1;
            let wait = (30i64 << row.attempts.min(7)).min(3600);
            store::record_send_failure(tx, row, &format!("{e:#}"), wait)?;
            tracing::warn!(outbox = row.id, "sending failed (retry in {wait} s): {e:#}");
        }
    }
    Ok(())
}

/// APPENDs sent messages to a folder of the first IMAP mailbox, so the team sees the
/// conversation in their mail client.
async fn copy_to_sent(
    store: &std::sync::Mutex<store::Store>,
    cfg: &Config,
    folder: &str,
    copies: &[(i64, Vec<u8>)],
) -> Result<()> {
    let mb = cfg
        .mailboxes
        .iter()
        .find(|m| m.kind == crate::config::MailboxKind::Imap)
        .context("outbox.sent_folder needs an IMAP mailbox")?;
    let password = mb
        .imap_password(cfg)
        .map_err(|p| anyhow!("{}: {}", p.key, p.what))?;
    let mut session = crate::net::imap::connect(mb, &password).await?;
    let _ = session.create(folder).await; // exists already: fine
    for (id, body) in copies {
        session
            .append(folder, Some("(\\Seen)"), None, body)
            .await
            .with_context(|| format!("APPEND to {folder}"))?;
        let st = store.lock().map_err(|_| anyhow!("store lock poisoned"))?;
        store::record_copied(st.db(), *id)?;
    }
    let _ = session.logout().await;
    Ok(())
}

/// Connects to the SMTP relay (EHLO, TLS, AUTH) without sending anything: `doctor`.
pub async fn test_smtp(cfg: &Config) -> Result<String> {
    match Sender::new(cfg)? {
        Sender::Smtp(relay) => {
            relay.check().await?;
            Ok(format!(
                "{} accepts connections (EHLO{} ok)",
                relay.server,
                if cfg.outbox.user.is_some() {
                    ", AUTH"
                } else {
                    ""
                }
            ))
        }
        Sender::File(d) => Ok(format!("file transport into {}", d.display())),
    }
}

enum Sender {
    File(std::path::PathBuf),
    Smtp(Box<crate::deliver::smtp::Relay>),
}

impl Sender {
    fn new(cfg: &Config) -> Result<Sender> {
        match cfg.outbox.transport {
            Transport::File => {
                let dir = cfg.resolve(cfg.outbox.dir.as_deref().context("outbox.dir is not set")?);
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                Ok(Sender::File(dir))
            }
            Transport::Smtp => Ok(Sender::Smtp(Box::new(crate::deliver::smtp::Relay::new(
                cfg,
            )?))),
        }
    }

    /// Sends; returns the server's reply (or where the file went).
    async fn send(&mut self, to: &str, message_id: &str, body: &[u8]) -> Result<String> {
        match self {
            Sender::File(dir) => {
                let name = format!("{}.eml", message_id.replace(['/', '\\'], "_"));
                let tmp = dir.join(format!(".{name}.tmp"));
                // 0600: escalations and digests name cases; only the service user reads them.
                {
                    use std::io::Write;
                    use std::os::unix::fs::OpenOptionsExt;
                    let mut f = std::fs::OpenOptions::new()
                        .write(true)
                        .create(true)
                        .truncate(true)
                        .mode(0o600)
                        .open(&tmp)
                        .with_context(|| format!("creating {}", tmp.display()))?;
                    f.write_all(body)
                        .with_context(|| format!("writing {}", tmp.display()))?;
                    f.sync_all()
                        .with_context(|| format!("syncing {}", tmp.display()))?;
                }
                let dest = dir.join(&name);
                std::fs::rename(&tmp, &dest)
                    .with_context(|| format!("moving into {}", dest.display()))?;
                Ok(format!("written to {}", dest.display()))
            }
            Sender::Smtp(relay) => relay.send(to, body).await,
        }
    }

    async fn close(&mut self) {
        if let Sender::Smtp(relay) = self {
            relay.close().await;
        }
    }
}
