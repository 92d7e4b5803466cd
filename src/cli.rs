//! The command line: a clap tree that reads like the operator's task.
//!
//! Exit codes: 0 success; 1 a runtime failure (store, mailbox, I/O);
//! 2 the configuration is invalid (every problem is printed); 3 the named case
//! or object does not exist; 4 the request is not allowed (e.g. a transition).

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError};
use crate::store::{self, Store, rfc3339};
use crate::{daemon, intake};

#[derive(Parser, Debug)]
#[command(
    name = "triaged",
    version,
    about = "Encrypted email triage for security@ mailboxes"
)]
pub struct Cli {
    /// The configuration file.
    #[arg(
        long,
        short,
        global = true,
        env = "TRIAGED_CONFIG",
        default_value = "/etc/triaged/config.toml"
    )]
    pub config: PathBuf,
    /// More log output (-v: debug, -vv: trace). Report plaintext is never logged at info.
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Process the mailboxes: `--once` drains what is pending and exits; otherwise keep watching.
    Run {
        #[arg(long)]
        once: bool,
        #[arg(long)]
        json: bool,
    },
    /// Validate the configuration (files, keys, policies) and print OK or every problem.
    CheckConfig {
        #[arg(long)]
        json: bool,
    },
    /// Look at and act on cases.
    #[command(subcommand)]
    Case(CaseCmd),
}

