//! Sealing at rest (`store.encrypt_at_rest`): the marker of a sealed TEXT value and
//! the one capability the store needs to read sealed data back, as a trait, so that
//! the store depends on this and not on OpenPGP (`read/crypto` implements it).

use anyhow::{Context, Result};

/// The prefix of a TEXT column value sealed at rest.
pub(crate) const SEALED: &str = "sealed:";

/// Opens what was sealed to the team key.
pub trait Opener {
    /// Binary sealed data (raw messages, attachments).
    fn open_bytes(&self, data: &[u8]) -> Result<Vec<u8>>;
    /// Armored sealed text (bodies).
    fn open_text(&self, armored: &str) -> Result<String>;
    /// A TEXT field that may be sealed (`sealed:` + armor); others pass through.
    fn open_field(&self, s: &str) -> Result<String> {
        match s.strip_prefix(SEALED) {
            Some(armored) => self
                .open_text(armored)
                .context("decrypting a field sealed at rest (store.encrypt_at_rest)"),
            None => Ok(s.to_string()),
        }
    }
}
