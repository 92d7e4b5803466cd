//! Ingest: raw bytes from the sources into cases.
//!
//! Sources ([`maildir`], [`imap`]) only fetch and mark; [`intake`] reads a batch
//! (via [`crate::read`]), judges it and commits it in one transaction; the
//! source then marks what was committed. [`source`] is the shared vocabulary;
//! [`spool`] the files that hold messages too large to hold in memory;
//! [`workers`] the long-lived threads intake classifies on; [`list`] reads mail that
//! came through the team's own mailing list as mail to the team.

pub mod imap;
pub mod intake;
pub mod list;
pub mod maildir;
pub mod source;
pub mod spool;
mod workers;
