//! `triaged doctor`: one line per check, in plain words, with the fix.
//!
//! Checks the configuration, the store, the team keys (fingerprint, expiry, a
//! warning 30 days ahead), file permissions, every IMAP mailbox (login, IDLE,
//! folder) and the SMTP relay (connection, EHLO, authentication).

use serde::Serialize;

use crate::config::{Config, MailboxKind, Transport};

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Ok,
    Warn,
    Fail,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "fail",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub status: CheckStatus,
    pub check: String,
    pub detail: String,
    pub fix: Option<String>,
}

const RECOVER: &str = "stop triaged, keep a copy of the file, then recover with `sqlite3 DB .recover | sqlite3 NEW` and point store.path at NEW; mail stays in the mailbox until it is committed";

fn check(status: CheckStatus, name: &str, detail: impl Into<String>, fix: Option<&str>) -> Check {
    Check {
        status,
        check: name.into(),
        detail: detail.into(),
        fix: fix.map(str::to_string),
    }
}

/// Runs every check; never stops at the first failure.
pub fn run(cfg: &Config) -> Vec<Check> {
    let mut out = Vec::new();
    for section in [config_checks, store_check, key_checks, network_checks] {
        section(cfg, &mut out);
    }
    out
}

/// The configuration and the permissions of the files it names.
fn config_checks(cfg: &Config, out: &mut Vec<Check>) {
    match crate::read::keys::validate(cfg) {
        Ok(_) => out.push(check(
            CheckStatus::Ok,
            "config",
            format!("{} is valid", cfg.file.display()),
            None,
        )),
        Err(e) => {
            for p in e.problems {
                out.push(check(
                    CheckStatus::Fail,
                    "config",
                    format!("{}: {}", p.key, p.what),
                    Some(&p.fix),
                ));
            }
        }
    }
    for p in cfg.permission_problems() {
        out.push(check(
            CheckStatus::Fail,
            "permissions",
            format!("{}: {}", p.key, p.what),
            Some(&p.fix),
        ));
    }
}

/// The store opens, migrates and passes SQLite's page check.
fn store_check(cfg: &Config, out: &mut Vec<Check>) {
    match crate::store::Store::open(&cfg.store_path()) {
        Ok(s) => {
            // A damaged file can open and even count rows: ask SQLite to check its pages.
            let damage = match s.quick_check() {
                Ok(rows) if rows == ["ok"] => None,
                Ok(rows) => Some(rows.join("; ")),
                Err(e) => Some(format!("{e:#}")),
            };
            if let Some(d) = damage {
                out.push(check(
                    CheckStatus::Fail,
                    "store",
                    format!(
                        "{} is damaged (PRAGMA quick_check): {}",
                        cfg.store_path().display(),
                        d.chars().take(400).collect::<String>()
                    ),
                    Some(RECOVER),
                ));
            } else {
                let n = crate::store::count_cases(s.db(), None).unwrap_or(0);
                out.push(check(
                    CheckStatus::Ok,
                    "store",
                    format!(
                        "{} (schema {}, {n} cases)",
                        cfg.store_path().display(),
                        s.schema_version().unwrap_or(0)
                    ),
                    None,
                ));
            }
        }
        Err(e) => {
            let text = format!("{e:#}");
            let damaged = text.contains("malformed") || text.contains("not a database");
            out.push(check(
                CheckStatus::Fail,
                "store",
                if damaged {
                    format!("{} is damaged: {text}", cfg.store_path().display())
                } else {
                    text
                },
                Some(if damaged {
                    RECOVER
                } else {
                    "check store.path and its directory's permissions"
                }),
            ))
        }
    }
}