#[derive(Subcommand, Debug)]
pub enum CaseCmd {
    /// List cases (a table, or `--json`).
    List {
        /// Only cases in this state (new, needs-info, undecryptable, ...).
        #[arg(long)]
        state: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Show one case: messages, signature status, attachments, keys, events.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Re-read a case's stored messages (after adding the right key): lifts quarantine.
    Retry {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

/// Runs the CLI; returns the process exit code.
pub fn main_with(cli: Cli) -> i32 {
    match dispatch(&cli) {
        Ok(code) => code,
        Err(e) => {
            if let Some(ce) = e.downcast_ref::<ConfigError>() {
                eprintln!("{ce}");
                return 2;
            }
            if let Some(ce) = e.chain().find_map(|c| c.downcast_ref::<ConfigError>()) {
                eprintln!("{ce}");
                return 2;
            }
            eprintln!("error: {e:#}");
            1
        }
    }
}

fn load(cli: &Cli) -> Result<Config> {
    Ok(Config::load(&cli.config)?)
}

fn open_store(cfg: &Config) -> Result<Store> {
    Store::open(&cfg.store_path())
}

fn print_json<T: serde::Serialize>(v: &T) -> Result<()> {
    println!(
        "{}",
        serde_json::to_string_pretty(v).context("serialising JSON")?
    );
    Ok(())
}

fn dispatch(cli: &Cli) -> Result<i32> {
    match &cli.command {
        Command::CheckConfig { json } => {
            let cfg = load(cli)?;
            let keys = cfg.validate()?;
            if *json {
                print_json(&serde_json::json!({
                    "ok": true,
                    "file": cfg.file,
                    "team_keys": keys.info(),
                    "mailboxes": cfg.mailboxes.iter().map(|m| &m.name).collect::<Vec<_>>(),
                    "policies": cfg.policy.keys().collect::<Vec<_>>(),
                }))?;
            } else {
                println!("OK: {}", cfg.file.display());
                for k in keys.info() {
                    println!(
                        "  team key {} ({} decryption subkey(s)) {}",
                        k.fingerprint,
                        k.decryption_subkeys,
                        k.user_ids.first().cloned().unwrap_or_default()
                    );
                }
                for m in &cfg.mailboxes {
                    println!("  mailbox {} ({:?}, policy {})", m.name, m.kind, m.policy);
                }
            }
            Ok(0)
        }
        Command::Run { once, json } => {
            let cfg = load(cli)?;
            let keys = cfg.validate()?;
            let mut store = open_store(&cfg)?;
            if *once {
                let s = daemon::process_pending(&mut store, &cfg, &keys)?;
                if *json {
                    print_json(&s)?;
                } else {
                    println!(
                        "processed {} message(s): {} new case(s) ({} quarantined), {} follow-up(s), {} already stored",
                        s.seen, s.created, s.quarantined, s.follow_ups, s.duplicates
                    );
                }
                Ok(0)
            } else {
                daemon::run(&mut store, &cfg, &keys)?;
                Ok(0)
            }
        }
        Command::Case(cmd) => case_cmd(cli, cmd),
    }
}

fn case_cmd(cli: &Cli, cmd: &CaseCmd) -> Result<i32> {
    let cfg = load(cli)?;
    let mut store = open_store(&cfg)?;
    match cmd {
        CaseCmd::List { state, json } => {
            if let Some(s) = state {
                s.parse::<crate::case::State>()?;
            }
            let cases = store::list_cases(&store.conn, state.as_deref())?;
            if *json {
                print_json(&cases)?;
            } else {
                print_case_table(&cases);
            }
            Ok(0)
        }
        CaseCmd::Show { id, json } => {
            let Some(c) = store::case_by_public_id(&store.conn, id)? else {
                eprintln!("error: no case {id}\n  hint: list cases with `triaged case list`");
                return Ok(3);
            };
            let messages = store::messages_of(&store.conn, c.id)?;
            let keys = store::keys_of(&store.conn, c.id)?;
            let findings = store::findings_of(&store.conn, c.id)?;
            let events = store::events_of(&store.conn, c.id)?;
            if *json {
                print_json(&serde_json::json!({
                    "case": c,
                    "messages": messages,
                    "reporter_keys": keys,
                    "findings": findings,
                    "events": events,
                }))?;
            } else {
                print_case(&c, &messages, &keys, &events);
            }
            Ok(0)
        }
        CaseCmd::Retry { id, json } => {
            let keys = cfg.validate()?;
            if store::case_by_public_id(&store.conn, id)?.is_none() {
                eprintln!("error: no case {id}\n  hint: list cases with `triaged case list`");
                return Ok(3);
            }
            let r = intake::retry(&mut store, &cfg, &keys, id, &operator())?;
            if *json {
                print_json(&r)?;
            } else {
                println!(
                    "{}: re-read {} message(s), {} readable; state {} -> {}",
                    r.case, r.messages, r.readable, r.before, r.after
                );
            }
            Ok(0)
        }
    }
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

fn print_case_table(cases: &[store::CaseRow]) {
    if cases.is_empty() {
        println!("no cases");
        return;
    }
    let wide = std::io::stdout().is_terminal();
    let subj = if wide { 40 } else { 60 };
    println!(
        "{:<14} {:<13} {:<11} {:<10} {:<28} {:<16} SUBJECT",
        "CASE", "STATE", "SIGNATURE", "ENCRYPTION", "REPORTER", "ARRIVED"
    );
    for c in cases {
        println!(
            "{:<14} {:<13} {:<11} {:<10} {:<28} {:<16} {}",
            c.id_public,
            c.state,
            c.signature,
            c.encryption.as_deref().unwrap_or("-"),
            trunc(c.reporter.as_deref().unwrap_or("-"), 28),
            date(c.arrived_at),
            trunc(c.subject.as_deref().unwrap_or(""), subj)
        );
    }
}

fn print_case(
    c: &store::CaseRow,
    messages: &[store::MessageRow],
    keys: &[store::KeyRow],
    events: &[store::EventRow],
) {
    println!("{}  {}", c.id_public, c.state);
    if let Some(r) = &c.state_reason {
        println!("  reason:     {r}");
    }
    println!(
        "  reporter:   {}{}",
        c.reporter.as_deref().unwrap_or("(unknown)"),
        c.reporter_name
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default()
    );
    println!(
        "  subject:    {}",
        trunc(c.subject.as_deref().unwrap_or(""), 100)
    );
    println!("  mailbox:    {} (policy {})", c.mailbox, c.policy);
    println!("  signature:  {}", c.signature);
    println!("  arrived:    {}", rfc3339(c.arrived_at));
    if let Some(t) = c.ack_due {
        println!("  ack due:    {}", rfc3339(t));
    }
    if let Some(t) = c.followup_due {
        println!("  follow-up:  {}", rfc3339(t));
    }
    println!("messages:");
    for (i, m) in messages.iter().enumerate() {
        println!(
            "  {}. {}  from {}  {} bytes  encryption {}  status {}",
            i + 1,
            rfc3339(m.arrived_at),
            m.from.as_deref().unwrap_or("?"),
            m.size,
            m.encryption,
            m.status
        );
        if let Some(r) = &m.status_reason {
            println!("     reason: {r}");
        }
        let sigs = m.signatures.as_array().cloned().unwrap_or_default();
        if sigs.is_empty() {
            println!("     signature: unsigned");
        }
        for s in sigs {
            println!(
                "     signature: {} {} {}",
                s["status"].as_str().unwrap_or("?"),
                s["signer"].as_str().unwrap_or(""),
                s["user_id"].as_str().unwrap_or("")
            );
        }
        for a in &m.attachments {
            println!(
                "     attachment: {} ({}, {} bytes{})",
                a.name.as_deref().unwrap_or("(unnamed)"),
                a.content_type,
                a.size,
                if a.encrypted {
                    ", arrived encrypted"
                } else {
                    ""
                }
            );
        }
    }
    if !keys.is_empty() {
        println!("reporter keys:");
        for k in keys {
            println!(
                "  {} ({}) {}",
                k.fingerprint,
                k.source,
                k.user_ids
                    .as_array()
                    .and_then(|a| a.first())
                    .and_then(|u| u.as_str())
                    .unwrap_or("")
            );
        }
    }
    println!("events:");
    for e in events {
        println!(
            "  {}  {:<8} {:<14} {}",
            date(e.at),
            e.actor,
            e.kind,
            e.detail.as_deref().unwrap_or("")
        );
    }
}
