//! Judging the settings: every problem names the key, what is wrong and the fix. No
//! side effects: files are looked at (metadata, existence), never created or changed.

use std::fmt;
use std::path::{Path, PathBuf};

use super::parse::unset_vars;
use super::{Config, MailboxKind, TlsMode, Transport, is_loopback};

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

const REQUIREMENTS: &[&str] = &["poc", "versions", "impact", "repro_steps", "fix_suggestion"];

impl Config {
    /// Checks everything that can be checked without the network:
    /// files exist, keys unlock, policies referenced exist, values make sense.
    /// Every problem of the settings themselves (not the key files: those are read by
    /// `crate::read::keys::validate`, which calls this). Touches nothing.
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
            if let Some(id) = &m.list_id {
                let bare = id.trim().trim_matches(['<', '>']);
                if bare.is_empty() || bare.contains('@') || bare.contains(char::is_whitespace) {
                    problems.push(Problem {
                        key: format!("{k}.list_id"),
                        what: format!("{id:?} is not a List-Id (RFC 2919: a name such as security.example.org, without '@' or spaces)"),
                        fix: "copy the part between < and > of the List-Id header of a message the list delivered, e.g. list_id = \"security.example.org\"".into(),
                    });
                }
            }
            for (i, a) in m.form_from.iter().enumerate() {
                let a = a.trim();
                let ok = a.split_once('@').is_some_and(|(l, d)| {
                    !l.is_empty() && d.contains('.') && !a.contains(char::is_whitespace)
                });
                if !ok {
                    problems.push(Problem {
                        key: format!("{k}.form_from[{i}]"),
                        what: format!("{a:?} is not an email address"),
                        fix: "list the address the web form sends from, e.g. form_from = [\"wordpress@example.org\"]".into(),
                    });
                }
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
                    let source = m.secret_source(self);
                    if matches!(source, crate::config::SecretSource::None) {
                        problems.push(Problem {
                            key: format!("{k}.password_file"),
                            what: format!("no {} is configured for this IMAP mailbox", m.auth.secret_word()),
                            fix: "set password_file, password_env or password_command for the mailbox".into(),
                        });
                    } else if let Err(p) = source.check(&k) {
                        problems.push(p);
                    }
                    if m.password_command.is_some()
                        && (m.password_file.is_some()
                            || m.password_env.is_some()
                            || m.password.is_some())
                    {
                        problems.push(Problem {
                            key: format!("{k}.password_command"),
                            what: "password_command is set beside another source of the secret".into(),
                            fix: "keep one of password_file, password_env, password_command and password".into(),
                        });
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
                if let Err(p) = self.outbox.secret_source(self).check("outbox") {
                    problems.push(p);
                }
                if self.outbox.auth == crate::config::AuthMech::Oauthbearer {
                    problems.push(Problem {
                        key: "outbox.auth".into(),
                        what: "the SMTP client offers XOAUTH2, not OAUTHBEARER".into(),
                        fix: "set outbox.auth = \"xoauth2\" (Microsoft 365 and Gmail accept it)"
                            .into(),
                    });
                }
                if self.outbox.auth.is_token()
                    && (self.outbox.user.is_none()
                        || matches!(
                            self.outbox.secret_source(self),
                            crate::config::SecretSource::None
                        ))
                {
                    problems.push(Problem {
                        key: "outbox.auth".into(),
                        what: "an OAuth 2.0 login needs a user and an access token".into(),
                        fix: "set outbox.user and outbox.password_command (a helper that prints a current token)".into(),
                    });
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
