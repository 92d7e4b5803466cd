//! SMTP: one connection to the relay per outbox batch, reused for every message.
//!
//! This module owns the wire to the relay: TCP with `TCP_NODELAY` (lettre writes the
//! message and the closing `CRLF.CRLF` separately; with Nagle's algorithm on, the
//! second write waits for the server's delayed ACK, about 40 ms per message), then
//! implicit TLS, STARTTLS or plain (loopback only, enforced by config validation),
//! EHLO and AUTH through lettre's `AsyncSmtpConnection`. It knows nothing of cases
//! or the outbox table: [`crate::reply::outbox`] decides what to send and records outcomes.

use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::net::TcpStream;

use crate::config::{Config, TlsMode};

/// How long connecting, or one whole message exchange, may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// A connection to the configured relay, opened on first use and reopened after an error.
pub struct Relay {
    host: String,
    port: u16,
    mode: TlsMode,
    creds: Option<Login>,
    /// Extra trusted CA certificates (PEM), from `outbox.tls_ca_file`.
    ca: Option<Vec<u8>>,
    conn: Option<AsyncSmtpConnection>,
    /// `host:port`, for messages.
    pub server: String,
}

/// The relay login: the user, where the secret comes from (read at every login, so a
/// token helper is asked each time), and the mechanism.
struct Login {
    user: String,
    source: crate::config::SecretSource,
    mech: crate::config::AuthMech,
}

impl Login {
    /// The user and the secret; a `password_command` runs on the blocking pool.
    async fn credentials(&self) -> Result<Credentials> {
        let secret = self
            .source
            .read_async("outbox")
            .await
            .map_err(|p| anyhow!("{}: {} ({})", p.key, p.what, p.fix))?
            .unwrap_or_default();
        Ok(Credentials::new(self.user.clone(), secret))
    }
}

impl Relay {
    pub fn new(cfg: &Config) -> Result<Relay> {
        let host = cfg.outbox.host.clone().context("outbox.host is not set")?;
        let mode = cfg.outbox.tls;
        let port = cfg.outbox.port.unwrap_or(match mode {
            TlsMode::Implicit => 465,
            TlsMode::Starttls => 587,
            TlsMode::Plain => 25,
        });
        let creds = cfg.outbox.user.as_ref().map(|user| Login {
            user: user.clone(),
            source: cfg.outbox.secret_source(cfg),
            mech: cfg.outbox.auth,
        });
        if let Some(l) = &creds
            && !matches!(l.source, crate::config::SecretSource::Command(_))
        {
            // A password is read now, so a missing file fails at start; a command
            // runs at every login (a fresh token each time).
            l.source
                .read("outbox")
                .map_err(|p| anyhow!("{}: {} ({})", p.key, p.what, p.fix))?;
        }
        let ca = match &cfg.outbox.tls_ca_file {
            Some(p) => Some(std::fs::read(p).with_context(|| {
                format!(
                    "outbox.tls_ca_file: cannot read {} (a PEM file of CA certificates)",
                    p.display()
                )
            })?),
            None => None,
        };
        Ok(Relay {
            server: format!("{host}:{port}"),
            ca,
            host,
            port,
            mode,
            creds,
            conn: None,
        })
    }

