//! Identifiers and credit: CVE, CWE and GHSA ids named anywhere, and the credit the
//! reporter asks for (a name, or anonymity).

use super::*;

pub(super) static CVE_RE: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\bCVE-(\d{4})-(\d{4,7})\b"));
pub(super) static CWE_RE: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\bCWE-(\d{1,4})\b"));
pub(super) static GHSA_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\bGHSA(?:-[23456789cfghjmpqrvwx]{4}){3}\b"));
pub(super) static CREDIT_NAME: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r#"(?i)\b(?:please\s+)?credit\s+(?:me|us|this (?:finding|report|issue))?\s*(?:as|to)\s+(?:["“'](?P<q>[^"”'\n]{2,80})["”']|(?P<n>[^\n.,;()]{2,60}))|"#,
        r"\bthanks?\s+to\s+(?P<t>[^\n.;]{2,80}?)\s+for\s+(?:reporting|disclosing|discovering|finding|responsibly)|\b(?:reported|discovered|found)\s+by\s+(?P<r>[A-Z][^\n.,;()]{1,60})",
    ))
});
pub(super) static ANON: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:remain|stay|be kept|be listed as|credited as)\s+anonymous\b|\b(?:do not|don't|please don't|no need to)\s+(?:credit|mention|name)\s+(?:me|us)\b|\bno credit\b",
    )
});

/// CVE, CWE and GHSA ids named anywhere in the report.
pub(super) fn find_ids(docs: &[Doc<'_>]) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let mut cve = BTreeSet::new();
    let mut cwe = BTreeSet::new();
    let mut ghsa = BTreeSet::new();
    for doc in docs {
        for c in CVE_RE.captures_iter(doc.text) {
            cve.insert(format!("CVE-{}-{}", &c[1], &c[2]));
        }
        for c in CWE_RE.captures_iter(doc.text) {
            cwe.insert(format!("CWE-{}", &c[1]));
        }
        for m in GHSA_RE.find_iter(doc.text) {
            ghsa.insert(m.as_str().to_ascii_lowercase().replacen("ghsa", "GHSA", 1));
        }
    }
    (cve, cwe, ghsa)
}

/// The credit the reporter asks for: a name (quoted or not), or anonymity.
pub(super) fn find_credit(docs: &[Doc<'_>]) -> Option<Credit> {
    let mut credit = None;
    for doc in docs.iter().skip(1) {
        if let Some(m) = ANON.find(doc.text) {
            credit = Some(Credit {
                name: None,
                anonymous: true,
                evidence: evidence(doc, m.start(), m.end(), "anonymous"),
            });
            break;
        }
        if let Some(c) = CREDIT_NAME.captures(doc.text)
            && let Some(m) = c.get(0)
        {
            let name = c
                .name("q")
                .or(c.name("n"))
                .or(c.name("t"))
                .or(c.name("r"))
                .map(|n| n.as_str().trim().to_string());
            credit = Some(Credit {
                name,
                anonymous: false,
                evidence: evidence(doc, m.start(), m.end(), "credit"),
            });
            break;
        }
    }
    credit
}