/// The team keys: readable, unlocked, not expired or expiring soon.
fn key_checks(cfg: &Config, out: &mut Vec<Check>) {
    match crate::read::keys::team_keys(cfg) {
        Ok(keys) => {
            let now = crate::store::now();
            for k in keys.info() {
                let uid = k.user_ids.first().cloned().unwrap_or_default();
                match k.expires {
                    Some(t) if t <= now => out.push(check(
                        CheckStatus::Fail,
                        "team key",
                        format!(
                            "{} ({uid}) expired on {}",
                            k.fingerprint,
                            crate::store::rfc3339(t)
                        ),
                        Some(&format!(
                            "extend it: gpg --quick-set-expire {} 1y, then export it again",
                            k.fingerprint
                        )),
                    )),
                    Some(t) if t - now < 30 * 86_400 => out.push(check(
                        CheckStatus::Warn,
                        "team key",
                        format!(
                            "{} ({uid}) expires on {} (in {} days)",
                            k.fingerprint,
                            crate::store::rfc3339(t),
                            (t - now) / 86_400
                        ),
                        Some(&format!(
                            "extend it soon: gpg --quick-set-expire {} 1y",
                            k.fingerprint
                        )),
                    )),
                    exp => out.push(check(
                        CheckStatus::Ok,
                        "team key",
                        format!(
                            "{} ({uid}), {} decryption subkey(s), {}",
                            k.fingerprint,
                            k.decryption_subkeys,
                            exp.map(|t| format!("expires {}", crate::store::rfc3339(t)))
                                .unwrap_or_else(|| "no expiry".into())
                        ),
                        None,
                    )),
                }
            }
            for k in keys.info().iter().filter(|k| k.librepgp_aead) {
                out.push(check(
                    CheckStatus::Warn,
                    "team key",
                    format!(
                        "{} advertises GnuPG's \"AEAD\" feature: GnuPG 2.3 and later will encrypt reports to it with their OCB packet, which is not OpenPGP and which triaged cannot decrypt (such reports become undecryptable cases)",
                        k.fingerprint
                    ),
                    Some(&crate::read::crypto::LIBREPGP_AEAD_FIX.replace("FPR", &k.fingerprint)),
                ));
            }
            if !keys.can_sign() {
                out.push(check(
                    CheckStatus::Fail,
                    "team key",
                    "no valid signing key: acknowledgments cannot be signed",
                    Some("add or renew a signing subkey"),
                ));
            }
        }
        Err(problems) => {
            for p in problems {
                out.push(check(
                    CheckStatus::Fail,
                    "team key",
                    format!("{}: {}", p.key, p.what),
                    Some(&p.fix),
                ));
            }
        }
    }
}

/// Each IMAP login (IDLE, the folder) and the SMTP relay.
fn network_checks(cfg: &Config, out: &mut Vec<Check>) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            out.push(check(CheckStatus::Fail, "runtime", e.to_string(), None));
            return;
        }
    };
    for mb in cfg.mailboxes.iter().filter(|m| m.kind == MailboxKind::Imap) {
        let name = format!("imap {}", mb.name);
        let password = match mb.imap_password(cfg) {
            Ok(p) => p,
            Err(p) => {
                out.push(check(CheckStatus::Fail, &name, p.what, Some(&p.fix)));
                continue;
            }
        };
        let res = rt.block_on(async {
            let mut s = tokio::time::timeout(
                std::time::Duration::from_secs(20),
                crate::net::imap::connect(mb, &password),
            )
            .await
            .map_err(|_| anyhow::anyhow!("no answer within 20 s"))??;
            let idle = s
                .capabilities()
                .await
                .map(|c| c.has_str("IDLE"))
                .unwrap_or(false);
            let sel = s.examine(&mb.folder).await;
            let _ = s.logout().await;
            anyhow::Ok((idle, sel.map(|m| m.exists)))
        });
        match res {
            Ok((idle, Ok(n))) => out.push(check(
                CheckStatus::Ok,
                &name,
                format!(
                    "logged in as {} on {}, folder {:?} has {n} message(s), {}",
                    mb.user.as_deref().unwrap_or("?"),
                    mb.host.as_deref().unwrap_or("?"),
                    mb.folder,
                    if idle {
                        "IDLE supported"
                    } else {
                        "no IDLE: polling every poll_interval"
                    }
                ),
                None,
            )),
            Ok((_, Err(e))) => out.push(check(
                CheckStatus::Fail,
                &name,
                format!("the folder {:?} cannot be opened: {e}", mb.folder),
                Some("create it, or set the mailbox's folder to an existing one"),
            )),
            Err(e) => {
                let msg = format!("{e:#}");
                let fix = if msg.contains("login") {
                    "check the mailbox's user and password (password_file / password_env)"
                } else {
                    "check host, port and tls for the mailbox, and that the server is up and reachable"
                };
                out.push(check(CheckStatus::Fail, &name, msg, Some(fix)));
            }
        }
    }
    if cfg.outbox.transport == Transport::Smtp {
        let res = rt.block_on(crate::deliver::sender::test_smtp(cfg));
        match res {
            Ok(d) => out.push(check(CheckStatus::Ok, "smtp", d, None)),
            Err(e) => out.push(check(
                CheckStatus::Fail,
                "smtp",
                format!("{e:#}"),
                Some("check outbox.host, port, tls and the credentials, and that the relay is reachable"),
            )),
        }
    }
}
