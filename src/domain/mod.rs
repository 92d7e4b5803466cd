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
    regex::Regex::new(&ascii_word_boundaries(pattern))
        .unwrap_or_else(|e| panic!("invalid built-in regex {pattern}: {e}"))
}

/// `pattern` with every word boundary (`\b`, `\B`) outside a character class made ASCII
/// (`(?-u:\b)`). The regex crate's fast engine (the lazy DFA) gives up on a Unicode word
/// boundary as soon as the text holds one non-ASCII byte, and the slow one (the PikeVM)
/// then takes ~1 µs per byte: a 7 KiB report with one typographic apostrophe cost 7.8 ms
/// to classify (BENCHMARKS.md). The difference in meaning is limited to a boundary next
/// to a non-ASCII *letter* ("exploité"): punctuation, spaces and symbols are non-word
/// characters either way. Classification output was compared on all 251 corpus reports.
pub(crate) fn ascii_word_boundaries(pattern: &str) -> std::borrow::Cow<'_, str> {
    if !pattern.contains("\\b") && !pattern.contains("\\B") {
        return std::borrow::Cow::Borrowed(pattern);
    }
    std::borrow::Cow::Owned(rewrite_outside_classes(pattern, |token, _| {
        matches!(token, "\\b" | "\\B").then(|| format!("(?-u:{token})"))
    }))
}

/// A regex pattern rewritten token by token outside character classes: `rewrite` gets
/// each token there (an escape such as `\b` whole, or one character) and the character
/// after it, and returns its replacement, or `None` to keep it. Classes (`[a-z[:alpha:]]`
/// nests; a `]` right after `[` or `[^` is a literal) and escapes are copied as written.
pub(crate) fn rewrite_outside_classes(
    pattern: &str,
    mut rewrite: impl FnMut(&str, Option<char>) -> Option<String>,
) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut chars = pattern.chars().peekable();
    let mut class = 0usize;
    let mut class_start = false;
    let mut token = String::new();
    while let Some(c) = chars.next() {
        let at_start = std::mem::take(&mut class_start);
        token.clear();
        token.push(c);
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    token.push(n);
                }
            }
            '[' => {
                class += 1;
                if chars.peek() == Some(&'^') {
                    token.push('^');
                    chars.next();
                }
                class_start = true;
                out.push_str(&token);
                continue;
            }
            ']' if class > 0 && !at_start => {
                class -= 1;
                out.push(c);
                continue;
            }
            _ => {}
        }
        match rewrite(&token, chars.peek().copied()).filter(|_| class == 0) {
            Some(r) => out.push_str(&r),
            None => out.push_str(&token),
        }
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_boundaries_become_ascii_outside_classes_only() {
        assert_eq!(ascii_word_boundaries(r"\bfoo\B"), r"(?-u:\b)foo(?-u:\B)");
        // An escaped backslash followed by `b` is a literal `\` and `b`.
        assert_eq!(ascii_word_boundaries(r"a\\b"), r"a\\b");
        // Inside a class (nested, or opened with a literal `]`) nothing changes.
        assert_eq!(ascii_word_boundaries(r"[]\b]\b"), r"[]\b](?-u:\b)");
        assert_eq!(
            ascii_word_boundaries(r"[^]x[:alpha:]]\b"),
            r"[^]x[:alpha:]](?-u:\b)"
        );
        assert_eq!(ascii_word_boundaries(r"(?i)\w+"), r"(?i)\w+");
    }

    #[test]
    fn ascii_boundaries_keep_the_fast_engine_on_non_ascii_text() {
        let r = builtin_regex(r"(?i)\bexploit\b");
        // Punctuation and spaces are non-word characters in both meanings.
        assert!(r.is_match("the exploit’s code"));
        assert!(r.is_match("«exploit»"));
        assert!(!r.is_match("exploitable"));
        // Offsets stay on character boundaries next to multi-byte characters.
        let m = r.find("— exploit —").map(|m| m.range());
        assert_eq!(m, Some(4..11));
    }
}
