//! The command line: a clap tree that reads like the operator's task.
//!
//! Exit codes: 0 success; 1 a runtime failure (store, mailbox, I/O);
//! 2 the configuration is invalid (every problem is printed); 3 the named case
//! or object does not exist; 4 the request is not allowed (e.g. a transition).

pub mod disclose;
pub mod render;

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError};
use crate::domain::findings::{Evidence, Findings};
use crate::domain::status::ReadStatus;
use crate::domain::verdict::Verdict;
use crate::store::{self, Store, rfc3339};
use crate::{app::daemon, ingest::intake};

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
    /// Print the team digest (open cases by state, deadlines in 24 h, breaches); `--queue`
    /// queues it for the team (sent by the next `run`), as the daily schedule does.
    Digest {
        #[arg(long)]
        queue: bool,
    },
    /// Check everything a running service needs: config, store, keys (expiry), permissions,
    /// IMAP logins, the SMTP relay. One line per check with the fix; exit 1 if any fails.
    Doctor {
        #[arg(long)]
        json: bool,
    },
    /// Counts by state and severity, median time to first response and to triage, SLA breaches.
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// Team keys and the reporter keys seen.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Policies: read a project's SECURITY.md into one.
    #[command(subcommand)]
    Policy(PolicyCmd),
    /// Print an RFC 9116 security.txt for this deployment (Contact, Expires, Encryption, Policy).
    SecurityTxt {
        /// Where the team's public key is published (https URL).
        #[arg(long, required_unless_present = "check")]
        encryption: Option<String>,
        /// Check a published security.txt instead: warns 30 days before Expires, and when
        /// the key in `--published-key` is not one that decrypts our mail. Exit 1 on problems.
        #[arg(long)]
        check: Option<PathBuf>,
        /// The public key file the security.txt's Encryption field points to (for --check).
        #[arg(long)]
        published_key: Option<PathBuf>,
        /// The policy URL (default: the first policy's `source` when it is a URL).
        #[arg(long)]
        policy: Option<String>,
        /// Expires this many days from now (RFC 9116 recommends less than a year).
        #[arg(long, default_value_t = 180)]
        expires_days: i64,
    },
    /// Print the man page (roff) on standard output: `triaged man > triaged.1`.
    Man,
    /// Generate shell completions (bash, zsh, fish, ...) on standard output.
    Completions { shell: clap_complete::Shell },
    /// Open cases by next deadline (acknowledgment, then detailed response), with time left.
    Sla {
        /// Show the N soonest deadlines (overdue first); 0 shows all.
        /// Default: 100 for the table, all with --json.
        #[arg(long)]
        limit: Option<usize>,
        /// Show one case's promises instead: each deadline, and what kept it (which
        /// ack, which reply by whom) or that it is open or broken.
        #[arg(long = "case")]
        case: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Classify one message (.eml, decrypted with the configured keys) or a text file,
    /// without touching the store; `-` reads standard input.
    Classify {
        /// A policy file (TOML with a [policy.NAME] table or bare policy keys), or the
        /// name of a policy in the config.
        #[arg(long)]
        policy: Option<String>,
        #[arg(long)]
        json: bool,
        /// Print the text the classifier reads (decrypted, HTML turned into text,
        /// flowed lines joined, cut at limits.classify_bytes) instead of the findings:
        /// where a finding's evidence offsets point.
        #[arg(long, conflicts_with = "json")]
        show_text: bool,
        file: PathBuf,
    },
    /// The reader process the daemon starts for each batch of messages (see
    /// `limits.isolate_reader`); not for people.
    #[command(hide = true)]
    ReadWorker,
}

