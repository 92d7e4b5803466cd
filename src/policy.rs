//! Policy: a project's promises and requirements, and the verdict on a report.
//!
//! This module owns the rules a project's SECURITY.md states: the
//! acknowledgment and follow-up windows, the items a report must carry, and
//! the supported-versions table (semver-aware ranges). `evaluate` turns
//! classification findings into a verdict: what is missing, whether the
//! reported version is supported, the deadlines, and the next case state.
//! It never sends mail and never touches the store.

use std::cmp::Ordering;

use serde::Serialize;

use crate::classify::Findings;
use crate::config::{PolicyConfig, VersionRow};

/// A version as reporters write it: `2.4.1`, `v2.0.0-rc1`, `3.1`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Version {
    pub parts: Vec<u64>,
    pub pre: Option<String>,
}

impl Version {
    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim();
        let s = s.strip_prefix(['v', 'V']).unwrap_or(s);
        let (core, pre) = match s.find(['-', '+']) {
            Some(i) => (&s[..i], Some(s[i + 1..].to_string())),
            None => (s, None),
        };
        let mut parts = Vec::new();
        for p in core.split('.') {
            parts.push(p.parse::<u64>().ok()?);
        }
        if parts.is_empty() || parts.len() > 6 {
            return None;
        }
        Some(Version { parts, pre })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.parts.len().max(other.parts.len());
        for i in 0..n {
            let a = self.parts.get(i).copied().unwrap_or(0);
            let b = other.parts.get(i).copied().unwrap_or(0);
            match a.cmp(&b) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        match (&self.pre, &other.pre) {
            (None, None) => Ordering::Equal,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(a), Some(b)) => a.cmp(b),
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let core: Vec<String> = self.parts.iter().map(|p| p.to_string()).collect();
        write!(f, "{}", core.join("."))?;
        if let Some(p) = &self.pre {
            write!(f, "-{p}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

/// A range of versions as written in a supported-versions table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionRange {
    /// `*`, `all`, `any`
    Any,
    /// `latest`, `main`, `master`, `head`: the development line
    Latest,
    /// `2.3.x`, `5.1`, `1.x.x`: every version starting with these parts
    Prefix(Vec<u64>),
    /// `>= 2.0`, `< 1.4`
    Cmp(Op, Version),
    /// `1.2 - 1.4`, `1.2.0 through 1.4.3` (inclusive; an upper bound like 1.4 means all of 1.4.x)
    Between(Version, Version),
    /// `>= 1.0, < 2.0`
    All(Vec<VersionRange>),
}

impl VersionRange {
    pub fn parse(s: &str) -> std::result::Result<VersionRange, String> {
        let t = s.trim();
        if t.is_empty() {
            return Err("empty version range".into());
        }
        if t.contains(',') || t.contains("&&") {
            let parts: std::result::Result<Vec<_>, _> = t
                .split([',', '&'])
                .filter(|p| !p.trim().is_empty())
                .map(VersionRange::parse)
                .collect();
            return Ok(VersionRange::All(parts?));
        }
        let lower = t.to_ascii_lowercase();
        match lower.as_str() {
            "*" | "all" | "any" | "all versions" => return Ok(VersionRange::Any),
            "latest" | "main" | "master" | "head" | "trunk" | "dev" | "development" | "current"
            | "latest release" | "current release" => {
                return Ok(VersionRange::Latest);
            }
            "others" | "other" | "all others" | "all other releases" | "all other versions"
            | "older" | "older releases" | "older versions" => return Ok(VersionRange::Any),
            _ if lower.ends_with(".latest") => return Ok(VersionRange::Latest),
            _ => {}
        }
        for (sep, _) in [(" through ", 0), (" to ", 0), (" - ", 0), ("..", 0)] {
            if let Some((a, b)) = lower.split_once(sep) {
                let a = Version::parse(a)
                    .ok_or_else(|| format!("invalid version {a:?} in range {s:?}"))?;
                let b = Version::parse(b)
                    .ok_or_else(|| format!("invalid version {b:?} in range {s:?}"))?;
                return Ok(VersionRange::Between(a, b));
            }
        }
        let ops = [
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("=>", Op::Ge),
            ("=<", Op::Le),
            (">", Op::Gt),
            ("<", Op::Lt),
            ("==", Op::Eq),
            ("=", Op::Eq),
        ];
        for (sym, op) in ops {
            if let Some(rest) = lower.strip_prefix(sym) {
                let rest = rest.trim();
                let v = Version::parse(rest.trim_end_matches(".x").trim_end_matches(".*"))
                    .ok_or_else(|| format!("invalid version {rest:?} in range {s:?}"))?;
                return Ok(VersionRange::Cmp(op, v));
            }
        }
        // 2.3.x, 1.x.x, 5.1.*, 4.x, bare 5.1
        let core = lower.strip_prefix('v').unwrap_or(&lower);
        let mut parts = Vec::new();
        for p in core.split('.') {
            if p == "x" || p == "*" {
                break;
            }
            match p.parse::<u64>() {
                Ok(n) => parts.push(n),
                Err(_) => {
                    if Version::parse(core).is_some() {
                        let v = Version::parse(core).unwrap_or(Version {
                            parts: vec![],
                            pre: None,
                        });
                        return Ok(VersionRange::Cmp(Op::Eq, v));
                    }
                    return Err(format!("cannot read the version range {s:?}"));
                }
            }
        }
        if parts.is_empty() {
            return Err(format!("cannot read the version range {s:?}"));
        }
        Ok(VersionRange::Prefix(parts))
    }

    /// Does this range contain `v`?
    pub fn contains(&self, v: &Version) -> bool {
        match self {
            VersionRange::Any => true,
            VersionRange::Latest => false,
            VersionRange::Prefix(p) => {
                v.parts.len() >= p.len() && v.parts[..p.len()] == p[..]
                    || (v.parts.len() < p.len()
                        && p[..v.parts.len()] == v.parts[..]
                        && p[v.parts.len()..].iter().all(|&x| x == 0))
            }
            VersionRange::Cmp(op, b) => match op {
                Op::Lt => v < b,
                Op::Le => v <= b || prefix_of(b, v),
                Op::Gt => v > b && !prefix_of(b, v),
                Op::Ge => v >= b,
                Op::Eq => v == b || prefix_of(b, v),
            },
            VersionRange::Between(a, b) => v >= a && (v <= b || prefix_of(b, v)),
            VersionRange::All(rs) => rs.iter().all(|r| r.contains(v)),
        }
    }
}

/// The highest version an affected-version statement covers, or "latest".
#[derive(Debug, Clone, PartialEq)]
enum Reported {
    Version(Version),
    Latest,
}

fn reported_of(normalized: &str) -> Option<Reported> {
    let n = normalized.trim();
    if n == "*" || n == "latest" {
        return Some(Reported::Latest);
    }
    if n.starts_with("commit ") {
        return None;
    }
    // ">= a, <= b" / ">= a, < b": the upper bound decides.
    let last = n.rsplit(',').next().unwrap_or(n).trim();
    let (op, v) = match last.split_once(' ') {
        Some((op, v)) if ["<", "<=", ">", ">=", "="].contains(&op) => (op, v),
        _ => ("=", last),
    };
    if let Some(series) = v.strip_suffix(".x") {
        let mut parts: Vec<u64> = series.split('.').filter_map(|p| p.parse().ok()).collect();
        parts.push(u64::from(u32::MAX));
        return Some(Reported::Version(Version { parts, pre: None }));
    }
    let ver = Version::parse(v)?;
    Some(match op {
        ">" | ">=" => Reported::Latest,
        // Just below the bound: a pre-release of it sorts before it.
        "<" => Reported::Version(Version {
            parts: ver.parts,
            pre: Some("0".into()),
        }),
        _ => Reported::Version(ver),
    })
}

/// Whether the reported version is in a supported row of the table.
#[derive(Debug, Clone, Serialize)]
pub struct VersionVerdict {
    /// supported | unsupported | unknown
    pub status: String,
    /// The affected-version statement the verdict is based on.
    pub reported: Option<String>,
    /// The table row that matched.
    pub row: Option<VersionRow>,
}

/// The policy's deadlines for a report, from its arrival (RFC 3339, UTC).
#[derive(Debug, Clone, Serialize)]
pub struct Deadlines {
    pub ack_due: String,
    pub followup_due: Option<String>,
    pub resolve_due: Option<String>,
}

/// What a policy says about a classified report.
#[derive(Debug, Clone, Serialize)]
pub struct Verdict {
    pub policy: String,
    /// Required items the report does not carry (poc, versions, impact, ...).
    pub missing: Vec<String>,
    /// The report claims a PoC but does not include it.
    pub poc_claimed_not_included: bool,
    pub version: VersionVerdict,
    pub low_effort: bool,
    /// needs-info | triaged | rejected
    pub next_state: String,
    pub reasons: Vec<String>,
    pub deadlines: Deadlines,
    #[serde(skip)]
    pub ack_due: i64,
    #[serde(skip)]
    pub followup_due: Option<i64>,
}

/// Matches the report's versions against the supported-versions table.
pub fn version_verdict(
    table: &[VersionRow],
    latest: Option<&str>,
    findings: &Findings,
) -> VersionVerdict {
    let latest = latest.and_then(Version::parse);
    let unknown = VersionVerdict {
        status: "unknown".into(),
        reported: None,
        row: None,
    };
    if table.is_empty() {
        return unknown;
    }
    let mut any_unsupported: Option<VersionVerdict> = None;
    for item in &findings.versions.items {
        let Some(norm) = item.normalized.as_deref() else {
            continue;
        };
        let Some(rep) = reported_of(norm) else {
            continue;
        };
        for row in table {
            let Ok(range) = VersionRange::parse(&row.range) else {
                continue;
            };
            let hit = match (&rep, &range) {
                (Reported::Latest, VersionRange::Latest | VersionRange::Any) => true,
                (Reported::Latest, VersionRange::Cmp(Op::Ge | Op::Gt, _)) => true,
                (Reported::Latest, _) => false,
                // "latest" rows match concrete versions only when the policy names the current release.
                (Reported::Version(v), VersionRange::Latest) => {
                    latest.as_ref().is_some_and(|l| v >= l)
                }
                (Reported::Version(v), r) => r.contains(v),
            };
            if hit {
                let v = VersionVerdict {
                    status: if row.supported {
                        "supported"
                    } else {
                        "unsupported"
                    }
                    .into(),
                    reported: Some(item.text.clone()),
                    row: Some(row.clone()),
                };
                if row.supported {
                    return v;
                }
                any_unsupported.get_or_insert(v);
                break;
            }
        }
        if rep == Reported::Latest && any_unsupported.is_none() {
            // The current release is affected: supported by definition when any row is.
            if let Some(row) = table.iter().find(|r| r.supported) {
                return VersionVerdict {
                    status: "supported".into(),
                    reported: Some(item.text.clone()),
                    row: Some(row.clone()),
                };
            }
        }
    }
    any_unsupported.unwrap_or(unknown)
}

/// Evaluates classification findings under a policy.
pub fn evaluate(
    name: &str,
    policy: &PolicyConfig,
    findings: &Findings,
    arrived_at: i64,
) -> Verdict {
    let missing: Vec<String> = policy
        .require
        .iter()
        .filter(|r| !findings.has(r))
        .cloned()
        .collect();
    let version = version_verdict(
        &policy.supported_versions,
        policy.latest.as_deref(),
        findings,
    );
    let mut reasons = Vec::new();
    let low_effort = findings.low_effort.flag;
    let next_state = if low_effort && policy.reject_low_effort {
        reasons.push(format!(
            "low-effort report ({}) under a policy that rejects them",
            findings.low_effort.reasons.join(", ")
        ));
        "rejected"
    } else if !missing.is_empty() {
        reasons.push(format!("missing required: {}", missing.join(", ")));
        "needs-info"
    } else {
        reasons.push("every required item is present".into());
        "triaged"
    };
    if version.status == "unsupported" {
        reasons.push(format!(
            "reported version {} is not supported",
            version.reported.as_deref().unwrap_or("?")
        ));
    }
    let ack_due = policy.ack_within.after(arrived_at);
    let followup_due = policy.followup_within.map(|d| d.after(arrived_at));
    let resolve_due = policy.resolve_within.map(|d| d.after(arrived_at));
    Verdict {
        policy: name.into(),
        poc_claimed_not_included: findings.poc.status == "claimed",
        missing,
        version,
        low_effort,
        next_state: next_state.into(),
        reasons,
        deadlines: Deadlines {
            ack_due: crate::store::rfc3339(ack_due),
            followup_due: followup_due.map(crate::store::rfc3339),
            resolve_due: resolve_due.map(crate::store::rfc3339),
        },
        ack_due,
        followup_due,
    }
}

/// `1.4` as an upper bound also covers `1.4.7`.
fn prefix_of(bound: &Version, v: &Version) -> bool {
    bound.pre.is_none()
        && v.parts.len() > bound.parts.len()
        && v.parts[..bound.parts.len()] == bound.parts[..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn version_order() {
        assert!(v("2.4.1") < v("2.10"));
        assert!(v("v2.0.0-rc1") < v("2.0.0"));
        assert_eq!(v("2.0").cmp(&v("2.0.0")), Ordering::Equal);
        assert!(Version::parse("abc").is_none());
    }

    #[test]
    fn ranges() {
        let r = |s: &str| VersionRange::parse(s).unwrap();
        assert!(r(">= 2.0").contains(&v("2.4.1")));
        assert!(!r(">= 2.0").contains(&v("1.9")));
        assert!(r("< 2.0").contains(&v("1.9.9")));
        assert!(r("2.3.x").contains(&v("2.3.7")));
        assert!(!r("2.3.x").contains(&v("2.4.0")));
        assert!(r("1.x.x").contains(&v("1.0.3")));
        assert!(r("5.1").contains(&v("5.1.4")));
        assert!(r("1.2 - 1.4").contains(&v("1.4.3")));
        assert!(!r("1.2 - 1.4").contains(&v("1.5")));
        assert!(r(">= 1.0, < 2.0").contains(&v("1.5")));
        assert!(!r(">= 1.0, < 2.0").contains(&v("2.0")));
        assert!(r("<= 2.4").contains(&v("2.4.9")));
        assert!(r("*").contains(&v("0.1")));
        assert_eq!(r("latest"), VersionRange::Latest);
        assert!(VersionRange::parse("soon").is_err());
        assert!(VersionRange::parse(">= x").is_err());
    }
}
