//! Redaction: credentials cut out of report text that stays queryable.
//!
//! Findings keep their evidence (the span that justified them) in plain columns
//! so that operators can search and read them without the team key. A PoC often
//! carries a live session cookie, a bearer token or a password; those are
//! replaced here by `[redacted]` before anything reaches the store, whether or
//! not `store.encrypt_at_rest` is on. The full text stays in the (sealed) body.
//! This module owns the patterns and nothing else.

use std::sync::LazyLock;

use regex::Regex;

/// What replaces a credential.
pub(crate) const MARK: &str = "[redacted]";

static PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // Authorization: Bearer/Basic/Token/Digest …, and bare "Bearer xyz".
        // (the value must hold a digit: "basic authentication" is prose).
        r"(?i)\b(bearer\s+|basic\s+|digest\s+)([A-Za-z\-._~+/]*[0-9][A-Za-z0-9\-._~+/]*=*)",
        // Cookie: a=b; c=d  and Set-Cookie values (the whole value list).
        r#"(?i)\b((?:set-)?cookie\s*:\s*)([^\r\n'"]+)"#,
        // -b 'a=b' / --cookie "a=b" in curl commands.
        r#"(?i)(\s(?:-b|--cookie)\s+['"]?)([^'"\s]+)"#,
        // key=value / key: value / "key": "value" for secret-looking keys.
        r#"(?i)\b((?:[a-z0-9_\-]*(?:password|passwd|pwd|passphrase|secret|token|api[_-]?key|apikey|access[_-]?key|auth|session(?:id)?|sid|csrf))["']?\s*[:=]\s*["']?)([^\s"'&;,}]{3,})"#,
        // user:password@host in URLs.
        r"(?i)\b([a-z][a-z0-9+.\-]*://[^/\s:@]+:)([^@\s/]+)(@)",
        // JSON Web Tokens.
        r"()(eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*)",
        // AWS access key ids, GitHub and Slack tokens, PEM private keys.
        r"()\b((?:AKIA|ASIA)[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abprs]-[A-Za-z0-9\-]{10,})",
        r"()(-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$))",
    ]
    .iter()
    .filter_map(|p| Regex::new(p).ok())
    .collect()
});

/// `text` with every credential-looking value replaced by [`MARK`]; the name of
/// the field stays (an operator still sees that a cookie was there).
pub(crate) fn credentials(text: &str) -> std::borrow::Cow<'_, str> {
    let mut out = std::borrow::Cow::Borrowed(text);
    for re in PATTERNS.iter() {
        if re.is_match(&out) {
            let replaced = re
                .replace_all(&out, |c: &regex::Captures<'_>| {
                    let keep = c.get(1).map_or("", |m| m.as_str());
                    let tail = c.get(3).map_or("", |m| m.as_str());
                    format!("{keep}{MARK}{tail}")
                })
                .into_owned();
            out = std::borrow::Cow::Owned(replaced);
        }
    }
    out
}

/// Redacts every string inside a JSON value (findings and their evidence).
pub fn json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) => {
            if let std::borrow::Cow::Owned(r) = credentials(s) {
                *s = r;
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(json),
        serde_json::Value::Object(o) => o.values_mut().for_each(json),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_the_usual_credentials() {
        let cases = [
            ("Authorization: Bearer abcdef1234567890", "abcdef1234567890"),
            ("Cookie: session=9f8e7d6c5b4a; theme=dark", "9f8e7d6c5b4a"),
            ("curl -b 'PHPSESSID=q1w2e3r4t5' https://x", "q1w2e3r4t5"),
            ("password=hunter2&user=bob", "hunter2"),
            (
                "{\"api_key\": \"sk_live_0123456789\"}",
                "sk_live_0123456789",
            ),
            ("https://admin:s3cr3tpw@host.test/x", "s3cr3tpw"),
            (
                "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_nature",
                "eyJhbGciOiJIUzI1NiJ9",
            ),
            ("key AKIAABCDEFGHIJKLMNOP used", "AKIAABCDEFGHIJKLMNOP"),
        ];
        for (text, secret) in cases {
            let r = credentials(text);
            assert!(!r.contains(secret), "{text:?} -> {r:?}");
            assert!(r.contains(MARK), "{text:?} -> {r:?}");
        }
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        for text in [
            "The login form at /login is vulnerable to SQL injection in the user field.",
            "Affected versions: <= 2.4.1; fixed in 2.4.2",
            "GET /api/v1/users?id=1 HTTP/1.1",
            "The admin panel uses basic authentication over plain HTTP.",
        ] {
            assert_eq!(credentials(text), text);
        }
    }

    #[test]
    fn json_strings_are_redacted_in_place() {
        let mut v = serde_json::json!({"evidence": [{"text": "Cookie: sid=abcdef123"}], "n": 3});
        json(&mut v);
        assert_eq!(v["evidence"][0]["text"], "Cookie: [redacted]");
        assert_eq!(v["n"], 3);
    }
}
