//! Net: the one place that knows TLS. Shared by IMAP (ingest, the Sent folder,
//! doctor) and SMTP (deliver): the client configuration (Web PKI roots plus a
//! private CA from a PEM file), the one PEM reader, and the plain|TLS stream
//! ([`Conn`]) both protocols run over. [`imap`] connects and logs in.

pub mod imap;

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use anyhow::{Context, Result, anyhow};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// Every certificate in a PEM file (others blocks and garbage are skipped).
pub fn pem_certificates(
    pem: &[u8],
) -> Vec<tokio_rustls::rustls::pki_types::CertificateDer<'static>> {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    tokio_rustls::rustls::pki_types::CertificateDer::pem_slice_iter(pem)
        .flatten()
        .collect()
}

/// A connection: plain TCP (loopback only) or TLS.
pub enum Conn {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::client::TlsStream<TcpStream>>),
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Conn::Plain(_) => "Conn::Plain",
            Conn::Tls(_) => "Conn::Tls",
        })
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// A TLS client configuration trusting the Web PKI roots, plus the certificates in
/// `extra_ca` (PEM) for servers with an internal CA or a self-signed certificate.
pub fn tls_config(extra_ca: Option<&[u8]>) -> Arc<tokio_rustls::rustls::ClientConfig> {
    use tokio_rustls::rustls;
    let mut roots =
        rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = extra_ca {
        for cert in pem_certificates(pem) {
            let _ = roots.add(cert);
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
        .unwrap_or_else(|_| {
            rustls::ClientConfig::builder()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth()
        });
    Arc::new(cfg)
}

pub async fn tls_wrap(tcp: TcpStream, host: &str, extra_ca: Option<&[u8]>) -> Result<Conn> {
    let name = tokio_rustls::rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|_| anyhow!("{host:?} is not a valid TLS server name"))?;
    let tls = tokio_rustls::TlsConnector::from(tls_config(extra_ca))
        .connect(name, tcp)
        .await
        .with_context(|| format!("TLS handshake with {host} failed"))?;
    Ok(Conn::Tls(Box::new(tls)))
}

/// lettre drives the same stream for SMTP (implicit TLS).
impl lettre::transport::smtp::client::AsyncTokioStream for Conn {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        match self {
            Conn::Plain(s) => s.peer_addr(),
            Conn::Tls(s) => s.get_ref().0.peer_addr(),
        }
    }
}
