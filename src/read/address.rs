//! Addresses: RFC 5322 §3.4 mailbox lists parsed from the raw header, and the
//! rules for which parsed address triaged may answer.
//!
//! mail-parser is lenient on purpose (it reads what mail clients write), which
//! is right for display and wrong for choosing a recipient: `"a,b"@evil.test`
//! must not become `@evil.test`. This module owns the strict reading of From
//! (quoted strings, comments, angle addresses, groups, obsolete routes) and the
//! judgement of what is ambiguous: several mailboxes or From headers, a group, a
//! quoted local part, a domain literal, non-ASCII without SMTPUTF8. It never
//! decides anything else about a message.

/// One mailbox of an address list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    /// The local part as written (quotes removed, escapes resolved).
    pub local: String,
    pub domain: String,
    /// The local part was a quoted string (`"a,b"@x`).
    pub quoted_local: bool,
    /// The domain was a literal (`[192.0.2.1]`).
    pub domain_literal: bool,
}

impl Mailbox {
    /// `local@domain`, lower-cased (the form triaged stores and compares).
    pub fn addr(&self) -> String {
        let local = if self.quoted_local {
            format!(
                "\"{}\"",
                self.local.replace('\\', "\\\\").replace('"', "\\\"")
            )
        } else {
            self.local.clone()
        };
        format!("{local}@{}", self.domain).to_lowercase()
    }

    /// Why an automatic answer may not be sent to this address, or None.
    pub(crate) fn unanswerable(&self) -> Option<String> {
        let a = self.addr();
        if self.quoted_local {
            return Some(format!(
                "the From address {a} has a quoted local part; an automatic answer could go astray, answer by hand"
            ));
        }
        if self.domain_literal {
            return Some(format!(
                "the From address {a} names an IP address literal instead of a domain"
            ));
        }
        if !a.is_ascii() {
            return Some(format!(
                "the From address {a} is not ASCII and the outbox does not use SMTPUTF8 (RFC 6531)"
            ));
        }
        let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
        if self.local.is_empty()
            || self.local.starts_with('.')
            || self.local.ends_with('.')
            || self.local.contains("..")
            || !self.local.chars().all(|c| atext(c) || c == '.')
        {
            return Some(format!("the From address {a} has an invalid local part"));
        }
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if self.domain.len() > 253 || !self.domain.split('.').all(label_ok) {
            return Some(format!("the From address {a} has an invalid domain"));
        }
        None
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Atom(String),
    Quoted(String),
    Literal(String),
    Special(char),
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        match c {
            c if c.is_whitespace() => {}
            '(' => {
                let mut depth = 1;
                while depth > 0 {
                    match it.next() {
                        Some('\\') => {
                            it.next();
                        }
                        Some('(') => depth += 1,
                        Some(')') => depth -= 1,
                        Some(_) => {}
                        None => return Err("unterminated comment".into()),
                    }
                }
            }
            '"' => {
                let mut q = String::new();
                loop {
                    match it.next() {
                        Some('\\') => q.extend(it.next()),
                        Some('"') => break,
                        Some('\r' | '\n') => {}
                        Some(c) => q.push(c),
                        None => return Err("unterminated quoted string".into()),
                    }
                }
                out.push(Tok::Quoted(q));
            }
            '[' => {
                let mut l = String::new();
                loop {
                    match it.next() {
                        Some('\\') => l.extend(it.next()),
                        Some(']') => break,
                        Some(c) => l.push(c),
                        None => return Err("unterminated domain literal".into()),
                    }
                }
                out.push(Tok::Literal(l));
            }
            '<' | '>' | '@' | ',' | ':' | ';' | '.' => out.push(Tok::Special(c)),
            ')' | ']' | '\\' => return Err(format!("unexpected {c:?}")),
            c => {
                let mut a = String::from(c);
                while let Some(&n) = it.peek() {
                    if n.is_whitespace() || "()<>[]:;@\\,.\"".contains(n) {
                        break;
                    }
                    a.push(n);
                    it.next();
                }
                out.push(Tok::Atom(a));
            }
        }
    }
    Ok(out)
}

/// An addr-spec from tokens: local-part "@" domain.
fn addr_spec(t: &[Tok]) -> Result<(String, bool, String, bool), String> {
    let at = t
        .iter()
        .rposition(|x| *x == Tok::Special('@'))
        .ok_or("no @ in the address")?;
    let (l, rest) = t.split_at(at);
    let d = rest.get(1..).unwrap_or_default();
    let mut local = String::new();
    let mut quoted = false;
    for x in l {
        match x {
            Tok::Atom(a) => local.push_str(a),
            Tok::Quoted(q) => {
                quoted = true;
                local.push_str(q);
            }
            Tok::Special('.') => local.push('.'),
            other => return Err(format!("unexpected {other:?} in the local part")),
        }
    }
    let mut domain = String::new();
    let mut literal = false;
    for x in d {
        match x {
            Tok::Atom(a) => domain.push_str(a),
            Tok::Special('.') => domain.push('.'),
            Tok::Literal(v) if d.len() == 1 => {
                literal = true;
                domain = format!("[{v}]");
            }
            other => return Err(format!("unexpected {other:?} in the domain")),
        }
    }
    if local.is_empty() || domain.is_empty() {
        return Err("empty local part or domain".into());
    }
    Ok((local, quoted, domain, literal))
}

