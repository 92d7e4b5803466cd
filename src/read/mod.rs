//! Read: raw message bytes → [`mime::Report`]. No SQL, no network.
//!
//! The MIME walk ([`mime`]), OpenPGP ([`crypto`]: team keys, decrypt, verify,
//! seal), the strict reading of From ([`address`]), HTML bodies as text ([`html`]),
//! `format=flowed` plain text as typed ([`flowed`]), reports machines send about a
//! domain's mail ([`dsn`]: bounces, read receipts, feedback; [`machine`]: DMARC and
//! TLS reports),
//! and where a message is read:
//! in-process or in a killable, memory-capped reader process ([`reader`]), a
//! message too large to hold, read as a stream from a file ([`stream`]), and the
//! RSA private-key operation through OpenSSL (`rsa`, feature `rsa-openssl`), and the
//! Curve25519 keys decrypted once instead of for every use (`prepared`).

pub mod address;
pub mod crypto;
pub mod dsn;
pub mod flowed;
pub mod html;
pub mod keys;
pub mod machine;
pub mod mime;
#[cfg(feature = "crypto-nettle")]
mod prepared;
pub mod reader;
#[cfg(feature = "rsa-openssl")]
mod rsa;
pub mod stream;

use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::read::crypto::TeamKeys;
use crate::read::mime::{Analysis, Report, Status};

/// The SHA-256 of bytes, lower-case hex (messages are unique by it).
pub(crate) fn sha256_hex(b: &[u8]) -> String {
    let d = Sha256::digest(b);
    d.iter().map(|x| format!("{x:02x}")).collect()
}

/// Reads a message, never panicking: a panic inside a parser becomes `unparseable`.
pub fn read_message(raw: &[u8], cfg: &Config, keys: &TeamKeys) -> Analysis {
    if raw.len() as u64 > cfg.limits.max_message_size.0 {
        // Keep the headers readable; do not decrypt or walk the body.
        let head_end = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .or_else(|| raw.windows(2).position(|w| w == b"\n\n"))
            .unwrap_or(raw.len().min(64 * 1024));
        let head = raw.get(..head_end.min(64 * 1024)).unwrap_or(raw);
        let mut a = mime::analyze(head, keys, &cfg.limits);
        a.status = Status::Oversize(format!(
            "oversize: {} bytes exceeds limits.max_message_size ({} bytes); headers kept, body not read",
            raw.len(),
            cfg.limits.max_message_size.0
        ));
        return a;
    }
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        mime::analyze(raw, keys, &cfg.limits)
    })) {
        Ok(a) => a,
        Err(_) => Analysis {
            report: Report {
                encryption: crate::domain::status::Encryption::None,
                ..Report::default()
            },
            status: Status::Unparseable(
                "internal error while reading the message (parser panic)".into(),
            ),
        },
    }
}

/// A fresh certificate's transport-encryption subkey as a key pair, for the tests of the
/// prepared-key paths (`rsa`, `prepared`), which compare them with sequoia's.
#[cfg(test)]
pub(crate) fn test_encryption_pair(
    suite: sequoia_openpgp::cert::CipherSuite,
) -> sequoia_openpgp::crypto::KeyPair {
    use sequoia_openpgp::cert::CertBuilder;
    let (cert, _) = CertBuilder::new()
        .set_cipher_suite(suite)
        .add_transport_encryption_subkey()
        .generate()
        .expect("generate");
    cert.keys()
        .with_policy(&sequoia_openpgp::policy::StandardPolicy::new(), None)
        .secret()
        .for_transport_encryption()
        .next()
        .expect("subkey")
        .key()
        .clone()
        .into_keypair()
        .expect("keypair")
}