#[derive(Subcommand, Debug)]
pub enum PolicyCmd {
    /// Print the policy a SECURITY.md promises (TOML with the line behind every value,
    /// or --json), and what it could not determine. Needs no config.
    Import {
        /// The SECURITY.md to read.
        file: PathBuf,
        /// The policy's name (default: "imported").
        #[arg(long, default_value = "imported")]
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Compare a configured policy with the SECURITY.md it came from (and the published
    /// security.txt): what drifted. Exit 1 when anything did.
    Check {
        /// The policy to check (default: the first mailbox's).
        #[arg(long)]
        policy: Option<String>,
        /// The SECURITY.md (default: the policy's `source`, when it is a file).
        #[arg(long)]
        security_md: Option<PathBuf>,
        /// The security.txt as published (a fetched copy), checked too.
        #[arg(long)]
        security_txt: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeysCmd {
    /// Team key fingerprints (and expiry) and every reporter key seen with a case.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Print the team's public key(s), armored, for publishing; with `--reporter ADDRESS`
    /// the key a reply to that address is encrypted to (learned from its reports or the
    /// keyring), for answering outside triaged.
    Export {
        #[arg(long)]
        reporter: Option<String>,
    },
    /// Add a reporter's public key to keys.reporter_keyring.
    Import { file: PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum CaseCmd {
    /// List cases (a table, or `--json`).
    List {
        /// Only cases in this state (new, needs-info, undecryptable, ...).
        #[arg(long)]
        state: Option<String>,
        /// Only cases of this severity (critical, high, medium, low, none).
        #[arg(long, value_parser = |s: &str| s.parse::<crate::domain::status::Severity>())]
        severity: Option<crate::domain::status::Severity>,
        /// Only cases under this policy.
        #[arg(long)]
        policy: Option<String>,
        /// Only cases past their acknowledgment or follow-up deadline.
        #[arg(long)]
        overdue: bool,
        /// Only cases that arrived on or after this date (YYYY-MM-DD).
        #[arg(long)]
        since: Option<String>,
        /// Order: arrived (default), deadline, severity.
        #[arg(long, value_enum, default_value_t = Sort::Arrived)]
        sort: Sort,
        /// Show at most N cases (the last N in the chosen order); 0 shows all.
        /// Default: 100 for the table, all with --json.
        #[arg(long)]
        limit: Option<usize>,
        #[arg(long)]
        json: bool,
    },
    /// Give a case to a person.
    Assign {
        id: String,
        to: String,
        #[arg(long = "as")]
        actor: Option<String>,
    },
    /// Mark a case as a duplicate of another (never automatic).
    Merge {
        id: String,
        into: String,
        #[arg(long = "as")]
        actor: Option<String>,
    },
    /// The case's thread as an mbox (decrypted text, plus the mail we sent), for a tracker.
    Export { id: String },
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
    /// Answer the reporter from the case: signed with the team key, encrypted when a
    /// valid key for the reporter is known, threaded under their last message; the
    /// daemon's outbox sends it, and sending it stops the response clock.
    Reply {
        id: String,
        /// The text from this file (`-` for standard input); without it, $EDITOR opens
        /// with the thread and what is missing as comments.
        #[arg(long, conflicts_with = "no_edit")]
        file: Option<PathBuf>,
        /// Start from a template: needs-info, accepted, fixed, disclosure-scheduled,
        /// rejected, duplicate, or one of the policy's own (`case templates ID`).
        #[arg(long)]
        template: Option<String>,
        /// Send the filled-in template as it is, without opening an editor.
        #[arg(long, requires = "template")]
        no_edit: bool,
        /// Without a valid key for the reporter, send the reply signed but unencrypted
        /// (refused when the policy sets require_encryption).
        #[arg(long)]
        cleartext: bool,
        /// Also move the case to this state, in the same transaction as the reply.
        #[arg(long)]
        state: Option<String>,
        /// Print the reply and its recipient; queue nothing.
        #[arg(long)]
        dry_run: bool,
        /// The author (default: $SUDO_USER, then $USER).
        #[arg(long = "as")]
        actor: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List the reply templates the case's policy offers, and the placeholders.
    Templates { id: String },
    /// Set disclosure facts (CVE, CWE, CVSS, versions, package, embargo, advisory URL)
    /// and how the reporter is credited.
    Set {
        id: String,
        #[command(flatten)]
        facts: Box<disclose::SetArgs>,
        #[arg(long = "as")]
        actor: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Write a draft advisory from the case (OSV or CSAF 2.0).
    Advisory {
        id: String,
        #[arg(long, value_enum)]
        format: disclose::AdvisoryFormat,
        /// Write it to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        /// The publisher's name (CSAF; default: the domain of outbox.from).
        #[arg(long)]
        publisher: Option<String>,
        /// The publisher's namespace URL (CSAF; default: https:// and that domain).
        #[arg(long)]
        namespace: Option<String>,
    },
    /// Move a case to another state (allowed transitions only). Moving stops no clock:
    /// only a reply sent to the reporter (`case reply`) keeps the response promise.
    Move {
        id: String,
        state: String,
        /// Why (recorded in the audit trail).
        #[arg(long)]
        note: Option<String>,
        /// The operator's name (default: $SUDO_USER, then $USER).
        #[arg(long = "as")]
        actor: Option<String>,
    },
    /// Add a note to a case's audit trail.
    Note {
        id: String,
        text: String,
        #[arg(long = "as")]
        actor: Option<String>,
    },
}

/// The order of `case list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Sort {
    /// Arrival order.
    Arrived,
    /// The next open deadline first.
    Deadline,
    /// Most severe first.
    Severity,
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

fn dispatch(cli: &Cli) -> Result<i32> {
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
        Command::Stats { json } => stats_cmd(cli, *json),
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
fn check_config_cmd(cli: &Cli, json: bool) -> Result<i32> {
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
fn warn_relative_rows_without_latest(cfg: &Config) {
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

/// Warns (stderr) that a team key advertises GnuPG's "AEAD" feature: reports from GnuPG
/// 2.3+ would arrive in a packet triaged cannot read.
fn warn_librepgp_aead(fingerprint: &str, advertises: bool) {
    if advertises {
        eprintln!(
            "warning: team key {fingerprint} advertises GnuPG's \"AEAD\" feature: GnuPG 2.3 and later will encrypt reports to it with their OCB packet, which is not OpenPGP and which triaged cannot decrypt\n  fix: {}",
            crate::read::crypto::LIBREPGP_AEAD_FIX.replace("FPR", fingerprint)
        );
    }
}

/// `run`: the daemon, or one pass over every mailbox with `--once`.
fn run_cmd(cli: &Cli, once: bool, json: bool) -> Result<i32> {
    let (cfg, keys) = load_for_service(cli)?;
    let store = open_store(&cfg)?;
    if once {
        let s = daemon::run_once(store, &cfg, &keys)?;
        if json {
            print_json(&s)?;
        } else {
            println!(
                "processed {} message(s): {} new case(s) ({} quarantined), {} follow-up(s), {} already stored",
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
fn doctor_cmd(cli: &Cli, json: bool) -> Result<i32> {
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
fn digest_cmd(cli: &Cli, queue: bool) -> Result<i32> {
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

/// Loads a policy from a file: `[policy.NAME]` tables (the first is used) or bare policy keys.
pub fn load_policy_file(path: &std::path::Path) -> Result<(String, crate::config::PolicyConfig)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the policy file {}", path.display()))?;
    #[derive(serde::Deserialize)]
    struct Wrapper {
        policy: std::collections::BTreeMap<String, crate::config::PolicyConfig>,
    }
    if let Ok(w) = toml::from_str::<Wrapper>(&text)
        && let Some((name, p)) = w.policy.into_iter().next()
    {
        return Ok((name, p));
    }
    let p: crate::config::PolicyConfig = toml::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{}: not a policy: {}\n  fix: write a [policy.NAME] table with ack_within, require, supported_versions (see config.example.toml)",
            path.display(),
            e.message()
        )
    })?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    Ok((name, p))
}

fn classify_cmd(
    cli: &Cli,
    policy: Option<&str>,
    json: bool,
    show_text: bool,
    file: &std::path::Path,
) -> Result<i32> {
    use std::io::Read;
    // The config is optional here: it supplies keys (to decrypt), named policies and limits.
    let cfg = if cli.config.exists() {
        match Config::load(&cli.config) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("warning: ignoring the config: {e}");
                None
            }
        }
    } else {
        None
    };
    let limits = cfg.as_ref().map(|c| c.limits.clone()).unwrap_or_default();
    // The same limits as intake: never more than limits.max_message_size in memory.
    let max = limits.max_message_size.0;
    let mut bytes = Vec::new();
    let name = if file.as_os_str() == "-" {
        std::io::stdin()
            .take(max.saturating_add(1))
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
        "standard input".to_string()
    } else {
        std::fs::File::open(file)
            .with_context(|| format!("cannot read {}", file.display()))?
            .take(max.saturating_add(1))
            .read_to_end(&mut bytes)
            .with_context(|| format!("cannot read {}", file.display()))?;
        file.display().to_string()
    };
    if bytes.len() as u64 > max {
        eprintln!(
            "error: {name} is larger than limits.max_message_size ({} bytes), the most triaged reads of one message\n  fix: raise [limits] max_message_size in {} if such reports are expected",
            limits.max_message_size.0,
            cli.config.display()
        );
        return Ok(2);
    }
    let keys = match cfg.as_ref().map(crate::read::keys::team_keys) {
        Some(Ok(k)) => k,
        Some(Err(problems)) => {
            for p in problems {
                eprintln!(
                    "warning: {}: {}: {} (continuing without keys)",
                    cli.config.display(),
                    p.key,
                    p.what
                );
            }
            crate::read::crypto::TeamKeys::empty()
        }
        None => crate::read::crypto::TeamKeys::empty(),
    };
    let policy = match policy {
        None => None,
        Some(p) if std::path::Path::new(p).exists() => {
            Some(load_policy_file(std::path::Path::new(p))?)
        }
        Some(name) => match cfg.as_ref().and_then(|c| c.policy.get(name)) {
            Some(pc) => Some((name.to_string(), pc.clone())),
            None => {
                eprintln!(
                    "error: no policy {name:?}: not a file, and not a [policy.{name}] in {}\n  hint: pass a policy file, e.g. --policy examples/policies/caddy.toml",
                    cli.config.display()
                );
                return Ok(2);
            }
        },
    };
    let is_mail = mail_parser::MessageParser::default()
        .parse(&bytes[..])
        .is_some_and(|m| {
            m.headers().iter().any(|h| {
                ["from", "subject", "date", "message-id", "content-type"]
                    .iter()
                    .any(|k| h.name().eq_ignore_ascii_case(k))
            })
        });
    let (subject, text, atts, arrived, note) = if is_mail {
        let a = crate::read::mime::analyze(&bytes, &keys, &limits);
        let note = match &a.status {
            crate::read::mime::Status::Ok => None,
            crate::read::mime::Status::Undecryptable(r) => Some(format!(
                "the message could not be decrypted ({r}); classified what is readable"
            )),
            crate::read::mime::Status::Unparseable(r) => {
                Some(format!("the message could not be parsed ({r})"))
            }
            crate::read::mime::Status::Oversize(r) => Some(format!(
                "the message was not read within its limits ({r}); classified what is readable"
            )),
        };
        let r = a.report;
        let atts: Vec<(Option<String>, String, Vec<u8>)> = r
            .attachments
            .into_iter()
            .map(|x| (x.name, x.content_type, x.data))
            .collect();
        (
            r.subject.unwrap_or_default(),
            r.text,
            atts,
            r.date.unwrap_or_else(store::now),
            note,
        )
    } else {
        (
            String::new(),
            String::from_utf8_lossy(&bytes).into_owned(),
            Vec::new(),
            store::now(),
            None,
        )
    };
    if let Some(n) = &note {
        eprintln!("warning: {n}");
    }
    // Like intake, classify a bounded prefix of the text (limits.classify_bytes).
    let mut text = text;
    let cap = usize::try_from(limits.classify_bytes.0).unwrap_or(usize::MAX);
    if text.len() > cap {
        let mut cut = cap;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    if show_text {
        print!("{text}");
        if !text.ends_with('\n') {
            println!();
        }
        return Ok(0);
    }
    let input = crate::judge::classify::Input {
        subject: &subject,
        text: &text,
        attachments: atts
            .iter()
            .map(|(n, t, d)| crate::judge::classify::AttachmentIn {
                name: n.as_deref(),
                content_type: t,
                data: d,
            })
            .collect(),
    };
    let findings = crate::judge::classify::classify(&input);
    let verdict =
        policy.map(|(name, p)| crate::judge::policy::evaluate(&name, &p, &findings, arrived));
    if json {
        let mut v = serde_json::to_value(&findings).context("serialising findings")?;
        if let serde_json::Value::Object(o) = &mut v {
            o.insert(
                "policy".into(),
                serde_json::to_value(&verdict).context("serialising the verdict")?,
            );
        }
        print_json(&v)?;
    } else {
        print_findings(&findings, verdict.as_ref());
    }
    Ok(0)
}

fn ev_list(evidence: &[Evidence], n: usize) -> String {
    evidence
        .iter()
        .take(n)
        .map(|e| format!("{} {:?}", e.rule, trunc(&e.text.replace('\n', " "), 60)))
        .collect::<Vec<_>>()
        .join("; ")
}

fn present(b: bool) -> &'static str {
    if b { "present" } else { "absent" }
}

/// Prints findings (and the policy verdict when present) for a person.
pub(crate) fn print_findings(f: &Findings, verdict: Option<&Verdict>) {
    println!(
        "  poc:            {}  {}",
        f.poc.status,
        ev_list(&f.poc.evidence, 2)
    );
    let items: Vec<String> = f
        .versions
        .items
        .iter()
        .map(|i| {
            let n = i.normalized.as_deref().unwrap_or("?");
            match &i.product {
                Some(p) => format!("{n} ({p})"),
                None => n.to_string(),
            }
        })
        .collect();
    println!(
        "  versions:       {}",
        if items.is_empty() {
            "absent".to_string()
        } else {
            items.join(", ")
        }
    );
    let imp = &f.impact;
    let cvss = imp
        .cvss
        .as_ref()
        .map(|c| format!(", CVSS {:?} {}", c.score, c.vector))
        .unwrap_or_default();
    println!(
        "  impact:         {}; class {}; severity {} ({}{})",
        present(imp.present),
        if imp.class.is_empty() {
            "-".to_string()
        } else {
            imp.class.join(", ")
        },
        imp.severity,
        imp.severity_source,
        cvss
    );
    println!("  repro steps:    {}", present(f.repro_steps.present));
    println!(
        "  fix suggestion: {}  {}",
        present(f.fix_suggestion.present),
        ev_list(&f.fix_suggestion.evidence, 1)
    );
    let ids: Vec<&str> = [&f.cve_ids, &f.cwe_ids, &f.ghsa_ids]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    if !ids.is_empty() {
        println!("  ids:            {}", ids.join(", "));
    }
    if let Some(c) = &f.credit {
        println!(
            "  credit:         {}",
            if c.anonymous {
                "anonymous"
            } else {
                c.name.as_deref().unwrap_or("?")
            }
        );
    }
    if f.low_effort.flag {
        println!(
            "  low effort:     yes ({})",
            f.low_effort.reasons.join(", ")
        );
    }
    if let Some(p) = verdict {
        println!(
            "  policy {}: missing [{}]; version {}{}; next state {}; ack due {}",
            p.policy,
            p.missing.join(", "),
            p.version.status,
            p.version
                .row
                .as_ref()
                .map(|r| format!(" (row \"{}\")", r.range))
                .unwrap_or_default(),
            p.next_state,
            p.deadlines.ack_due
        );
    }
}

fn case_cmd(cli: &Cli, cmd: &CaseCmd) -> Result<i32> {
    let cfg = load(cli)?;
    let mut store = open_store(&cfg)?;
    match cmd {
        // Past the acknowledgment (`cli::disclose`): these open what they need.
        CaseCmd::Reply {
            id,
            file,
            template,
            no_edit,
            cleartext,
            state,
            dry_run,
            actor,
            json,
        } => disclose::reply(
            cli,
            &disclose::ReplyArgs {
                id,
                file: file.as_deref(),
                template: template.as_deref(),
                no_edit: *no_edit,
                cleartext: *cleartext,
                state: state.as_deref(),
                dry_run: *dry_run,
                actor: actor.as_deref(),
                json: *json,
            },
        ),
        CaseCmd::Templates { id } => disclose::list_templates(cli, id),
        CaseCmd::Set {
            id,
            facts,
            actor,
            json,
        } => disclose::set(cli, id, facts, actor.as_deref(), *json),
        CaseCmd::Advisory {
            id,
            format,
            output,
            publisher,
            namespace,
        } => disclose::advisory(
            cli,
            id,
            *format,
            output.as_deref(),
            publisher.as_deref(),
            namespace.as_deref(),
        ),
        CaseCmd::List {
            state,
            severity,
            policy,
            overdue,
            since,
            sort,
            limit,
            json,
        } => case_list(
            &store,
            &CaseFilter {
                // Parsed here rather than by clap: an unknown state is an operator error
                // (exit 1, with the list of states), like an unknown case id.
                state: state
                    .as_deref()
                    .map(str::parse::<crate::domain::case::State>)
                    .transpose()?,
                severity: *severity,
                policy: policy.as_deref(),
                overdue: *overdue,
                since: since.as_deref(),
                sort: *sort,
                limit: *limit,
            },
            *json,
        ),
        CaseCmd::Show { id, json } => case_show(&cfg, &store, id, *json),
        CaseCmd::Move {
            id,
            state,
            note,
            actor,
        } => {
            let Some(c) = store::case_by_public_id(store.db(), id)? else {
                return Ok(no_case(id));
            };
            let to: crate::domain::case::State = state.parse()?;
            let from = c.state;
            if !from.can_move_to(to) {
                let allowed: Vec<&str> = crate::domain::case::ALL_STATES
                    .iter()
                    .filter(|s| from.can_move_to(**s))
                    .map(|s| s.as_str())
                    .collect();
                eprintln!(
                    "error: {id} is {from}; it cannot move to {to}\n  hint: from {from} a case can move to: {}",
                    allowed.join(", ")
                );
                return Ok(4);
            }
            let actor = actor.clone().unwrap_or_else(operator);
            store.move_case(c.id, from, to, note.as_deref(), &actor)?;
            println!("{id}: {from} -> {to}");
            Ok(0)
        }
        CaseCmd::Assign { id, to, actor } => {
            let Some(c) = store::case_by_public_id(store.db(), id)? else {
                return Ok(no_case(id));
            };
            store.assign_case(c.id, to, &actor.clone().unwrap_or_else(operator))?;
            println!("{id}: assigned to {to}");
            Ok(0)
        }
        CaseCmd::Merge { id, into, actor } => {
            let (Some(c), Some(target)) = (
                store::case_by_public_id(store.db(), id)?,
                store::case_by_public_id(store.db(), into)?,
            ) else {
                eprintln!(
                    "error: no case {id} or {into}\n  hint: list cases with `triaged case list`"
                );
                return Ok(3);
            };
            if c.id == target.id {
                eprintln!("error: a case cannot be merged into itself");
                return Ok(4);
            }
            let from = c.state;
            if !from.can_move_to(crate::domain::case::State::Duplicate) {
                eprintln!("error: {id} is {from} and cannot become a duplicate");
                return Ok(4);
            }
            let actor = actor.clone().unwrap_or_else(operator);
            store.merge_case(&c, from, &target, &actor)?;
            println!("{id}: duplicate of {into}");
            Ok(0)
        }
        CaseCmd::Export { id } => {
            let Some(c) = store::case_by_public_id(store.db(), id)? else {
                return Ok(no_case(id));
            };
            // Sealed text at rest and replies (encrypted to the team) open with the
            // team key; without encryption at rest an export works without it.
            let keys = match crate::read::keys::team_keys(&cfg) {
                Ok(k) => Some(k),
                Err(p) if cfg.store.encrypt_at_rest => {
                    anyhow::bail!("{}", first_problem(&p))
                }
                Err(_) => None,
            };
            print!("{}", export_mbox(store.db(), &c, keys.as_ref())?);
            Ok(0)
        }
        CaseCmd::Note { id, text, actor } => {
            let Some(c) = store::case_by_public_id(store.db(), id)? else {
                return Ok(no_case(id));
            };
            store::event(
                store.db(),
                Some(c.id),
                &actor.clone().unwrap_or_else(operator),
                crate::domain::status::EventKind::Note,
                Some(text),
            )?;
            println!("{id}: note added");
            Ok(0)
        }
        CaseCmd::Retry { id, json } => {
            let keys = crate::read::keys::validate(&cfg)?;
            if store::case_by_public_id(store.db(), id)?.is_none() {
                return Ok(no_case(id));
            }
            let reader = crate::read::reader::Reader::for_config(&cfg)?;
            let r = intake::retry(&mut store, &cfg, &keys, &reader, id, &operator())?;
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

/// What `case list` selects and how it orders.
struct CaseFilter<'a> {
    state: Option<crate::domain::case::State>,
    severity: Option<crate::domain::status::Severity>,
    policy: Option<&'a str>,
    overdue: bool,
    since: Option<&'a str>,
    sort: Sort,
    limit: Option<usize>,
}

/// `case list`: filter, order, limit, print (table or JSON).
fn case_list(store: &Store, filter: &CaseFilter<'_>, json: bool) -> Result<i32> {
    let CaseFilter {
        state,
        severity,
        policy,
        overdue,
        since,
        sort,
        limit,
    } = filter;
    let limit = limit.unwrap_or(if json { 0 } else { 100 });
    let since_ts = match since {
        Some(d) => Some(
            chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .with_context(|| format!("--since {d:?}: use YYYY-MM-DD"))?
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc().timestamp())
                .unwrap_or(0),
        ),
        None => None,
    };
    let now = store::now();
    let next_due =
        |c: &store::CaseRow| match (c.acked_at, c.ack_due, c.responded_at, c.followup_due) {
            (None, Some(d), _, _) => Some(d),
            (_, _, None, Some(d)) => Some(d),
            _ => None,
        };
    // Only the newest `limit` rows are read when nothing else filters or reorders.
    let plain = severity.is_none()
        && policy.is_none()
        && since_ts.is_none()
        && !*overdue
        && *sort == Sort::Arrived;
    let total = store::count_cases(store.db(), *state)?;
    let sql_limit = (plain && limit > 0).then_some(limit);
    let mut cases: Vec<store::CaseRow> = store::list_cases_newest(store.db(), *state, sql_limit)?
        .into_iter()
        .filter(|c| severity.is_none_or(|s| c.severity == Some(s)))
        .filter(|c| policy.as_deref().is_none_or(|p| c.policy == p))
        .filter(|c| since_ts.is_none_or(|t| c.arrived_at >= t))
        .filter(|c| !*overdue || (!c.state.is_closed() && next_due(c).is_some_and(|d| d < now)))
        .collect();
    match sort {
        Sort::Arrived => {}
        Sort::Deadline => cases.sort_by_key(|c| next_due(c).unwrap_or(i64::MAX)),
        // Most severe first; unknown severity last.
        Sort::Severity => cases.sort_by_key(|c| std::cmp::Reverse(c.severity)),
    }
    let matched = if plain { total } else { cases.len() };
    if limit > 0 && cases.len() > limit {
        cases.drain(..cases.len() - limit);
    }
    if cases.len() < matched {
        eprintln!(
            "({} of {matched} cases shown, the last in this order; --limit 0 shows all)",
            cases.len()
        );
    }
    if json {
        print_json(&cases.iter().map(render::case).collect::<Vec<_>>())?;
    } else {
        print_case_table(&cases)?;
    }
    Ok(0)
}

/// `case show`: the case, its messages (subjects opened with the team key when sealed),
/// reporter keys, findings and events.
fn case_show(cfg: &Config, store: &Store, id: &str, json: bool) -> Result<i32> {
    let Some(mut c) = store::case_by_public_id(store.db(), id)? else {
        return Ok(no_case(id));
    };
    let mut messages = store::messages_of(store.db(), c.id)?;
    if c.subject_sealed || messages.iter().any(|m| m.subject_sealed) {
        // Subjects sealed at rest open with the team key; without it they stay sealed.
        match crate::read::keys::team_keys(cfg) {
            Ok(k) => {
                c.open(&k)?;
                for m in &mut messages {
                    m.open(&k)?;
                }
            }
            Err(p) => eprintln!(
                "note: the subject is encrypted at rest and the team key could not be loaded ({}); run `triaged check-config`",
                first_problem(&p)
            ),
        }
    }
    let keys = store::keys_of(store.db(), c.id)?;
    let findings = store::findings_of(store.db(), c.id)?;
    let events = store::events_of(store.db(), c.id)?;
    let sent = store::sent_of(store.db(), c.id)?;
    let (disclosure, credit) = store::disclosure_of(store.db(), c.id)?;
    let merged = merged_findings(&findings);
    if json {
        print_json(&serde_json::json!({
            "case": render::case(&c),
            "messages": messages.iter().map(render::message).collect::<Vec<_>>(),
            "reporter_keys": keys.iter().map(render::key).collect::<Vec<_>>(),
            "findings": merged,
            "events": events.iter().map(render::event).collect::<Vec<_>>(),
            "sent": sent.iter().map(render::sent).collect::<Vec<_>>(),
            "disclosure": disclosure,
            "credit": credit,
        }))?;
    } else {
        print_case(
            &c,
            &CaseView {
                messages: &messages,
                keys: &keys,
                events: &events,
                sent: &sent,
                disclosure: &disclosure,
                credit: credit.as_ref(),
            },
        );
        if !findings.is_empty() {
            println!("findings:");
            // The rows are what this version wrote; rows it cannot read (an older or
            // partial classification) are shown as JSON rather than hidden.
            match serde_json::from_value::<Findings>(merged.clone()) {
                Ok(f) => {
                    let verdict = merged
                        .get("policy")
                        .and_then(|p| serde_json::from_value::<Verdict>(p.clone()).ok());
                    print_findings(&f, verdict.as_ref());
                }
                Err(_) => println!("{}", serde_json::to_string_pretty(&merged)?),
            }
        }
    }
    Ok(0)
}

/// A case's stored finding rows as one object by kind (`case show --json` "findings"),
/// each finding with its evidence back in place; later rows of a kind win.
fn merged_findings(rows: &[store::FindingRow]) -> serde_json::Value {
    let mut merged = serde_json::Map::new();
    for f in rows {
        let mut val = f.value.clone();
        if let serde_json::Value::Object(o) = &mut val
            && f.kind != "policy"
        {
            o.insert("evidence".into(), f.evidence.clone());
        }
        merged.insert(f.kind.as_str().to_string(), val);
    }
    serde_json::Value::Object(merged)
}

/// The findings of a case as the classifier's type, when its rows can be read as one.
fn typed_findings(rows: &[store::FindingRow]) -> Option<Findings> {
    serde_json::from_value(merged_findings(rows)).ok()
}

/// The thread as an mbox (mboxrd quoting): each message with its decrypted text and
/// the headers a tracker needs, then the mail triaged sent.
fn export_mbox(
    conn: store::Db<'_>,
    c: &store::CaseRow,
    keys: Option<&crate::read::crypto::TeamKeys>,
) -> Result<String> {
    let mut out = String::new();
    let mut put = |from: &str, at: i64, headers: &str, body: &str| {
        let date = chrono::DateTime::from_timestamp(at, 0).unwrap_or_default();
        out.push_str(&format!(
            "From {} {}\n",
            if from.is_empty() {
                "MAILER-DAEMON"
            } else {
                from
            },
            date.format("%a %b %e %H:%M:%S %Y")
        ));
        out.push_str(headers);
        out.push('\n');
        for line in body.replace("\r\n", "\n").lines() {
            let stripped = line.trim_start_matches('>');
            if stripped.starts_with("From ") {
                out.push('>');
            }
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
    };
    let msgs = store::thread_for_export(conn, c.id)?;
    for m in msgs {
        let store::ExportedMessage {
            from,
            arrived_at: at,
            subject,
            message_id: mid,
            body,
            status,
            status_reason: reason,
        } = m;
        let from = safe(&from.unwrap_or_default());
        let subject = match (subject, keys) {
            (Some(s), Some(k)) => Some(crate::domain::seal::Opener::open_field(k, &s)?),
            (Some(s), None) if s.starts_with(crate::read::crypto::SEALED) => {
                Some("[encrypted at rest]".into())
            }
            (s, _) => s,
        };
        let subject = subject.as_deref().map(safe);
        let mid = mid.as_deref().map(safe);
        let reason = reason.as_deref().map(safe);
        let headers = format!(
            "From: {from}\nDate: {}\nSubject: {}\nMessage-ID: <{}>\nX-Triaged-Case: {}\nX-Triaged-Status: {status}\nContent-Type: text/plain; charset=utf-8\n",
            chrono::DateTime::from_timestamp(at, 0)
                .unwrap_or_default()
                .to_rfc2822(),
            subject.unwrap_or_default(),
            mid.unwrap_or_default(),
            c.id_public
        );
        let body = match (status, body) {
            (ReadStatus::Ok, Some(b)) if b.starts_with("sealed:") => match keys {
                Some(k) => k
                    .unseal_text(b.strip_prefix("sealed:").unwrap_or(&b))
                    .context("decrypting a stored text")?,
                None => "[encrypted at rest]".into(),
            },
            (ReadStatus::Ok, Some(b)) => b,
            (_, _) => format!("[not readable: {}]", reason.unwrap_or_default()),
        };
        // The body keeps its lines; every other control character is shown escaped.
        let body = body.lines().map(safe).collect::<Vec<_>>().join("\n");
        put(&from, at, &headers, &body);
    }
    let sent = store::sent_of(conn, c.id)?;
    for store::SentRow {
        recipient: to,
        at,
        subject,
        message_id: mid,
        kind,
        state,
        author,
        last_error,
        original,
        ..
    } in sent
    {
        let headers = format!(
            "From: {}\nTo: {to}\nDate: {}\nSubject: {subject}\nMessage-ID: <{mid}>\nX-Triaged-Case: {}\nX-Triaged-Status: {state}\nContent-Type: text/plain; charset=utf-8\n",
            author
                .as_deref()
                .map(safe)
                .unwrap_or_else(|| "triaged".into()),
            chrono::DateTime::from_timestamp(at, 0)
                .unwrap_or_default()
                .to_rfc2822(),
            c.id_public
        );
        let failed = last_error
            .filter(|_| state == crate::domain::status::OutboxState::Failed)
            .map(|e| format!("\n[not delivered: {}]", safe(&e)))
            .unwrap_or_default();
        let body = match (original, keys) {
            // A reply: what the reporter reads, opened with the team key (replies are
            // encrypted to the team too).
            (Some(raw), Some(k)) => {
                let a = crate::read::mime::analyze(&raw, k, &crate::config::Limits::default());
                a.report
                    .text
                    .lines()
                    .map(safe)
                    .collect::<Vec<_>>()
                    .join("\n")
            }
            (Some(_), None) => "[a reply; the team key opens the original in the outbox]".into(),
            (None, _) => format!("[{kind} to {to}, {state}; the signed original is in the outbox]"),
        };
        put("triaged", at, &headers, &format!("{body}{failed}"));
    }
    Ok(out)
}

/// The first configuration problem as `key: what` (the list is never empty).
fn first_problem(p: &[crate::config::Problem]) -> String {
    p.first()
        .map(|p| format!("{}: {}", p.key, p.what))
        .unwrap_or_else(|| "an unnamed configuration problem".into())
}

fn median(mut v: Vec<i64>) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    v.get(v.len() / 2).copied()
}

fn stats_cmd(cli: &Cli, json: bool) -> Result<i32> {
    let cfg = load(cli)?;
    let store = open_store(&cfg)?;
    let cases = store::list_cases(store.db(), None)?;
    let mut by_state = std::collections::BTreeMap::new();
    let mut by_severity = std::collections::BTreeMap::new();
    for c in &cases {
        *by_state.entry(c.state.as_str().to_string()).or_insert(0) += 1;
        *by_severity
            .entry(c.severity.map_or("unknown", |s| s.as_str()).to_string())
            .or_insert(0) += 1;
    }
    let first_response = median(
        cases
            .iter()
            .filter_map(|c| c.acked_at.map(|a| a - c.arrived_at))
            .collect(),
    );
    let triage = median(
        cases
            .iter()
            .filter_map(|c| c.responded_at.map(|a| a - c.arrived_at))
            .collect(),
    );
    // The first answer a person wrote (a reply that was sent), apart from the
    // automatic ack (as HackerOne's response-efficiency figures separate them).
    let human = median(
        cases
            .iter()
            .filter(|c| c.responded_by.is_some())
            .filter_map(|c| c.responded_at.map(|a| a - c.arrived_at))
            .collect(),
    );
    let with_response_clock = cases
        .iter()
        .filter(|c| c.followup_due.is_some() && c.state != crate::domain::case::State::Imported)
        .count();
    let responded_in_time = cases
        .iter()
        .filter(|c| c.responded_by.is_some())
        .filter(|c| matches!((c.responded_at, c.followup_due), (Some(a), Some(d)) if a <= d))
        .count();
    let breaches = store::count_breaches(store.db())?;
    let acked_in_time = cases
        .iter()
        .filter(|c| matches!((c.acked_at, c.ack_due), (Some(a), Some(d)) if a <= d))
        .count();
    let with_ack_clock = cases
        .iter()
        .filter(|c| c.ack_due.is_some() && c.state != crate::domain::case::State::Imported)
        .count();
    let v = serde_json::json!({
        "cases": cases.len(),
        "by_state": by_state,
        "by_severity": by_severity,
        "median_seconds_to_first_response": first_response,
        "median_seconds_to_triage": triage,
        "sla_breaches": breaches,
        "acknowledged_within_window": acked_in_time,
        "response_efficiency": if with_ack_clock == 0 { serde_json::Value::Null } else { serde_json::json!(acked_in_time as f64 / with_ack_clock as f64) },
        "median_seconds_to_ack": first_response,
        "median_seconds_to_first_human_response": human,
        "responded_within_window": responded_in_time,
        "cases_with_response_window": with_response_clock,
    });
    if json {
        print_json(&v)?;
    } else {
        println!("cases: {}", cases.len());
        println!(
            "by state:    {}",
            by_state
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        println!(
            "by severity: {}",
            by_severity
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let h = |s: Option<i64>| {
            s.map(|s| format!("{}h{:02}m", s / 3600, (s % 3600) / 60))
                .unwrap_or_else(|| "-".into())
        };
        println!("median time to the ack:        {}", h(first_response));
        println!("median time to a human reply:  {}", h(human));
        println!("median time to triage:         {}", h(triage));
        println!(
            "acknowledged within the window: {acked_in_time} of {with_ack_clock}; SLA breaches: {breaches}"
        );
        println!(
            "answered by a person within the response window: {responded_in_time} of {with_response_clock}"
        );
    }
    Ok(0)
}

fn keys_cmd(cli: &Cli, cmd: &KeysCmd) -> Result<i32> {
    let cfg = load(cli)?;
    match cmd {
        KeysCmd::List { json } => {
            let keys = crate::read::keys::validate(&cfg)?;
            let store = open_store(&cfg)?;
            let reporters = store::reporter_key_summary(store.db())?;
            let v = serde_json::json!({"team": keys.info(), "reporters": reporters});
            if *json {
                print_json(&v)?;
            } else {
                for k in keys.info() {
                    println!(
                        "team      {}  {}",
                        k.fingerprint,
                        safe(&k.user_ids.join(", "))
                    );
                }
                for r in &reporters {
                    println!(
                        "reporter  {}  {} ({}, {} case(s))",
                        r.fingerprint,
                        safe(r.user_ids.first().map(String::as_str).unwrap_or("")),
                        r.source,
                        r.cases
                    );
                }
            }
            Ok(0)
        }
        KeysCmd::Export {
            reporter: Some(addr),
        } => {
            let keys = crate::read::keys::validate(&cfg)?;
            let store = open_store(&cfg)?;
            match crate::reply::outbox::reporter_key_for_address(store.db(), &keys, addr)? {
                (Some(armored), _) => {
                    print!("{armored}");
                    Ok(0)
                }
                (None, why) => {
                    eprintln!(
                        "error: no valid OpenPGP key for {addr} is known{}
  hint: `triaged keys list` shows the keys seen; `triaged keys import FILE` adds one",
                        why.map(|w| format!(" ({w})")).unwrap_or_default()
                    );
                    Ok(3)
                }
            }
        }
        KeysCmd::Export { reporter: None } => {
            let keys = crate::read::keys::validate(&cfg)?;
            use sequoia_openpgp::serialize::SerializeInto;
            for c in keys.team_certs() {
                let a = c.armored().to_vec().context("armoring the team key")?;
                print!("{}", String::from_utf8_lossy(&a));
                warn_librepgp_aead(
                    &c.fingerprint().to_hex(),
                    crate::read::crypto::advertises_librepgp_aead(c),
                );
            }
            Ok(0)
        }
        KeysCmd::Import { file } => {
            let Some(ring) = &cfg.keys.reporter_keyring else {
                eprintln!(
                    "error: {}: keys.reporter_keyring is not set\n  fix: set keys.reporter_keyring = \"/etc/triaged/reporters.asc\" and run this again",
                    cfg.file.display()
                );
                return Ok(2);
            };
            let bytes =
                std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
            let found =
                crate::read::crypto::read_certs(&bytes, crate::read::crypto::KeySource::Import);
            if found.is_empty() {
                eprintln!(
                    "error: {} holds no OpenPGP public key\n  hint: export one with `gpg --export --armor EMAIL`",
                    file.display()
                );
                return Ok(1);
            }
            let path = cfg.resolve(ring);
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            use std::io::Write;
            for k in &found {
                f.write_all(k.armored.as_bytes())
                    .context("writing the keyring")?;
                println!(
                    "imported {} {}",
                    k.fingerprint,
                    k.user_ids.first().cloned().unwrap_or_default()
                );
            }
            Ok(0)
        }
    }
}

fn security_txt_cmd(cli: &Cli, encryption: &str, policy: Option<&str>, days: i64) -> Result<i32> {
    let cfg = load(cli)?;
    let contact = cfg
        .outbox
        .from
        .clone()
        .context("outbox.from is not set: it is the Contact address")?;
    let expires = chrono::Utc::now() + chrono::Duration::days(days);
    println!("Contact: mailto:{contact}");
    println!(
        "Expires: {}",
        expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    println!("Encryption: {encryption}");
    let pol = policy.map(str::to_string).or_else(|| {
        cfg.policy
            .values()
            .find_map(|p| p.source.clone())
            .filter(|s| s.starts_with("https://"))
    });
    if let Some(p) = pol {
        println!("Policy: {p}");
    }
    println!("Preferred-Languages: en");
    if let Ok(keys) = crate::read::keys::team_keys(&cfg) {
        eprintln!(
            "note: publish the team key {} at {encryption}",
            keys.fingerprints().join(", ")
        );
    }
    Ok(0)
}

/// `policy check`: the running policy against its SECURITY.md (and security.txt).
fn policy_check(
    cli: &Cli,
    name: Option<&str>,
    md: Option<&std::path::Path>,
    txt: Option<&std::path::Path>,
) -> Result<i32> {
    let cfg = load(cli)?;
    let (name, p) = match name {
        Some(n) => (
            n.to_string(),
            cfg.policy.get(n).cloned().with_context(|| {
                format!(
                    "no [policy.{n}] in {}; the policies there: {}",
                    cfg.file.display(),
                    cfg.policy.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            })?,
        ),
        None => {
            let mb = cfg
                .mailboxes
                .first()
                .map(|m| m.name.clone())
                .unwrap_or_default();
            cfg.policy_for(&mb)
        }
    };
    let md_path = match md {
        Some(m) => m.to_path_buf(),
        None => {
            let src = p.source.clone().with_context(|| {
                format!("policy {name} has no `source`: pass --security-md FILE")
            })?;
            cfg.resolve(std::path::Path::new(&src))
        }
    };
    let text = std::fs::read_to_string(&md_path).with_context(|| {
        format!(
            "cannot read {}: pass the SECURITY.md with --security-md FILE",
            md_path.display()
        )
    })?;
    let doc = crate::judge::policy_import::import(&text, store::now());
    let want = doc.policy(&md_path.display().to_string());
    let mut drift = 0;
    let deviations = p.deviations.clone();
    let mut report = |ok: bool, what: String| {
        let field = what.split(':').next().unwrap_or_default();
        if ok {
            println!("OK     {what}");
        } else if let Some(why) = deviations.get(field) {
            // Recorded on purpose in the policy: said, not counted as drift.
            println!("DEVIATION  {what} (recorded: {why})");
        } else {
            println!("DRIFT  {what}");
            drift += 1;
        }
    };
    let line = |c: Option<&crate::judge::policy_import::Cite>| {
        c.map(|c| format!(" (SECURITY.md line {})", c.line))
            .unwrap_or_default()
    };
    if let Some((d, c)) = &doc.ack_within {
        report(
            p.ack_within == *d,
            format!(
                "ack_within: policy {} / SECURITY.md {d}{}",
                p.ack_within,
                line(Some(c))
            ),
        );
    }
    if let Some((d, c)) = &doc.followup_within {
        report(
            p.followup_within == Some(*d),
            format!(
                "followup_within: policy {} / SECURITY.md {d}{}",
                p.followup_within.map_or("-".into(), |x| x.to_string()),
                line(Some(c))
            ),
        );
    }
    let mut have: Vec<&String> = p.require.iter().collect();
    have.sort();
    let mut asked: Vec<&String> = want.require.iter().collect();
    asked.sort();
    report(
        have == asked,
        format!("require: policy {have:?} / SECURITY.md {asked:?}"),
    );
    report(
        p.reject_low_effort == want.reject_low_effort,
        format!(
            "reject_low_effort: policy {} / SECURITY.md {}{}",
            p.reject_low_effort,
            want.reject_low_effort,
            line(doc.reject_low_effort.as_ref())
        ),
    );
    if !want.supported_versions.is_empty() {
        let fmt = |rows: &[crate::config::VersionRow]| {
            rows.iter()
                .map(|r| {
                    format!(
                        "{}={}",
                        r.range.split_whitespace().collect::<String>(),
                        if r.supported { "yes" } else { "no" }
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        report(
            fmt(&p.supported_versions) == fmt(&want.supported_versions),
            format!(
                "supported_versions: policy [{}] / SECURITY.md [{}]",
                fmt(&p.supported_versions),
                fmt(&want.supported_versions)
            ),
        );
    }
    if let (Some((addr, c)), Some(from)) = (doc.contacts.first(), cfg.outbox.from.as_deref()) {
        report(
            addr.eq_ignore_ascii_case(from),
            format!(
                "contact: outbox.from {from} / SECURITY.md {addr}{}",
                line(Some(c))
            ),
        );
    }
    let mut code = i32::from(drift > 0);
    if let Some(t) = txt {
        println!("security.txt {}:", t.display());
        if security_txt_check(cli, t, None)? != 0 {
            code = 1;
        }
    }
    if code != 0 {
        println!(
            "hint: `triaged policy import {}` prints the policy the document promises today",
            md_path.display()
        );
    }
    Ok(code)
}

fn security_txt_check(
    cli: &Cli,
    file: &std::path::Path,
    published_key: Option<&std::path::Path>,
) -> Result<i32> {
    let cfg = load(cli)?;
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let field = |name: &str| {
        text.lines().find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.trim().eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_string())
        })
    };
    let mut problems = 0;
    match field("Expires").and_then(|e| chrono::DateTime::parse_from_rfc3339(&e).ok()) {
        None => {
            println!("FAIL  Expires is missing or not RFC 3339 (RFC 9116 requires it)");
            problems += 1;
        }
        Some(e) => {
            let left = e.timestamp() - store::now();
            if left < 0 {
                println!(
                    "FAIL  expired on {e}: publish a new security.txt (triaged security-txt --encryption URL)"
                );
                problems += 1;
            } else if left < 30 * 86_400 {
                println!(
                    "WARN  expires on {e}, in {} days: renew it soon",
                    left / 86_400
                );
                problems += 1;
            } else {
                println!("OK    expires on {e}");
            }
        }
    }
    match field("Contact") {
        Some(c) if cfg.outbox.from.as_deref().is_some_and(|f| c.contains(f)) => {
            println!("OK    Contact {c}")
        }
        Some(c) => {
            println!(
                "WARN  Contact {c} is not outbox.from ({})",
                cfg.outbox.from.as_deref().unwrap_or("-")
            );
            problems += 1;
        }
        None => {
            println!("FAIL  Contact is missing");
            problems += 1;
        }
    }
    if let Some(path) = published_key {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let published: Vec<String> =
            crate::read::crypto::read_certs(&bytes, crate::read::crypto::KeySource::Published)
                .into_iter()
                .map(|k| k.fingerprint)
                .collect();
        let ours = crate::read::keys::team_keys(&cfg)
            .map(|k| k.fingerprints())
            .unwrap_or_default();
        let aead = crate::read::crypto::librepgp_aead_certs(&bytes);
        if let Some(fpr) = aead.first() {
            println!(
                "FAIL  the published key {fpr} advertises GnuPG's \"AEAD\" feature: GnuPG 2.3 and later encrypt to it with their OCB packet, which triaged cannot decrypt\n      fix: {}",
                crate::read::crypto::LIBREPGP_AEAD_FIX.replace("FPR", fpr)
            );
            problems += 1;
        } else if published.iter().any(|p| ours.contains(p)) {
            println!(
                "OK    the published key {} decrypts our mail",
                published.join(", ")
            );
        } else {
            println!(
                "FAIL  the published key ({}) is not a team key that decrypts ({}): reporters encrypt to the wrong key",
                if published.is_empty() {
                    "none found".to_string()
                } else {
                    published.join(", ")
                },
                ours.join(", ")
            );
            problems += 1;
        }
    } else if let Some(e) = field("Encryption") {
        println!("NOTE  Encryption {e}: pass --published-key FILE to check it is our key");
    }
    Ok(if problems > 0 { 1 } else { 0 })
}

/// The mail that kept a promise: kind, when sent, Message-ID, author (replies).
#[derive(serde::Serialize)]
struct KeptBy {
    kind: crate::domain::status::OutboxKind,
    sent_at: String,
    message_id: String,
    author: Option<String>,
}

/// One promise of a case: its deadline and what kept it.
#[derive(serde::Serialize)]
struct Promise {
    clock: &'static str,
    due: Option<String>,
    /// kept | open | broken
    status: &'static str,
    /// The mail that kept it.
    kept_by: Option<KeptBy>,
    on_time: Option<bool>,
}

/// `sla --case ID`: the acknowledgment, response and resolution promises of one case.
fn promises_cmd(cli: &Cli, id: &str, json: bool) -> Result<i32> {
    let cfg = load(cli)?;
    let store = open_store(&cfg)?;
    let Some(c) = store::case_by_public_id(store.db(), id)? else {
        return Ok(no_case(id));
    };
    let sent = store::sent_of(store.db(), c.id)?;
    let now = store::now();
    let kept = |s: &store::SentRow| KeptBy {
        kind: s.kind,
        sent_at: rfc3339(s.at),
        message_id: s.message_id.clone(),
        author: s.author.clone(),
    };
    let promise =
        |clock: &'static str, due: Option<i64>, by: Option<&store::SentRow>, done: Option<i64>| {
            let status = match (done, due) {
                (Some(_), _) => "kept",
                (None, Some(d)) if d < now => "broken",
                _ => "open",
            };
            Promise {
                clock,
                due: due.map(rfc3339),
                status,
                kept_by: by.map(kept),
                on_time: done.zip(due).map(|(t, d)| t <= d),
            }
        };
    let first_ack = sent
        .iter()
        .find(|s| s.kind.acknowledges() && s.state == crate::domain::status::OutboxState::Sent);
    let reply = c
        .responded_by
        .and_then(|by| sent.iter().find(|s| s.outbox_id == by));
    let resolved = c.state.is_closed()
        || matches!(
            c.state,
            crate::domain::case::State::Fixed | crate::domain::case::State::Disclosed
        );
    let mut resolution = promise("resolution", c.resolve_due, None, None);
    if resolved && c.resolve_due.is_some() {
        // When it was resolved is in the audit trail, not a column: no on-time claim.
        resolution.status = "kept";
    }
    let promises = vec![
        promise("ack", c.ack_due, first_ack, c.acked_at),
        promise("response", c.followup_due, reply, c.responded_at),
        resolution,
    ];
    if json {
        print_json(
            &serde_json::json!({"case": c.id_public, "state": c.state, "promises": promises}),
        )?;
        return Ok(0);
    }
    println!("{}  {}  (policy {})", c.id_public, c.state, c.policy);
    for p in &promises {
        let by = p
            .kept_by
            .as_ref()
            .map(|k| {
                format!(
                    " by the {} sent {}{}",
                    k.kind,
                    k.sent_at,
                    k.author
                        .as_deref()
                        .map(|a| format!(" (written by {})", safe(a)))
                        .unwrap_or_default()
                )
            })
            .unwrap_or_default();
        let timing = match p.on_time {
            Some(true) => ", on time",
            Some(false) => ", late",
            None => "",
        };
        println!(
            "  {:<11} due {:<21} {}{by}{timing}",
            p.clock,
            p.due.as_deref().unwrap_or("-"),
            p.status
        );
    }
    Ok(0)
}

fn sla_cmd(cli: &Cli, json: bool, limit: Option<usize>) -> Result<i32> {
    use crate::domain::time::Rfc3339;
    use std::io::Write;
    #[derive(serde::Serialize)]
    struct SlaRow<'a> {
        id: &'a str,
        state: crate::domain::case::State,
        clock: &'static str,
        due: Rfc3339,
        seconds_left: i64,
        overdue: bool,
    }
    let cfg = load(cli)?;
    let store = open_store(&cfg)?;
    let now = store::now();
    // Keep only the running clock of each case, sort by deadline, then write each row
    // as it is formatted (nothing holds the whole output).
    let mut clocks = store::open_clocks(store.db(), |c| {
        let (clock, due) = match (c.acked_at, c.ack_due, c.responded_at, c.followup_due) {
            (None, Some(d), _, _) => ("ack", d),
            (_, _, None, Some(d)) => ("followup", d),
            _ => return None,
        };
        Some((c.public_id, c.state, clock, due))
    })?;
    clocks.sort_by_key(|c| c.3);
    let total = clocks.len();
    let limit = limit.unwrap_or(if json { 0 } else { 100 });
    if limit > 0 && clocks.len() > limit {
        clocks.truncate(limit);
        eprintln!("({limit} of {total} open deadlines shown, the soonest; --limit 0 shows all)");
    }
    let rows = clocks.iter().map(|(id, state, clock, due)| SlaRow {
        id,
        state: *state,
        clock,
        due: Rfc3339(*due),
        seconds_left: due - now,
        overdue: *due < now,
    });
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    if json {
        use serde::Serializer as _;
        serde_json::Serializer::pretty(&mut out)
            .collect_seq(rows)
            .context("serialising JSON")?;
        writeln!(out)?;
    } else if clocks.is_empty() {
        writeln!(out, "no open deadlines")?;
    } else {
        writeln!(
            out,
            "{:<14} {:<13} {:<9} {:<21} LEFT",
            "CASE", "STATE", "CLOCK", "DUE"
        )?;
        for r in rows {
            let left = r.seconds_left;
            let human = if left < 0 {
                format!("overdue {}h{:02}m", -left / 3600, (-left % 3600) / 60)
            } else {
                format!("{}h{:02}m", left / 3600, (left % 3600) / 60)
            };
            writeln!(
                out,
                "{:<14} {:<13} {:<9} {:<21} {}",
                r.id, r.state, r.clock, r.due, human
            )?;
        }
    }
    out.flush()?;
    Ok(0)
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

fn print_case_table(cases: &[store::CaseRow]) -> Result<()> {
    use std::io::Write;
    if cases.is_empty() {
        println!("no cases");
        return Ok(());
    }
    let wide = std::io::stdout().is_terminal();
    let subj = if wide { 40 } else { 60 };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    writeln!(
        out,
        "{:<14} {:<13} {:<11} {:<10} {:<28} {:<16} SUBJECT",
        "CASE", "STATE", "SIGNATURE", "ENCRYPTION", "REPORTER", "ARRIVED"
    )?;
    for c in cases {
        writeln!(
            out,
            "{:<14} {:<13} {:<11} {:<10} {:<28} {:<16} {}",
            c.id_public,
            c.state,
            c.signature,
            c.encryption.map_or("-", |e| e.as_str()),
            trunc(&safe(c.reporter.as_deref().unwrap_or("-")), 28),
            date(c.arrived_at),
            trunc(
                &match &c.possible_duplicate_of {
                    Some(d) => format!(
                        "[dup? {} {}] {}",
                        d["case"].as_str().unwrap_or("?"),
                        d["score"],
                        safe(c.subject.as_deref().unwrap_or(""))
                    ),
                    None if c.subject_sealed =>
                        "(encrypted at rest: `triaged case show` opens it)".into(),
                    None => safe(c.subject.as_deref().unwrap_or_default()),
                },
                subj
            )
        )?;
    }
    out.flush()?;
    Ok(())
}

/// What `case show` prints besides the case row.
struct CaseView<'a> {
    messages: &'a [store::MessageRow],
    keys: &'a [store::KeyRow],
    events: &'a [store::EventRow],
    sent: &'a [store::SentRow],
    disclosure: &'a crate::domain::disclosure::Disclosure,
    credit: Option<&'a crate::domain::disclosure::Credit>,
}

fn print_case(c: &store::CaseRow, v: &CaseView<'_>) {
    let CaseView {
        messages,
        keys,
        events,
        sent,
        disclosure,
        credit,
    } = *v;
    println!("{}  {}", c.id_public, c.state);
    if let Some(r) = &c.state_reason {
        println!("  reason:     {}", safe(r));
    }
    println!(
        "  reporter:   {}{}",
        safe(c.reporter.as_deref().unwrap_or("(unknown)")),
        c.reporter_name
            .as_deref()
            .map(|n| format!(" ({})", safe(n)))
            .unwrap_or_default()
    );
    println!(
        "  subject:    {}",
        trunc(&safe(c.subject.as_deref().unwrap_or("")), 100)
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
    if let Some(t) = c.resolve_due {
        println!("  resolve by: {}", rfc3339(t));
    }
    match (c.responded_at, c.responded_by) {
        (Some(t), Some(by)) => {
            let who = sent
                .iter()
                .find(|s| s.outbox_id == by)
                .and_then(|s| s.author.as_deref())
                .unwrap_or("?");
            println!("  responded:  {} (reply by {})", rfc3339(t), safe(who));
        }
        (Some(t), None) => println!(
            "  responded:  {} (recorded by a move, before migration 0011)",
            rfc3339(t)
        ),
        _ => {}
    }
    print_disclosure(disclosure, credit);
    println!("messages:");
    for (i, m) in messages.iter().enumerate() {
        println!(
            "  {}. {}  from {}  {} bytes  encryption {}  status {}",
            i + 1,
            rfc3339(m.arrived_at),
            safe(m.from.as_deref().unwrap_or("?")),
            m.size,
            m.encryption,
            m.status
        );
        if let Some(r) = &m.status_reason {
            println!("     reason: {}", safe(r));
        }
        let sigs = &m.signatures;
        if sigs.is_empty() {
            println!("     signature: unsigned");
        }
        for s in sigs {
            println!(
                "     signature: {} {} {}",
                s.status,
                s.signer.as_deref().unwrap_or(""),
                safe(s.user_id.as_deref().unwrap_or(""))
            );
        }
        for a in &m.attachments {
            println!(
                "     attachment: {} ({}, {} bytes{})",
                safe(a.name.as_deref().unwrap_or("(unnamed)")),
                safe(&a.content_type),
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
                safe(k.user_ids.first().map(String::as_str).unwrap_or(""))
            );
        }
    }
    if !sent.is_empty() {
        println!("sent:");
        for s in sent {
            println!(
                "  {}  {:<14} to {}  {}{}",
                date(s.at),
                s.kind,
                safe(&s.recipient),
                s.state,
                s.author
                    .as_deref()
                    .map(|a| format!("  by {}", safe(a)))
                    .unwrap_or_default()
            );
            if s.state == crate::domain::status::OutboxState::Failed
                && let Some(e) = &s.last_error
            {
                println!("     refused for good, not retried: {}", safe(e));
            } else if let Some(e) = s
                .last_error
                .as_deref()
                .filter(|_| s.state == crate::domain::status::OutboxState::Queued)
            {
                println!("     last attempt failed (will retry): {}", safe(e));
            }
        }
    }
    println!("events:");
    for e in events {
        println!(
            "  {}  {:<8} {:<14} {}",
            date(e.at),
            e.actor,
            e.kind,
            safe(e.detail.as_deref().unwrap_or(""))
        );
    }
}

/// The disclosure facts and credit, one line each, when set.
fn print_disclosure(
    d: &crate::domain::disclosure::Disclosure,
    credit: Option<&crate::domain::disclosure::Credit>,
) {
    let mut lines: Vec<(&str, String)> = Vec::new();
    if !d.cve_ids.is_empty() {
        lines.push(("cve", d.cve_ids.join(", ")));
    }
    if !d.cwe_ids.is_empty() {
        lines.push(("cwe", d.cwe_ids.join(", ")));
    }
    for (k, v) in [
        ("cvss", &d.cvss),
        ("affected", &d.affected),
        ("fixed in", &d.fixed_in),
        ("package", &d.package),
        ("ecosystem", &d.ecosystem),
        ("embargo", &d.embargo_until),
        ("advisory", &d.advisory_url),
    ] {
        if let Some(v) = v {
            lines.push((k, v.clone()));
        }
    }
    if let Some(l) = credit.and_then(|c| c.line()) {
        lines.push(("credit", l));
    }
    for (k, v) in lines {
        println!("  {:<11} {}", format!("{k}:"), safe(&v));
    }
}

/// Text from a report made safe for a terminal (see [`crate::domain::terminal_safe`]).
pub fn safe(s: &str) -> String {
    crate::domain::terminal_safe(s)
}
