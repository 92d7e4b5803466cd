//! Spool: files holding messages too large to hold in memory (above
//! `limits.stream_above`) between their fetch and their commit.
//!
//! This module owns the directory `spool/` beside the store. A file is created
//! exclusively (mode 0600: it holds report ciphertext, and for an unencrypted report
//! its text), hashed while it is written, and removed when its [`Spooled`] is dropped
//! (after the commit, or when the pass fails and the message stays in its mailbox).
//! Whatever a crash leaves behind is removed at the next start ([`clear`]): the
//! message is still in its mailbox or already in the store.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::ingest::source::Spooled;

/// The spool directory of a configuration.
pub fn dir(cfg: &Config) -> PathBuf {
    cfg.store_path()
        .parent()
        .map_or_else(|| PathBuf::from("spool"), |p| p.join("spool"))
}

/// Removes what earlier runs left in the spool: every file whose process (its name
/// starts with the pid that wrote it) is gone. Files of a live process (a daemon beside
/// a `run --once`) are left alone.
pub fn clear(cfg: &Config) -> Result<()> {
    let d = dir(cfg);
    let entries = match std::fs::read_dir(&d) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading the spool {}", d.display())),
    };
    for e in entries {
        let p = e
            .with_context(|| format!("reading the spool {}", d.display()))?
            .path();
        let pid = p
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.split('-').next())
            .and_then(|n| n.parse::<libc::pid_t>().ok());
        if pid.is_some_and(alive) {
            continue;
        }
        std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
    }
    Ok(())
}

/// True when process `pid` exists (another triaged may be writing its spool files).
fn alive(pid: libc::pid_t) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill(2) with signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// A spool file being written.
pub struct Writer {
    file: std::io::BufWriter<std::fs::File>,
    hash: Sha256,
    spooled: Spooled,
}

impl Writer {
    /// Creates `spool/<pid>-<name>` (which must not exist).
    pub fn create(cfg: &Config, name: &str) -> Result<Writer> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let d = dir(cfg);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&d)
            .with_context(|| format!("creating the spool {}", d.display()))?;
        let path = d.join(format!("{}-{name}", std::process::id()));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("creating the spool file {}", path.display()))?;
        Ok(Writer {
            file: std::io::BufWriter::with_capacity(256 * 1024, file),
            hash: Sha256::new(),
            // Owned from the start: a writer dropped half-way removes its file.
            spooled: Spooled {
                path,
                size: 0,
                sha: None,
                owned: true,
            },
        })
    }

    /// Appends bytes.
    pub fn append(&mut self, b: &[u8]) -> Result<()> {
        self.write_all(b)
            .with_context(|| format!("writing the spool file {}", self.spooled.path.display()))
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> u64 {
        self.spooled.size
    }

    /// Flushes the file (no fsync: the message stays in its mailbox until it is
    /// committed to the store, which is synced) and hands it over.
    pub fn finish(mut self) -> Result<Spooled> {
        self.file
            .flush()
            .with_context(|| format!("writing the spool file {}", self.spooled.path.display()))?;
        let d = std::mem::take(&mut self.hash).finalize();
        self.spooled.sha = Some(d.iter().map(|x| format!("{x:02x}")).collect());
        let Writer { spooled, .. } = self;
        Ok(spooled)
    }
}

impl Write for Writer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(b)?;
        self.hash.update(b.get(..n).unwrap_or_default());
        self.spooled.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// The SHA-256 (hex) of a file, read a buffer at a time.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).with_context(|| format!("reading {}", path.display()))?;
    Ok(h.finalize().iter().map(|x| format!("{x:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(dir: &Path) -> Config {
        Config::from_toml(
            "[store]\npath = \"state/triaged.db\"\n[keys]\nsecret = []\n[outbox]\nfrom = \"security@example.test\"\nteam = \"team@example.test\"\n",
            &dir.join("t.toml"),
        )
        .expect("config")
    }

    #[test]
    fn a_spool_file_is_private_hashed_and_removed_with_its_handle() {
        use std::os::unix::fs::PermissionsExt;
        let t = tempfile::tempdir().expect("tempdir");
        let c = cfg(t.path());
        let mut w = Writer::create(&c, "1-2.eml").expect("create");
        w.append(b"hello ").expect("write");
        w.append(b"world").expect("write");
        let s = w.finish().expect("finish");
        assert_eq!(s.size, 11);
        assert_eq!(
            s.sha.as_deref(),
            Some(crate::read::sha256_hex(b"hello world").as_str())
        );
        assert_eq!(
            sha256_file(&s.path).expect("hash"),
            crate::read::sha256_hex(b"hello world")
        );
        let mode = std::fs::metadata(&s.path)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        // The same name twice is refused (never two writers on one file).
        assert!(Writer::create(&c, "1-2.eml").is_err());
        let p = s.path.clone();
        drop(s);
        assert!(!p.exists());
        // A writer dropped half-way leaves nothing.
        let w = Writer::create(&c, "3.eml").expect("create");
        let p3 = w.spooled.path.clone();
        assert!(p3.exists());
        drop(w);
        assert!(!p3.exists());
        // `clear` removes what a dead process left (and names without a pid), not what
        // a live one (this test) is writing.
        let live = Writer::create(&c, "4.eml").expect("create");
        std::fs::write(dir(&c).join("999999999-9.eml"), b"x").expect("write");
        std::fs::write(dir(&c).join("left.eml"), b"x").expect("write");
        clear(&c).expect("clear");
        let left: Vec<_> = std::fs::read_dir(dir(&c))
            .expect("dir")
            .map(|e| e.expect("entry").path())
            .collect();
        assert_eq!(left, vec![live.spooled.path.clone()]);
    }
}
