//! Deliver: putting composed mail on the wire. [`sender`] drains the outbox;
//! [`smtp`] is one relay connection
//! per batch (implicit TLS, STARTTLS or loopback plain; AUTH; null envelope sender).

pub mod sender;
pub mod smtp;