    /// Connects, greets (EHLO), secures and authenticates; nothing is sent.
    async fn open(&self) -> Result<AsyncSmtpConnection> {
        let hello = ClientId::default();
        let tcp =
            tokio::time::timeout(TIMEOUT, TcpStream::connect((self.host.as_str(), self.port)))
                .await
                .map_err(|_| anyhow!("connecting timed out after {} s", TIMEOUT.as_secs()))?
                .context("connecting")?;
        tcp.set_nodelay(true).context("setting TCP_NODELAY")?;
        let mut conn = match self.mode {
            TlsMode::Plain => AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello)
                .await
                .context("greeting (EHLO)")?,
            TlsMode::Starttls => {
                let mut c = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello)
                    .await
                    .context("greeting (EHLO)")?;
                if !c.can_starttls() {
                    bail!(
                        "the server does not offer STARTTLS; set outbox.tls = \"implicit\" if it speaks TLS on connect"
                    );
                }
                let mut b = TlsParameters::builder(self.host.clone());
                if let Some(pem) = &self.ca {
                    for cert in crate::net::pem_certificates(pem) {
                        b = b.add_root_certificate(
                            lettre::transport::smtp::client::Certificate::from_der(cert.to_vec())
                                .context("outbox.tls_ca_file holds an unreadable certificate")?,
                        );
                    }
                }
                let params = b.build_rustls().context("TLS parameters")?;
                c.starttls(params, &hello).await.context("STARTTLS")?;
                c
            }
            TlsMode::Implicit => {
                let tls = crate::net::tls_wrap(tcp, &self.host, self.ca.as_deref())
                    .await
                    .context("TLS handshake")?;
                AsyncSmtpConnection::connect_with_transport(Box::new(tls), &hello)
                    .await
                    .context("greeting (EHLO)")?
            }
        };
        if let Some(login) = &self.creds {
            let creds = login.credentials().await?;
            let mechs: &[Mechanism] = if login.mech.is_token() {
                &[Mechanism::Xoauth2]
            } else {
                &[Mechanism::Plain, Mechanism::Login]
            };
            conn.auth(mechs, &creds).await.context("AUTH")?;
        }
        Ok(conn)
    }

    /// Checks that the relay takes a connection (EHLO, TLS, AUTH), then says QUIT.
    pub async fn check(&self) -> Result<()> {
        let mut c = self
            .open()
            .await
            .with_context(|| format!("SMTP to {}", self.server))?;
        let _ = c.quit().await;
        Ok(())
    }

    /// Sends one message; returns the server's reply. `sender` is the envelope sender:
    /// `None` (null, RFC 3834 §3.3) for automatic mail, so that nothing ever bounces or
    /// answers it; a person's reply names our address, so that a bounce comes back to
    /// the mailbox and the team learns the reporter did not get it. After any error the
    /// connection is dropped and reopened next time.
    pub async fn send(&mut self, sender: Option<&str>, to: &str, body: &[u8]) -> Result<String> {
        let to: lettre::Address = to
            .parse()
            .map_err(|e| anyhow::Error::new(Permanent(format!("bad recipient {to:?}: {e}"))))?;
        let from = match sender {
            Some(s) => Some(s.parse::<lettre::Address>().map_err(|e| {
                anyhow::Error::new(Permanent(format!("bad envelope sender {s:?}: {e}")))
            })?),
            None => None,
        };
        let env =
            lettre::address::Envelope::new(from, vec![to]).context("building the envelope")?;
        let res = tokio::time::timeout(TIMEOUT, async {
            if self.conn.as_ref().is_none_or(|c| c.has_broken()) {
                self.conn = Some(self.open().await?);
            }
            let conn = self.conn.as_mut().context("no SMTP connection")?;
            conn.send(&env, body).await.map_err(anyhow::Error::from)
        })
        .await
        .unwrap_or_else(|_| Err(anyhow!("no answer within {} s", TIMEOUT.as_secs())));
        match res {
            Ok(r) => Ok(format!(
                "{} {}",
                r.code(),
                r.message().collect::<Vec<_>>().join(" ")
            )),
            Err(e) => {
                if let Some(mut c) = self.conn.take() {
                    c.abort().await;
                }
                Err(e).with_context(|| format!("SMTP to {}", self.server))
            }
        }
    }

    /// Ends the session politely.
    pub async fn close(&mut self) {
        if let Some(mut c) = self.conn.take() {
            let _ = tokio::time::timeout(Duration::from_secs(5), c.quit()).await;
        }
    }
}

/// An error no retry can fix (an address that cannot be written on the envelope).
#[derive(Debug)]
struct Permanent(String);

impl std::fmt::Display for Permanent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Permanent {}

/// Did the server refuse for good (a 5xx reply), or is the message unsendable as it
/// is? Such a row is marked failed instead of being retried forever.
pub fn is_permanent(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<lettre::transport::smtp::Error>()
            .is_some_and(|le| le.is_permanent())
            || c.downcast_ref::<Permanent>().is_some()
    })
}
