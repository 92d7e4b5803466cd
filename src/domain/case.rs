//! Cases: the lifecycle state machine, public ids and thread tags.
//!
//! This module owns the rules of a case's life: which states exist, which
//! transitions an operator may make, how public ids look (`SEC-2026-0001`) and
//! how a follow-up names its case (`[SEC-2026-0001]` in the subject). It holds
//! no SQL.

use std::fmt;
use std::str::FromStr;

use anyhow::{Result, bail};

/// The states a case can be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    New,
    Acknowledged,
    NeedsInfo,
    Triaged,
    Accepted,
    Fixed,
    Disclosed,
    Closed,
    Rejected,
    Duplicate,
    Spam,
    Undecryptable,
    Unparseable,
    Oversize,
    Imported,
}

pub(crate) const ALL_STATES: &[State] = &[
    State::New,
    State::Acknowledged,
    State::NeedsInfo,
    State::Triaged,
    State::Accepted,
    State::Fixed,
    State::Disclosed,
    State::Closed,
    State::Rejected,
    State::Duplicate,
    State::Spam,
    State::Undecryptable,
    State::Unparseable,
    State::Oversize,
    State::Imported,
];

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::New => "new",
            State::Acknowledged => "acknowledged",
            State::NeedsInfo => "needs-info",
            State::Triaged => "triaged",
            State::Accepted => "accepted",
            State::Fixed => "fixed",
            State::Disclosed => "disclosed",
            State::Closed => "closed",
            State::Rejected => "rejected",
            State::Duplicate => "duplicate",
            State::Spam => "spam",
            State::Undecryptable => "undecryptable",
            State::Unparseable => "unparseable",
            State::Oversize => "oversize",
            State::Imported => "imported",
        }
    }

    /// Quarantine states: the message is kept but could not be read.
    pub(crate) fn is_quarantine(self) -> bool {
        matches!(
            self,
            State::Undecryptable | State::Unparseable | State::Oversize
        )
    }

    /// Terminal states: no clock runs.
    pub(crate) fn is_closed(self) -> bool {
        matches!(
            self,
            State::Closed | State::Rejected | State::Duplicate | State::Spam
        )
    }

    /// May an operator move a case from `self` to `to`?
    pub(crate) fn can_move_to(self, to: State) -> bool {
        use State::*;
        if self == to {
            return false;
        }
        // Any open case may be closed as rejected, duplicate or spam.
        if matches!(to, Rejected | Duplicate | Spam) {
            return !matches!(self, Closed);
        }
        match self {
            New | Imported | Undecryptable | Unparseable | Oversize => {
                matches!(to, Acknowledged | NeedsInfo | Triaged | Closed)
            }
            Acknowledged => matches!(to, NeedsInfo | Triaged | Accepted | Closed),
            NeedsInfo => matches!(to, Triaged | Accepted | Closed),
            Triaged => matches!(to, NeedsInfo | Accepted | Closed),
            Accepted => matches!(to, Fixed | Closed),
            Fixed => matches!(to, Disclosed | Closed),
            Disclosed => matches!(to, Closed),
            Closed => matches!(to, Triaged),
            Rejected | Duplicate | Spam => matches!(to, Triaged),
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // pad: tables align states with `{:<13}`.
        f.pad(self.as_str())
    }
}

/// Comparing with the word, for callers of the library API and tests.
impl PartialEq<&str> for State {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl serde::Serialize for State {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for State {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let word = String::deserialize(d)?;
        word.parse().map_err(serde::de::Error::custom)
    }
}

impl rusqlite::types::ToSql for State {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        Ok(rusqlite::types::ToSqlOutput::from(self.as_str()))
    }
}

impl rusqlite::types::FromSql for State {
    fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        v.as_str()?
            .parse()
            .map_err(|e: anyhow::Error| rusqlite::types::FromSqlError::Other(e.into()))
    }
}

impl FromStr for State {
    type Err = anyhow::Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim().to_ascii_lowercase().replace('_', "-");
        for st in ALL_STATES {
            if st.as_str() == s {
                return Ok(*st);
            }
        }
        bail!(
            "unknown state {s:?}; states are: {}",
            ALL_STATES
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

/// `SEC-2026-0001`
pub(crate) fn format_id(year: i32, seq: i64) -> String {
    format!("SEC-{year}-{seq:04}")
}

/// Finds case tags (`[SEC-2026-0001]` or a bare `SEC-2026-0001`) in a subject line.
pub(crate) fn tags_in(subject: &str) -> Vec<String> {
    // Subjects are attacker input: every step is a checked `get`, no index can panic.
    let mut out = Vec::new();
    let b = subject.as_bytes();
    let mut i = 0;
    while let Some(p) = subject.get(i..).and_then(|t| t.find("SEC-")) {
        let s = i + p;
        let rest = b.get(s + 4..).unwrap_or_default();
        let year_ok = rest
            .get(..4)
            .is_some_and(|y| y.iter().all(u8::is_ascii_digit))
            && rest.get(4) == Some(&b'-');
        if year_ok {
            let digits = rest
                .get(5..)
                .unwrap_or_default()
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if digits >= 4
                && let Some(tag) = subject.get(s..s + 9 + digits)
            {
                out.push(tag.to_string());
            }
        }
        i = s + 4;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_tags() {
        assert_eq!(format_id(2026, 7), "SEC-2026-0007");
        assert_eq!(
            tags_in("Re: [SEC-2026-0007] Report received"),
            vec!["SEC-2026-0007"]
        );
        assert_eq!(
            tags_in("SEC-2026-12345 and SEC-20-1"),
            vec!["SEC-2026-12345"]
        );
        assert!(tags_in("no tag SEC-").is_empty());
    }

    #[test]
    fn transitions() {
        assert!(State::New.can_move_to(State::Triaged));
        assert!(State::NeedsInfo.can_move_to(State::Triaged));
        assert!(!State::Closed.can_move_to(State::Fixed));
        assert!(State::Accepted.can_move_to(State::Fixed));
        assert!(!State::New.can_move_to(State::Fixed));
        assert!(State::Undecryptable.can_move_to(State::Spam));
        for s in ALL_STATES {
            assert_eq!(s.as_str().parse::<State>().unwrap(), *s);
            assert!(!s.can_move_to(*s));
        }
        assert!("bogus".parse::<State>().is_err());
    }
}
