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

/// Compiles one of triaged's own (built-in, constant) regular expressions. A pattern
/// that does not compile is a bug in triaged that every test run hits at once; it never
/// depends on input, so this is the one place where a panic is accepted.
#[allow(clippy::panic)]
pub(crate) fn builtin_regex(pattern: &str) -> regex::Regex {
    regex::Regex::new(pattern).unwrap_or_else(|e| panic!("invalid built-in regex {pattern}: {e}"))
}
