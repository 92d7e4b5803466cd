//! Configuration: the TOML file, its types, and validation.
//!
//! This module owns reading the operator's config file and turning every
//! mistake in it into an error that names the file, the key, what is wrong and
//! how to fix it (in the spirit of `cargo` and `sq`). It never touches the
//! network. Relative paths in the file are resolved against the directory the
//! config file lives in, so `examples/demo.toml` works from any working dir.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};

/// A span of time written as `"48h"`, `"7d"`, `"90s"`, `"1d12h"`, `"2w"`, or in
/// business days as `"4bd"` (Monday to Friday, UTC, no holidays: a deadline of N
/// business days lands at the arrival's time of day on the Nth weekday after it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Duration(pub i64, pub Option<u32>);

impl Duration {
    /// A plain span in seconds.
    pub const fn from_secs(s: i64) -> Duration {
        Duration(s, None)
    }

    /// Nominal length in seconds (business days count as 24 h each).
    pub fn secs(self) -> i64 {
        self.0
    }

    /// The deadline for something that started at `start` (unix seconds).
    pub fn after(self, start: i64) -> i64 {
        let Some(days) = self.1 else {
            return start + self.0;
        };
        use chrono::Datelike;
        let mut t = start;
        let mut left = days;
        while left > 0 {
            t += 86_400;
            let wd = chrono::DateTime::from_timestamp(t, 0)
                .map(|d| d.weekday().number_from_monday())
                .unwrap_or(1);
            if wd <= 5 {
                left -= 1;
            }
        }
        t
    }

    /// Parses a duration such as "48h", "7d", "1d12h", "30m", "90s", "2w".
    pub fn parse(s: &str) -> std::result::Result<Self, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err("empty duration".into());
        }
        if let Some(n) = t.strip_suffix("bd") {
            let n: u32 = n.trim().parse().map_err(|_| {
                format!("invalid duration {s:?}: business days are written like \"4bd\"")
            })?;
            // Deadlines are counted a weekday at a time: ten years is plenty, and a
            // larger count (fuzzing found "999999999bd") would take a minute to add up.
            if n > 2_600 {
                return Err(format!(
                    "invalid duration {s:?}: at most 2600 business days (ten years)"
                ));
            }
            return Ok(Duration(i64::from(n) * 86_400, Some(n)));
        }
        let mut total: i64 = 0;
        let mut num = String::new();
        let mut saw_unit = false;
        for c in t.chars() {
            if c.is_ascii_digit() {
                num.push(c);
                continue;
            }
            if c.is_whitespace() {
                continue;
            }
            let mult = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                'w' => 7 * 86_400,
                _ => {
                    return Err(format!(
                        "invalid duration {s:?}: unknown unit {c:?} (use s, m, h, d or w, e.g. \"48h\" or \"7d\")"
                    ));
                }
            };
            let n: i64 = num.parse().map_err(|_| {
                format!("invalid duration {s:?}: a number must come before each unit, e.g. \"48h\"")
            })?;
            total = total
                .checked_add(n.checked_mul(mult).ok_or("duration too large")?)
                .ok_or("duration too large")?;
            num.clear();
            saw_unit = true;
        }
        if !num.is_empty() || !saw_unit {
            return Err(format!(
                "invalid duration {s:?}: missing unit (use s, m, h, d or w, e.g. \"48h\" or \"7d\")"
            ));
        }
        Ok(Duration(total, None))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(bd) = self.1 {
            return write!(f, "{bd}bd");
        }
        let s = self.0;
        if s != 0 && s % 86_400 == 0 {
            write!(f, "{}d", s / 86_400)
        } else if s != 0 && s % 3600 == 0 {
            write!(f, "{}h", s / 3600)
        } else if s != 0 && s % 60 == 0 {
            write!(f, "{}m", s / 60)
        } else {
            write!(f, "{s}s")
        }
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Duration::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A size in bytes written as `"25MiB"`, `"64M"`, `"512k"` or a plain integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size(pub u64);

