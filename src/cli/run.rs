//! Entry and dispatch: one function per top-level command that is not a group of its
//! own (`check-config`, `run`, `doctor`, `digest`), and the exit codes.

use anyhow::{Context, Result};

use crate::app::daemon;
use crate::config::{Config, ConfigError};
use crate::store;

use super::args::{Cli, Command, PolicyCmd};
use super::case::case_cmd;
use super::classify::classify_cmd;
use super::keys::{keys_cmd, security_txt_cmd, warn_librepgp_aead};
use super::policy::{policy_check, promises_cmd, security_txt_check};
use super::sla::sla_cmd;
use super::stats::stats_cmd;
use super::{load, load_for_service, open_store, print_json};

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

pub(super) fn dispatch(cli: &Cli) -> Result<i32> {
    match &cli.command {
        Command::CheckConfig { json } => check_config_cmd(cli, *json),
        Command::Run { once, json } => run_cmd(cli, *once, *json),
        Command::Case(cmd) => case_cmd(cli, cmd),
        Command::Sla {
            json,
            limit,
            case: Some(id),
        } => {
            let _ = limit;
            promises_cmd(cli, id, *json)
        }
        Command::Sla {
            json,
            limit,
            case: None,
        } => sla_cmd(cli, *json, *limit),
        Command::Stats { json, prometheus } => stats_cmd(cli, *json, *prometheus),
        Command::Keys(k) => keys_cmd(cli, k),
        Command::Policy(PolicyCmd::Check {
            policy,
            security_md,
            security_txt,
        }) => policy_check(
            cli,
            policy.as_deref(),
            security_md.as_deref(),
            security_txt.as_deref(),
        ),
        Command::Policy(PolicyCmd::Import { file, name, json }) => {
            let text = std::fs::read_to_string(file).with_context(|| {
                format!(
                    "cannot read {}: pass the project's SECURITY.md (often .github/SECURITY.md)",
                    file.display()
                )
            })?;
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                anyhow::bail!(
                    "--name {name:?}: use letters, digits, '-' and '_' (it becomes [policy.NAME])"
                );
            }
            let imported = crate::judge::policy_import::import(&text, store::now());
            let source = file.display().to_string();
            if *json {
                print_json(&imported.to_json(name, &source))?;
            } else {
                print!("{}", imported.to_toml(name, &source));
            }
            Ok(0)
        }
        Command::SecurityTxt {
            encryption,
            check,
            published_key,
            policy,
            expires_days,
        } => match check {
            Some(file) => security_txt_check(cli, file, published_key.as_deref()),
            None => security_txt_cmd(
                cli,
                encryption.as_deref().unwrap_or_default(),
                policy.as_deref(),
                *expires_days,
            ),
        },
        Command::ReadWorker => {
            crate::read::reader::worker_main(&cli.config)?;
            Ok(0)
        }
        Command::Man => {
            use clap::CommandFactory;
            clap_mangen::Man::new(Cli::command())
                .render(&mut std::io::stdout())
                .context("writing the man page")?;
            Ok(0)
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                *shell,
                &mut Cli::command(),
                "triaged",
                &mut std::io::stdout(),
            );
            Ok(0)
        }
        Command::Doctor { json } => doctor_cmd(cli, *json),
        Command::Digest { queue } => digest_cmd(cli, *queue),
        Command::Classify {
            policy,
            json,
            show_text,
            file,
        } => classify_cmd(cli, policy.as_deref(), *json, *show_text, file),
    }
}

/// `check-config`: what `run` refuses, this refuses too (never "OK" then a failed start).
pub(super) fn check_config_cmd(cli: &Cli, json: bool) -> Result<i32> {
    // What `run` refuses, check-config refuses too (never "OK" then a failed start).
    let (cfg, keys) = load_for_service(cli)?;
    if json {
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
            warn_librepgp_aead(&k.fingerprint, k.librepgp_aead);
        }
        for m in &cfg.mailboxes {
            println!("  mailbox {} ({:?}, policy {})", m.name, m.kind, m.policy);
        }
    }
    warn_relative_rows_without_latest(&cfg);
    Ok(0)
}

