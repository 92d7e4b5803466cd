//! The sender: delivers queued outbox rows (file or SMTP through
//! [`crate::deliver::smtp`]), records each server reply, retries with backoff,
//! and copies what was sent to the team's Sent folder over IMAP. It never decides
//! what to say ([`crate::reply`] does) and is woken through its [`Wake`] channel after a commit.

use anyhow::{Context, Result, anyhow};
use serde::Serialize;

use crate::config::{Config, Transport};
use crate::store::{self};

use crate::domain::status::OutboxKind;
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
    let mut copies = Vec::new();
    match Sender::new(cfg)? {
        Sender::File(dir) => {
            // Local files: the whole batch is written and synced at once, then recorded
            // in one transaction (a crash in between writes the same files again, see
            // `write_files`).
            let results = write_files(&dir, &rows);
            let mut st = store.lock().map_err(|_| anyhow!("store lock poisoned"))?;
            st.write_relaxed("send-record", |tx| {
                for (row, res) in rows.iter().zip(results) {
                    record_outcome(tx, row, res, &mut stats, &mut copies)?;
                }
                Ok(())
            })?;
        }
        Sender::Smtp(mut relay) => {
            for row in rows {
                let sender = envelope_sender(cfg, row.kind);
                let res = relay.send(sender, &row.recipient, &row.body).await;
                let mut st = store.lock().map_err(|_| anyhow!("store lock poisoned"))?;
                // One transaction per outcome: the row, the case and the event agree. It
                // is committed relaxed (see `Store::write_relaxed`): losing the last
                // "sent" record in a power cut means the mail is sent again with the same
                // Message-ID, the crash window the outbox documents anyway. Intake keeps
                // FULL.
                st.write_relaxed("send-record", |tx| {
                    record_outcome(tx, &row, res, &mut stats, &mut copies)
                })?;
            }
            relay.close().await;
        }
    }
    if let Some(folder) = &cfg.outbox.sent_folder
        && !copies.is_empty()
        && let Err(e) = copy_to_sent(store, cfg, folder, &copies).await
    {
        tracing::warn!("copying sent mail to {folder:?} failed (the mail itself was sent): {e:#}");
    }
    Ok(stats)
}

/// The envelope sender of a row: our address for a reply a person wrote (`case reply`),
/// so that its bounce reaches the mailbox and is matched to the case; null for every
/// automatic mail (acks, rejections, escalations, digests: RFC 3834 §3.3).
pub(crate) fn envelope_sender(cfg: &Config, kind: OutboxKind) -> Option<&str> {
    match kind {
        OutboxKind::Reply => cfg.outbox.from.as_deref(),
        _ => None,
    }
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
        .imap_password_async(cfg)
        .await
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
}

/// The file transport for one batch: each message is written under a temporary name
/// (mode 0600: escalations and digests name cases), then one `syncfs` makes all of them
/// durable (an fsync each costs a device-cache flush each: on this project's benchmark
/// machine the sender's fsyncs and inode allocations were a fifth of a backlog's CPU),
/// then each is renamed to its final name and the directory is synced once. The final
/// name is the Message-ID, so a batch written again after a crash (before its outcomes
/// were recorded) replaces its own files: never two copies of one mail. One result per
/// row, in order; a failure to sync fails the whole batch (retried with backoff).
fn write_files(dir: &std::path::Path, rows: &[Due]) -> Vec<Result<String>> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let name_of = |row: &Due| format!("{}.eml", row.message_id.replace(['/', '\\'], "_"));
    let mut results: Vec<Result<std::path::PathBuf>> = rows
        .iter()
        .map(|row| {
            let tmp = dir.join(format!(".{}.tmp", name_of(row)));
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)
                .with_context(|| format!("creating {}", tmp.display()))?;
            f.write_all(&row.body)
                .with_context(|| format!("writing {}", tmp.display()))?;
            Ok(tmp)
        })
        .collect();
    if let Err(e) = sync_filesystem(dir) {
        let why = format!("{e:#}");
        for r in &mut results {
            if r.is_ok() {
                *r = Err(anyhow!("{why}"));
            }
        }
    }
    let out: Vec<Result<String>> = rows
        .iter()
        .zip(results)
        .map(|(row, tmp)| {
            let tmp = tmp?;
            let dest = dir.join(name_of(row));
            std::fs::rename(&tmp, &dest)
                .with_context(|| format!("moving into {}", dest.display()))?;
            Ok(format!("written to {}", dest.display()))
        })
        .collect();
    if out.iter().any(|r| r.is_ok())
        && let Err(e) = sync_filesystem(dir)
    {
        let why = format!("{e:#}");
        return out.into_iter().map(|_| Err(anyhow!("{why}"))).collect();
    }
    out
}

/// `syncfs(2)` on the filesystem holding `dir`: every file written there (and the
/// directory's entries) reaches the disk in one call.
fn sync_filesystem(dir: &std::path::Path) -> Result<()> {
    use std::os::fd::AsRawFd;
    let d = std::fs::File::open(dir).with_context(|| format!("opening {}", dir.display()))?;
    // SAFETY: syncfs takes an open descriptor, which `d` holds for the call.
    if unsafe { libc::syncfs(d.as_raw_fd()) } != 0 {
        return Err(std::io::Error::last_os_error())
            .with_context(|| format!("syncing the filesystem of {}", dir.display()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn due(id: i64, message_id: &str, body: &str) -> Due {
        Due {
            id,
            case_id: Some(id),
            kind: OutboxKind::Ack,
            recipient: "r@example.test".into(),
            message_id: message_id.into(),
            body: body.as_bytes().to_vec(),
            attempts: 0,
        }
    }

    #[test]
    fn a_batch_lands_under_its_message_ids_and_a_replay_replaces_it() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("triaged-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let rows = vec![due(1, "<a@x>", "first"), due(2, "<b/c@x>", "second")];
        let res = write_files(&dir, &rows);
        assert!(res.iter().all(|r| r.is_ok()), "{res:?}");
        // A crash before the outcomes were recorded: the same batch again, with the
        // same Message-IDs, replaces its files instead of adding copies.
        let res = write_files(&dir, &[due(1, "<a@x>", "first, again")]);
        assert!(res[0].is_ok());
        let mut names: Vec<String> = std::fs::read_dir(&dir)?
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<std::io::Result<_>>()?;
        names.sort();
        assert_eq!(names, ["<a@x>.eml", "<b_c@x>.eml"]);
        assert_eq!(
            std::fs::read_to_string(dir.join("<a@x>.eml"))?,
            "first, again"
        );
        let mode = std::fs::metadata(dir.join("<b_c@x>.eml"))?
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }

    #[test]
    fn a_file_that_cannot_be_written_fails_its_row_only() -> Result<()> {
        let dir = std::env::temp_dir().join(format!("triaged-files-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        // A directory where the temporary file would go: creating it fails.
        std::fs::create_dir(dir.join(".<bad@x>.eml.tmp"))?;
        let res = write_files(&dir, &[due(1, "<bad@x>", "x"), due(2, "<good@x>", "y")]);
        assert!(res[0].is_err());
        assert!(res[1].is_ok());
        assert!(dir.join("<good@x>.eml").exists());
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
