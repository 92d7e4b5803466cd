//! Domain: the types every stage shares, importing nothing else of the crate.
//!
//! Case states and their transitions, public case ids and subject tags
//! ([`case`]), time helpers ([`time`]), versions and ranges ([`version`]), what a report was found to
//! contain ([`findings`]) and what a policy made of it ([`verdict`]), the disclosure facts and credit
//! of a case ([`disclosure`]), and the credential redaction applied to
//! anything that stays queryable ([`redact`], a pure function of text).

pub mod case;
pub mod disclosure;
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

/// Text from a report (names, subjects, attachment names, key user ids, notes) made safe
/// for a terminal: control characters (CR, LF, ESC, ...) and bidirectional overrides are
/// shown escaped, so a hostile display name cannot move the cursor, recolour the screen
/// or forge a line of output.
pub fn terminal_safe(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push(' '),
            c if c.is_control()
                || ('\u{202a}'..='\u{202e}').contains(&c)
                || ('\u{2066}'..='\u{2069}').contains(&c) =>
            {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}
