//! Configuration: the TOML file, its types, and validation.
//!
//! This module owns reading the operator's config file and turning every
//! mistake in it into an error that names the file, the key, what is wrong and
//! how to fix it (in the spirit of `cargo` and `sq`). It never touches the
//! network. Relative paths in the file are resolved against the directory the
//! config file lives in, so `examples/demo.toml` works from any working dir.
//!
//! `values` holds the string-written values (durations, sizes), `parse` reads the file,
//! `validate` judges the settings; the types below are the file's shape.

mod parse;
mod secret;
mod validate;
mod values;

use parse::expand_env;
pub use secret::{AuthMech, Source as SecretSource, sasl_token_response};
pub use validate::{ConfigError, Problem};
pub use values::{Duration, OneOrMany, Size};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub store: StoreConfig,
    pub keys: KeysConfig,
    #[serde(rename = "mailbox", default)]
    pub mailboxes: Vec<MailboxConfig>,
    #[serde(default)]
    pub outbox: OutboxConfig,
    #[serde(default)]
    pub policy: BTreeMap<String, PolicyConfig>,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub schedule: ScheduleConfig,
    /// Directory of the config file; relative paths are resolved against it.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// The config file itself (for messages).
    #[serde(skip)]
    pub file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    pub path: PathBuf,
    /// Keep report text, attachments and plaintext raw mail encrypted to the team key in
    /// the database; decrypted on demand. Findings and evidence stay queryable.
    #[serde(default)]
    pub encrypt_at_rest: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysConfig {
    /// The team's secret key file(s), armored or binary.
    pub secret: OneOrMany,
    /// A file holding the passphrase that unlocks the secret key(s).
    pub passphrase_file: Option<PathBuf>,
    /// The name of an environment variable holding the passphrase.
    pub passphrase_env: Option<String>,
    /// Public keys of known reporters, used to verify signatures and to encrypt acks.
    pub reporter_keyring: Option<PathBuf>,
    /// Load team keys the standard policy rejects for their algorithms (SHA-1
    /// self-signatures, RSA-1024) for decryption only, to read old mail; acks are signed
    /// with a current key. Off by default.
    #[serde(default)]
    pub legacy_decryption: bool,
    /// Start even when the secret key or passphrase file is readable by other users.
    /// Only for published TEST keys (the demo); never in production.
    #[serde(default)]
    pub allow_readable_by_others: bool,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MailboxKind {
    Maildir,
    Imap,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxConfig {
    pub name: String,
    pub kind: MailboxKind,
    /// Maildir: the directory holding new/, cur/ and tmp/.
    pub path: Option<PathBuf>,
    /// The policy (a key of `[policy.*]`) that applies to reports in this mailbox.
    #[serde(default = "default_policy_name")]
    pub policy: String,
    /// Our own address for this mailbox (used to never answer ourselves).
    pub address: Option<String>,
    /// When the published address is a mailing list (Google Groups, Mailman, Sympa)
    /// that delivers into this mailbox: its List-Id (`security.example.org`). Mail
    /// carrying it is read as sent to the team directly: acknowledged, and, when the
    /// list rewrote From to its own address, answered to the sender it names.
    #[serde(default)]
    pub list_id: Option<String>,
    /// Addresses a web form sends reports from (`wordpress@example.org`), with the
    /// submitter in Reply-To: mail from one of them is the submitter's report.
    #[serde(default)]
    pub form_from: Vec<String>,
    /// How often a Maildir is scanned by `run`; for IMAP servers without IDLE, how often to poll.
    #[serde(default = "default_poll")]
    pub poll_interval: Duration,
    /// IMAP: the server.
    pub host: Option<String>,
    /// IMAP: the port (default 993 for implicit TLS, 143 otherwise).
    pub port: Option<u16>,
    /// IMAP: "implicit" (TLS from the first byte, port 993), "starttls", or "plain"
    /// (refused unless the host is a loopback address).
    #[serde(default)]
    pub tls: TlsMode,
    /// IMAP: extra trusted certificates (PEM) for a server with an internal CA or a
    /// self-signed certificate; the Web PKI roots stay trusted.
    pub tls_ca_file: Option<PathBuf>,
    /// IMAP: the login name.
    pub user: Option<String>,
    /// IMAP: a file holding only the password (under systemd: LoadCredential=).
    pub password_file: Option<PathBuf>,
    /// IMAP: the name of an environment variable holding the password.
    pub password_env: Option<String>,
    /// IMAP: the password inline; allowed only when the config file is mode 0600.
    pub password: Option<String>,
    /// IMAP: a command (no shell) whose first line of output is the secret, run at
    /// every login: a password from a vault, or a fresh OAuth 2.0 access token.
    pub password_command: Option<Vec<String>>,
    /// IMAP: "password" (LOGIN), "xoauth2" or "oauthbearer" (the secret is an OAuth 2.0
    /// access token: Microsoft 365, Google Workspace).
    #[serde(default)]
    pub auth: AuthMech,
    /// IMAP: the folder to watch.
    #[serde(default = "default_folder")]
    pub folder: String,
    /// IMAP: what to do with a message once it is committed: "seen" (set \Seen) or "move".
    #[serde(default)]
    pub after: AfterCommit,
    /// IMAP: the folder processed mail is moved to with after = "move" (created if missing).
    #[serde(default = "default_move_to")]
    pub move_to: String,
    /// IMAP: re-issue IDLE this often (far inside RFC 2177's 29 minutes; NAT boxes drop quiet connections).
    #[serde(default = "default_idle_refresh")]
    pub idle_refresh: Duration,
    /// Messages fetched per IMAP round trip (or taken from the Maildir at once), read
    /// and committed as a pipeline, then marked processed (IMAP and Maildir).
    #[serde(default = "default_batch")]
    pub batch: u32,
    /// Messages older than this at first sight become `imported` cases with no automatic ack.
    #[serde(default = "default_horizon")]
    pub import_horizon: Duration,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    #[default]
    Implicit,
    Starttls,
    Plain,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum AfterCommit {
    #[default]
    Seen,
    Move,
}

fn default_folder() -> String {
    "INBOX".into()
}
fn default_move_to() -> String {
    "Triaged".into()
}
fn default_idle_refresh() -> Duration {
    Duration::from_secs(5 * 60)
}
fn default_batch() -> u32 {
    200
}
fn default_horizon() -> Duration {
    Duration::from_secs(7 * 86_400)
}

impl MailboxConfig {
    /// Where the IMAP secret comes from (the first of file, environment, command, inline).
    pub(crate) fn secret_source(&self, cfg: &Config) -> SecretSource {
        secret_source(
            cfg,
            &self.password_file,
            &self.password_env,
            &self.password_command,
            &self.password,
        )
    }

    /// The IMAP password (or access token), from the file, the environment, the
    /// command or the config.
    pub(crate) fn imap_password(&self, cfg: &Config) -> std::result::Result<String, Problem> {
        let k = format!("mailbox {:?}", self.name);
        self.required(&k, self.secret_source(cfg).read(&k)?)
    }

    /// [`Self::imap_password`] for async code: a `password_command` runs on tokio's
    /// blocking pool, so a slow token helper (up to its 30 s cap) never holds one of
    /// the daemon's two worker threads (the other mailboxes, the sender, the watchdog
    /// and the signals go on).
    pub(crate) async fn imap_password_async(
        &self,
        cfg: &Config,
    ) -> std::result::Result<String, Problem> {
        let k = format!("mailbox {:?}", self.name);
        self.required(&k, self.secret_source(cfg).read_async(&k).await?)
    }

    fn required(&self, k: &str, secret: Option<String>) -> std::result::Result<String, Problem> {
        secret.ok_or_else(|| Problem {
            key: format!("{k}.password_file"),
            what: format!(
                "no {} is configured for this IMAP mailbox",
                self.auth.secret_word()
            ),
            fix: "set password_file, password_env or password_command for the mailbox".into(),
        })
    }
}

fn secret_source(
    cfg: &Config,
    file: &Option<PathBuf>,
    env: &Option<String>,
    command: &Option<Vec<String>>,
    inline: &Option<String>,
) -> SecretSource {
    if let Some(f) = file {
        SecretSource::File(cfg.resolve(f))
    } else if let Some(v) = env {
        SecretSource::Env(v.clone())
    } else if let Some(c) = command {
        let mut argv = c.clone();
        if let Some(p) = argv.first_mut()
            && p.contains('/')
        {
            *p = cfg
                .resolve(Path::new(p.as_str()))
                .to_string_lossy()
                .into_owned();
        }
        SecretSource::Command(argv)
    } else if let Some(p) = inline {
        SecretSource::Inline(p.clone())
    } else {
        SecretSource::None
    }
}

/// Is this host a loopback address (where plain IMAP/SMTP is acceptable)?
pub(crate) fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn default_policy_name() -> String {
    "default".into()
}

fn default_poll() -> Duration {
    Duration::from_secs(5)
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    #[default]
    File,
    Smtp,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxConfig {
    #[serde(default)]
    pub transport: Transport,
    /// `file` transport: the folder outgoing .eml files are written into.
    pub dir: Option<PathBuf>,
    /// The From address of acknowledgments.
    pub from: Option<String>,
    /// The team's own address, for escalations and digests.
    pub team: Option<String>,
    /// `smtp` transport: the relay.
    pub host: Option<String>,
    /// `smtp` transport: the port (default 465 for implicit TLS, 587 for STARTTLS, 25 plain).
    pub port: Option<u16>,
    /// `smtp` transport: "implicit", "starttls", or "plain" (loopback only).
    #[serde(default)]
    pub tls: TlsMode,
    /// `smtp` transport: a PEM file of CA certificates trusted besides the public roots
    /// (a relay with a certificate from an internal CA).
    pub tls_ca_file: Option<PathBuf>,
    /// `smtp` transport: login name (omit for no authentication).
    pub user: Option<String>,
    /// `smtp` transport: a file holding only the password.
    pub password_file: Option<PathBuf>,
    /// `smtp` transport: an environment variable holding the password.
    pub password_env: Option<String>,
    /// `smtp` transport: a command whose first line of output is the secret (run at
    /// every login; see the mailbox's `password_command`).
    pub password_command: Option<Vec<String>>,
    /// `smtp` transport: "password" (AUTH PLAIN or LOGIN) or "xoauth2" (the secret is
    /// an OAuth 2.0 access token).
    #[serde(default)]
    pub auth: AuthMech,
    /// At most this many acknowledgments to one address per hour; more are suppressed (and recorded).
    #[serde(default = "default_rate")]
    pub rate_limit_per_hour: u32,
    /// Send acknowledgments automatically (false: queue nothing; the team answers by hand).
    #[serde(default = "default_true")]
    pub auto_ack: bool,
    /// Escalate to `team` when this share of a window has passed without the promised answer.
    #[serde(default = "default_escalate")]
    pub escalate_at: f64,
    /// APPEND every sent message to this folder of the first IMAP mailbox (e.g. "Sent").
    pub sent_folder: Option<String>,
    /// Remind `team` this long before a case's embargo ends (`case set --embargo`).
    #[serde(default = "default_embargo_reminder")]
    pub embargo_reminder: Duration,
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            transport: Transport::File,
            dir: None,
            from: None,
            team: None,
            host: None,
            port: None,
            tls: TlsMode::Implicit,
            tls_ca_file: None,
            user: None,
            password_file: None,
            password_env: None,
            password_command: None,
            auth: AuthMech::Password,
            rate_limit_per_hour: default_rate(),
            auto_ack: true,
            escalate_at: default_escalate(),
            sent_folder: None,
            embargo_reminder: default_embargo_reminder(),
        }
    }
}

fn default_rate() -> u32 {
    5
}
fn default_true() -> bool {
    true
}
fn default_escalate() -> f64 {
    0.75
}
fn default_embargo_reminder() -> Duration {
    Duration::from_secs(3 * 86_400)
}

impl OutboxConfig {
    /// Where the relay's secret comes from (file, environment or command).
    pub(crate) fn secret_source(&self, cfg: &Config) -> SecretSource {
        secret_source(
            cfg,
            &self.password_file,
            &self.password_env,
            &self.password_command,
            &None,
        )
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    #[serde(default = "default_ack")]
    pub ack_within: Duration,
    pub followup_within: Option<Duration>,
    pub resolve_within: Option<Duration>,
    #[serde(default)]
    pub require: Vec<String>,
    #[serde(default)]
    pub supported_versions: Vec<VersionRow>,
    #[serde(default)]
    pub reject_low_effort: bool,
    /// Free text: which SECURITY.md this policy encodes.
    pub source: Option<String>,
    /// The current release, so that "latest" rows of the table can be matched
    /// against concrete versions (e.g. latest = "2.8.4").
    pub latest: Option<String>,
    /// The project credits reporters in its advisories: the ack confirms the credit
    /// a reporter asked for.
    #[serde(default)]
    pub credit: bool,
    /// Differences from the SECURITY.md the operator made on purpose, by field
    /// (`ack_within`, `followup_within`, `require`, `reject_low_effort`,
    /// `supported_versions`, `contact`) with the reason: `policy check` reports them as
    /// `DEVIATION` (with the reason) instead of `DRIFT`.
    #[serde(default)]
    pub deviations: std::collections::BTreeMap<String, String>,
    /// A folder of reply templates (`NAME.txt`) that replace or add to the built-in
    /// ones for `case reply --template NAME`.
    pub templates: Option<PathBuf>,
    /// `case reply` refuses to send a reply the reporter's key cannot encrypt, even
    /// with `--cleartext`.
    #[serde(default)]
    pub require_encryption: bool,
}

fn default_ack() -> Duration {
    Duration::from_secs(48 * 3600)
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            ack_within: default_ack(),
            followup_within: Some(Duration::from_secs(7 * 86_400)),
            resolve_within: None,
            require: Vec::new(),
            supported_versions: Vec::new(),
            reject_low_effort: false,
            source: None,
            latest: None,
            credit: false,
            deviations: Default::default(),
            templates: None,
            require_encryption: false,
        }
    }
}

pub use crate::domain::version::VersionRow;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest message accepted in full; larger ones become `oversize` cases.
    #[serde(default = "default_max_message")]
    pub max_message_size: Size,
    /// Largest plaintext one PGP message may decrypt (or decompress) to.
    #[serde(default = "default_max_plain")]
    pub max_decrypted_size: Size,
    /// Deepest MIME nesting followed.
    #[serde(default = "default_depth")]
    pub max_mime_depth: usize,
    /// Most MIME parts looked at in one message.
    #[serde(default = "default_parts")]
    pub max_mime_parts: usize,
    /// Most attachments stored for one message; the rest stay only in the raw message.
    #[serde(default = "default_attachments")]
    pub max_attachments: usize,
    /// Longest physical header line read; a longer line is cut (the raw message is kept whole).
    #[serde(default = "default_header_line")]
    pub max_header_line: Size,
    /// Wall-clock time one message may take to read (parse, decrypt, verify); when it is
    /// spent the rest is not read and the case becomes `oversize`.
    #[serde(default = "default_time_budget")]
    pub time_budget: Duration,
    /// Read each message in a separate reader process (the mail servers' answer to hostile
    /// input): its memory is capped by `reader_memory`, and it is killed when
    /// `time_budget` (plus a short grace) is spent, so no single message can wedge or
    /// exhaust the daemon. `false` reads in the daemon itself (for debugging only).
    #[serde(default = "default_isolate")]
    pub isolate_reader: bool,
    /// Address space one reader process may use (RLIMIT_AS). A message that needs more
    /// becomes an `oversize` case with its raw bytes kept.
    #[serde(default = "default_reader_memory")]
    pub reader_memory: Size,
    /// Reader processes running at once (default: the number of cores, at most 2).
    /// `readers` x `reader_memory` plus ~100 MiB must fit the service's MemoryMax.
    #[serde(default = "default_readers")]
    pub readers: usize,
    /// Bytes of mail (raw as fetched, and decrypted as read) held in memory before they
    /// are committed: a batch is cut into smaller transactions when it reaches this.
    #[serde(default = "default_batch_bytes")]
    pub batch_bytes: Size,
    /// How much of a case's text (and of each attachment) the classifier and duplicate
    /// detection read; the rest is stored, not classified.
    #[serde(default = "default_classify_bytes")]
    pub classify_bytes: Size,
    /// Messages larger than this are read as a stream and never held whole: the raw
    /// bytes go from the source to a spool file and from there to the store, and
    /// decryption streams from the file; of the decrypted content (and of the body
    /// around it) the first `stream_above` bytes are read for text and attachments, the
    /// rest stays in the stored raw message.
    #[serde(default = "default_stream_above")]
    pub stream_above: Size,
    /// User ids read from a reporter's key (the rest are dropped before the key is
    /// built: a key with 10,000 user ids took minutes).
    #[serde(default = "default_key_user_ids")]
    pub max_key_user_ids: usize,
    /// Subkeys read from a reporter's key.
    #[serde(default = "default_key_subkeys")]
    pub max_key_subkeys: usize,
    /// Encrypted session keys (PKESKs) tried per encrypted block; each try is a
    /// public-key operation.
    #[serde(default = "default_pkesks")]
    pub max_pkesks: usize,
}

