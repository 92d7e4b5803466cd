//! Duplicates: does a new report describe a bug that another case already has?
//!
//! This module owns the features a report is compared by — CVE/GHSA ids, vulnerability
//! classes, URL/endpoint paths named in it, and a MinHash signature of its words — the
//! index of those features in SQLite (`dup_keys`, `dup_sigs`; migration 0006) and the
//! score. Lookups go through indexed keys (ids, paths and 8 locality-sensitive bands of
//! the signature), so the cost per report stays flat as cases grow. It never merges:
//! a likely duplicate becomes a `duplicate` finding with the other case and a score,
//! and the operator decides with `triaged case merge`.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;

pub use crate::domain::findings::{Features, Match};
use crate::judge::classify::Findings;

/// Slots in the MinHash signature; 8 bands of 4.
const SLOTS: usize = 32;
const BANDS: usize = 8;
/// Words per shingle (adjacent pairs; `features` hashes each pair).
const SHINGLE: usize = 2;
/// Reports older than this are not compared (a year).
pub(crate) const HORIZON_SECS: i64 = 365 * 86_400;
/// Most cases scored against one report.
pub(crate) const MAX_CANDIDATES: usize = 40;
/// At or above this score a report is flagged as a likely duplicate.
pub const THRESHOLD: f64 = 0.6;

static PATH: LazyLock<Regex> = LazyLock::new(|| {
    crate::domain::builtin_regex(
        r"(?:https?://[A-Za-z0-9.\-:\[\]]+)?(/[A-Za-z0-9_\-.~%]+(?:/[A-Za-z0-9_\-.~%{}:]+)*)",
    )
});
static ATTACKER_HOST: LazyLock<Regex> = LazyLock::new(|| {
    crate::domain::builtin_regex(
        r"(?i)^https?://[^/]*(?:attacker|evil|collaborator|oast|interact\.sh|webhook|requestbin|ngrok|burp)",
    )
});

/// Sites a report cites for background: scoring calculators, weakness and
/// vulnerability databases, documentation and encyclopaedias, and code hosts (a link
/// to a source line, a commit or a pull request points at code, not at the endpoint).
static REFERENCE_HOST: LazyLock<Regex> = LazyLock::new(|| {
    crate::domain::builtin_regex(
        r"(?i)^https?://(?:[^/]*\.)?(?:first\.org|nvd\.nist\.gov|cve\.mitre\.org|cwe\.mitre\.org|cve\.org|owasp\.org|portswigger\.net|wikipedia\.org|developer\.mozilla\.org|learn\.microsoft\.com|docs\.[^/]+|datatracker\.ietf\.org|rfc-editor\.org|arxiv\.org|twitter\.com|x\.com|github\.com|gitlab\.com|bitbucket\.org|googlesource\.com|source\.chromium\.org|sourceforge\.net|stackoverflow\.com|medium\.com)(?:[:/]|$)",
    )
});
/// A dated path (`/2018/01/09/why-…`) on a web address: a blog post or news article
/// the report cites.
static DATED_PATH: LazyLock<Regex> =
    LazyLock::new(|| crate::domain::builtin_regex(r"^/(?:19|20)\d\d/[01]?\d/"));
/// Top-level directories of Unix systems: paths under them are exploit targets and
/// environments, not endpoints of the product.
const SYSTEM_DIRS: &[&str] = &[
    "etc", "proc", "tmp", "dev", "usr", "bin", "sbin", "sys", "boot", "root", "run", "lib",
    "lib64", "home", "var", "opt",
];

/// Words left out of the shingles. A `match` rather than a list searched word by word
/// (that scan was a third of the features' time on long reports).
fn is_stop(w: &str) -> bool {
    matches!(
        w,
        "the"
            | "and"
            | "a"
            | "an"
            | "to"
            | "of"
            | "in"
            | "is"
            | "it"
            | "this"
            | "that"
            | "for"
            | "on"
            | "with"
            | "as"
            | "be"
            | "by"
            | "are"
            | "can"
            | "you"
            | "your"
            | "we"
            | "our"
            | "i"
            | "my"
            | "me"
            | "hi"
            | "hello"
            | "thanks"
            | "thank"
            | "regards"
            | "team"
            | "security"
            | "please"
            | "found"
            | "there"
            | "which"
            | "from"
            | "at"
            | "or"
            | "if"
            | "so"
            | "was"
            | "has"
            | "have"
            | "will"
            | "would"
            | "could"
    )
}

/// FNV-1a, seeded: stable across versions and platforms (signatures are stored).
fn hash(seed: u64, s: &str) -> u64 {
    hash_parts(seed, &[s])
}

