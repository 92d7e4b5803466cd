//! Domain: the types every stage shares, importing nothing else of the crate.
//!
//! Case states and their transitions, public case ids and subject tags
//! ([`case`]), time helpers ([`time`]), versions and ranges ([`version`]) and the credential redaction applied to
//! anything that stays queryable ([`redact`], a pure function of text).

pub mod case;
pub mod redact;
pub mod time;
pub mod version;