fn default_max_message() -> Size {
    Size(32 * 1024 * 1024)
}
fn default_max_plain() -> Size {
    Size(64 * 1024 * 1024)
}
fn default_depth() -> usize {
    16
}
fn default_parts() -> usize {
    500
}
fn default_attachments() -> usize {
    100
}
fn default_header_line() -> Size {
    Size(16 * 1024)
}
fn default_time_budget() -> Duration {
    Duration::from_secs(30)
}
fn default_isolate() -> bool {
    true
}
fn default_reader_memory() -> Size {
    Size(384 * 1024 * 1024)
}
fn default_readers() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 2)
}
fn default_batch_bytes() -> Size {
    Size(64 * 1024 * 1024)
}
fn default_key_user_ids() -> usize {
    64
}
fn default_key_subkeys() -> usize {
    16
}
fn default_pkesks() -> usize {
    32
}
fn default_classify_bytes() -> Size {
    Size(1024 * 1024)
}
fn default_stream_above() -> Size {
    Size(8 * 1024 * 1024)
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: default_max_message(),
            max_decrypted_size: default_max_plain(),
            max_mime_depth: default_depth(),
            max_mime_parts: default_parts(),
            max_attachments: default_attachments(),
            max_header_line: default_header_line(),
            time_budget: default_time_budget(),
            isolate_reader: default_isolate(),
            reader_memory: default_reader_memory(),
            readers: default_readers(),
            batch_bytes: default_batch_bytes(),
            classify_bytes: default_classify_bytes(),
            stream_above: default_stream_above(),
            max_key_user_ids: default_key_user_ids(),
            max_key_subkeys: default_key_subkeys(),
            max_pkesks: default_pkesks(),
        }
    }
}

