//! Sources: where raw message bytes come from.
//!
//! A source hands intake raw bytes plus the message's position and arrival
//! time, and marks a message processed only after intake has committed it.
//! Sources never parse or decrypt: [`super::maildir`] and [`super::imap`].
//! A message above `limits.stream_above` is handed over as a file instead
//! ([`Spooled`], written by [`super::spool`] for IMAP; the Maildir file itself).

use std::path::PathBuf;

/// One message waiting in a source.
#[derive(Debug)]
pub struct Incoming {
    /// The mailbox name from the config.
    pub mailbox: String,
    /// Where the message sits in its source (Maildir file name, `UIDVALIDITY:UID`).
    pub position: String,
    /// Delivery time (unix seconds): the SLA clock starts here.
    pub arrived_at: i64,
    /// The raw message (empty when it is [`Incoming::spool`]ed).
    pub raw: Vec<u8>,
    /// Older than the mailbox's import horizon at first contact: a case, but no automatic ack.
    pub imported: bool,
    /// The server declared this size above `limits.max_message_size`: only headers were fetched.
    pub oversize: Option<u64>,
    /// A message above `limits.stream_above`: its raw bytes are in this file, never held.
    pub spool: Option<Spooled>,
}

impl Incoming {
    /// The raw message's size in bytes.
    pub fn size(&self) -> u64 {
        match &self.spool {
            Some(s) => s.size,
            None => self.raw.len() as u64,
        }
    }
}

/// A message's raw bytes in a file.
#[derive(Debug)]
pub struct Spooled {
    pub path: PathBuf,
    pub size: u64,
    /// SHA-256 of the bytes (hex) when computed as they were written; None: hashed
    /// from the file when needed (a Maildir file).
    pub sha: Option<String>,
    /// The file is triaged's (the IMAP spool) and is removed when this is dropped (the
    /// message is committed, or still in the mailbox); a Maildir file is the source's.
    pub owned: bool,
}

impl Drop for Spooled {
    fn drop(&mut self) {
        if self.owned {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
