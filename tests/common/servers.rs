//! Real mail servers for tests and benchmarks, started on loopback, on free
//! ports, in a temp directory, torn down on drop:
//!
//! - Dovecot (Debian `dovecot-imapd` + `dovecot-lmtpd`) from a private config
//!   (`dovecot -F -c FILE`), passwd-file users, Maildirs owned by uid 65534;
//! - OpenSMTPD, which accepts `example.test` and delivers to that Dovecot over
//!   LMTP, and accepts `gone.test` only to fail delivery for good (its local delivery
//!   exits 67, EX_NOUSER), so it returns a real delivery report (a bounce) to the
//!   envelope sender. Its queue and control socket are fixed paths, so each instance runs
//!   in its own mount namespace (`unshare -m`) with those paths bind-mounted
//!   from its temp directory: instances are independent and can run in parallel.
//!
//! The API: [`MailServers::start`], [`MailServers::add_user`], [`MailServers::send`]
//! (SMTP as a reporter), [`Imap`] (read or write a user's mailbox),
//! [`MailServers::restart_dovecot`]. The IMAP and SMTP clients here are
//! deliberately tiny and independent of triaged's own code.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub const PASSWORD: &str = "test-password";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wait_port(port: u16, what: &str, log: &Path) {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(10) {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "{what} did not listen on port {port}: {}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// Waits (up to 10 s) until nothing listens on `port` any more.
fn wait_port_free(port: u16) {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(10) {
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn term(child: &mut Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(5) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

pub struct MailServers {
    pub dir: TempDir,
    /// IMAP with implicit TLS (only after `enable_tls`).
    pub imaps_port: u16,
    pub imap_port: u16,
    pub lmtp_port: u16,
    pub smtp_port: u16,
    dovecot: Option<Child>,
    smtpd: Option<Child>,
    /// OpenSMTPD answers every RCPT with `451 4.3.0` (a real temporary failure).
    smtp_tempfail: bool,
}

impl MailServers {
    /// Starts Dovecot and OpenSMTPD; users `security@example.test` and `reporter@example.test` exist.
    pub fn start() -> MailServers {
        for bin in ["dovecot", "smtpd", "unshare"] {
            assert!(
                Command::new("sh")
                    .arg("-c")
                    .arg(format!("command -v {bin} || test -x /usr/sbin/{bin}"))
                    .stdout(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success()),
                "{bin} is missing: run scripts/test (it installs dovecot-imapd, dovecot-lmtpd, opensmtpd)"
            );
        }
        let dir = tempfile::Builder::new()
            .prefix("triaged-mail")
            .tempdir()
            .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        for d in ["run", "state", "mail", "spool", "smtprun"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        let _ = Command::new("chown")
            .arg("65534:65534")
            .arg(dir.path().join("mail"))
            .status();
        std::fs::set_permissions(
            dir.path().join("spool"),
            std::fs::Permissions::from_mode(0o711),
        )
        .unwrap();
        let mut s = MailServers {
            imaps_port: free_port(),
            imap_port: free_port(),
            lmtp_port: free_port(),
            smtp_port: free_port(),
            dir,
            dovecot: None,
            smtpd: None,
            smtp_tempfail: false,
        };
        std::fs::write(s.path("users"), "").unwrap();
        s.add_user("security@example.test");
        s.add_user("reporter@example.test");
        s.write_dovecot_conf();
        s.start_dovecot();
        s.start_smtpd();
        s
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    /// Adds a passwd-file user (password [`PASSWORD`]); Dovecot rereads the file by itself.
    pub fn add_user(&self, user: &str) {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(self.path("users"))
            .unwrap();
        writeln!(f, "{user}:{{PLAIN}}{PASSWORD}").unwrap();
    }

    /// Restarts Dovecot with TLS: STARTTLS on the IMAP port, implicit TLS on `imaps_port`,
    /// with a fresh self-signed certificate for 127.0.0.1; returns the certificate (PEM) path.
    pub fn enable_tls(&mut self) -> PathBuf {
        // A private CA and a server certificate it signed (for 127.0.0.1).
        let (ca, ca_key) = (self.path("ca.pem"), self.path("ca-key.pem"));
        let (cert, key, csr) = (
            self.path("cert.pem"),
            self.path("key.pem"),
            self.path("cert.csr"),
        );
        let ext = self.path("ext.cnf");
        std::fs::write(&ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n").unwrap();
        let run = |args: &[&str]| {
            Command::new("openssl")
                .args(args)
                .current_dir(self.dir.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        let p = |x: &PathBuf| x.to_string_lossy().into_owned();
        let ok = run(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=triaged test CA",
            "-keyout",
            &p(&ca_key),
            "-out",
            &p(&ca),
        ]) && run(&[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            &p(&key),
            "-out",
            &p(&csr),
        ]) && run(&[
            "x509",
            "-req",
            "-in",
            &p(&csr),
            "-CA",
            &p(&ca),
            "-CAkey",
            &p(&ca_key),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            &p(&ext),
            "-out",
            &p(&cert),
        ]);
        assert!(ok, "openssl could not make a test certificate");
        let conf = std::fs::read_to_string(self.path("dovecot.conf")).unwrap();
        let conf = conf
            .replace("ssl = no\n", &format!("ssl = yes\nssl_cert = <{}\nssl_key = <{}\n", cert.display(), key.display()))
            .replace("  inet_listener imaps {\n    port = 0\n  }", &format!("  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {}\n    ssl = yes\n  }}", self.imaps_port));
        std::fs::write(self.path("dovecot.conf"), conf).unwrap();
        self.restart_dovecot();
        wait_port(self.imaps_port, "dovecot imaps", &self.path("dovecot.log"));
        ca
    }

    fn write_dovecot_conf(&self) {
        let d = self.dir.path().display();
        std::fs::write(
            self.path("dovecot.conf"),
            format!(
                r#"base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
ssl = no
shutdown_clients = yes
disable_plaintext_auth = no
auth_mechanisms = plain login
protocols = imap lmtp
listen = 127.0.0.1
mail_location = maildir:{d}/mail/%u
mail_uid = 65534
mail_gid = 65534
first_valid_uid = 1
default_internal_user = dovecot
default_login_user = dovenull
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/users
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={d}/mail/%u allow_all_users=yes
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {lmtp}
  }}
}}
"#,
                imap = self.imap_port,
                lmtp = self.lmtp_port
            ),
        )
        .unwrap();
    }

    pub fn start_dovecot(&mut self) {
        let log = std::fs::File::create(self.path("dovecot.out")).unwrap();
        use std::os::unix::process::CommandExt;
        let child = Command::new("dovecot")
            .arg("-F")
            .arg("-c")
            .arg(self.path("dovecot.conf"))
            // Its own process group: stopping it stops every process it started.
            .process_group(0)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting dovecot");
        self.dovecot = Some(child);
        wait_port(self.imap_port, "dovecot", &self.path("dovecot.log"));
    }

    /// Stops Dovecot like a crash or restart would: the master and every process it
    /// started (a client's imap process must not outlive it and keep the connection up).
    pub fn stop_dovecot(&mut self) {
        if let Some(mut c) = self.dovecot.take() {
            let group = format!("-{}", c.id());
            // The master first (it stops its children), then whatever of the group is
            // left (a login or auth process that did not exit in time), then reap.
            term(&mut c);
            let _ = Command::new("kill")
                .args(["-KILL", "--", &group])
                .stderr(Stdio::null())
                .status();
            let t = Instant::now();
            while t.elapsed() < Duration::from_secs(10) {
                let alive = Command::new("pgrep")
                    .args(["-g", &c.id().to_string()])
                    .output()
                    .map(|o| !o.stdout.is_empty())
                    .unwrap_or(false);
                if !alive {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    pub fn restart_dovecot(&mut self) {
        self.stop_dovecot();
        // A killed login process can hold the listening sockets for a moment; a new
        // master started before they are gone fails with "Address already in use".
        for port in [self.imap_port, self.imaps_port, self.lmtp_port] {
            wait_port_free(port);
        }
        self.start_dovecot();
    }

    /// Lets Dovecot (IMAP and, after `enable_submission`, its submission relay) take
    /// SASL XOAUTH2 and OAUTHBEARER, as Microsoft 365 and Gmail require: its oauth2
    /// passdb asks a token-info endpoint served here, over HTTP on loopback, which
    /// knows the returned tokens (each for one user) and refuses every other one.
    pub fn enable_oauth2(&mut self) -> TokenIssuer {
        let issuer = TokenIssuer::start();
        std::fs::write(
            self.path("oauth2.conf.ext"),
            format!(
                "tokeninfo_url = http://127.0.0.1:{}/tokeninfo?access_token=\nusername_attribute = username\n",
                issuer.port
            ),
        )
        .unwrap();
        let conf = std::fs::read_to_string(self.path("dovecot.conf"))
            .unwrap()
            .replace(
                "auth_mechanisms = plain login\n",
                "auth_mechanisms = plain login xoauth2 oauthbearer\n",
            )
            .replace(
                "passdb {\n  driver = passwd-file\n",
                &format!(
                    "passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {}\n}}\npassdb {{\n  driver = passwd-file\n  mechanisms = plain login\n",
                    self.path("oauth2.conf.ext").display()
                ),
            );
        std::fs::write(self.path("dovecot.conf"), conf).unwrap();
        self.restart_dovecot();
        issuer
    }

    /// Keeps a user's folders under INBOX, as Cyrus (without `altnamespace`) and Courier
    /// do: the personal namespace (RFC 2342) is `INBOX.` with `.` as the delimiter, and
    /// a top-level folder cannot be created ("nonexistent namespace").
    pub fn folders_under_inbox(&mut self) {
        let conf = std::fs::read_to_string(self.path("dovecot.conf")).unwrap();
        let conf = format!(
            "{conf}namespace inbox {{\n  prefix = INBOX.\n  separator = .\n  inbox = yes\n}}\n"
        );
        std::fs::write(self.path("dovecot.conf"), conf).unwrap();
        self.restart_dovecot();
    }

    /// Adds Dovecot's submission service (RFC 6409, with AUTH) in front of OpenSMTPD,
    /// using the certificate of `enable_tls` (call that first): STARTTLS on one port,
    /// implicit TLS on the other; returns (implicit TLS port, STARTTLS port). OpenSMTPD
    /// itself cannot serve TLS on Debian 12 (6.8.0p2 with OpenSSL 3 fails every handshake
    /// with "EVP lib", OpenSMTPD issue #1171), so a TLS relay is Dovecot's.
    pub fn enable_submission(&mut self) -> (u16, u16) {
        assert!(
            self.path("cert.pem").exists(),
            "enable_tls() first: it makes the certificate"
        );
        let (submissions, submission) = (free_port(), free_port());
        let conf = std::fs::read_to_string(self.path("dovecot.conf"))
            .unwrap()
            .replace(
                "protocols = imap lmtp\n",
                "protocols = imap lmtp submission\n",
            );
        let conf = format!(
            "{conf}hostname = localhost\nsubmission_relay_host = 127.0.0.1\nsubmission_relay_port = {smtp}\n\
             submission_relay_trusted = yes\n\
             service submission-login {{\n  inet_listener submission {{\n    address = 127.0.0.1\n    port = {submission}\n  }}\n\
             \x20 inet_listener submissions {{\n    address = 127.0.0.1\n    port = {submissions}\n    ssl = yes\n  }}\n}}\n",
            smtp = self.smtp_port
        );
        std::fs::write(self.path("dovecot.conf"), conf).unwrap();
        self.restart_dovecot();
        wait_port(
            submissions,
            "dovecot submissions",
            &self.path("dovecot.log"),
        );
        wait_port(submission, "dovecot submission", &self.path("dovecot.log"));
        (submissions, submission)
    }

    /// Restarts OpenSMTPD so that it refuses every recipient with a temporary
    /// `451 4.3.0` (`on`), or accepts mail again (`!on`).
    pub fn set_smtp_tempfail(&mut self, on: bool) {
        // A message OpenSMTPD has delivered but not yet removed from its queue would be
        // delivered again by the restarted server (a second, different copy): wait until
        // the queue is empty first.
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(5) && self.queued_files() > 0 {
            std::thread::sleep(Duration::from_millis(20));
        }
        if let Some(mut c) = self.smtpd.take() {
            term(&mut c);
        }
        self.smtp_tempfail = on;
        self.start_smtpd();
    }

    /// Files in OpenSMTPD's queue directories (its spool is bind-mounted from ours).
    fn queued_files(&self) -> usize {
        fn count(p: &Path) -> usize {
            std::fs::read_dir(p)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| {
                            let p = e.path();
                            if p.is_dir() { count(&p) } else { 1 }
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        ["queue", "incoming", "temporary"]
            .iter()
            .map(|d| count(&self.path("spool").join(d)))
            .sum()
    }

    fn start_smtpd(&mut self) {
        let d = self.dir.path().display();
        std::fs::write(
            self.path("virtual"),
            "@example.test nobody\n@gone.test nobody\n",
        )
        .unwrap();
        let (filter, use_filter) = if self.smtp_tempfail {
            (
                "filter \"tempfail\" phase rcpt-to match rcpt-to regex \".*\" reject \"451 4.3.0 try again later (test)\"\n",
                " filter \"tempfail\"",
            )
        } else {
            ("", "")
        };
        std::fs::write(
            self.path("smtpd.conf"),
            format!(
                "table vusers file:{d}/virtual\n\
                 {filter}\
                 listen on 127.0.0.1 port {smtp}{use_filter}\n\
                 action \"lmtp\" lmtp \"127.0.0.1:{lmtp}\" rcpt-to virtual <vusers>\n\
                 action \"undeliverable\" mda \"/bin/sh -c 'cat >/dev/null; exit 67'\" virtual <vusers>\n\
                 match from any for domain \"example.test\" action \"lmtp\"\n\
                 match from any for domain \"gone.test\" action \"undeliverable\"\n",
                smtp = self.smtp_port,
                lmtp = self.lmtp_port
            ),
        )
        .unwrap();
        let script = format!(
            "mkdir -p /var/spool/smtpd && mount --bind {d}/spool /var/spool/smtpd && mount --bind {d}/smtprun /run && exec smtpd -d -f {d}/smtpd.conf"
        );
        let log = std::fs::File::create(self.path("smtpd.out")).unwrap();
        let child = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c", &script])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("starting smtpd");
        self.smtpd = Some(child);
        wait_port(self.smtp_port, "smtpd", &self.path("smtpd.out"));
    }

    /// Sends a message over SMTP (as a reporter would) and waits until Dovecot has it.
    pub fn send(&self, from: &str, to: &[&str], raw: &[u8]) {
        smtp_send(self.smtp_port, from, to, raw).expect("SMTP delivery to OpenSMTPD");
    }

    /// An IMAP client logged in as `user`.
    pub fn imap(&self, user: &str) -> Imap {
        Imap::login(self.imap_port, user, PASSWORD)
    }
}

impl Drop for MailServers {
    fn drop(&mut self) {
        if let Some(mut c) = self.smtpd.take() {
            term(&mut c);
        }
        self.stop_dovecot();
    }
}

/// A minimal SMTP client: EHLO, MAIL, RCPT, DATA (dot-stuffed), QUIT.
pub fn smtp_send(port: u16, from: &str, to: &[&str], raw: &[u8]) -> std::io::Result<()> {
    let s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut r = BufReader::new(s.try_clone()?);
    let mut w = s;
    let expect = |r: &mut BufReader<TcpStream>, code: &str| -> std::io::Result<()> {
        loop {
            let mut line = String::new();
            r.read_line(&mut line)?;
            if !line.starts_with(code) {
                return Err(std::io::Error::other(format!(
                    "SMTP: expected {code}, got {line:?}"
                )));
            }
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(());
            }
        }
    };
    expect(&mut r, "220")?;
    write!(w, "EHLO test.example\r\n")?;
    expect(&mut r, "250")?;
    write!(w, "MAIL FROM:<{from}>\r\n")?;
    expect(&mut r, "250")?;
    for t in to {
        write!(w, "RCPT TO:<{t}>\r\n")?;
        expect(&mut r, "250")?;
    }
    write!(w, "DATA\r\n")?;
    expect(&mut r, "354")?;
    let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
    for line in text.split('\n') {
        if line.starts_with('.') {
            w.write_all(b".")?;
        }
        w.write_all(line.as_bytes())?;
        w.write_all(b"\r\n")?;
    }
    write!(w, ".\r\n")?;
    expect(&mut r, "250")?;
    write!(w, "QUIT\r\n")?;
    Ok(())
}

/// A minimal synchronous IMAP client for checking and preparing mailboxes.
pub struct Imap {
    r: BufReader<TcpStream>,
    w: TcpStream,
    tag: u32,
}

impl Imap {
    pub fn login(port: u16, user: &str, pass: &str) -> Imap {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("IMAP connect");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut i = Imap {
            r: BufReader::new(s.try_clone().unwrap()),
            w: s,
            tag: 0,
        };
        let mut greeting = String::new();
        i.r.read_line(&mut greeting).unwrap();
        i.cmd(&format!("LOGIN \"{user}\" \"{pass}\""))
            .expect("IMAP LOGIN");
        i
    }

    /// Runs a command; returns the untagged lines (literals inlined) or the failure line.
    pub fn cmd(&mut self, c: &str) -> Result<Vec<Vec<u8>>, String> {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        write!(self.w, "{tag} {c}\r\n").map_err(|e| e.to_string())?;
        self.read_until(&tag)
    }

    fn read_until(&mut self, tag: &str) -> Result<Vec<Vec<u8>>, String> {
        let mut out = Vec::new();
        loop {
            let mut line = Vec::new();
            self.r
                .read_until(b'\n', &mut line)
                .map_err(|e| e.to_string())?;
            if line.is_empty() {
                return Err("connection closed".into());
            }
            // Inline literals {n}\r\n
            while let Some(n) = literal_len(&line) {
                let mut buf = vec![0u8; n];
                self.r.read_exact(&mut buf).map_err(|e| e.to_string())?;
                line.extend_from_slice(&buf);
                let mut rest = Vec::new();
                self.r
                    .read_until(b'\n', &mut rest)
                    .map_err(|e| e.to_string())?;
                line.extend_from_slice(&rest);
            }
            let s = String::from_utf8_lossy(&line);
            if s.starts_with(&format!("{tag} ")) {
                return if s[tag.len() + 1..].starts_with("OK") {
                    Ok(out)
                } else {
                    Err(s.trim().to_string())
                };
            }
            out.push(line);
        }
    }

    /// Appends a message (optionally with an INTERNALDATE like "01-Jan-2020 10:00:00 +0000").
    pub fn append(&mut self, folder: &str, raw: &[u8], date: Option<&str>) {
        self.tag += 1;
        let tag = format!("t{}", self.tag);
        let date = date.map(|d| format!(" \"{d}\"")).unwrap_or_default();
        write!(
            self.w,
            "{tag} APPEND \"{folder}\"{date} {{{}}}\r\n",
            raw.len()
        )
        .unwrap();
        let mut cont = String::new();
        self.r.read_line(&mut cont).unwrap();
        assert!(cont.starts_with('+'), "APPEND refused: {cont}");
        self.w.write_all(raw).unwrap();
        self.w.write_all(b"\r\n").unwrap();
        self.read_until(&tag).expect("APPEND");
    }

    /// Number of messages in a folder.
    pub fn count(&mut self, folder: &str) -> usize {
        let lines = self
            .cmd(&format!("STATUS \"{folder}\" (MESSAGES)"))
            .expect("STATUS");
        for l in lines {
            let s = String::from_utf8_lossy(&l);
            if let Some(i) = s.find("MESSAGES ") {
                return s[i + 9..]
                    .trim_end_matches([')', '\r', '\n'])
                    .trim()
                    .parse()
                    .unwrap_or(0);
            }
        }
        0
    }

    /// Number of unseen messages in a folder.
    pub fn unseen(&mut self, folder: &str) -> usize {
        let lines = self
            .cmd(&format!("STATUS \"{folder}\" (UNSEEN)"))
            .expect("STATUS");
        for l in lines {
            let s = String::from_utf8_lossy(&l);
            if let Some(i) = s.find("UNSEEN ") {
                return s[i + 7..]
                    .trim_end_matches([')', '\r', '\n'])
                    .trim()
                    .parse()
                    .unwrap_or(0);
            }
        }
        0
    }

    /// Every message of a folder, raw.
    pub fn fetch_all(&mut self, folder: &str) -> Vec<Vec<u8>> {
        self.cmd(&format!("SELECT \"{folder}\"")).expect("SELECT");
        let lines = self.cmd("FETCH 1:* (BODY.PEEK[])").unwrap_or_default();
        lines
            .into_iter()
            .filter_map(|l| {
                let start = l.windows(3).position(|w| w == b"}\r\n")? + 3;
                let end = l.iter().rposition(|&c| c == b')')?;
                Some(l[start..end.max(start)].to_vec())
            })
            .collect()
    }

    pub fn create(&mut self, folder: &str) {
        self.cmd(&format!("CREATE \"{folder}\"")).expect("CREATE");
    }

    pub fn delete(&mut self, folder: &str) {
        self.cmd(&format!("DELETE \"{folder}\"")).expect("DELETE");
    }

    pub fn uidvalidity(&mut self, folder: &str) -> u32 {
        let lines = self
            .cmd(&format!("STATUS \"{folder}\" (UIDVALIDITY)"))
            .expect("STATUS");
        for l in lines {
            let s = String::from_utf8_lossy(&l);
            if let Some(i) = s.find("UIDVALIDITY ") {
                return s[i + 12..]
                    .trim_end_matches([')', '\r', '\n'])
                    .trim()
                    .parse()
                    .unwrap_or(0);
            }
        }
        0
    }
}

fn literal_len(line: &[u8]) -> Option<usize> {
    let s = std::str::from_utf8(line).ok()?;
    let t = s.trim_end_matches(['\r', '\n']);
    if !t.ends_with('}') {
        return None;
    }
    let open = t.rfind('{')?;
    t[open + 1..t.len() - 1].parse().ok()
}

/// A token-info endpoint (the part of an OAuth 2.0 provider a mail server asks) on
/// loopback: `GET /tokeninfo?access_token=T` answers `{"username": ...}` for a token it
/// issued and 401 for any other.
pub struct TokenIssuer {
    pub port: u16,
    tokens: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
}

impl TokenIssuer {
    fn start() -> TokenIssuer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let tokens: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>> = Default::default();
        let known = tokens.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                // The headers, up to the blank line.
                let mut h = String::new();
                while reader.read_line(&mut h).is_ok_and(|n| n > 2) {
                    h.clear();
                }
                let token = line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|path| path.split_once("access_token="))
                    .map(|(_, t)| t.to_string())
                    .unwrap_or_default();
                let user = known
                    .lock()
                    .unwrap()
                    .iter()
                    .find(|(t, _)| *t == token)
                    .map(|(_, u)| u.clone());
                let (status, body) = match user {
                    Some(u) => (
                        "200 OK",
                        format!("{{\"username\":\"{u}\",\"scope\":\"mail\"}}"),
                    ),
                    None => (
                        "401 Unauthorized",
                        "{\"error\":\"invalid_token\"}".to_string(),
                    ),
                };
                let _ = write!(
                    conn,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        TokenIssuer { port, tokens }
    }

    /// Issues a new access token for `user`.
    pub fn issue(&self, user: &str) -> String {
        let mut t = self.tokens.lock().unwrap();
        let token = format!("ya29.test-{}-{}", t.len(), std::process::id());
        t.push((token.clone(), user.to_string()));
        token
    }

    /// Revokes every token issued so far (as when they expire).
    pub fn revoke_all(&self) {
        self.tokens.lock().unwrap().clear();
    }
}