impl Size {
    pub fn parse(s: &str) -> std::result::Result<Self, String> {
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (n, unit) = t.split_at(split);
        let n: u64 = n
            .parse()
            .map_err(|_| format!("invalid size {s:?}: expected e.g. \"25MiB\""))?;
        let mult = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" | "kib" => 1024,
            "m" | "mb" | "mib" => 1024 * 1024,
            "g" | "gb" | "gib" => 1024 * 1024 * 1024,
            other => {
                return Err(format!(
                    "invalid size {s:?}: unknown unit {other:?} (use KiB, MiB or GiB)"
                ));
            }
        };
        n.checked_mul(mult)
            .map(Size)
            .ok_or_else(|| format!("size {s:?} too large"))
    }
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            N(u64),
            S(String),
        }
        match Raw::deserialize(d)? {
            Raw::N(n) => Ok(Size(n)),
            Raw::S(s) => Size::parse(&s).map_err(serde::de::Error::custom),
        }
    }
}

/// One or several paths.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(PathBuf),
    Many(Vec<PathBuf>),
}

impl OneOrMany {
    pub fn paths(&self) -> Vec<PathBuf> {
        match self {
            OneOrMany::One(p) => vec![p.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

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
    /// The IMAP password, from the file, the environment or the config.
    pub(crate) fn imap_password(&self, cfg: &Config) -> std::result::Result<String, Problem> {
        let k = format!("mailbox {:?}", self.name);
        if let Some(f) = &self.password_file {
            let p = cfg.resolve(f);
            return std::fs::read_to_string(&p)
                .map(|s| s.trim_end_matches(['\r', '\n']).to_string())
                .map_err(|e| Problem {
                    key: format!("{k}.password_file"),
                    what: format!("cannot read {}: {e}", p.display()),
                    fix: "point password_file at a readable file holding only the password".into(),
                });
        }
        if let Some(v) = &self.password_env {
            return std::env::var(v).map_err(|_| Problem {
                key: format!("{k}.password_env"),
                what: format!("the environment variable {v} is not set"),
                fix: format!("export {v}=… before starting triaged, or use password_file"),
            });
        }
        if let Some(p) = &self.password {
            return Ok(p.clone());
        }
        Err(Problem {
            key: format!("{k}.password_file"),
            what: "no password is configured for this IMAP mailbox".into(),
            fix: "set password_file (or password_env) for the mailbox".into(),
        })
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
    pub(crate) fn smtp_password(
        &self,
        cfg: &Config,
    ) -> std::result::Result<Option<String>, Problem> {
        if let Some(f) = &self.password_file {
            let p = cfg.resolve(f);
            return std::fs::read_to_string(&p)
                .map(|s| Some(s.trim_end_matches(['\r', '\n']).to_string()))
                .map_err(|e| Problem {
                    key: "outbox.password_file".into(),
                    what: format!("cannot read {}: {e}", p.display()),
                    fix: "point outbox.password_file at a readable file holding only the password"
                        .into(),
                });
        }
        if let Some(v) = &self.password_env {
            return std::env::var(v).map(Some).map_err(|_| Problem {
                key: "outbox.password_env".into(),
                what: format!("the environment variable {v} is not set"),
                fix: format!("export {v}=… before starting triaged"),
            });
        }
        Ok(None)
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

/// One problem in a config file: where, what, and how to fix it.
#[derive(Debug, Clone)]
pub struct Problem {
    pub key: String,
    pub what: String,
    pub fix: String,
}

/// Every problem found in one config file.
#[derive(Debug)]
pub struct ConfigError {
    pub file: PathBuf,
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            writeln!(f, "error: {}: {}: {}", self.file.display(), p.key, p.what)?;
            write!(f, "  fix: {}", p.fix)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    /// An error with one problem.
    pub fn one(file: &Path, key: &str, what: String, fix: &str) -> ConfigError {
        ConfigError {
            file: file.to_path_buf(),
            problems: vec![Problem {
                key: key.into(),
                what,
                fix: fix.into(),
            }],
        }
    }
}

pub(crate) const REQUIREMENTS: &[&str] =
    &["poc", "versions", "impact", "repro_steps", "fix_suggestion"];

impl Config {
    /// Reads and parses a config file (syntax and types only).
    pub fn load(file: &Path) -> std::result::Result<Config, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|e| {
            ConfigError::one(
                file,
                "(file)",
                format!("cannot read the config file: {e}"),
                "pass an existing file with --config FILE (see config.example.toml)",
            )
        })?;
        Config::from_toml(&text, file)
    }

    /// Parses config text (syntax and types only); `file` names it in errors and
    /// anchors relative paths. Never panics on any input (a fuzz target checks).
    pub fn from_toml(text: &str, file: &Path) -> std::result::Result<Config, ConfigError> {
        let err = |key: &str, what: String, fix: &str| ConfigError::one(file, key, what, fix);
        let mut cfg: Config = toml::from_str(text).map_err(|e| {
            let key = e
                .message()
                .split('`')
                .nth(1)
                .map(str::to_string)
                .or_else(|| e.span().and_then(|s| key_at(text, s.start)))
                .unwrap_or_else(|| "(syntax)".into());
            let span = e
                .span()
                .map(|s| {
                    let before = text.get(..s.start).unwrap_or(text);
                    let line = before.matches('\n').count() + 1;
                    format!(" (line {line})")
                })
                .unwrap_or_default();
            err(
                &key,
                format!("{}{}", e.message().trim(), span),
                "compare with config.example.toml, which documents every key",
            )
        })?;
        cfg.file = file.to_path_buf();
        cfg.base_dir = file
            .parent()
            .map(Path::to_path_buf)
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("."));
        let resolved: Vec<Option<PathBuf>> = cfg
            .mailboxes
            .iter()
            .map(|m| m.tls_ca_file.as_ref().map(|p| cfg.resolve(p)))
            .collect();
        for (m, r) in cfg.mailboxes.iter_mut().zip(resolved) {
            m.tls_ca_file = r;
        }
        cfg.outbox.tls_ca_file = cfg.outbox.tls_ca_file.as_ref().map(|p| cfg.resolve(p));
        Ok(cfg)
    }

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

    /// Checks everything that can be checked without the network:
    /// files exist, keys unlock, policies referenced exist, values make sense.
    /// Every problem of the settings themselves (not the key files: those are read by
    /// [`crate::read::keys::validate`], which calls this). Touches nothing.
    pub fn problems(&self) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.keys.passphrase_file.is_some() && self.keys.passphrase_env.is_some() {
            problems.push(Problem {
                key: "keys.passphrase_env".into(),
                what: "both keys.passphrase_file and keys.passphrase_env are set".into(),
                fix: "keep only one of them".into(),
            });
        }
        for check in [
            Self::path_problems,
            Self::limit_problems,
            Self::store_problems,
            Self::mailbox_problems,
            Self::policy_problems,
            Self::outbox_problems,
            Self::schedule_problems,
        ] {
            check(self, &mut problems);
        }
        problems
    }

    /// Paths naming an unset `${VAR}`.
    fn path_problems(&self, problems: &mut Vec<Problem>) {
        // A path naming an unset ${VAR} would silently become another path.
        let secrets = self.keys.secret.paths();
        let mut paths: Vec<(String, &Path)> =
            vec![("store.path".into(), self.store.path.as_path())];
        paths.extend(
            secrets
                .iter()
                .map(|p| ("keys.secret".to_string(), p.as_path())),
        );
        for (k, p) in [
            ("keys.passphrase_file", &self.keys.passphrase_file),
            ("keys.reporter_keyring", &self.keys.reporter_keyring),
        ] {
            if let Some(p) = p {
                paths.push((k.into(), p.as_path()));
            }
        }
        for (i, m) in self.mailboxes.iter().enumerate() {
            if let Some(p) = &m.path {
                paths.push((format!("mailbox[{i}].path"), p.as_path()));
            }
        }
        for (key, p) in paths {
            let unset = unset_vars(&p.to_string_lossy());
            if !unset.is_empty() {
                problems.push(Problem {
                    key,
                    what: format!(
                        "{} names ${{{}}}, which is not set in the environment",
                        p.display(),
                        unset.join("}, ${")
                    ),
                    fix: "set the variable (under systemd, LoadCredential= sets ${CREDENTIALS_DIRECTORY} and StateDirectory= sets ${STATE_DIRECTORY}) or write the path out".into(),
                });
            }
        }
    }

    /// Zero limits.
    fn limit_problems(&self, problems: &mut Vec<Problem>) {
        // Zero limits would refuse every message (or read none of it): never what is meant.
        let l = &self.limits;
        for (key, v) in [
            ("limits.max_message_size", l.max_message_size.0),
            ("limits.max_decrypted_size", l.max_decrypted_size.0),
            ("limits.max_mime_depth", l.max_mime_depth as u64),
            ("limits.max_mime_parts", l.max_mime_parts as u64),
            ("limits.max_attachments", l.max_attachments as u64),
            ("limits.max_header_line", l.max_header_line.0),
            ("limits.time_budget", l.time_budget.secs().max(0) as u64),
            ("limits.reader_memory", l.reader_memory.0),
            ("limits.readers", l.readers as u64),
            ("limits.batch_bytes", l.batch_bytes.0),
            ("limits.classify_bytes", l.classify_bytes.0),
            ("limits.stream_above", l.stream_above.0),
            ("limits.max_key_user_ids", l.max_key_user_ids as u64),
            ("limits.max_key_subkeys", l.max_key_subkeys as u64),
            ("limits.max_pkesks", l.max_pkesks as u64),
        ] {
            if v == 0 {
                problems.push(Problem {
                    key: key.into(),
                    what: "is 0, which would refuse or cut every message".into(),
                    fix: format!(
                        "remove {key} to use the default, or give a positive value (see config.example.toml)"
                    ),
                });
            }
        }
    }

    /// The store's directory (checked, never created).
    fn store_problems(&self, problems: &mut Vec<Problem>) {
        let store = self.store_path();
        // Validation has no side effects: the directory is created when the store is
        // opened; here it is enough that its nearest existing ancestor is a directory.
        let creatable = |dir: &Path| {
            dir.ancestors()
                .find(|a| a.exists())
                .is_some_and(|a| a.is_dir())
        };
        if let Some(dir) = store.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.exists()
            && !creatable(dir)
        {
            problems.push(Problem {
                key: "store.path".into(),
                what: format!(
                    "the directory {} does not exist and cannot be created",
                    dir.display()
                ),
                fix:
                    "create it (under systemd: StateDirectory=triaged) or choose another store.path"
                        .into(),
            });
        }
    }

    /// The mailboxes.
    fn mailbox_problems(&self, problems: &mut Vec<Problem>) {
        if self.mailboxes.is_empty() {
            problems.push(Problem {
                key: "mailbox".into(),
                what: "no [[mailbox]] is configured".into(),
                fix: "add a [[mailbox]] table with name, kind and path (see config.example.toml)"
                    .into(),
            });
        }
        let mut names = std::collections::HashSet::new();
        for (i, m) in self.mailboxes.iter().enumerate() {
            let k = format!("mailbox[{i}]");
            if !names.insert(m.name.clone()) {
                problems.push(Problem {
                    key: format!("{k}.name"),
                    what: format!("the mailbox name {:?} is used twice", m.name),
                    fix: "give every [[mailbox]] a unique name".into(),
                });
            }
            if m.name.trim().is_empty() {
                problems.push(Problem {
                    key: format!("{k}.name"),
                    what: "the mailbox name is empty".into(),
                    fix: "set name = \"security\" (or any unique label)".into(),
                });
            }
            match m.kind {
                MailboxKind::Maildir => match &m.path {
                    None => problems.push(Problem {
                        key: format!("{k}.path"),
                        what: "a maildir mailbox needs a path".into(),
                        fix:
                            "set path = \"/var/mail/security\" (the folder holding new/ cur/ tmp/)"
                                .into(),
                    }),
                    Some(p) => {
                        let p = self.resolve(p);
                        if !p.join("new").is_dir() && !p.join("cur").is_dir() && p.exists() {
                            problems.push(Problem {
                                key: format!("{k}.path"),
                                what: format!("{} exists but is not a Maildir (no new/ or cur/)", p.display()),
                                fix: "point path at a Maildir folder, or remove the folder so triaged creates it".into(),
                            });
                        }
                    }
                },
                MailboxKind::Imap => {
                    match &m.host {
                        None => problems.push(Problem {
                            key: format!("{k}.host"),
                            what: "an imap mailbox needs a host".into(),
                            fix: "set host = \"imap.example.org\"".into(),
                        }),
                        Some(h) if m.tls == TlsMode::Plain && !is_loopback(h) => problems.push(Problem {
                            key: format!("{k}.tls"),
                            what: format!("tls = \"plain\" would send the password to {h} unencrypted"),
                            fix: "use tls = \"implicit\" (port 993) or \"starttls\"; plain is allowed only to a loopback address".into(),
                        }),
                        Some(_) => {}
                    }
                    if m.user.is_none() {
                        problems.push(Problem {
                            key: format!("{k}.user"),
                            what: "an imap mailbox needs a user".into(),
                            fix: "set user = \"security@example.org\"".into(),
                        });
                    }
                    if let Err(p) = m.imap_password(self) {
                        problems.push(p);
                    }
                    if m.password.is_some() {
                        use std::os::unix::fs::PermissionsExt;
                        let mode = std::fs::metadata(&self.file)
                            .map(|md| md.permissions().mode() & 0o077)
                            .unwrap_or(0o077);
                        if mode != 0 {
                            problems.push(Problem {
                                key: format!("{k}.password"),
                                what: format!(
                                    "a password is written in {}, which others can read",
                                    self.file.display()
                                ),
                                fix: format!(
                                    "use password_file instead, or `chmod 600 {}`",
                                    self.file.display()
                                ),
                            });
                        }
                    }
                    if m.batch == 0 {
                        problems.push(Problem {
                            key: format!("{k}.batch"),
                            what: "batch must be at least 1".into(),
                            fix: "use e.g. batch = 200 (the default)".into(),
                        });
                    }
                    if m.idle_refresh.secs() <= 0 || m.idle_refresh.secs() > 29 * 60 {
                        problems.push(Problem {
                            key: format!("{k}.idle_refresh"),
                            what: "idle_refresh must be between 1s and 29m (RFC 2177)".into(),
                            fix: "use e.g. \"5m\"".into(),
                        });
                    }
                }
            }
            if m.poll_interval.secs() <= 0 {
                problems.push(Problem {
                    key: format!("{k}.poll_interval"),
                    what: "poll_interval must be positive".into(),
                    fix: "use e.g. \"5s\"".into(),
                });
            }
            if m.policy != "default" && !self.policy.contains_key(&m.policy) {
                problems.push(Problem {
                    key: format!("{k}.policy"),
                    what: format!("no [policy.{}] is defined", m.policy),
                    fix: format!(
                        "add a [policy.{}] table or use one of: {}",
                        m.policy,
                        self.policy.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
    }

    /// The policies.
    fn policy_problems(&self, problems: &mut Vec<Problem>) {
        for (name, p) in &self.policy {
            for r in &p.require {
                if !REQUIREMENTS.contains(&r.as_str()) {
                    problems.push(Problem {
                        key: format!("policy.{name}.require"),
                        what: format!("unknown requirement {r:?}"),
                        fix: format!("use any of: {}", REQUIREMENTS.join(", ")),
                    });
                }
            }
            if p.ack_within.secs() <= 0 {
                problems.push(Problem {
                    key: format!("policy.{name}.ack_within"),
                    what: "the acknowledgment window must be positive".into(),
                    fix: "use e.g. \"48h\"".into(),
                });
            }
            if let Some(t) = &p.templates
                && !self.resolve(t).is_dir()
            {
                problems.push(Problem {
                    key: format!("policy.{name}.templates"),
                    what: format!("{} is not a folder", self.resolve(t).display()),
                    fix: "create it with the reply templates (NAME.txt), or remove the key to use the built-in ones".into(),
                });
            }
            for (i, row) in p.supported_versions.iter().enumerate() {
                if let Err(e) = crate::domain::version::VersionRange::parse(&row.range) {
                    problems.push(Problem {
                        key: format!("policy.{name}.supported_versions[{i}].range"),
                        what: e,
                        fix: "write a range such as \">= 2.0\", \"< 1.4\", \"2.3.x\", \"1.2 - 1.4\", \"latest\", \"latest-1\" or \"*\"".into(),
                    });
                }
            }
            if let Some(l) = &p.latest
                && crate::domain::version::Version::parse(l).is_none()
            {
                problems.push(Problem {
                    key: format!("policy.{name}.latest"),
                    what: format!("{l:?} is not a version"),
                    fix: "write the current release as numbers, e.g. latest = \"2.8.4\" (rows such as \"latest\" and \"latest-1\" are counted from it)".into(),
                });
            }
        }
    }

    /// The outbox (transport, sender, escalation).
    fn outbox_problems(&self, problems: &mut Vec<Problem>) {
        match self.outbox.transport {
            Transport::File => {
                if self.outbox.dir.is_none() {
                    problems.push(Problem {
                        key: "outbox.dir".into(),
                        what: "the file transport needs a folder to write .eml files into".into(),
                        fix: "set outbox.dir = \"/var/lib/triaged/outbox\"".into(),
                    });
                }
            }
            Transport::Smtp => {
                match &self.outbox.host {
                    None => problems.push(Problem {
                        key: "outbox.host".into(),
                        what: "the smtp transport needs a host".into(),
                        fix: "set outbox.host = \"smtp.example.org\"".into(),
                    }),
                    Some(h) if self.outbox.tls == TlsMode::Plain && !is_loopback(h) => problems.push(Problem {
                        key: "outbox.tls".into(),
                        what: format!("tls = \"plain\" to {h} would send mail and credentials unencrypted"),
                        fix: "use tls = \"implicit\" (465) or \"starttls\" (587); plain only to a loopback relay".into(),
                    }),
                    Some(_) => {}
                }
                if let Err(p) = self.outbox.smtp_password(self) {
                    problems.push(p);
                }
            }
        }
        if self.outbox.from.is_none() && self.outbox.auto_ack {
            problems.push(Problem {
                key: "outbox.from".into(),
                what: "acknowledgments need a From address".into(),
                fix: "set outbox.from = \"security@example.org\" (or auto_ack = false)".into(),
            });
        }
        if !(0.0..1.0).contains(&self.outbox.escalate_at) || self.outbox.escalate_at == 0.0 {
            problems.push(Problem {
                key: "outbox.escalate_at".into(),
                what: "escalate_at is a share of the window between 0 and 1".into(),
                fix: "use e.g. 0.75 (escalate when three quarters of the window has passed)".into(),
            });
        }
    }

    /// The cron schedules.
    fn schedule_problems(&self, problems: &mut Vec<Problem>) {
        if let Err(e) = <cron::Schedule as std::str::FromStr>::from_str(&self.schedule.sla_sweep) {
            problems.push(Problem {
                key: "schedule.sla_sweep".into(),
                what: format!("invalid cron expression {:?}: {e}", self.schedule.sla_sweep),
                fix: "use six fields, sec min hour day month weekday, e.g. \"0 */5 * * * *\""
                    .into(),
            });
        }
    }
}

impl Config {
    /// `run` refuses to start when the secret key, its passphrase or the database can be
    /// read by other users: each such file is a problem with the chmod that fixes it.
    pub(crate) fn permission_problems(&self) -> Vec<Problem> {
        use std::os::unix::fs::PermissionsExt;
        let mut out = Vec::new();
        let mut files: Vec<(&str, PathBuf)> = Vec::new();
        if !self.keys.allow_readable_by_others {
            files.extend(
                self.keys
                    .secret
                    .paths()
                    .iter()
                    .map(|p| ("keys.secret", self.resolve(p))),
            );
            if let Some(p) = &self.keys.passphrase_file {
                files.push(("keys.passphrase_file", self.resolve(p)));
            }
        }
        files.push(("store.path", self.store_path()));
        for (key, path) in files {
            if let Ok(md) = std::fs::metadata(&path) {
                let mode = md.permissions().mode() & 0o777;
                if mode & 0o007 != 0 {
                    out.push(Problem {
                        key: key.into(),
                        what: format!(
                            "{} is readable by other users (mode {mode:04o})",
                            path.display()
                        ),
                        fix: format!(
                            "chmod 600 {} (and chown it to the service user)",
                            path.display()
                        ),
                    });
                }
            }
        }
        out
    }
}

/// The dotted key (`limits.max_pkesks`, `mailbox.batch`) whose value starts near
/// `offset`: the `key =` on that line under the nearest `[table]` above it.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let (before, _) = text.split_at_checked(offset.min(text.len()))?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let (above, from_line) = text.split_at_checked(line_start)?;
    let line = from_line.lines().next().unwrap_or("");
    let (k, _) = line.split_once('=')?;
    let k = k.trim().trim_matches('"');
    if k.is_empty() || k.starts_with('[') {
        return None;
    }
    let table = above.lines().rev().find_map(|l| {
        let l = l.trim();
        l.starts_with('[')
            .then(|| l.trim_matches(['[', ']']).trim().to_string())
    });
    Some(match table {
        Some(t) if !t.is_empty() => format!("{t}.{k}"),
        _ => k.to_string(),
    })
}

/// Splits `text` at its first `${NAME}`: (before, NAME, after), or None.
fn next_var(text: &str) -> Option<(&str, &str, &str)> {
    let (before, tail) = text.split_once("${")?;
    let (name, after) = tail.split_once('}')?;
    Some((before, name, after))
}

/// The `${VAR}` names in `s` that are not set in the environment.
fn unset_vars(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some((_, name, after)) = next_var(rest) {
        if std::env::var_os(name).is_none() {
            out.push(name.to_string());
        }
        rest = after;
    }
    out
}

/// Expands `${VAR}` in a path (for `${CREDENTIALS_DIRECTORY}` and `${STATE_DIRECTORY}`).
/// An unset variable expands to nothing here; `validate` refuses such a path first.
fn expand_env(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    // An unterminated `${` is kept as written (the loop ends and `rest` is pushed).
    while let Some((before, name, after)) = next_var(rest) {
        out.push_str(before);
        out.push_str(&std::env::var(name).unwrap_or_default());
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(Duration::parse("48h").unwrap().secs(), 172_800);
        assert_eq!(Duration::parse("7d").unwrap().secs(), 604_800);
        assert_eq!(Duration::parse("1d12h").unwrap().secs(), 129_600);
        assert_eq!(Duration::parse("90s").unwrap().secs(), 90);
        assert_eq!(Duration::parse("2w").unwrap().secs(), 1_209_600);
        assert!(Duration::parse("48").unwrap_err().contains("missing unit"));
        assert!(Duration::parse("48x").unwrap_err().contains("unknown unit"));
        assert!(Duration::parse("h").is_err());
        assert!(Duration::parse("").is_err());
        assert_eq!(Duration::from_secs(172_800).to_string(), "2d");
        assert_eq!(Duration::from_secs(7200).to_string(), "2h");
        // Business days skip the weekend: Friday 2026-11-27 10:00 UTC + 1bd = Monday 10:00.
        let fri = 1_795_773_600;
        let bd = Duration::parse("1bd").unwrap();
        assert_eq!(bd.to_string(), "1bd");
        assert_eq!(bd.after(fri), fri + 3 * 86_400);
        assert_eq!(Duration::parse("4bd").unwrap().after(fri), fri + 6 * 86_400);
        assert!(Duration::parse("xbd").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(Size::parse("25MiB").unwrap().0, 25 * 1024 * 1024);
        assert_eq!(Size::parse("512k").unwrap().0, 512 * 1024);
        assert_eq!(Size::parse("100").unwrap().0, 100);
        assert!(Size::parse("5 parsecs").is_err());
    }

    #[test]
    fn env_expansion() {
        // SAFETY: single-threaded test setting a variable only it reads.
        unsafe { std::env::set_var("TRIAGED_TEST_EXPAND", "/run/creds") };
        assert_eq!(
            expand_env("${TRIAGED_TEST_EXPAND}/pass"),
            "/run/creds/pass".to_string()
        );
        assert_eq!(expand_env("plain/path"), "plain/path");
    }
}
