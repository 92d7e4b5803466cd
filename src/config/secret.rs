//! Where an IMAP mailbox's or the SMTP relay's secret comes from, and how it is used
//! to log in.
//!
//! The secret is a password, or with `auth = "xoauth2"` / `"oauthbearer"` an OAuth 2.0
//! access token (Microsoft 365 and Google Workspace accept nothing else for IMAP and
//! SMTP). It is read from a file, an environment variable, the config itself, or the
//! standard output of `password_command` (run each time a connection logs in, so a
//! helper that refreshes short-lived tokens is asked again for every login). This
//! module never logs a secret, and it never runs the command while validating.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::Problem;

/// How a connection authenticates.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum AuthMech {
    /// IMAP LOGIN, SMTP AUTH PLAIN or LOGIN, with a password.
    #[default]
    Password,
    /// SASL XOAUTH2 (Google's and Microsoft's) with an access token.
    Xoauth2,
    /// SASL OAUTHBEARER (RFC 7628) with an access token (IMAP only).
    Oauthbearer,
}

impl AuthMech {
    pub fn is_token(self) -> bool {
        self != AuthMech::Password
    }

    /// What the secret is called in messages.
    pub fn secret_word(self) -> &'static str {
        if self.is_token() {
            "access token"
        } else {
            "password"
        }
    }
}

/// Where the secret is read, resolved against the config file's directory.
#[derive(Debug, Clone)]
pub enum Source {
    File(PathBuf),
    Env(String),
    Command(Vec<String>),
    Inline(String),
    None,
}

/// Longest a `password_command` may run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

impl Source {
    /// Reads the secret (runs the command). `key` names the config section in problems.
    pub fn read(&self, key: &str) -> Result<Option<String>, Problem> {
        match self {
            Source::File(p) => std::fs::read_to_string(p)
                .map(|s| Some(s.trim_end_matches(['\r', '\n']).to_string()))
                .map_err(|e| Problem {
                    key: format!("{key}.password_file"),
                    what: format!("cannot read {}: {e}", p.display()),
                    fix: "point password_file at a readable file holding only the secret".into(),
                }),
            Source::Env(v) => std::env::var(v).map(Some).map_err(|_| Problem {
                key: format!("{key}.password_env"),
                what: format!("the environment variable {v} is not set"),
                fix: format!("export {v}=… before starting triaged, or use password_file"),
            }),
            Source::Command(argv) => run(argv).map(Some).map_err(|what| Problem {
                key: format!("{key}.password_command"),
                what,
                fix: "run the command by hand as the service user: it must print the secret (a password or a current access token) on its first line and exit 0".into(),
            }),
            Source::Inline(s) => Ok(Some(s.clone())),
            Source::None => Ok(None),
        }
    }

    /// [`Self::read`] for async code: a command runs on tokio's blocking pool (it may
    /// take up to [`COMMAND_TIMEOUT`]), never on the calling worker thread.
    pub async fn read_async(&self, key: &str) -> Result<Option<String>, Problem> {
        let Source::Command(_) = self else {
            return self.read(key);
        };
        let (me, k) = (self.clone(), key.to_string());
        tokio::task::spawn_blocking(move || me.read(&k))
            .await
            .map_err(|e| Problem {
                key: format!("{key}.password_command"),
                what: format!("running the command failed: {e}"),
                fix: "run the command by hand as the service user".into(),
            })?
    }

    /// What validation may check without side effects: a file or variable is read, a
    /// command is only looked up (it must name an executable file).
    pub fn check(&self, key: &str) -> Result<(), Problem> {
        match self {
            Source::Command(argv) => {
                let Some(program) = argv.first().filter(|p| !p.is_empty()) else {
                    return Err(Problem {
                        key: format!("{key}.password_command"),
                        what: "the command is empty".into(),
                        fix: "password_command = [\"/usr/local/bin/mail-token\", \"security@example.org\"]".into(),
                    });
                };
                if executable(program) {
                    Ok(())
                } else {
                    Err(Problem {
                        key: format!("{key}.password_command"),
                        what: format!("{program} is not an executable file (nor found on PATH)"),
                        fix: "give the program's absolute path, and make it executable".into(),
                    })
                }
            }
            other => other.read(key).map(|_| ()),
        }
    }
}

fn executable(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let is_exec = |p: &std::path::Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        return is_exec(std::path::Path::new(program));
    }
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|d| is_exec(&d.join(program))))
}

