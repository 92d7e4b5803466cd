//! Verdict: what a project's policy says about a classified report (missing
//! items, version support, deadlines, next state). Plain serialisable types; the
//! rules that make it live in `judge/policy`.

use serde::{Deserialize, Serialize};

use crate::domain::case::State;
use crate::domain::status::VersionSupport;
use crate::domain::version::VersionRow;

/// Whether the reported version is in a supported row of the table.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct VersionVerdict {
    pub status: VersionSupport,
    /// The affected-version statement the verdict is based on.
    pub reported: Option<String>,
    /// The table row that matched.
    pub row: Option<VersionRow>,
}

/// The policy's deadlines for a report, from its arrival (RFC 3339, UTC).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Deadlines {
    pub ack_due: String,
    pub followup_due: Option<String>,
    pub resolve_due: Option<String>,
}

/// What a policy says about a classified report.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Verdict {
    pub policy: String,
    /// Required items the report does not carry (poc, versions, impact, ...).
    pub missing: Vec<String>,
    /// The report claims a PoC but does not include it.
    pub poc_claimed_not_included: bool,
    pub version: VersionVerdict,
    pub low_effort: bool,
    /// needs-info | triaged | rejected
    pub next_state: State,
    pub reasons: Vec<String>,
    pub deadlines: Deadlines,
    /// The supported rows of the policy's table, told to a reporter on an unsupported
    /// version.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub supported: Vec<String>,
    /// The credit the reporter asked for ("anonymous" when they asked for none), when
    /// the policy promises credit.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub credit: Option<String>,
    #[serde(skip)]
    pub ack_due: i64,
    #[serde(skip)]
    pub followup_due: Option<i64>,
    #[serde(skip)]
    pub resolve_due: Option<i64>,
}
