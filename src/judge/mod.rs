//! Judge: what a report says and what the policy makes of it. Pure functions.
//!
//! [`classify`] (findings with evidence), [`policy`] (versions, ranges,
//! the verdict and deadlines), [`duplicates`] (features and scoring) and
//! [`policy_import`] (SECURITY.md → policy values).

pub mod classify;
pub mod duplicates;
pub mod policy;
pub mod policy_import;
