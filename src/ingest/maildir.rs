//! Maildir source: reads `new/` and unseen `cur/` messages.
//!
//! Delivery time is the Maildir file name's leading timestamp (written by the
//! delivering agent), falling back to the file's mtime. After intake commits,
//! [`Maildir::mark_all_seen`] moves the batch's files to `cur/` with the `S` flag
//! (and fsyncs the directory once), so a crash before that point redelivers them
//! and intake's content hash turns each redelivery into a no-op.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// A message file waiting to be processed.
#[derive(Debug, Clone)]
pub struct Pending {
    pub path: PathBuf,
    pub name: String,
    pub arrived_at: i64,
    /// File size when listed.
    pub size: u64,
}

pub struct Maildir {
    root: PathBuf,
}

impl Maildir {
    /// Opens a Maildir, creating `new/`, `cur/` and `tmp/` when missing.
    pub fn open(root: &Path) -> Result<Maildir> {
        for sub in ["new", "cur", "tmp"] {
            let d = root.join(sub);
            fs::create_dir_all(&d)
                .with_context(|| format!("cannot create the Maildir folder {}", d.display()))?;
        }
        Ok(Maildir {
            root: root.to_path_buf(),
        })
    }

    /// Messages not yet processed: everything in `new/`, and `cur/` files without the S flag.
    /// Oldest delivery first.
    pub fn pending(&self) -> Result<Vec<Pending>> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            let dir = self.root.join(sub);
            let entries = fs::read_dir(&dir)
                .with_context(|| format!("cannot list the Maildir folder {}", dir.display()))?;
            for e in entries {
                let e = e.with_context(|| format!("reading {}", dir.display()))?;
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    continue;
                }
                let ft = e
                    .file_type()
                    .with_context(|| format!("stat {}", e.path().display()))?;
                if !ft.is_file() {
                    continue;
                }
                if sub == "cur" && flags(&name).contains('S') {
                    continue;
                }
                let meta = e.metadata().ok();
                let size = meta.as_ref().map(|m| m.len()).unwrap_or(0);
                let arrived_at = delivery_time(&name).unwrap_or_else(|| {
                    meta.as_ref()
                        .and_then(|m| m.modified().ok())
                        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                        .map(|d| d.as_secs() as i64)
                        .unwrap_or_else(crate::store::now)
                });
                out.push(Pending {
                    path: e.path(),
                    name,
                    arrived_at,
                    size,
                });
            }
        }
        out.sort_by(|a, b| (a.arrived_at, &a.name).cmp(&(b.arrived_at, &b.name)));
        Ok(out)
    }

    pub fn read(&self, p: &Pending) -> Result<Vec<u8>> {
        fs::read(&p.path).with_context(|| format!("cannot read {}", p.path.display()))
    }

    /// Reads at most the first `max` bytes (the headers of an oversized message).
    pub fn read_head(&self, p: &Pending, max: u64) -> Result<Vec<u8>> {
        use std::io::Read;
        let f =
            fs::File::open(&p.path).with_context(|| format!("cannot read {}", p.path.display()))?;
        let mut out = Vec::new();
        f.take(max)
            .read_to_end(&mut out)
            .with_context(|| format!("cannot read {}", p.path.display()))?;
        Ok(out)
    }

    /// Moves processed messages to `cur/` with the S (seen) flag, then makes the moves
    /// durable with one sync of `cur/` (not one per message). A crash before the sync
    /// can undo some moves: those files are read again and are duplicates by content.
    pub fn mark_all_seen<'a>(&self, ps: impl IntoIterator<Item = &'a Pending>) -> Result<()> {
        let mut moved = false;
        for p in ps {
            self.move_seen(p)?;
            moved = true;
        }
        if moved {
            let cur = fs::File::open(self.root.join("cur")).context("opening cur/ to sync it")?;
            cur.sync_all().context("syncing cur/")?;
        }
        Ok(())
    }

    fn move_seen(&self, p: &Pending) -> Result<()> {
        let base = p.name.split(":2,").next().unwrap_or(&p.name);
        let mut f: Vec<char> = flags(&p.name).chars().collect();
        if !f.contains(&'S') {
            f.push('S');
        }
        f.sort_unstable();
        f.dedup();
        let new_name = format!("{base}:2,{}", f.into_iter().collect::<String>());
        let dest = self.root.join("cur").join(new_name);
        fs::rename(&p.path, &dest)
            .with_context(|| format!("cannot move {} to {}", p.path.display(), dest.display()))
    }

    #[cfg(test)]
    /// Delivers a message into `new/` the Maildir way (tmp/ then rename). For tests and the demo.
    pub fn deliver(&self, raw: &[u8]) -> Result<PathBuf> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let name = format!(
            "{}.M{}P{}Q{}.triaged",
            now.as_secs(),
            now.subsec_micros(),
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let tmp = self.root.join("tmp").join(&name);
        fs::write(&tmp, raw).with_context(|| format!("writing {}", tmp.display()))?;
        let dest = self.root.join("new").join(&name);
        fs::rename(&tmp, &dest).with_context(|| format!("moving into {}", dest.display()))?;
        Ok(dest)
    }
}

fn flags(name: &str) -> &str {
    name.split_once(":2,").map(|(_, f)| f).unwrap_or("")
}

/// The leading unix timestamp of a Maildir file name (`1732431234.M1P2.host`).
fn delivery_time(name: &str) -> Option<i64> {
    let digits: String = name.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.len() < 9 || name.as_bytes().get(digits.len()) != Some(&b'.') {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(delivery_time("1732431234.M1P2.host"), Some(1_732_431_234));
        assert_eq!(delivery_time("msg-1"), None);
        assert_eq!(flags("a:2,RS"), "RS");
        assert_eq!(flags("a"), "");
    }

    #[test]
    fn pending_and_mark() {
        let d = tempfile::tempdir().unwrap();
        let md = Maildir::open(d.path()).unwrap();
        md.deliver(b"Subject: one\r\n\r\nbody").unwrap();
        fs::write(d.path().join("cur/1700000000.x:2,S"), b"seen").unwrap();
        fs::write(d.path().join("cur/1700000001.y:2,F"), b"flagged, unseen").unwrap();
        let p = md.pending().unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].name, "1700000001.y:2,F");
        for x in &p {
            md.mark_all_seen([x]).unwrap();
        }
        assert!(md.pending().unwrap().is_empty());
        assert!(d.path().join("cur/1700000001.y:2,FS").exists());
    }
}
