//! Versions as reporters and policies write them: `2.4.1`, `v2.0.0-rc1`, `3.1`,
//! and ranges (`<= 2.4.1`, `>= 1.2, < 2.0`, `2.3.x`, `*`), semver-aware. Also the
//! supported-versions table row of a policy. Pure types and parsing.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

/// One row of a policy's supported-versions table.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VersionRow {
    pub range: String,
    pub supported: bool,
}

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
            Some(i) => (
                s.get(..i).unwrap_or(s),
                Some(s.get(i + 1..).unwrap_or_default().to_string()),
            ),
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

/// What a relative series counts: minor series (3.1.x, 3.0.x) or major ones (3.x, 2.x).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesLevel {
    Minor,
    Major,
}

/// A range of versions as written in a supported-versions table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionRange {
    /// `*`, `all`, `any`
    Any,
    /// `latest`, `main`, `master`, `head`: the development line
    Latest,
    /// `latest-1`, `latest minor-2`, `latest major`, `latest major-1`: a release series
    /// counted back from the policy's current release (`latest = "3.1.2"`: `latest-1`
    /// is 3.0.x, `latest major-1` is 2.x). Argo CD's "N and N-1", rack's "the current
    /// release series and the next most recent one".
    Series { level: SeriesLevel, back: u64 },
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
        if let Some(r) = Self::parse_series(&lower) {
            return r;
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

    /// `latest-1`, `latest - 2`, `latest minor`, `latest major-1` (lower case).
    fn parse_series(lower: &str) -> Option<std::result::Result<VersionRange, String>> {
        let rest = lower.strip_prefix("latest")?;
        let rest = rest.trim_start();
        let (level, rest) = if let Some(r) = rest.strip_prefix("major") {
            (SeriesLevel::Major, r)
        } else if let Some(r) = rest.strip_prefix("minor") {
            (SeriesLevel::Minor, r)
        } else {
            (SeriesLevel::Minor, rest)
        };
        let rest = rest.trim();
        let back = if rest.is_empty() {
            0
        } else {
            let n = rest.strip_prefix('-')?.trim();
            match n.parse::<u64>() {
                Ok(n) => n,
                Err(_) => {
                    return Some(Err(format!(
                        "cannot read the version range {lower:?}: after \"latest-\" write how many release series back, e.g. \"latest-1\""
                    )));
                }
            }
        };
        Some(Ok(VersionRange::Series { level, back }))
    }

    /// The concrete series a relative row names, given the current release:
    /// `Some(prefix)`, or `None` when it cannot be told without the list of releases
    /// (`latest-2` when the current release is 3.1: the last series of 2.x).
    pub fn series_prefix(level: SeriesLevel, back: u64, latest: &Version) -> Option<Vec<u64>> {
        let major = latest.parts.first().copied().unwrap_or(0);
        let minor = latest.parts.get(1).copied().unwrap_or(0);
        match level {
            SeriesLevel::Major => major.checked_sub(back).map(|m| vec![m]),
            SeriesLevel::Minor => minor.checked_sub(back).map(|m| vec![major, m]),
        }
    }

    /// Whether the row is read against the policy's current release (`latest`,
    /// `latest-1`, `latest major`): without `latest` set it decides nothing.
    pub fn counts_from_latest(&self) -> bool {
        matches!(self, VersionRange::Latest | VersionRange::Series { .. })
    }

    /// Does this range contain `v`?
    pub fn contains(&self, v: &Version) -> bool {
        match self {
            VersionRange::Any => true,
            VersionRange::Latest | VersionRange::Series { .. } => false,
            VersionRange::Prefix(p) => {
                v.parts.starts_with(p)
                    || (v.parts.len() < p.len()
                        && p.starts_with(&v.parts)
                        && p.iter().skip(v.parts.len()).all(|&x| x == 0))
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

/// `1.4` as an upper bound also covers `1.4.7`.
pub(crate) fn prefix_of(bound: &Version, v: &Version) -> bool {
    bound.pre.is_none() && v.parts.len() > bound.parts.len() && v.parts.starts_with(&bound.parts)
}