/// [`hash`] of the concatenation of `parts`.
fn hash_parts(seed: u64, parts: &[&str]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for b in parts.iter().flat_map(|p| p.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^ (h >> 29)
}

/// The words of lower-cased text: runs of two or more ASCII letters and digits (the
/// regex `[a-z0-9]{2,}`, without its per-match cost: a third of the features' time).
fn words(lower: &str) -> impl Iterator<Item = &str> {
    lower
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .filter(|w| w.len() >= 2)
}

/// Features of a report (subject + text) with its findings.
pub fn features(subject: &str, text: &str, f: &Findings) -> Features {
    let mut ids: BTreeSet<String> = f.cve_ids.iter().map(|s| s.to_ascii_uppercase()).collect();
    ids.extend(f.ghsa_ids.iter().map(|s| s.to_ascii_uppercase()));
    let classes: BTreeSet<String> = f.impact.class.iter().cloned().collect();
    let products: BTreeSet<String> = f
        .versions
        .items
        .iter()
        .filter_map(|i| i.product.as_deref())
        .map(|p| p.trim().to_ascii_lowercase())
        .filter(|p| !p.is_empty())
        .collect();
    let mut paths = BTreeSet::new();
    for c in PATH.captures_iter(text).take(200) {
        let (Some(all), Some(path)) = (c.get(0), c.get(1)) else {
            continue;
        };
        if all.start() == path.start() {
            // No scheme and host matched: "//host" or "scheme://host" without a path is a
            // host, not an endpoint. A path starts a token ("GET /api", "(/admin)",
            // "url=/x"): "DoS/RCE", "AES/CBC/PKCS5Padding", <sys/socket.h>, "#!/usr/bin/env"
            // and "../../x" are words, headers, a shebang and a traversal payload.
            let before = text.get(..path.start()).and_then(|t| t.chars().next_back());
            if before.is_some_and(|c| {
                !(c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '(' | '[' | '<' | '=' | ','))
            }) {
                continue;
            }
        } else if ATTACKER_HOST.is_match(all.as_str()) || REFERENCE_HOST.is_match(all.as_str()) {
            // Where the payload sends data, or a page the report cites (a CVSS calculator,
            // a CWE entry, documentation): not the endpoint that is vulnerable.
            continue;
        }
        let p = path
            .as_str()
            .trim_end_matches(['.', ',', ')'])
            .to_ascii_lowercase();
        // A cited paper or a screenshot is not the vulnerable endpoint.
        if [
            ".pdf", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".mp4", ".webm", ".mov",
        ]
        .iter()
        .any(|e| p.ends_with(e))
        {
            continue;
        }
        // The operating system's files are what an exploit reads, writes or runs
        // (/etc/passwd, /tmp/pwn, /proc/self/environ, /usr/bin/id), never the product's
        // endpoint: every path traversal report names /etc/passwd.
        let first = p.split('/').find(|s| !s.is_empty()).unwrap_or_default();
        if all.start() == path.start() && SYSTEM_DIRS.contains(&first) {
            continue;
        }
        if all.start() != path.start() && DATED_PATH.is_match(&p) {
            continue;
        }
        // Endpoints and files, not fractions, dates or a bare "/".
        let segs = p.split('/').filter(|s| !s.is_empty()).count();
        if p.len() >= 4
            && (segs >= 2 || p.contains('.') || p.contains("api"))
            && p.chars().any(|c| c.is_ascii_alphabetic())
        {
            paths.insert(p);
        }
    }
    let lower = format!("{subject}\n{text}").to_ascii_lowercase();
    let words: Vec<&str> = words(&lower).filter(|w| !is_stop(w)).take(20_000).collect();
    let mut sig = vec![u64::MAX; SLOTS];
    let mut add = |base: u64| {
        // One string hash per shingle; the 32 slot hashes are cheap mixes of it.
        for (i, slot) in sig.iter_mut().enumerate() {
            let mut h = base ^ (i as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
            h = (h ^ (h >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
            h ^= h >> 33;
            if h < *slot {
                *slot = h;
            }
        }
    };
    if words.len() >= SHINGLE {
        // The shingle "a b" hashed without building the string (stored signatures
        // stay comparable: the same bytes go through the same hash).
        for (a, b) in words.iter().zip(words.iter().skip(1)) {
            add(hash_parts(0, &[a, " ", b]));
        }
    } else {
        for w in &words {
            add(hash(0, w));
        }
    }
    Features {
        products,
        ids,
        classes,
        paths,
        sig,
    }
}

fn band_keys(sig: &[u64]) -> Vec<String> {
    if sig.iter().all(|&x| x == u64::MAX) {
        return Vec::new();
    }
    let per = SLOTS / BANDS;
    (0..BANDS)
        .map(|b| {
            let mut h = 0u64;
            for &v in sig.iter().skip(b * per).take(per) {
                h = h.rotate_left(13) ^ v;
            }
            format!("{b}:{h:016x}")
        })
        .collect()
}

/// The index keys of a report: ids, endpoint paths and MinHash bands.
pub(crate) fn keys_of(f: &Features) -> Vec<(&'static str, String)> {
    let mut k: Vec<(&'static str, String)> = Vec::new();
    k.extend(f.ids.iter().map(|i| ("id", i.clone())));
    k.extend(f.paths.iter().map(|p| ("path", p.clone())));
    k.extend(band_keys(&f.sig).into_iter().map(|b| ("band", b)));
    k
}

/// Scores two reports' features; the reasons say why.
pub fn score(a: &Features, b: &Features) -> (f64, Vec<String>) {
    let same = a
        .sig
        .iter()
        .zip(&b.sig)
        .filter(|(x, y)| x == y && **x != u64::MAX)
        .count();
    let jaccard = same as f64 / SLOTS as f64;
    let mut reasons = Vec::new();
    let mut s = jaccard;
    if jaccard >= 0.2 {
        reasons.push(format!("similar text (MinHash {jaccard:.2})"));
    }
    let ids: Vec<&String> = a.ids.intersection(&b.ids).collect();
    let paths: Vec<&String> = a.paths.intersection(&b.paths).collect();
    let classes: Vec<&String> = a.classes.intersection(&b.classes).collect();
    if !ids.is_empty() {
        s = s.max(0.9);
        reasons.extend(ids.first().map(|i| format!("same id {i}")));
    }
    if !paths.is_empty() && !classes.is_empty() {
        s = s.max(0.75);
    } else if !paths.is_empty() {
        s += 0.2;
    } else if !classes.is_empty() {
        s += 0.1;
    }
    if !paths.is_empty() {
        reasons.extend(paths.first().map(|p| format!("same endpoint {p}")));
    }
    if !classes.is_empty() {
        reasons.extend(classes.first().map(|c| format!("same class {c}")));
    }
    // Two reports that name different products are about different code, however alike
    // (the same researchers often report one bug class to several projects).
    if !a.products.is_empty() && !b.products.is_empty() && a.products.is_disjoint(&b.products) {
        s *= 0.5;
        reasons.push(format!(
            "different products ({} / {})",
            a.products.iter().cloned().collect::<Vec<_>>().join(", "),
            b.products.iter().cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    (s.min(1.0), reasons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::judge::classify::{Input, classify};

    fn feat(subject: &str, text: &str) -> Features {
        let f = classify(&Input {
            subject,
            text,
            attachments: Vec::new(),
        });
        features(subject, text, &f)
    }

    #[test]
    fn words_are_the_regex_words_and_shingles_hash_as_their_strings() {
        // The signature is stored: the tokenizer and the shingle hash must give what
        // the regex `[a-z0-9]{2,}` and hashing "a b" gave when the rows were written.
        let reference = Regex::new(r"[a-z0-9]{2,}").expect("pattern");
        for text in [
            "GET /api/v1/export?file=../../etc/passwd -- acme 2.4.1, a b cd",
            "caf\u{e9} na\u{ef}ve x1 \u{201c}quoted\u{201d} __init__ 0x41414141\n\ttab",
            "",
            "a",
            "\u{1F600}ab\u{1F600}c\u{1F600}de",
        ] {
            let lower = text.to_ascii_lowercase();
            let want: Vec<&str> = reference.find_iter(&lower).map(|m| m.as_str()).collect();
            assert_eq!(words(&lower).collect::<Vec<_>>(), want, "{text:?}");
        }
        assert_eq!(
            hash_parts(0, &["path", " ", "traversal"]),
            hash(0, "path traversal")
        );
        assert_ne!(
            hash_parts(0, &["path", " ", "traversal"]),
            hash(0, "pathtraversal")
        );
    }

    const REPORT: &str = "The endpoint /api/v1/export?file=../../etc/passwd reads any file on \
        the server. Send GET /api/v1/export?file=../../etc/passwd with any session and the \
        response holds the password file. Affected versions: acme-server 2.4.1 and earlier. \
        An unauthenticated attacker can read configuration files and credentials.";

    #[test]
    fn a_reformatted_copy_scores_above_the_threshold_with_reasons() {
        let a = feat("Path traversal in export", REPORT);
        let copy = REPORT.replace(". ", ".\n\n").to_uppercase();
        let b = feat("Fwd: path traversal in export", &copy);
        let (s, reasons) = score(&a, &b);
        assert!(s >= THRESHOLD, "score {s} below {THRESHOLD}: {reasons:?}");
        assert!(
            reasons.iter().any(|r| r.starts_with("similar text")),
            "{reasons:?}"
        );
    }

    #[test]
    fn an_unrelated_report_stays_below_the_threshold() {
        let a = feat("Path traversal in export", REPORT);
        let b = feat(
            "Stored XSS in comments",
            "A comment containing <script>alert(document.cookie)</script> is rendered without \
             escaping on the discussion page of widgetco 1.2.0, so any visitor runs the script.",
        );
        let (s, reasons) = score(&a, &b);
        assert!(s < THRESHOLD, "score {s}: {reasons:?}");
    }

    #[test]
    fn the_same_cve_id_is_a_strong_match_and_different_products_halve_the_score() {
        let a = feat(
            "x",
            "CVE-2024-12345 in alpha-lib 1.0.0 lets anyone crash the parser.",
        );
        let b = feat(
            "y",
            "About cve-2024-12345: beta-tool 3.2 is affected, see the link.",
        );
        assert!(a.ids.contains("CVE-2024-12345"), "{:?}", a.ids);
        let (s, reasons) = score(&a, &b);
        assert!(
            reasons.iter().any(|r| r == "same id CVE-2024-12345"),
            "{reasons:?}"
        );
        if !a.products.is_empty() && !b.products.is_empty() {
            assert!(reasons.iter().any(|r| r.starts_with("different products")));
            assert!(s <= 0.5, "{s}");
        } else {
            assert!(s >= 0.9, "{s}");
        }
    }

    #[test]
    fn endpoints_skip_hosts_papers_and_fractions() {
        let f = feat(
            "t",
            "See https://example.org and https://example.org/paper.pdf; 1/2 of requests to \
             https://victim.test/admin/users/delete succeed.",
        );
        assert!(f.paths.contains("/admin/users/delete"), "{:?}", f.paths);
        assert!(
            !f.paths.iter().any(|p| p.ends_with(".pdf")),
            "{:?}",
            f.paths
        );
        assert!(!f.paths.contains("/2"), "{:?}", f.paths);
    }

    #[test]
    fn endpoints_are_not_headers_words_payload_targets_or_citations() {
        let f = feat(
            "t",
            "#!/usr/bin/env python3\n#include <bluetooth/bluetooth.h>\n#include <sys/socket.h>\n\
             A DoS/RCE with AES/CBC/PKCS5Padding: GET /api/v2/export?f=../../etc/passwd reads \
             /etc/passwd and writes /tmp/pwn. Scored with \
             https://www.first.org/cvss/calculator/3.1#CVSS:3.1/AV:N, see \
             https://cwe.mitre.org/data/definitions/22.html and (/admin/settings). The code is at \
             <https://github.com/acme/app/blob/main/src/export.c#L10>, the fix in \
             https://gitlab.com/acme/app/-/merge_requests/12, background in \
             <https://blog.example.org/2018/01/09/why-raw-html-is-dangerous/>.",
        );
        let want: BTreeSet<String> = ["/api/v2/export", "/admin/settings"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(f.paths, want);
    }

    #[test]
    fn two_different_c_pocs_against_different_code_are_not_duplicates() {
        // The same researcher, the same includes, the same class, different bugs.
        let a = feat(
            "Heap overflow in the HCI event parser",
            "A remote attacker can cause a heap buffer overflow in hci_event.c.\n\
             ```c\n#include <sys/socket.h>\n#include <bluetooth/bluetooth.h>\nint main(void) { send_adv(255); }\n```",
        );
        let b = feat(
            "Type confusion in L2CAP data channel",
            "Sending a crafted l2cap packet leads to memory corruption (a heap overflow) in l2cap_core.c.\n\
             ```c\n#include <sys/socket.h>\n#include <bluetooth/bluetooth.h>\nint main(void) { send_l2cap(0x3); }\n```",
        );
        let (s, reasons) = score(&a, &b);
        assert!(s < THRESHOLD, "score {s}: {reasons:?}");
    }

    #[test]
    fn index_keys_are_stable_and_empty_text_has_no_bands() {
        let a = feat("Path traversal in export", REPORT);
        let b = feat("Path traversal in export", REPORT);
        assert_eq!(keys_of(&a), keys_of(&b));
        assert_eq!(band_keys(&a.sig).len(), BANDS);
        assert!(band_keys(&vec![u64::MAX; SLOTS]).is_empty());
    }
}
