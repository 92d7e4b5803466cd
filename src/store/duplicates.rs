//! The duplicate index (migration 0006): each case's comparison features and the
//! keys they are looked up by. What the features are and how they are scored is
//! `judge::duplicates`; the lookup that combines both is `ingest::intake`.

use super::Db;
use super::exec;
use anyhow::{Context, Result};
use rusqlite::params;

use crate::domain::findings::Features;

/// Records a case's features (replacing earlier ones).
pub(crate) fn index_duplicate(
    conn: Db<'_>,
    case_id: i64,
    f: &Features,
    keys: &[(&'static str, String)],
) -> Result<()> {
    let conn = conn.0;
    conn.prepare_cached("DELETE FROM dup_keys WHERE case_id = ?1")
        .context("preparing the key cleanup")?
        .execute([case_id])
        .context("clearing duplicate keys")?;
    let mut ins = conn
        .prepare_cached("INSERT OR IGNORE INTO dup_keys (case_id, kind, key) VALUES (?1, ?2, ?3)")
        .context("preparing duplicate keys")?;
    for (kind, key) in keys {
        ins.execute(params![case_id, kind, key])
            .context("storing a duplicate key")?;
    }
    let sig: Vec<String> = f.sig.iter().map(|v| format!("{v:016x}")).collect();
    exec(conn,
        "INSERT INTO dup_sigs (case_id, sig, classes, paths, ids, products) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
         ON CONFLICT(case_id) DO UPDATE SET sig = ?2, classes = ?3, paths = ?4, ids = ?5, products = ?6",
        params![
            case_id,
            sig.join(","),
            serde_json::to_string(&f.classes).unwrap_or_default(),
            serde_json::to_string(&f.paths).unwrap_or_default(),
            serde_json::to_string(&f.ids).unwrap_or_default(),
            serde_json::to_string(&f.products).unwrap_or_default(),
        ],
    )
    .context("storing the duplicate signature")?;
    Ok(())
}

/// The stored features of the candidates that may still be duplicated (not merged,
/// not a duplicate or spam themselves, arrived after `since`), with their public ids,
/// in ascending case id order: one statement for all of them (two per candidate, and
/// a parse of each, were a fifth of the writer's time in a backlog where every report
/// had 40 candidates).
pub(crate) fn live_candidates(
    conn: Db<'_>,
    ids: &[i64],
    since: i64,
) -> Result<Vec<(String, std::sync::Arc<Features>)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = serde_json::to_string(ids).context("listing duplicate candidates")?;
    let mut stmt = conn
        .0
        .prepare_cached(
            "SELECT c.public_id, d.sig, d.classes, d.paths, d.ids, d.products \
             FROM dup_sigs d JOIN cases c ON c.id = d.case_id \
             WHERE d.case_id IN (SELECT value FROM json_each(?1)) AND c.merged_into IS NULL \
             AND c.state NOT IN ('duplicate', 'spam') AND c.arrived_at > ?2 \
             ORDER BY d.case_id",
        )
        .context("preparing the candidate query")?;
    let rows = stmt
        .query_map(params![list, since], |r| {
            Ok((
                r.get::<_, String>(0)?,
                parsed(
                    r.get_ref(1)?.as_str()?,
                    r.get_ref(2)?.as_str()?,
                    r.get_ref(3)?.as_str()?,
                    r.get_ref(4)?.as_str()?,
                    r.get_ref(5)?.as_str()?,
                ),
            ))
        })
        .context("reading duplicate candidates")?;
    rows.collect::<rusqlite::Result<Vec<_>>>()
        .context("reading a duplicate candidate")
}

/// Most stored feature rows kept parsed ([`parsed`]); the memo is emptied when full.
const PARSED_MAX: usize = 8192;

/// [`features_of`], remembered by the hash of the stored text: the same few cases are
/// candidates for report after report (a burst of similar reports; in the benchmark
/// every report has 40), and parsing their JSON sets and signature was two thirds of
/// the lookup (callgrind). The key is a keyed SipHash of all five columns, so a hit
/// is the parse of the same text (a collision, 2^-64 and not steerable without the
/// process's random key, would borrow another row's features for one score).
fn parsed(
    sig: &str,
    classes: &str,
    paths: &str,
    ids: &str,
    products: &str,
) -> std::sync::Arc<Features> {
    use std::collections::HashMap;
    use std::hash::BuildHasher;
    use std::sync::{Arc, LazyLock, Mutex};
    static KEY: LazyLock<std::collections::hash_map::RandomState> = LazyLock::new(Default::default);
    static MEMO: LazyLock<Mutex<HashMap<u64, Arc<Features>>>> = LazyLock::new(Default::default);
    let key = KEY.hash_one((sig, classes, paths, ids, products));
    if let Some(f) = MEMO.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return f;
    }
    let f = Arc::new(features_of(sig, classes, paths, ids, products));
    if let Ok(mut m) = MEMO.lock() {
        if m.len() >= PARSED_MAX {
            m.clear();
        }
        m.insert(key, Arc::clone(&f));
    }
    f
}

