//! Policy: a project's promises and requirements, and the verdict on a report.
//!
//! This module owns the rules a project's SECURITY.md states: the
//! acknowledgment and follow-up windows, the items a report must carry, and
//! the supported-versions table (semver-aware ranges). `evaluate` turns
//! classification findings into a verdict: what is missing, whether the
//! reported version is supported, the deadlines, and the next case state.
//! It never sends mail and never touches the store.

use crate::config::PolicyConfig;
use crate::domain::case::State;
use crate::domain::status::{PocStatus, VersionSupport};
use crate::domain::version::VersionRow;
pub use crate::domain::version::{Op, Version, VersionRange};
use crate::judge::classify::Findings;

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

pub use crate::domain::verdict::{Deadlines, Verdict, VersionVerdict};

/// Matches the report's versions against the supported-versions table.
///
/// Rows relative to the current release (`latest`, `latest-1`, `latest major`) need
/// the policy's `latest`; without it (or when a series cannot be told, `latest-2`
/// after a new major) such a row is undecided for that version, and a catch-all row
/// below it (`others`, `*`) does not decide either: the verdict stays unknown rather
/// than calling a version unsupported that may be the current release. In a table
/// that counts release series (`latest-1` rows), `latest` is the current series
/// (3.1.0 is in it when 3.1.2 is the latest), as "N and N-1" policies mean.
pub(crate) fn version_verdict(
    table: &[VersionRow],
    latest: Option<&str>,
    findings: &Findings,
) -> VersionVerdict {
    let latest = latest.and_then(Version::parse);
    let unknown = VersionVerdict {
        status: VersionSupport::Unknown,
        reported: None,
        row: None,
    };
    if table.is_empty() {
        return unknown;
    }
    let ranges: Vec<Option<VersionRange>> = table
        .iter()
        .map(|r| VersionRange::parse(&r.range).ok())
        .collect();
    let counts_series = ranges
        .iter()
        .any(|r| matches!(r, Some(VersionRange::Series { .. })));
    let mut any_unsupported: Option<VersionVerdict> = None;
    for item in &findings.versions.items {
        let Some(norm) = item.normalized.as_deref() else {
            continue;
        };
        let Some(rep) = reported_of(norm) else {
            continue;
        };
        let mut undecided = false;
        let mut refused = false;
        for (row, range) in table.iter().zip(&ranges) {
            let Some(range) = range else {
                continue;
            };
            let hit = match (&rep, range) {
                (Reported::Latest, VersionRange::Latest) => Some(true),
                (Reported::Latest, VersionRange::Series { back: 0, .. }) => Some(true),
                (Reported::Latest, VersionRange::Cmp(Op::Ge | Op::Gt, _)) => Some(true),
                // A catch-all row speaks of the versions above it, not of the current
                // release (which the loop's end answers).
                (Reported::Latest, _) => Some(false),
                (Reported::Version(v), VersionRange::Latest) => match &latest {
                    None => None,
                    Some(l) if counts_series => Some(
                        v >= l
                            || VersionRange::Prefix(l.parts.iter().take(2).copied().collect())
                                .contains(v),
                    ),
                    Some(l) => Some(v >= l),
                },
                (Reported::Version(v), VersionRange::Series { level, back }) => {
                    match &latest {
                        None => None,
                        Some(l) => match VersionRange::series_prefix(*level, *back, l) {
                            Some(p) => Some(VersionRange::Prefix(p).contains(v)),
                            // `latest-2` after 3.1: some 2.y series, unknown which.
                            None if v.parts.first() < l.parts.first() => None,
                            None => Some(false),
                        },
                    }
                }
                (Reported::Version(_), VersionRange::Any) if undecided => break,
                (Reported::Version(v), r) => Some(r.contains(v)),
            };
            let Some(hit) = hit else {
                undecided = true;
                continue;
            };
            if hit {
                let v = VersionVerdict {
                    status: if row.supported {
                        VersionSupport::Supported
                    } else {
                        VersionSupport::Unsupported
                    },
                    // The version as normalised ("= 1.9.3" → "1.9.3"), not the sentence.
                    reported: Some(norm.strip_prefix("= ").unwrap_or(norm).to_string()),
                    row: Some(row.clone()),
                };
                if row.supported {
                    return v;
                }
                any_unsupported.get_or_insert(v);
                refused = true;
                break;
            }
        }
        if rep == Reported::Latest && !refused {
            // The current release is affected: supported by definition when any row is
            // (whatever older versions the report also names).
            if let Some(row) = table.iter().find(|r| r.supported) {
                return VersionVerdict {
                    status: VersionSupport::Supported,
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
        State::Rejected
    } else if !missing.is_empty() {
        reasons.push(format!("missing required: {}", missing.join(", ")));
        State::NeedsInfo
    } else {
        reasons.push("every required item is present".into());
        State::Triaged
    };
    if version.status == VersionSupport::Unsupported {
        reasons.push(format!(
            "reported version {} is not supported",
            version.reported.as_deref().unwrap_or("?")
        ));
    }
    let ack_due = policy.ack_within.after(arrived_at);
    let followup_due = policy.followup_within.map(|d| d.after(arrived_at));
    let resolve_due = policy.resolve_within.map(|d| d.after(arrived_at));
    let supported = if version.status == VersionSupport::Unsupported {
        policy
            .supported_versions
            .iter()
            .filter(|r| r.supported)
            .map(|r| r.range.clone())
            .collect()
    } else {
        Vec::new()
    };
    let credit = findings
        .credit
        .as_ref()
        .filter(|_| policy.credit)
        .and_then(|c| {
            if c.anonymous {
                Some("anonymous".to_string())
            } else {
                c.name.clone()
            }
        });
    Verdict {
        supported,
        credit,
        policy: name.into(),
        poc_claimed_not_included: findings.poc.status == PocStatus::Claimed,
        missing,
        version,
        low_effort,
        next_state,
        reasons,
        deadlines: Deadlines {
            ack_due: crate::domain::time::rfc3339(ack_due),
            followup_due: followup_due.map(crate::domain::time::rfc3339),
            resolve_due: resolve_due.map(crate::domain::time::rfc3339),
        },
        ack_due,
        followup_due,
        resolve_due,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

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
        use crate::domain::version::SeriesLevel::{Major, Minor};
        let series = |level, back| VersionRange::Series { level, back };
        assert_eq!(r("latest-1"), series(Minor, 1));
        assert_eq!(r("Latest - 2"), series(Minor, 2));
        assert_eq!(r("latest minor"), series(Minor, 0));
        assert_eq!(r("latest major-1"), series(Major, 1));
        assert!(VersionRange::parse("latest-").is_err());
        let l = v("3.1.2");
        assert_eq!(VersionRange::series_prefix(Minor, 1, &l), Some(vec![3, 0]));
        assert_eq!(VersionRange::series_prefix(Minor, 2, &l), None);
        assert_eq!(VersionRange::series_prefix(Major, 1, &l), Some(vec![2]));
        assert!(VersionRange::parse("soon").is_err());
        assert!(VersionRange::parse(">= x").is_err());
    }
}