/// Warns (stderr) about a policy whose supported-versions rows count from the current
/// release ("latest", "latest-1") while `latest` is not set: those rows decide nothing.
pub(super) fn warn_relative_rows_without_latest(cfg: &Config) {
    use crate::domain::version::VersionRange;
    for (name, p) in &cfg.policy {
        let relative = p
            .supported_versions
            .iter()
            .find(|r| VersionRange::parse(&r.range).is_ok_and(|v| v.counts_from_latest()));
        if let (Some(row), None) = (relative, &p.latest) {
            eprintln!(
                "warning: {}: policy.{name}.supported_versions: the row {:?} counts from the current release, and policy.{name}.latest is not set: until it is, such rows leave a reported version's support unknown\n  fix: set policy.{name}.latest = \"2.8.4\" (your current release) under [policy.{name}]",
                cfg.file.display(),
                row.range
            );
        }
    }
}

/// `run`: the daemon, or one pass over every mailbox with `--once`.
pub(super) fn run_cmd(cli: &Cli, once: bool, json: bool) -> Result<i32> {
    let (cfg, keys) = load_for_service(cli)?;
    let store = open_store(&cfg)?;
    if once {
        let s = daemon::run_once(store, &cfg, &keys)?;
        if json {
            print_json(&s)?;
        } else {
            let mut ours = String::new();
            if s.counts.own_copies > 0 {
                ours.push_str(&format!(
                    ", {} copy(ies) of our own mail",
                    s.counts.own_copies
                ));
            }
            if s.counts.delivery_reports > 0 {
                ours.push_str(&format!(
                    ", {} delivery report(s) about our mail",
                    s.counts.delivery_reports
                ));
            }
            println!(
                "processed {} message(s): {} new case(s) ({} quarantined), {} follow-up(s), {} already stored{ours}",
                s.seen,
                s.counts.created,
                s.counts.quarantined,
                s.counts.follow_ups,
                s.counts.duplicates
            );
        }
        Ok(0)
    } else {
        daemon::run(store, cfg, keys)?;
        Ok(0)
    }
}

/// `doctor`: every check with its status and fix; exit 1 when one fails.
pub(super) fn doctor_cmd(cli: &Cli, json: bool) -> Result<i32> {
    let cfg = load(cli)?;
    let checks = crate::app::doctor::run(&cfg);
    if json {
        print_json(&checks)?;
    } else {
        for c in &checks {
            println!(
                "{:<5} {:<16} {}",
                c.status.as_str().to_uppercase(),
                c.check,
                c.detail
            );
            if let Some(f) = &c.fix
                && c.status != crate::app::doctor::CheckStatus::Ok
            {
                println!("      {:<16} fix: {f}", "");
            }
        }
    }
    Ok(
        if checks
            .iter()
            .any(|c| c.status == crate::app::doctor::CheckStatus::Fail)
        {
            1
        } else {
            0
        },
    )
}

/// `digest`: today's digest on stdout; `--queue` also queues it for the team.
pub(super) fn digest_cmd(cli: &Cli, queue: bool) -> Result<i32> {
    let cfg = load(cli)?;
    let store = open_store(&cfg)?;
    print!("{}", crate::sla::digest_text(store.db())?);
    if queue {
        let keys = crate::read::keys::validate(&cfg)?;
        match crate::sla::enqueue_digest(store.db(), &cfg, &keys)? {
            Some(_) => {
                eprintln!("queued for {}", cfg.outbox.team.as_deref().unwrap_or("?"))
            }
            None => {
                eprintln!("not queued: no outbox.team, or today's digest is already queued")
            }
        }
    }
    Ok(0)
}
