//! The command line: a clap tree that reads like the operator's task.
//!
//! Exit codes: 0 success; 1 a runtime failure (store, mailbox, I/O);
//! 2 the configuration is invalid (every problem is printed); 3 the named case
//! or object does not exist; 4 the request is not allowed (e.g. a transition).
//!
//! `args` is the clap tree, `run` the dispatch; one file per command group (`case`,
//! `classify`, `keys`, `policy`, `sla`, `stats`, `disclose` for what follows the ack);
//! `render` holds the public JSON types. This file keeps the helpers they share
//! (loading the config, opening the store, printing). No file here holds SQL or a
//! transaction: each command is one library call between its arguments and its output.

mod args;
mod case;
mod classify;
pub mod disclose;
mod keys;
mod policy;
pub mod render;
mod run;
mod sla;
mod stats;

pub use args::{CaseCmd, Cli, Command, KeysCmd, PolicyCmd, Sort};
pub use policy::load_policy_file;
pub use run::main_with;

use anyhow::{Context, Result};

use crate::config::{Config, ConfigError};
use crate::store::Store;

fn load(cli: &Cli) -> Result<Config> {
    Ok(Config::load(&cli.config)?)
}

/// The config as `run` needs it: valid, keys unlocked, and no secret file readable by
/// other users (`check-config` applies the same test).
fn load_for_service(cli: &Cli) -> Result<(Config, crate::read::crypto::TeamKeys)> {
    let cfg = load(cli)?;
    let keys = crate::read::keys::validate(&cfg)?;
    let perms = cfg.permission_problems();
    if !perms.is_empty() {
        return Err(ConfigError {
            file: cfg.file.clone(),
            problems: perms,
        }
        .into());
    }
    for skipped in keys.keyring_skipped() {
        eprintln!(
            "warning: {}: keys.reporter_keyring: {skipped}; that key is not used to verify \
             signatures (re-export it with `gpg --export --armor KEYID`, or remove it)",
            cfg.file.display()
        );
    }
    Ok((cfg, keys))
}

fn open_store(cfg: &Config) -> Result<Store> {
    Store::open(&cfg.store_path())
}

fn print_json<T: serde::Serialize>(v: &T) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, v).context("serialising JSON")?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// The first configuration problem as `key: what` (the list is never empty).
fn first_problem(p: &[crate::config::Problem]) -> String {
    p.first()
        .map(|p| format!("{}: {}", p.key, p.what))
        .unwrap_or_else(|| "an unnamed configuration problem".into())
}

/// Says that a case does not exist and how to find one; the exit code for it.
fn no_case(id: &str) -> i32 {
    eprintln!("error: no case {id}\n  hint: list cases with `triaged case list`");
    3
}

/// The operator's name for the audit trail.
pub fn operator() -> String {
    std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "operator".into())
}

fn trunc(s: &str, n: usize) -> String {
    let s: String = s.chars().filter(|c| !c.is_control()).collect();
    if s.chars().count() <= n {
        s
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn date(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

/// Text from a report made safe for a terminal (see [`crate::domain::terminal_safe`]).
pub fn safe(s: &str) -> String {
    crate::domain::terminal_safe(s)
}
