//! Test harness shared by the integration tests: a throw-away GnuPG home to
//! make real keys and real encrypted mail with `gpg`, and helpers to write a
//! config and run the `triaged` binary.
#![allow(dead_code)]

pub mod large;
pub mod servers;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

/// A private GNUPGHOME; the agent is killed on drop.
pub struct Gpg {
    pub home: TempDir,
}

impl Default for Gpg {
    fn default() -> Self {
        Self::new()
    }
}

impl Gpg {
    pub fn new() -> Gpg {
        // Short path: gpg-agent's socket path must fit in sun_path.
        let home = tempfile::Builder::new()
            .prefix("tg")
            .tempdir_in("/tmp")
            .expect("temp GNUPGHOME");
        Gpg { home }
    }

    pub fn run(&self, args: &[&str], input: Option<&[u8]>) -> Vec<u8> {
        let mut cmd = Command::new("gpg");
        cmd.env("GNUPGHOME", self.home.path())
            .args([
                "--batch",
                "--yes",
                "--quiet",
                "--pinentry-mode",
                "loopback",
                "--trust-model",
                "always",
            ])
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .expect("gpg must be installed (scripts/prereqs.sh test)");
        // Feed stdin from a thread: gpg writes output while it reads input, and a large
        // output would fill the pipe and deadlock a writer that does not also read.
        let out = std::thread::scope(|s| {
            let mut stdin = child.stdin.take().unwrap();
            s.spawn(move || {
                use std::io::Write;
                if let Some(i) = input {
                    stdin.write_all(i).unwrap();
                }
            });
            child.wait_with_output().unwrap()
        });
        assert!(
            out.status.success(),
            "gpg {:?} failed: {}",
            args,
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Generates a key with a signing primary and an encryption subkey; returns its fingerprint.
    pub fn generate(&self, uid: &str, algo: &str, enc: &str, pass: &str) -> String {
        self.run(
            &[
                "--passphrase",
                pass,
                "--quick-gen-key",
                uid,
                algo,
                "sign",
                "never",
            ],
            None,
        );
        let fpr = self.fingerprint(uid);
        self.run(
            &[
                "--passphrase",
                pass,
                "--quick-add-key",
                &fpr,
                enc,
                "encr",
                "never",
            ],
            None,
        );
        fpr
    }

    /// A key as made around 2009: self-signed with SHA-1 on gpg's fake clock, without
    /// a passphrase; `algo` for the primary key (sign, cert). Returns its fingerprint.
    pub fn generate_2009(&self, uid: &str, algo: &str) -> String {
        self.run(
            &[
                "--faked-system-time",
                "20090101T000000",
                "--cert-digest-algo",
                "SHA1",
                "--passphrase",
                "",
                "--quick-gen-key",
                uid,
                algo,
                "sign,cert",
                "never",
            ],
            None,
        );
        self.fingerprint(uid)
    }

    pub fn fingerprint(&self, uid: &str) -> String {
        let out =
            String::from_utf8(self.run(&["--with-colons", "--list-keys", uid], None)).unwrap();
        out.lines()
            .find(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .expect("fingerprint")
            .to_string()
    }

    pub fn export_secret(&self, fpr: &str, pass: &str) -> Vec<u8> {
        self.run(
            &["--passphrase", pass, "--armor", "--export-secret-keys", fpr],
            None,
        )
    }

    pub fn export_public(&self, fpr: &str) -> Vec<u8> {
        self.run(&["--armor", "--export", fpr], None)
    }

    /// Encrypts (and optionally signs) to the recipients; armored.
    pub fn encrypt(
        &self,
        data: &[u8],
        to: &[&str],
        sign_as: Option<&str>,
        throw_keyids: bool,
    ) -> String {
        let mut args: Vec<&str> = vec!["--armor", "--encrypt"];
        for r in to {
            args.push("-r");
            args.push(r);
        }
        if let Some(s) = sign_as {
            args.extend(["--sign", "-u", s]);
        }
        if throw_keyids {
            args.push("--throw-keyids");
        }
        String::from_utf8(self.run(&args, Some(data))).unwrap()
    }

    /// A reporter's gpg opening an encrypted mail (the first armored PGP MESSAGE in it):
    /// (status lines, plaintext).
    pub fn decrypt_mail(&self, raw: &[u8]) -> (String, String) {
        let text = String::from_utf8_lossy(raw);
        let start = text
            .find("-----BEGIN PGP MESSAGE-----")
            .expect("an encrypted message");
        let end = text.find("-----END PGP MESSAGE-----").unwrap() + 25;
        let armored = text.get(start..end).unwrap().replace("\r\n", "\n");
        let out = std::process::Command::new("gpg")
            .env("GNUPGHOME", self.home.path())
            .args(["--batch", "--status-fd", "2", "--decrypt"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(armored.as_bytes())?;
                c.wait_with_output()
            })
            .unwrap();
        (
            String::from_utf8_lossy(&out.stderr).into_owned(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    pub fn clearsign(&self, data: &[u8], signer: &str) -> String {
        String::from_utf8(self.clearsign_bytes(data, signer)).unwrap()
    }

    /// A clear signature over text in any charset (the output keeps the text's bytes).
    pub fn clearsign_bytes(&self, data: &[u8], signer: &str) -> Vec<u8> {
        self.run(&["--clearsign", "-u", signer], Some(data))
    }

    pub fn detach_sign(&self, data: &[u8], signer: &str) -> String {
        String::from_utf8(self.run(&["--armor", "--detach-sign", "-u", signer], Some(data)))
            .unwrap()
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.home.path())
            .args(["--kill", "gpg-agent"])
            .output();
    }
}

/// Converts to CRLF line endings, as mail travels.
pub fn crlf(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\n', "\r\n")
}

/// Header block for a test message.
pub fn headers(from: &str, subject: &str, msgid: &str, extra: &[&str]) -> String {
    let mut h = format!(
        "From: {from}\nTo: security@example.test\nSubject: {subject}\nDate: Tue, 24 Nov 2026 10:00:00 +0000\nMessage-ID: <{msgid}>\nMIME-Version: 1.0\n"
    );
    for e in extra {
        h.push_str(e);
        h.push('\n');
    }
    h
}

/// A PGP/MIME (RFC 3156 §4) message around an armored ciphertext.
pub fn pgp_mime(headers: &str, ciphertext: &str) -> Vec<u8> {
    crlf(&format!(
        "{headers}Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"XYZ\"\n\n\
         This is an OpenPGP/MIME encrypted message\n\
         --XYZ\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n\
         --XYZ\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\n\n{ciphertext}\n--XYZ--\n"
    ))
    .into_bytes()
}

/// A plain text message.
pub fn plain(headers: &str, body: &str) -> Vec<u8> {
    crlf(&format!(
        "{headers}Content-Type: text/plain; charset=utf-8\n\n{body}"
    ))
    .into_bytes()
}

/// A scratch directory with a Maildir, key files and a config.
pub struct Env {
    pub dir: TempDir,
    pub config: PathBuf,
    /// The delivery time written into Maildir file names: when the Env was made, so that
    /// deadlines computed from it are in the future on whatever day the tests run.
    pub delivered_at: u64,
}

impl Env {
    /// `secrets`: (file name, armored secret key) pairs; `pass`: passphrase or none.
    pub fn new(secrets: &[(&str, &[u8])], pass: Option<&str>, extra: &str) -> Env {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        use std::os::unix::fs::PermissionsExt;
        for (name, bytes) in secrets {
            std::fs::write(dir.path().join(name), bytes).unwrap();
            std::fs::set_permissions(
                dir.path().join(name),
                std::fs::Permissions::from_mode(0o600),
            )
            .unwrap();
            files.push(format!("\"{name}\""));
        }
        let pass_line = match pass {
            Some(p) => {
                std::fs::write(dir.path().join("passphrase"), format!("{p}\n")).unwrap();
                std::fs::set_permissions(
                    dir.path().join("passphrase"),
                    std::fs::Permissions::from_mode(0o600),
                )
                .unwrap();
                "passphrase_file = \"passphrase\"\n"
            }
            None => "",
        };
        let config = dir.path().join("triaged.toml");
        std::fs::write(
            &config,
            format!(
                "[store]\npath = \"state/triaged.db\"\n\n[keys]\nsecret = [{}]\n{pass_line}\n\
                 [[mailbox]]\nname = \"security\"\nkind = \"maildir\"\npath = \"Maildir\"\n\n\
                 [outbox]\ntransport = \"file\"\ndir = \"outbox\"\nfrom = \"security@example.test\"\nteam = \"team@example.test\"\n\n{extra}",
                files.join(", ")
            ),
        )
        .unwrap();
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(dir.path().join("Maildir").join(sub)).unwrap();
        }
        let delivered_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        Env {
            dir,
            config,
            delivered_at,
        }
    }

    pub fn maildir(&self) -> PathBuf {
        self.dir.path().join("Maildir")
    }

    /// Delivers a message into Maildir/new with a given name. Every delivery of one Env carries
    /// the same time (`delivered_at`), so intake orders them by name.
    pub fn deliver(&self, name: &str, raw: &[u8]) -> PathBuf {
        let p = self
            .maildir()
            .join("new")
            .join(format!("{}.{name}.test", self.delivered_at));
        std::fs::write(&p, raw).unwrap();
        p
    }

    pub fn run(&self, args: &[&str]) -> Output {
        triaged(&self.config, args)
    }

    /// Runs and parses `--json` output.
    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "triaged {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("JSON output")
    }

    /// Cases by subject for easy lookup.
    pub fn cases(&self) -> Vec<serde_json::Value> {
        self.json(&["case", "list", "--json"])
            .as_array()
            .cloned()
            .unwrap()
    }
}

impl Env {
    /// A token helper beside the config, as an operator would install one
    /// (`password_command = ["./token.sh"]`): it prints the current access token,
    /// which [`Env::set_token`] replaces (a refresh).
    pub fn token_helper(&self, token: &str) {
        let dir = self.dir.path();
        std::fs::write(
            dir.join("token.sh"),
            "#!/bin/sh\nexec cat \"$(dirname \"$0\")/token\"\n",
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.join("token.sh"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        self.set_token(token);
    }

    pub fn set_token(&self, token: &str) {
        std::fs::write(self.dir.path().join("token"), format!("{token}\n")).unwrap();
    }
}

pub fn triaged(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_triaged"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("TRIAGED_CONFIG")
        .output()
        .expect("running triaged")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Collects every notification in the background, as systemd's manager would (a
/// receiver that stops reading makes the daemon drop notifications, by design).
pub struct Listener {
    pub got: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Listener {
    pub fn start(sock: std::os::unix::net::UnixDatagram) -> Listener {
        let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let g = got.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            sock.set_read_timeout(Some(std::time::Duration::from_millis(100)))
                .unwrap();
            loop {
                if let Ok(n) = sock.recv(&mut buf) {
                    g.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                }
                if std::sync::Arc::strong_count(&g) == 1 {
                    return;
                }
            }
        });
        Listener { got }
    }

    pub fn wait(&self, needle: &str, max: std::time::Duration) -> bool {
        let t = std::time::Instant::now();
        while t.elapsed() < max {
            if self.got.lock().unwrap().iter().any(|m| m.contains(needle)) {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        false
    }
}

/// The mail a file-transport outbox wrote, in file-name order.
pub fn outbox_mails(env: &Env) -> Vec<String> {
    let dir = env.dir.path().join("outbox");
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.sort();
    v.into_iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

/// An S/MIME certificate and key made by openssl (the client side of real S/MIME mail).
pub fn openssl_cert(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (dir.join("smime.crt"), dir.join("smime.key"));
    let out = std::process::Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=Sam/emailAddress=sam@example.net"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}

pub fn openssl_smime(args: &[&str], dir: &std::path::Path, input: &str) -> String {
    let msg = dir.join("in.txt");
    std::fs::write(&msg, crlf(input)).unwrap();
    let out = std::process::Command::new("openssl")
        .arg("smime")
        .arg("-in")
        .arg(&msg)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A memory cgroup with a hard limit, as systemd makes for `MemoryMax=` (cgroup v2, or
/// v1's memory controller). None when this machine does not let us make one.
pub struct MemCgroup {
    dir: PathBuf,
    v2: bool,
}

impl MemCgroup {
    pub fn new(limit: u64) -> Option<MemCgroup> {
        let name = format!("triaged-test-{}-{}", std::process::id(), rand_suffix());
        for (root, v2) in [
            ("/sys/fs/cgroup/memory", false),
            ("/sys/fs/cgroup/unified", true),
            ("/sys/fs/cgroup", true),
        ] {
            let root = Path::new(root);
            let knob = if v2 {
                "memory.max"
            } else {
                "memory.limit_in_bytes"
            };
            if v2 && !root.join("cgroup.controllers").exists() {
                continue;
            }
            let dir = root.join(&name);
            if std::fs::create_dir(&dir).is_err() {
                continue;
            }
            if std::fs::write(dir.join(knob), limit.to_string()).is_ok() {
                if !v2 {
                    // No swap to hide in.
                    let _ =
                        std::fs::write(dir.join("memory.memsw.limit_in_bytes"), limit.to_string());
                }
                return Some(MemCgroup { dir, v2 });
            }
            let _ = std::fs::remove_dir(&dir);
        }
        None
    }

    /// Runs the binary inside the cgroup.
    pub fn run(&self, config: &Path, args: &[&str]) -> std::process::Output {
        let procs = self.dir.join("cgroup.procs");
        Command::new("sh")
            .arg("-c")
            .arg(format!(
                "echo $$ > '{}' && exec \"$0\" \"$@\"",
                procs.display()
            ))
            .arg(env!("CARGO_BIN_EXE_triaged"))
            .arg("--config")
            .arg(config)
            .args(args)
            .env_remove("TRIAGED_CONFIG")
            .output()
            .unwrap()
    }

    /// How many times the kernel killed a process of the group for memory.
    pub fn oom_kills(&self) -> u64 {
        let (file, key) = if self.v2 {
            ("memory.events", "oom_kill")
        } else {
            ("memory.oom_control", "oom_kill")
        };
        std::fs::read_to_string(self.dir.join(file))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix(key)?.trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for MemCgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

pub fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
}