/// Cron-driven jobs (six fields: sec min hour day month weekday).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// The SLA sweep: escalations before deadlines, breach records.
    #[serde(default = "default_sweep")]
    pub sla_sweep: String,
    /// The digest to the team (open cases, deadlines in the next 24 h, breaches); "" disables it.
    #[serde(default = "default_digest")]
    pub digest: String,
}

fn default_digest() -> String {
    "0 0 8 * * Mon-Fri".into()
}

fn default_sweep() -> String {
    "0 */5 * * * *".into()
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            sla_sweep: default_sweep(),
            digest: default_digest(),
        }
    }
}

impl Config {
    /// Resolves a path from the config against the config file's directory.
    pub(crate) fn resolve(&self, p: &Path) -> PathBuf {
        let s = p.to_string_lossy();
        let expanded = expand_env(&s);
        let p = PathBuf::from(expanded);
        if p.is_absolute() {
            p
        } else {
            self.base_dir.join(p)
        }
    }

    pub(crate) fn store_path(&self) -> PathBuf {
        self.resolve(&self.store.path)
    }

    pub(crate) fn policy_for(&self, mailbox: &str) -> (String, PolicyConfig) {
        let name = self
            .mailboxes
            .iter()
            .find(|m| m.name == mailbox)
            .map(|m| m.policy.clone())
            .unwrap_or_else(default_policy_name);
        let p = self.policy.get(&name).cloned().unwrap_or_default();
        (name, p)
    }

    /// Reads the passphrase, if one is configured.
    pub fn passphrase(&self) -> std::result::Result<Option<String>, Problem> {
        if let Some(f) = &self.keys.passphrase_file {
            let path = self.resolve(f);
            let s = std::fs::read_to_string(&path).map_err(|e| Problem {
                key: "keys.passphrase_file".into(),
                what: format!("cannot read {}: {e}", path.display()),
                fix: "point keys.passphrase_file at a readable file holding only the passphrase (under systemd: LoadCredential=)".into(),
            })?;
            return Ok(Some(s.trim_end_matches(['\r', '\n']).to_string()));
        }
        if let Some(var) = &self.keys.passphrase_env {
            return match std::env::var(var) {
                Ok(v) => Ok(Some(v)),
                Err(_) => Err(Problem {
                    key: "keys.passphrase_env".into(),
                    what: format!("the environment variable {var} is not set"),
                    fix: format!(
                        "export {var}=… before starting triaged, or use keys.passphrase_file"
                    ),
                }),
            };
        }
        Ok(None)
    }
}