/// Features from their stored columns (a hex signature, JSON sets).
fn features_of(sig: &str, classes: &str, paths: &str, ids: &str, products: &str) -> Features {
    Features {
        products: serde_json::from_str(products).unwrap_or_default(),
        sig: parse_sig(sig),
        classes: serde_json::from_str(classes).unwrap_or_default(),
        paths: serde_json::from_str(paths).unwrap_or_default(),
        ids: serde_json::from_str(ids).unwrap_or_default(),
    }
}

/// Cases sharing an index key with `case_id` (at most `limit`, most recent keys first).
pub(crate) fn duplicate_candidates(
    conn: Db<'_>,
    case_id: i64,
    keys: &[(&'static str, String)],
    limit: usize,
) -> Result<Vec<i64>> {
    let conn = conn.0;
    let mut candidates = std::collections::BTreeSet::new();
    let mut q = conn
        .prepare_cached(
            "SELECT case_id FROM dup_keys WHERE kind = ?1 AND key = ?2 AND case_id != ?3 LIMIT 50",
        )
        .context("preparing the duplicate lookup")?;
    for (kind, key) in keys {
        let ids = q
            .query_map(params![kind, key, case_id], |r| r.get::<_, i64>(0))
            .context("looking up duplicates")?;
        for id in ids {
            candidates.insert(id.context("reading a candidate")?);
        }
        // Bounded work per report, however many near-identical reports exist.
        if candidates.len() >= limit {
            break;
        }
    }
    Ok(candidates.into_iter().collect())
}

/// The stored signature: comma-separated hex words (`index_duplicate` writes 16 digits
/// each). A word that is empty, not hex or longer than 16 digits is skipped, as
/// `u64::from_str_radix` would; decoded by hand, being read 40 times per report.
fn parse_sig(sig: &str) -> Vec<u64> {
    let mut out = Vec::with_capacity(32);
    for word in sig.split(',') {
        let b = word.as_bytes();
        if b.is_empty() || b.len() > 16 {
            continue;
        }
        let mut v = 0u64;
        let mut ok = true;
        for &c in b {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => {
                    ok = false;
                    break;
                }
            };
            v = (v << 4) | u64::from(d);
        }
        if ok {
            out.push(v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_features_are_the_parse_of_the_same_text() {
        let cols = |s: &str| {
            (
                format!("{s:0>16},0000000000000001"),
                format!("[\"{s}\"]"),
                "[]".to_string(),
                "[]".to_string(),
                "[\"acme\"]".to_string(),
            )
        };
        for round in 0..2 {
            for s in ["a", "b", "ab"] {
                let (sig, classes, paths, ids, products) = cols(s);
                let got = parsed(&sig, &classes, &paths, &ids, &products);
                let want = features_of(&sig, &classes, &paths, &ids, &products);
                assert_eq!(got.sig, want.sig, "round {round}, {s}");
                assert_eq!(got.classes, want.classes, "round {round}, {s}");
                assert_eq!(got.products, want.products, "round {round}, {s}");
                assert!(got.paths.is_empty() && got.ids.is_empty());
            }
        }
        // A row whose text changed (a case classified again) is parsed again.
        let (sig, _, paths, ids, products) = cols("a");
        let other = parsed(&sig, "[\"sqli\"]", &paths, &ids, &products);
        assert!(other.classes.contains("sqli") && !other.classes.contains("a"));
    }

    #[test]
    fn a_signature_reads_back_as_u64_from_str_radix_reads_it() {
        for sig in [
            "0000000000000000,ffffffffffffffff,0123456789abcdef,FEDCBA9876543210",
            "1,,zz,12345678901234567,a",
            "",
            "-1,g",
        ] {
            let want: Vec<u64> = sig
                .split(',')
                .filter_map(|h| u64::from_str_radix(h, 16).ok())
                .collect();
            assert_eq!(parse_sig(sig), want, "{sig:?}");
        }
    }
}
