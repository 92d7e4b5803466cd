//! Findings: what the classifier found in a report, each with its evidence (the
//! span of text and the rule that justified it). Plain serialisable types; the
//! rules that make them live in `judge/classify`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::domain::status::{PocStatus, Severity, SeveritySource};

/// Why a finding was made: a span of text and the rule that matched it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct Evidence {
    /// The matched text (trimmed, at most 200 characters).
    pub text: String,
    /// `subject`, `body`, or `attachment:NAME`.
    pub location: String,
    /// Byte offsets of the match within that location's text.
    pub start: usize,
    pub end: usize,
    pub rule: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Poc {
    pub status: PocStatus,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub struct VersionItem {
    /// As written, e.g. "before 1.8.0".
    pub text: String,
    /// Normalised, e.g. "< 1.8.0"; null when it cannot be normalised.
    pub normalized: Option<String>,
    /// The product or component named with it, when stated.
    pub product: Option<String>,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Versions {
    pub present: bool,
    pub items: Vec<VersionItem>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CvssInfo {
    pub vector: String,
    pub version: String,
    pub score: f64,
    /// The vector's own rating (none, low, medium, high, critical).
    pub severity: Severity,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Impact {
    pub present: bool,
    /// Vulnerability classes: rce, sqli, xss, ssrf, path-traversal, auth-bypass, ...
    pub class: Vec<String>,
    pub severity: Severity,
    pub severity_source: SeveritySource,
    pub cvss: Option<CvssInfo>,
    /// A CVSS vector that was given but is invalid.
    pub cvss_error: Option<String>,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Flag {
    pub present: bool,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Credit {
    /// The name to credit, when given.
    pub name: Option<String>,
    pub anonymous: bool,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct LowEffort {
    pub flag: bool,
    pub reasons: Vec<String>,
    pub evidence: Vec<Evidence>,
}

/// Everything the classifier found.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Findings {
    pub poc: Poc,
    pub versions: Versions,
    pub impact: Impact,
    pub repro_steps: Flag,
    pub fix_suggestion: Flag,
    pub cve_ids: Vec<String>,
    pub cwe_ids: Vec<String>,
    pub ghsa_ids: Vec<String>,
    pub credit: Option<Credit>,
    pub low_effort: LowEffort,
}

impl Findings {
    /// Is a requirement (as named in a policy's `require`) satisfied?
    pub fn has(&self, requirement: &str) -> bool {
        match requirement {
            "poc" => self.poc.status == PocStatus::Present,
            "versions" => self.versions.present,
            "impact" => self.impact.present,
            "repro_steps" => self.repro_steps.present,
            "fix_suggestion" => self.fix_suggestion.present,
            _ => false,
        }
    }

    /// Every piece of evidence behind every finding.
    pub fn evidence(&self) -> Vec<&Evidence> {
        let mut v: Vec<&Evidence> = Vec::new();
        v.extend(&self.poc.evidence);
        v.extend(self.versions.items.iter().map(|i| &i.evidence));
        v.extend(&self.impact.evidence);
        v.extend(&self.repro_steps.evidence);
        v.extend(&self.fix_suggestion.evidence);
        v.extend(self.credit.iter().map(|c| &c.evidence));
        v.extend(&self.low_effort.evidence);
        v
    }
}

/// What a report is compared by.
#[derive(Debug, Clone, Default)]
pub struct Features {
    /// Products or components named with the affected versions (lower case).
    pub products: BTreeSet<String>,
    pub ids: BTreeSet<String>,
    pub classes: BTreeSet<String>,
    pub paths: BTreeSet<String>,
    pub sig: Vec<u64>,
}

/// A likely duplicate: the other case, a score in 0..=1, and why.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Match {
    pub case: String,
    pub score: f64,
    pub reasons: Vec<String>,
}
