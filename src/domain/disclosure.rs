//! Disclosure: the facts a case carries on its way to an advisory (CVE and CWE ids,
//! CVSS vector, affected and fixed versions, package, embargo date, advisory URL) and
//! the credit the reporter asked for. Plain types with their validation; the store
//! keeps them as columns of the case, `case set` edits them, templates and the
//! advisory export read them.

use serde::{Deserialize, Serialize};

/// How the reporter wants to be credited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credit {
    /// The name to print, e.g. "Rita Reporter".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Their employer or team, e.g. "Example Labs".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affiliation: Option<String>,
    /// A handle, e.g. "@rita" or a GitHub login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handle: Option<String>,
    /// They asked not to be named.
    #[serde(default)]
    pub anonymous: bool,
}

impl Credit {
    /// The credit as a report asks for it: "Rita Reporter (Example Labs)" is a name and
    /// an affiliation, "@rita" a handle.
    pub fn asked(name: Option<&str>, anonymous: bool) -> Credit {
        let mut c = Credit {
            anonymous,
            ..Credit::default()
        };
        let Some(n) = name.map(str::trim).filter(|n| !n.is_empty()) else {
            return c;
        };
        if let Some((who, rest)) = n.split_once(" (")
            && let Some(aff) = rest.strip_suffix(')')
            && !who.trim().is_empty()
            && !aff.trim().is_empty()
        {
            c.name = Some(who.trim().to_string());
            c.affiliation = Some(aff.trim().to_string());
        } else if n.starts_with('@') && !n.contains(' ') {
            c.handle = Some(n.to_string());
        } else {
            c.name = Some(n.to_string());
        }
        c
    }

    /// The credit line as an advisory prints it ("Rita Reporter (Example Labs)",
    /// "an anonymous reporter"), or None when nothing is known.
    pub fn line(&self) -> Option<String> {
        if self.anonymous {
            return Some("an anonymous reporter".into());
        }
        let name = self.name.as_deref().or(self.handle.as_deref())?;
        let mut s = name.to_string();
        if let (Some(h), Some(_)) = (&self.handle, &self.name) {
            s.push_str(&format!(" ({h})"));
        }
        if let Some(a) = &self.affiliation {
            s.push_str(&format!(", {a}"));
        }
        Some(s)
    }
}

/// The disclosure facts of a case; every field optional until the team sets it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disclosure {
    pub cve_ids: Vec<String>,
    pub cwe_ids: Vec<String>,
    /// A CVSS v3.x or v4.0 vector (validated when set).
    pub cvss: Option<String>,
    /// The affected range as the team states it, e.g. "<= 2.4.1" or ">= 2.0.0, < 2.4.2".
    pub affected: Option<String>,
    /// The first fixed version.
    pub fixed_in: Option<String>,
    /// The package an advisory names (e.g. "acme-server").
    pub package: Option<String>,
    /// The package's ecosystem as OSV spells it (npm, PyPI, crates.io, Go, Maven, ...).
    pub ecosystem: Option<String>,
    /// The embargo's last day (YYYY-MM-DD, UTC).
    pub embargo_until: Option<String>,
    pub advisory_url: Option<String>,
}

/// A CVE id, upper case (`CVE-2026-12345`), or why not.
pub fn cve_id(s: &str) -> Result<String, String> {
    let u = s.trim().to_ascii_uppercase();
    let ok = u
        .strip_prefix("CVE-")
        .and_then(|r| r.split_once('-'))
        .is_some_and(|(y, n)| {
            y.len() == 4
                && y.chars().all(|c| c.is_ascii_digit())
                && n.len() >= 4
                && n.chars().all(|c| c.is_ascii_digit())
        });
    if ok {
        Ok(u)
    } else {
        Err(format!(
            "{s:?} is not a CVE id; write it as CVE-YYYY-NNNN (e.g. CVE-2026-12345)"
        ))
    }
}

/// A CWE id, upper case (`CWE-79`; a bare number is accepted), or why not.
pub fn cwe_id(s: &str) -> Result<String, String> {
    let t = s.trim();
    let digits = t
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("CWE-"))
        .and_then(|_| t.get(4..))
        .unwrap_or(t);
    if !digits.is_empty() && digits.len() <= 5 && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(format!("CWE-{digits}"))
    } else {
        Err(format!(
            "{s:?} is not a CWE id; write it as CWE-NNN (e.g. CWE-79)"
        ))
    }
}

/// An embargo date (YYYY-MM-DD), or why not.
pub fn embargo_date(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|e| format!("{s:?} is not a date ({e}); write it as YYYY-MM-DD"))
}

/// The end of an embargo day (23:59:59 UTC) as unix seconds.
pub fn embargo_ends_at(date: &str) -> Option<i64> {
    let d = embargo_date(date).ok()?;
    Some(d.and_hms_opt(23, 59, 59)?.and_utc().timestamp())
}

/// An advisory URL (http or https, no spaces), or why not.
pub fn advisory_url(s: &str) -> Result<String, String> {
    let t = s.trim();
    let ok = (t.starts_with("https://") || t.starts_with("http://"))
        && t.len() > "https://".len()
        && !t.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(t.to_string())
    } else {
        Err(format!("{s:?} is not an http(s) URL"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_and_normalised() {
        assert_eq!(cve_id(" cve-2026-12345 ").unwrap(), "CVE-2026-12345");
        assert!(cve_id("CVE-26-1").is_err());
        assert!(cve_id("2026-12345").is_err());
        assert_eq!(cwe_id("79").unwrap(), "CWE-79");
        assert_eq!(cwe_id("cwe-1321").unwrap(), "CWE-1321");
        assert!(cwe_id("CWE-").is_err());
        assert!(cwe_id("XSS").is_err());
    }

    #[test]
    fn embargo_dates_and_urls() {
        assert!(embargo_date("2026-12-24").is_ok());
        assert!(embargo_date("24.12.2026").is_err());
        assert_eq!(embargo_ends_at("1970-01-01"), Some(86_399));
        assert!(advisory_url("https://example.test/advisories/1").is_ok());
        assert!(advisory_url("javascript:alert(1)").is_err());
        assert!(advisory_url("https://a b").is_err());
    }

    #[test]
    fn credit_lines() {
        let c = Credit {
            name: Some("Rita Reporter".into()),
            affiliation: Some("Example Labs".into()),
            handle: None,
            anonymous: false,
        };
        assert_eq!(c.line().unwrap(), "Rita Reporter, Example Labs");
        let h = Credit {
            handle: Some("@rita".into()),
            ..Credit::default()
        };
        assert_eq!(h.line().unwrap(), "@rita");
        let a = Credit {
            anonymous: true,
            ..c.clone()
        };
        assert_eq!(a.line().unwrap(), "an anonymous reporter");
        assert_eq!(Credit::default().line(), None);
        let asked = Credit::asked(Some("Rita Reporter (Example Labs)"), false);
        assert_eq!(asked, c);
        assert_eq!(
            Credit::asked(Some("@rita"), false).handle.as_deref(),
            Some("@rita")
        );
        assert!(Credit::asked(None, true).anonymous);
    }
}