/// Runs `argv` (no shell), waits at most [`COMMAND_TIMEOUT`], and returns the first
/// line of its output. Errors say how it failed and show its standard error (never its
/// standard output, which may hold a secret).
fn run(argv: &[String]) -> Result<String, String> {
    let (program, args) = argv.split_first().ok_or("the command is empty")?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let mut stdout = child.stdout.take().ok_or("no standard output")?;
    let mut stderr = child.stderr.take().ok_or("no standard error")?;
    let out = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = stdout.by_ref().take(64 * 1024).read_to_end(&mut b);
        b
    });
    let err = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = stderr.by_ref().take(4096).read_to_end(&mut b);
        b
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() < COMMAND_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(10))
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{program} did not finish within {} s (killed)",
                    COMMAND_TIMEOUT.as_secs()
                ));
            }
            Err(e) => return Err(format!("waiting for {program}: {e}")),
        }
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    let err = String::from_utf8_lossy(&err);
    let err = err.trim();
    let said = if err.is_empty() {
        String::new()
    } else {
        format!(": {}", err.chars().take(300).collect::<String>())
    };
    if !status.success() {
        return Err(format!("{program} failed ({status}){said}"));
    }
    let line = String::from_utf8_lossy(&out)
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    if line.is_empty() {
        return Err(format!("{program} printed nothing{said}"));
    }
    Ok(line)
}

/// The initial client response of a SASL token mechanism, before base64.
pub fn sasl_token_response(
    mech: AuthMech,
    user: &str,
    token: &str,
    host: &str,
    port: u16,
) -> String {
    match mech {
        AuthMech::Oauthbearer => {
            format!("n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01")
        }
        _ => format!("user={user}\x01auth=Bearer {token}\x01\x01"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_command_gives_its_first_line_and_failures_name_the_program_not_the_output() {
        let ok = Source::Command(vec![
            "sh".into(),
            "-c".into(),
            "printf 'tok3n\\nsecond line\\n'".into(),
        ]);
        assert_eq!(ok.read("mailbox").unwrap().as_deref(), Some("tok3n"));
        let failing = Source::Command(vec![
            "sh".into(),
            "-c".into(),
            "echo leaked-secret; echo 'token expired' >&2; exit 3".into(),
        ]);
        let p = failing.read("mailbox \"security\"").unwrap_err();
        assert_eq!(p.key, "mailbox \"security\".password_command");
        assert!(
            p.what.contains("sh failed") && p.what.contains("token expired"),
            "{}",
            p.what
        );
        assert!(!p.what.contains("leaked-secret"), "{}", p.what);
        let silent = Source::Command(vec!["true".into()]);
        assert!(
            silent
                .read("x")
                .unwrap_err()
                .what
                .contains("printed nothing")
        );
    }

    /// On a runtime with one thread, a slow helper read in async code must leave the
    /// thread free: a timer started beside it fires first. (Run on the calling thread,
    /// the helper's 2 s would pass before the 100 ms timer is polled again.)
    #[test]
    fn a_slow_command_read_in_async_code_leaves_the_runtime_free() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let slow = Source::Command(vec!["sh".into(), "-c".into(), "sleep 2; echo tok".into()]);
        let first = rt.block_on(async {
            tokio::select! {
                biased;
                r = slow.read_async("mailbox") => format!("helper: {r:?}"),
                _ = tokio::time::sleep(Duration::from_millis(100)) => "timer".to_string(),
            }
        });
        assert_eq!(first, "timer");
        let read = rt.block_on(slow.read_async("mailbox")).unwrap();
        assert_eq!(read.as_deref(), Some("tok"));
        let inline = Source::Inline("pw".into());
        assert_eq!(
            rt.block_on(inline.read_async("m")).unwrap().as_deref(),
            Some("pw")
        );
    }

    #[test]
    fn checking_a_command_only_looks_it_up() {
        let marker = std::env::temp_dir().join(format!("triaged-secret-{}", std::process::id()));
        let cmd = Source::Command(vec![
            "sh".into(),
            "-c".into(),
            format!("touch {}", marker.display()),
        ]);
        cmd.check("x").unwrap();
        assert!(!marker.exists(), "check ran the command");
        let missing = Source::Command(vec!["/nonexistent/mail-token".into()]);
        assert!(
            missing
                .check("x")
                .unwrap_err()
                .what
                .contains("not an executable")
        );
        assert!(Source::Command(vec![]).check("x").is_err());
    }

    #[test]
    fn sasl_responses_are_as_google_microsoft_and_rfc_7628_spell_them() {
        assert_eq!(
            sasl_token_response(AuthMech::Xoauth2, "a@b.c", "T", "h", 993),
            "user=a@b.c\x01auth=Bearer T\x01\x01"
        );
        assert_eq!(
            sasl_token_response(AuthMech::Oauthbearer, "a@b.c", "T", "imap.b.c", 993),
            "n,a=a@b.c,\x01host=imap.b.c\x01port=993\x01auth=Bearer T\x01\x01"
        );
    }
}
