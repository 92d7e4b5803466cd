//! IMAP connections: connect (implicit TLS, STARTTLS, or plain to loopback only),
//! read the greeting, log in. What is done with the session belongs to the caller
//! (`ingest/imap` syncs, `deliver` appends to the Sent folder, `doctor` checks).

use std::time::Duration as StdDuration;

use anyhow::{Context, Result, anyhow, bail};
use tokio::net::TcpStream;

use crate::config::{AuthMech, MailboxConfig, TlsMode, sasl_token_response};
use crate::net::{Conn, tls_wrap};

pub type Session = async_imap::Session<Conn>;

/// Connects and logs in.
pub async fn connect(mb: &MailboxConfig, password: &str) -> Result<Session> {
    let host = mb.host.as_deref().context("the mailbox has no host")?;
    let user = mb.user.as_deref().context("the mailbox has no user")?;
    let port = mb.port.unwrap_or(match mb.tls {
        TlsMode::Implicit => 993,
        _ => 143,
    });
    if mb.tls == TlsMode::Plain && !crate::config::is_loopback(host) {
        bail!("refusing plain IMAP to {host}: use tls = \"implicit\" or \"starttls\"");
    }
    let tcp = tokio::time::timeout(StdDuration::from_secs(15), TcpStream::connect((host, port)))
        .await
        .map_err(|_| anyhow!("connecting to {host}:{port} timed out"))?
        .with_context(|| format!("cannot connect to {host}:{port}"))?;
    let _ = tcp.set_nodelay(true);
    let ca = match &mb.tls_ca_file {
        Some(p) => Some(
            std::fs::read(p).with_context(|| format!("cannot read tls_ca_file {}", p.display()))?,
        ),
        None => None,
    };
    let ca = ca.as_deref();
    let client = match mb.tls {
        TlsMode::Implicit => {
            let mut c = async_imap::Client::new(tls_wrap(tcp, host, ca).await?);
            greeting(&mut c).await?;
            c
        }
        TlsMode::Plain => {
            let mut c = async_imap::Client::new(Conn::Plain(tcp));
            greeting(&mut c).await?;
            c
        }
        TlsMode::Starttls => {
            let mut c = async_imap::Client::new(Conn::Plain(tcp));
            greeting(&mut c).await?;
            c.run_command_and_check_ok("STARTTLS", None)
                .await
                .with_context(|| format!("{host} refused STARTTLS"))?;
            let Conn::Plain(tcp) = c.into_inner() else {
                bail!("unexpected TLS before STARTTLS");
            };
            async_imap::Client::new(tls_wrap(tcp, host, ca).await?)
        }
    };
    if mb.auth.is_token() {
        let mech = if mb.auth == AuthMech::Oauthbearer {
            "OAUTHBEARER"
        } else {
            "XOAUTH2"
        };
        let first = sasl_token_response(mb.auth, user, password, host, port);
        return client
            .authenticate(mech, TokenAuth(Some(first)))
            .await
            .map_err(|(e, _)| {
                anyhow!(
                    "{mech} login as {user} on {host}:{port} failed: {e} (check the mailbox's user, that the server offers {mech}, and that password_command prints a current access token for it)"
                )
            });
    }
    client.login(user, password).await.map_err(|(e, _)| {
        anyhow!(
            "login as {user} on {host}:{port} failed: {e} (check the mailbox's user and password)"
        )
    })
}

/// A SASL token mechanism's client side: the initial response once, then an empty
/// response to whatever the server says (XOAUTH2 sends its error as a challenge and
/// waits for one before its NO).
struct TokenAuth(Option<String>);

impl async_imap::Authenticator for TokenAuth {
    type Response = String;
    fn process(&mut self, _challenge: &[u8]) -> String {
        self.0.take().unwrap_or_default()
    }
}

async fn greeting(c: &mut async_imap::Client<Conn>) -> Result<()> {
    match tokio::time::timeout(StdDuration::from_secs(15), c.read_response()).await {
        Ok(Ok(Some(_))) => Ok(()),
        Ok(Ok(None)) => bail!("the server closed the connection before its greeting"),
        Ok(Err(e)) => Err(anyhow!("reading the server greeting failed: {e}")),
        Err(_) => bail!("no server greeting within 15 s"),
    }
}
