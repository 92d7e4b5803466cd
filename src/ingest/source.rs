//! Sources: where raw message bytes come from.
//!
//! A source hands intake raw bytes plus the message's position and arrival
//! time, and marks a message processed only after intake has committed it.
//! Sources never parse or decrypt: [`super::maildir`] and [`super::imap`].

/// One message waiting in a source.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// The mailbox name from the config.
    pub mailbox: String,
    /// Where the message sits in its source (Maildir file name, `UIDVALIDITY:UID`).
    pub position: String,
    /// Delivery time (unix seconds): the SLA clock starts here.
    pub arrived_at: i64,
    pub raw: Vec<u8>,
    /// Older than the mailbox's import horizon at first contact: a case, but no automatic ack.
    pub imported: bool,
    /// The server declared this size above `limits.max_message_size`: only headers were fetched.
    pub oversize: Option<u64>,
}
