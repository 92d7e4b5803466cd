//! Domain: the types every stage shares, importing nothing else of the crate.
//!
//! Case states and their transitions, public case ids and subject tags
//! ([`case`]), time helpers ([`time`]), versions and ranges ([`version`]), what a report was found to
//! contain ([`findings`]) and what a policy made of it ([`verdict`]) and the credential redaction applied to
//! anything that stays queryable ([`redact`], a pure function of text).

pub mod case;
pub mod findings;
pub mod redact;
pub mod seal;
pub mod status;
pub mod time;
pub mod verdict;
pub mod version;
