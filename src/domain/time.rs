//! Time: unix seconds, and their RFC 3339 form in JSON and mail.

/// Now, in unix seconds.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A unix time as RFC 3339 UTC with seconds (`2026-11-24T06:00:00Z`).
pub(crate) fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| t.to_string())
}
