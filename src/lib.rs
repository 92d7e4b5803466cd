//! triaged: an encrypted email triage daemon for `security@` mailboxes.
//!
//! The library holds every stage of the data flow, one folder per stage;
//! `src/main.rs` is a thin shell over [`cli`]. One message travels once, left to right:
//!
//! ```text
//! ingest (maildir | imap) -> read (mime + crypto) -> judge (classify, policy, duplicates)
//!     -> store (SQLite) -> reply (ack) -> deliver (smtp | file);  sla, app, cli beside
//! ```
//!
//! Dependencies point one way (cli -> app -> ingest/reply/deliver/sla -> store/judge/
//! read/net/config -> domain); `tests/tidy.rs` checks it. See ARCHITECTURE.md for the
//! code map, the invariants and the guarantees.

// No disguised panics in library code: unwrap/expect/panic are denied (tests may use
// them), and so are unchecked index and string slicing outside the modules that
// still carry an `allow` (issue 14; tests/tidy.rs ratchets that list).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::string_slice
    )
)]

pub(crate) mod app;
pub mod cli;
pub mod config;
pub(crate) mod deliver;
pub mod domain;
pub(crate) mod ingest;
pub mod judge;
pub(crate) mod net;
pub mod read;
pub(crate) mod reply;
pub(crate) mod sla;
pub mod store;

/// Sets up logging: journald-friendly (no timestamps) when stderr is not a terminal.
pub fn init_logging(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let level = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("TRIAGED_LOG")
        .unwrap_or_else(|_| EnvFilter::new(format!("triaged={level},warn")));
    let tty = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(tty);
    if tty {
        b.init();
    } else {
        b.without_time().init();
    }
}