fn mailbox(t: &[Tok]) -> Result<Mailbox, String> {
    let (name, spec) = match t.iter().position(|x| *x == Tok::Special('<')) {
        Some(open) => {
            if t.last() != Some(&Tok::Special('>')) {
                return Err("unterminated angle address".into());
            }
            let inner = t.get(open + 1..t.len() - 1).unwrap_or_default();
            // Obsolete route (RFC 5322 §4.4): "<@a.example,@b.example:user@c.example>".
            let inner = match inner.iter().position(|x| *x == Tok::Special(':')) {
                Some(c) if inner.first() == Some(&Tok::Special('@')) => {
                    inner.get(c + 1..).unwrap_or_default()
                }
                _ => inner,
            };
            let words: Vec<String> = t
                .get(..open)
                .unwrap_or_default()
                .iter()
                .map(|x| match x {
                    Tok::Atom(a) | Tok::Quoted(a) => a.clone(),
                    Tok::Special(c) => c.to_string(),
                    Tok::Literal(l) => format!("[{l}]"),
                })
                .collect();
            let name = (!words.is_empty()).then(|| words.join(" "));
            (name, inner)
        }
        None => (None, t),
    };
    let (local, quoted_local, domain, domain_literal) = addr_spec(spec)?;
    Ok(Mailbox {
        name,
        local,
        domain,
        quoted_local,
        domain_literal,
    })
}

/// Parses a mailbox list (the value of From, Sender, Reply-To). Groups
/// (`name: a@x, b@y;`) are refused: RFC 5322 does not allow them in From.
pub(crate) fn parse_list(value: &str) -> Result<Vec<Mailbox>, String> {
    let toks = tokenize(value)?;
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        match t {
            Tok::Special('<') => depth += 1,
            Tok::Special('>') => depth = depth.saturating_sub(1),
            Tok::Special(':') if depth == 0 => {
                return Err("a group (name: addresses;) where a mailbox is expected".into());
            }
            Tok::Special(',') if depth == 0 => {
                if i > start {
                    out.push(mailbox(toks.get(start..i).unwrap_or_default())?);
                }
                start = i + 1;
            }
            _ => {}
        }
    }
    if toks.len() > start {
        out.push(mailbox(toks.get(start..).unwrap_or_default())?);
    }
    if out.is_empty() {
        return Err("no address".into());
    }
    Ok(out)
}

/// The one address a report may be answered at, from all its raw From header
/// values; Err says why there is none (the case is still made, the ack is not sent).
pub fn sender(from_headers: &[&str]) -> Result<Mailbox, String> {
    match from_headers {
        [] => Err("no From header".into()),
        [one] => {
            let list = parse_list(one).map_err(|e| format!("From header unreadable: {e}"))?;
            match list.as_slice() {
                [m] => Ok(m.clone()),
                many => Err(format!(
                    "From names {} mailboxes ({}): it is not clear who sent it",
                    many.len(),
                    many.iter()
                        .map(Mailbox::addr)
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        }
        many => Err(format!(
            "{} From headers: it is not clear who sent it",
            many.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> Mailbox {
        let l = parse_list(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(l.len(), 1, "{s}: {l:?}");
        l.into_iter().next().unwrap()
    }

    #[test]
    fn reads_the_forms_mail_clients_write() {
        assert_eq!(one("alice@example.net").addr(), "alice@example.net");
        let m = one("\"Alice, Sec\" <Alice@Example.NET>");
        assert_eq!(m.addr(), "alice@example.net");
        assert_eq!(m.name.as_deref(), Some("Alice, Sec"));
        assert_eq!(
            one("Alice (work) <alice(comment)@example.net>").addr(),
            "alice@example.net"
        );
        assert_eq!(
            one("bob.smith+sec@example.co.uk").addr(),
            "bob.smith+sec@example.co.uk"
        );
        assert_eq!(
            one("<@relay.example:carol@example.org>").addr(),
            "carol@example.org"
        );
        assert!(one("dave@example.io").unanswerable().is_none());
    }

    #[test]
    fn a_quoted_comma_is_part_of_the_local_part_and_not_answered() {
        let m = one("\"a,b\"@evil.test");
        assert_eq!(m.local, "a,b");
        assert_eq!(m.domain, "evil.test");
        assert!(m.quoted_local);
        assert!(m.unanswerable().unwrap().contains("quoted local part"));
    }

    #[test]
    fn ambiguity_is_an_error() {
        assert!(
            sender(&["a@x.test, b@y.test"])
                .unwrap_err()
                .contains("2 mailboxes")
        );
        assert!(
            sender(&["a@x.test", "b@y.test"])
                .unwrap_err()
                .contains("2 From headers")
        );
        assert!(parse_list("friends: a@x.test, b@y.test;").is_err());
        assert!(parse_list("@evil.test").is_err());
        assert!(parse_list("\"unterminated@x.test").is_err());
        assert!(one("user@[192.0.2.1]").unanswerable().is_some());
        assert!(
            one("jörg@example.de")
                .unanswerable()
                .unwrap()
                .contains("SMTPUTF8")
        );
        assert!(one("a..b@example.de").unanswerable().is_some());
        assert!(one("a@-bad-.example").unanswerable().is_some());
    }
}
