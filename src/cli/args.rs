//! The clap tree: commands and their arguments, nothing else. Every other file of
//! `cli/` receives these typed values.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use super::disclose;

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
        /// Print the figures in Prometheus' text format (for node_exporter's textfile
        /// collector: `triaged stats --prometheus > …/triaged.prom`, from a timer)
        #[arg(long, conflicts_with = "json")]
        prometheus: bool,
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
        /// Only open cases (not closed, rejected, duplicate or spam): hides the mail
        /// closed on arrival (bounces, DMARC and TLS reports).
        #[arg(long, conflicts_with = "state")]
        open: bool,
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
