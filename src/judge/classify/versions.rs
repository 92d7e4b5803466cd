//! Affected versions: the version grammar (operators, ranges, wildcards, build
//! metadata, pre-releases, fixed-in statements, commits, "latest"), products named
//! with versions, negation of scope, and the normalised form the policy check reads.

use super::*;

// A version: numeric dotted parts (or x/* wildcards), an optional pre-release
// (`-rc.1`) and optional build metadata (`+8.13.9`, SemVer 2.0 §10).
pub(super) const V: &str = r"`?v?\d+(?:\.(?:\d+[0-9A-Za-z_]*|x|X|\*|v[0-9a-f]{6,}[0-9A-Za-z_]*))+(?:\.(?:alpha|beta|rc|pre|dev|post)[0-9A-Za-z_]*(?:\.\d+)*)?(?:-[0-9A-Za-z][0-9A-Za-z.]*)?(?:\+(?:[0-9A-Za-z][0-9A-Za-z.]*)?)?`?";
pub(super) const V1: &str = r"`?v?\d+(?:\.(?:\d+[0-9A-Za-z_]*|x|X|\*|v[0-9a-f]{6,}[0-9A-Za-z_]*))*(?:\.(?:alpha|beta|rc|pre|dev|post)[0-9A-Za-z_]*(?:\.\d+)*)?(?:-[0-9A-Za-z][0-9A-Za-z.]*)?(?:\+(?:[0-9A-Za-z][0-9A-Za-z.]*)?)?`?";

pub(super) struct VersionRule {
    pub(super) name: &'static str,
    pub(super) re: Regex,
    /// How to normalise: the operator, or a marker.
    pub(super) norm: &'static str,
}

pub(super) static VERSION_RULES: LazyLock<Vec<VersionRule>> = LazyLock::new(|| {
    let r = |name, pat: String, norm| VersionRule {
        name,
        re: re(&pat),
        norm,
    };
    vec![
        r("range-between", format!(r"(?i)\bbetween\s+(?:versions?\s+)?(?P<a>{V1})\s+and\s+(?P<b>{V1})"), "between"),
        r("range-through", format!(r"(?i)\b(?:versions?\s+)?(?P<a>{V})\s+(?:through|to|until|–|-)\s+(?:version\s+)?(?P<b>{V})\b"), "between"),
        r("fixed-in", format!(r"(?i)\b(?:fixed|patched|resolved|addressed|corrected|released)\s+in\s+(?:`?[A-Za-z][0-9A-Za-z_-]{{0,20}}`?\s+)?(?:versions?\s+)?\[?`?(?:@?[0-9A-Za-z_-]+@|[0-9A-Za-z_-]+\s*(?:>=|=>))?\s*(?P<a>{V1})"), "<"),
        r("upgrade-to", format!(r"(?i)\b(?:upgrad(?:e|ed|ing)|updat(?:e|ed|ing)|bump(?:ed|ing)?|mov(?:e|ed|ing))\s+(?:`?[A-Za-z][0-9A-Za-z_-]{{0,20}}`?\s+)?(?:at\s+least\s+)?to\s+(?:`?[A-Za-z][0-9A-Za-z_-]{{0,20}}`?\s+)?(?:versions?\s+)?\[?(?P<a>{V1})"), "<"),
        r("fixed-label", format!(r"(?im)^[ \t*-]*(?:fixed|patched|safe|unaffected|non-vulnerable)\s+(?:versions?|releases?|in)\s*:\s*(?:`?[A-Za-z][0-9A-Za-z_-]{{0,20}}`?\s+)?(?P<a>{V1})"), "<"),
        r("published-as", format!(r"(?i)\b(?:published|released|shipped|available)\s+as\s+`?[A-Za-z][0-9A-Za-z_-]{{0,30}}`?\s+(?P<a>{V1})"), "<"),
        r("fix-included", format!(r"(?i)\b(?:fix|patch)[0-9A-Za-z_]*\s+(?:has\s+been|is|was)\s+(?:included|shipped|released|available)\s+in\s+(?:`?[A-Za-z][0-9A-Za-z_-]{{0,20}}`?\s+)?(?:versions?\s+)?(?P<a>{V1})"), "<"),
        r("op-range", format!(r"(?P<op><=|>=|=<|=>|≤|≥|<|>)\s*(?P<a>{V})\s*(?:,|and|&&)?\s*`?\s*(?P<op2><=|=<|≤|<)\s*(?P<b>{V})"), "op-range"),
        r("op", format!(r"(?P<op><=|>=|=<|=>|≤|≥|<|>)\s*(?P<a>{V}|`?v\d+`?\b)"), "op"),
        r("and-earlier", format!(r"(?i)(?P<a>{V1})\s+(?:and|or)\s+(?:all\s+)?(?:earlier|before|older|below|prior|lower)(?:\s+versions?)?"), "<="),
        r("before-and-including", format!(r"(?i)\b(?:before|up to|prior to)\s+and\s+including\s+(?:versions?\s+)?(?P<a>{V1})"), "<="),
        r("up-to", format!(r"(?i)\b(?:up\s+to|through|until|to and including|including and prior to)\s+(?:versions?\s+)?(?P<a>{V1})"), "<="),
        r("before", format!(r"(?i)\b(?:before|prior\s+to|older\s+than|lower\s+than|below|earlier\s+than|pre-)\s*(?:[`'\x22]?[A-Za-z][0-9A-Za-z_-]{{0,20}}(?:::[A-Za-z][0-9A-Za-z_-]{{0,20}}){{0,3}}[`'\x22]?\s+)?(?:versions?\s+)?(?P<a>{V1})"), "<"),
        // The same qualifiers as reporters write them in other languages (the version
        // grammar is otherwise language-free): Chinese "及之前版本", "以下", "之前";
        // Japanese "およびそれ以前", "以前", "より前", "以降"; Korean "이하", "이전",
        // "미만", "이상"; German "bis einschließlich", "und älter", "vor", "ab";
        // French "jusqu'à", "et antérieures", "antérieures à", "à partir de"; Spanish and
        // Portuguese "hasta", "até", "y anteriores", "anteriores a", "desde"; Russian
        // "и ниже", "до … включительно", "до", "начиная с".
        r("and-earlier-intl", format!(r"(?i)(?P<a>{V})\s*(?:(?:版本|版|バージョン|버전)\s*)?(?:(?:及其?|以及|和|或)\s*(?:之前|以前|更早|更低|更旧|早期)|以前|以下|およびそれ以前|及びそれ以前|までの|까지|이하|및\s*이전|\s+und\s+(?:älter|früher|niedriger)|\s+et\s+(?:antérieures?|inférieures?|précédentes?)|\s+(?:y|e)\s+(?:anteriores|inferiores)|\s+и\s+(?:ниже|ранее|более\s+ранние|старше))"), "<="),
        r("before-intl", format!(r"(?i)(?P<a>{V})\s*(?:(?:版本|版|バージョン|버전)\s*)?(?:之前|より前|未満|이전|미만)"), "<"),
        r("up-to-intl", format!(r"(?i)(?:\bbis\s+(?:einschließlich|einschl\.|inklusive|inkl\.)|\bjusqu['’]?\s*(?:à|a|au)|\bhasta|\baté|(?:^|\s)по)\s+(?:(?:la|a|die|der|la\s+versión|a\s+versão|version|versión|versão|versione|Version|версии|версию)\s+)?(?P<a>{V})"), "<="),
        r("up-to-inclusive-ru", format!(r"(?i)(?:^|\s)до\s+(?:версии\s+)?(?P<a>{V})\s+включительно"), "<="),
        r("before-intl-word", format!(r"(?i)(?:\b(?:vor|älter\s+als|kleiner\s+als|niedriger\s+als)|\b(?:antérieures?|inférieures?)\s+(?:à|a)|\b(?:anteriores|inferiores)\s+(?:a|à)|(?:^|\s)до)\s+(?:(?:la|a|die|der|version|versión|versão|Version|версии)\s+)?(?P<a>{V})"), "<"),
        r("since-intl", format!(r"(?i)(?P<a>{V})\s*(?:(?:版本|版|バージョン|버전)\s*)?(?:(?:及其?|以及|和)\s*(?:之后|以后|更高)|以上|以降|이상|이후)"), ">="),
        r("since-intl-word", format!(r"(?i)(?:\bab|\bseit|(?:^|\s)à\s+partir\s+de|\bdepuis|\bdesde|\ba\s+partir\s+d[ae]|(?:^|\s)начиная\s+с|从|自)\s*(?:(?:la|a|der|version|versión|versão|Version|версии)\s+)?(?P<a>{V})"), ">="),
        r("since", format!(r"(?i)\b(?:since|starting\s+(?:from|with|at|in)|from|introduced\s+in|beginning\s+(?:with|in))\s+(?:[A-Z][0-9A-Za-z_-]{{0,20}}\s+)?(?:versions?\s+)?(?P<a>{V})"), ">="),
        r("series", r"\b(?P<a>\d+(?:\.\d+)?\.[xX*](?:\.[xX*])?)\b".to_string(), "series"),
        r("product-version", format!(r"(?P<p>[A-Za-z][0-9A-Za-z_.-]{{1,30}})\s+(?:versions?\s+)?(?P<a>{V}(?:[ \t]+(?:RC|rc|SP|sp|beta|alpha|Beta|Alpha)\d{{0,3}})?)\s+(?:is\s+|are\s+)?(?:has|have|allows?|(?:is|are)\s+(?:reported(?:ly)?\s+(?:to\s+be\s+)?|also\s+|still\s+)?(?:vulnerable|affected)|contains?|suffers?|exposes?|leaks?|crashes|fails)\b"), "="),
        r("in-product-version", format!(r"\b(?:in|of|on)\s+(?P<p>[A-Z][0-9A-Za-z_.-]{{1,30}}(?:[ \t]+[A-Z][0-9A-Za-z_.-]{{1,30}}){{0,3}})[ \t]+(?:versions?[ \t]+)?(?P<a>{V})(?:[\s,.;:)]|$)"), "="),
        r("version-stated", format!(r"(?i)\b(?:affected|vulnerable|tested|reproduced|reproducible|confirmed|verified|works)\s*:?\s*(?:on|in|with|against)?\s*(?:`?[A-Za-z][0-9A-Za-z_-]{{0,20}}`?\s+)?(?:versions?\s*:?\s*)?(?P<a>{V})"), "="),
        r("version-heading", format!(r"(?im)^[ \t]*#{{1,6}}[ \t]*(?:tested|affected|vulnerable)[ \t]+versions?[ \t]*:?[ \t]*\n(?:[ \t]*\n)*[ \t]*(?:[-*][ \t]+)?(?:[A-Za-z][0-9A-Za-z_.-]{{0,30}}[ \t]+){{0,2}}(?:versions?[ \t]+)?(?P<a>{V})"), "="),
        r("versions-label", format!(r"(?im)^[ \t*#>-]*(?:affected\s+)?versions?[ \t]*:\s*(?:`?[A-Za-z][0-9A-Za-z_.-]{{0,30}}`?[ \t]+){{0,4}}(?:ver\.[ \t]*)?(?P<a>{V1})"), "="),
        r("commit", r"(?i)\b(?:since|at|in|after|introduced in|main at|master at)?\s*(?:commit|changeset|revision)\s+\[?`?(?P<c>[0-9a-f]{7,40})\b".to_string(), "commit"),
        r("commit-url", r"(?i)\b(?:this|since|after|introduced\s+(?:in|by))\s+\[?commit\]?\(\S*?/commit/(?P<c>[0-9a-f]{7,40})\b".to_string(), "commit"),
        r("all-versions", r"(?i)\b(?:all|every)\s+(?:released\s+|current\s+|supported\s+)?versions\b".to_string(), "all"),
        r("latest", r"(?i)\b(?:the\s+)?(?:latest|most recent|current)\s+(?:stable\s+)?(?:version|release)\b|\b(?:main|master)\s+branch\b|\blatest\s+(?:main|master|commit|nightly|snapshot|head)\b|\(latest(?:\s+release)?\)".to_string(), "latest"),
        r("version-word", format!(r"(?i)\bversions?\s+\[?(?P<a>{V})\]?(?:[\s,.;:)]|$)"), "="),
        r("major-v", r"\b(?:in|on|for|and|or|of)\s+(?P<a>v\d{1,2})\b".to_string(), "major"),
    ]
});

pub(super) static LIST_CONT: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"\A\s*(?:,|;|\band\b|\bor\b|/)\s*(?:and\s+|or\s+)?(?:@?[0-9A-Za-z_-]+@)?(?:`?[A-Z][0-9A-Za-z_.-]{{0,30}}`?\s+){{0,3}}(?:versions?\s+)?(?P<a>{V})"
    ))
});

/// The text with every Markdown link target (`](…)`) and bare URL replaced by spaces of
/// the same byte length.
pub(super) fn mask_link_targets(text: &str) -> String {
    static TARGET: LazyLock<Regex> =
        LazyLock::new(|| re(r"\]\(<?[^)\s]*>?\)|\bhttps?://[^\s)>\]]+"));
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for m in TARGET.find_iter(text) {
        out.push_str(text.get(last..m.start()).unwrap_or_default());
        let keep_bracket = m.as_str().starts_with(']');
        if keep_bracket {
            out.push(']');
        }
        let blank = m.len() - usize::from(keep_bracket);
        out.extend(std::iter::repeat_n(' ', blank));
        last = m.end();
    }
    out.push_str(text.get(last..).unwrap_or_default());
    out
}

/// Negation of scope between the start of the line and a version statement: the
/// reporter says they did *not* test that version ("I have not tested 2.x"). A "not
/// affected: < 7.62.0" line is kept: it bounds the affected range.
pub(super) static NEGATED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:not|n't|never)\s+(?:yet\s+)?(?:been\s+)?(?:tested|tried|checked|verified|reproduced|looked\s+at)\b|\bun(?:tested|verified)\b",
    )
});

pub(super) fn negated_before(text: &str, start: usize) -> bool {
    let before = text.get(..start).unwrap_or_default();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let from = line_start.max(start.saturating_sub(80));
    let from = char_start(text, from, start);
    static CLAUSE: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)[,;]|\bbut\b|\bonly\b|\bhowever\b|\bwhile\b"));
    // The negation reaches the version only within its clause: "I have not tested 2.x,
    // only 3.1.0" reports 3.1.0.
    text.get(from..start).is_some_and(|ctx| {
        NEGATED
            .find_iter(ctx)
            .last()
            .is_some_and(|m| !CLAUSE.is_match(ctx.get(m.end()..).unwrap_or_default()))
    })
}

/// "Between 0 and 0xFF", "up to 255 bytes": plain numbers are quantities, not versions,
/// unless the statement (or the words just before it) names versions or releases.
fn quantity<const N: usize>(
    text: &str,
    start: usize,
    bounds: [Option<regex::Match<'_>>; N],
) -> bool {
    static VERSION_NOUN: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\bversions?\b|\breleases?\b"));
    let dotted = bounds.iter().flatten().any(|m| {
        m.as_str().contains('.') || m.as_str().trim_start_matches('`').starts_with(['v', 'V'])
    });
    if dotted {
        return false;
    }
    let from = char_start(text, start.saturating_sub(40), start);
    let end = bounds
        .iter()
        .flatten()
        .map(|m| m.end())
        .max()
        .unwrap_or(start);
    !text
        .get(from..end)
        .is_some_and(|t| VERSION_NOUN.is_match(t))
}

pub(super) fn clean_version(s: &str) -> String {
    // "v0.15.1+" (and later) is 0.15.1; "0.3.3+8.13.9" keeps its build metadata.
    s.trim_matches('`')
        .trim_start_matches(['v', 'V'])
        .trim_end_matches(['+', '.'])
        .to_string()
}

pub(super) const PRODUCT_STOP: &[&str] = &[
    "version",
    "versions",
    "the",
    "in",
    "of",
    "and",
    "is",
    "from",
    "before",
    "to",
    "on",
    "with",
    "for",
    "release",
    "releases",
    "since",
    "at",
    "or",
    "than",
    "up",
    "through",
    "a",
    "an",
    "all",
    "by",
    "are",
    "was",
    "affected",
    "vulnerable",
    "affects",
    "including",
    "tested",
    "as",
];

pub(super) fn product_before(text: &str, start: usize) -> Option<String> {
    let before = text.get(..start).unwrap_or_default();
    let mut words = before.split_whitespace().rev();
    for _ in 0..2 {
        let w = words.next()?;
        let w = w
            .trim_matches(|c: char| !c.is_alphanumeric() && c != '-' && c != '_' && c != '.')
            .trim_end_matches('-');
        if w.is_empty() || PRODUCT_STOP.contains(&w.to_ascii_lowercase().as_str()) {
            continue;
        }
        if w.chars().next().is_some_and(|c| c.is_alphabetic()) && w.len() >= 2 && w.len() <= 30 {
            return Some(w.to_string());
        }
        return None;
    }
    None
}

/// Normalises an affected-version statement as a human wrote it ("before 1.8.0"
/// → "< 1.8.0"). Used for evaluation labels too.
pub fn normalize_version_text(s: &str) -> Option<String> {
    // A label has no sections (as a table cell has none).
    let mut label = Doc::new("label".into(), s);
    label.sections.clear();
    let items = extract_versions(&[label]);
    if let Some(n) = items.into_iter().next().and_then(|i| i.normalized) {
        return Some(n);
    }
    // A bare version ("1.7.2") or major line ("v2") as written in a label or table.
    static BARE_FULL: LazyLock<Regex> = LazyLock::new(|| re(&format!(r"^\s*(?P<a>{V})\s*$")));
    static MAJOR_FULL: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*[vV](?P<a>\d+)\s*$"));
    if let Some(c) = BARE_FULL.captures(s) {
        return c
            .name("a")
            .map(|a| format!("= {}", clean_version(a.as_str())));
    }
    MAJOR_FULL
        .captures(s)
        .and_then(|c| c.name("a"))
        .map(|a| format!("{}.x", a.as_str()))
}

/// A day.month.year date ("29.01.2021", "02.08.2021"), as European advisories date
/// themselves: not a version when it is only mentioned (a release named by its date is
/// year first, "2021.08.02").
fn is_dotted_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    let num = |i: usize| parts.get(i).and_then(|p| p.parse::<u32>().ok());
    parts.len() == 3
        && parts.get(2).is_some_and(|y| y.len() == 4)
        && matches!((num(0), num(1), num(2)), (Some(d), Some(m), Some(y))
            if (1..=31).contains(&d) && (1..=12).contains(&m) && (1970..=2099).contains(&y))
}

/// Software a report runs on rather than reports: operating systems, web servers,
/// language runtimes, databases, browsers and local stacks.
const PLATFORMS: &str = r"windows|linux|ubuntu|debian|kali|centos|fedora|rhel|macos|mac\s+os|os\s+x|ios|android|freebsd|apache|nginx|iis|tomcat|php|python|node(?:\.js)?|java|jdk|jre|openjdk|ruby|perl|mysql|mariadb|postgresql|postgres|sqlite|mongodb|redis|chrome|chromium|firefox|safari|edge|opera|xampp|wampserver|wamp|openssl|docker";

/// The platform named right before a version on its line ("Ubuntu 18.04", "PHP/8.0.3",
/// "PHP Version 7.4.15", "MySQL >= 5.0"), if any.
fn platform_before(text: &str, at: usize) -> Option<String> {
    static BEFORE: LazyLock<Regex> = LazyLock::new(|| {
        re(&format!(
            r"(?i)\b(?P<p>{PLATFORMS})(?:[ \t]*/[ \t]*|[ \t]+(?:v(?:er(?:sion)?)?\.?[ \t]*)?|[ \t]*(?:>=|<=|=>|=<|>|<|=)[ \t]*)$"
        ))
    });
    let line_start = text
        .get(..at)
        .and_then(|b| b.rfind('\n'))
        .map_or(0, |i| i + 1);
    let from = char_start(text, line_start.max(at.saturating_sub(40)), at);
    BEFORE
        .captures(text.get(from..at).unwrap_or_default())
        .and_then(|c| c.name("p"))
        .map(|p| p.as_str().to_string())
}

/// A whole number followed by a month's name: the day of a date, not a version.
fn date_after(text: &str, item: &VersionItem) -> bool {
    static MONTH: LazyLock<Regex> = LazyLock::new(|| {
        re(r"(?i)\A[ \t]+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b")
    });
    let whole = item.text.rsplit([' ', ':']).next().unwrap_or("");
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && text
            .get(item.evidence.end..)
            .is_some_and(|rest| MONTH.is_match(rest))
}

/// "CVSS v3.1", "CVSS version 4.0", "CVSS:3.1": the scoring system's version, not the
/// product's.
fn scoring_system_before(text: &str, at: usize) -> bool {
    static CVSS_BEFORE: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)\bcvss\s*(?:v|version\s*)?[:\s]?\s*`?$"));
    let from = char_start(text, at.saturating_sub(20), at);
    text.get(from..at)
        .is_some_and(|ctx| CVSS_BEFORE.is_match(ctx))
}

pub(super) fn extract_versions(docs: &[Doc<'_>]) -> Vec<VersionItem> {
    let mut items: Vec<VersionItem> = Vec::new();
    let mut taken: Vec<(usize, usize, usize)> = Vec::new(); // (doc, start, end)
    // Link targets ("[0.2.0](https://…/versions/0.2.0)") are not statements: they are
    // blanked (same byte offsets, so evidence still points into the text), except for
    // the rule that reads commit links. Masked once per document, for every rule below.
    let masked_docs: Vec<String> = docs.iter().map(|d| mask_link_targets(d.text)).collect();
    for ((di, doc), masked) in docs.iter().enumerate().zip(&masked_docs) {
        for rule in VERSION_RULES.iter() {
            let hay = if rule.name == "commit-url" {
                doc.text
            } else {
                masked.as_str()
            };
            for c in rule.re.captures_iter(hay).take(MAX_MATCHES) {
                let Some(m) = c.get(0) else { continue };
                let (s, e) = (m.start(), m.end());
                if taken.iter().any(|&(d, ts, te)| d == di && s < te && ts < e) {
                    continue;
                }
                let at = c.name("a").or(c.name("c")).map_or(s, |x| x.start());
                if negated_before(doc.text, at) || scoring_system_before(doc.text, at) {
                    // "I have not tested 2.x", "not affected: < 7.62.0": not what was reported.
                    taken.push((di, s, e));
                    continue;
                }
                let a = c.name("a").map(|x| clean_version(x.as_str()));
                if matches!(rule.name, "range-between" | "up-to")
                    && quantity(doc.text, s, [c.name("a"), c.name("b")])
                {
                    taken.push((di, s, e));
                    continue;
                }
                let in_fix = section_at(&doc.sections, s)
                    .is_some_and(|sec| FIX_HEADING.is_match(&sec.heading));
                let normalized = match rule.norm {
                    "between" => {
                        let b = c.name("b").map(|x| clean_version(x.as_str()));
                        match (a.clone(), b) {
                            (Some(a), Some(b)) => Some(format!(">= {a}, <= {b}")),
                            _ => None,
                        }
                    }
                    "op" => {
                        let op = match c.name("op").map(|x| x.as_str()).unwrap_or("=") {
                            "=<" | "≤" => "<=",
                            "=>" | "≥" => ">=",
                            "==" => "=",
                            o => o,
                        };
                        a.clone().map(|a| format!("{op} {a}"))
                    }
                    "op-range" => {
                        let op = |o: &str| match o {
                            "=<" | "≤" => "<=".to_string(),
                            "=>" | "≥" => ">=".to_string(),
                            o => o.to_string(),
                        };
                        let b = c.name("b").map(|x| clean_version(x.as_str()));
                        let (o1, o2) = (
                            op(c.name("op").map(|x| x.as_str()).unwrap_or(">=")),
                            op(c.name("op2").map(|x| x.as_str()).unwrap_or("<")),
                        );
                        match (a.clone(), b) {
                            (Some(a), Some(b)) => Some(format!("{o1} {a}, {o2} {b}")),
                            _ => None,
                        }
                    }
                    "series" => a.clone().map(|a| {
                        let base: Vec<&str> = a
                            .split('.')
                            .take_while(|p| *p != "x" && *p != "X" && *p != "*")
                            .collect();
                        format!("{}.x", base.join("."))
                    }),
                    "commit" => c.name("c").map(|x| format!("commit {}", x.as_str())),
                    "all" => Some("*".into()),
                    "latest" => Some("latest".into()),
                    "major" => a.clone().map(|a| format!("{a}.x")),
                    "=" if in_fix => a.clone().map(|a| format!("< {a}")),
                    op => a.clone().map(|a| format!("{op} {a}")),
                };
                // A version inside a "Patches"/"Fix" section is the fixed version.
                let product = c
                    .name("p")
                    .map(|p| p.as_str().to_string())
                    .filter(|p| !PRODUCT_STOP.contains(&p.to_ascii_lowercase().as_str()))
                    .or_else(|| product_before(doc.text, s));
                taken.push((di, s, e));
                // "fixed in 5.0.12, 4.5.2 and 3.2.8": the same statement for each listed version.
                let op_prefix = normalized
                    .as_deref()
                    .and_then(|n| n.split_once(' '))
                    .filter(|(o, _)| ["<", "<=", ">=", ">", "="].contains(o))
                    .map(|(o, _)| o.to_string());
                items.push(VersionItem {
                    text: m.as_str().trim().to_string(),
                    normalized,
                    product,
                    evidence: evidence(doc, s, e, rule.name),
                });
                if let Some(op) = op_prefix {
                    let mut pos = e;
                    while let Some(cm) = LIST_CONT.captures(doc.text.get(pos..).unwrap_or_default())
                    {
                        let (Some(whole), Some(v)) = (cm.get(0), cm.name("a")) else {
                            break;
                        };
                        let (cs, ce) = (pos + whole.start(), pos + whole.end());
                        taken.push((di, cs, ce));
                        items.push(VersionItem {
                            text: v.as_str().to_string(),
                            normalized: Some(format!("{op} {}", clean_version(v.as_str()))),
                            product: None,
                            evidence: evidence(doc, cs, ce, "listed-version"),
                        });
                        pos = ce;
                    }
                }
            }
        }
    }
    // Bare versions inside a Patches/Fix section are fixed versions: affected = before them.
    static BARE: LazyLock<Regex> =
        LazyLock::new(|| re(&format!(r"(?:^|[\s(\[@])(?P<a>{V})(?:[\s).,;:\]]|$)")));
    for (di, doc) in docs.iter().enumerate() {
        for sec in doc
            .sections
            .iter()
            .filter(|s| FIX_HEADING.is_match(&s.heading))
        {
            let body = doc.text.get(sec.start..sec.end).unwrap_or_default();
            for c in BARE.captures_iter(body).take(MAX_MATCHES) {
                let Some(m) = c.name("a") else { continue };
                let (s, e) = (sec.start + m.start(), sec.start + m.end());
                if taken.iter().any(|&(d, ts, te)| d == di && s < te && ts < e) {
                    continue;
                }
                taken.push((di, s, e));
                let a = clean_version(m.as_str());
                items.push(VersionItem {
                    text: m.as_str().to_string(),
                    normalized: Some(format!("< {a}")),
                    product: None,
                    evidence: evidence(doc, s, e, "version-in-fix-section"),
                });
            }
        }
    }
    // Versions named in prose next to a product ("webpki 0.22.1 included a partial fix",
    // "the bitcoin_vanity gem 4.3.3"): what a reader takes as the versions discussed,
    // when no rule above read them. Not in code blocks, link targets or addresses.
    static MENTION: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?:^|[\s(\[@`]|\b[A-Za-z][A-Za-z0-9_]{1,30}-)(?P<a>v?\d+\.\d+\.\d+(?:\.\d+)*(?:-[0-9A-Za-z][0-9A-Za-z.]*)?)(?:[\s).,;:\]`]|$)",
        )
    });
    for ((di, doc), masked) in docs.iter().enumerate().zip(&masked_docs) {
        let code: Vec<(usize, usize)> = doc.code_ranges().collect();
        for c in MENTION.captures_iter(masked).take(MAX_MATCHES) {
            let Some(m) = c.name("a") else { continue };
            let (s, e) = (m.start(), m.end());
            // A dotted number that goes on past the match ("190.119.176" of
            // "190.119.176.200") is an address or a longer number, not a version.
            let cut_short = masked.as_bytes().get(e) == Some(&b'.')
                && masked.as_bytes().get(e + 1).is_some_and(u8::is_ascii_digit);
            if cut_short
                || is_dotted_date(m.as_str())
                || taken.iter().any(|&(d, ts, te)| d == di && s < te && ts < e)
                || code.iter().any(|&(cs, ce)| s >= cs && s < ce)
                || product_before(doc.text, s).is_none()
                || negated_before(doc.text, s)
            {
                continue;
            }
            taken.push((di, s, e));
            items.push(VersionItem {
                text: m.as_str().to_string(),
                normalized: Some(format!("= {}", clean_version(m.as_str()))),
                product: product_before(doc.text, s),
                evidence: evidence(doc, s, e, "mentioned-with-product"),
            });
        }
    }
    // Dotted quads without a version word are addresses, not versions (Rails' 4.2.5.1
    // after "fixed in" or "Versions:" is a version).
    static VERSION_WORD: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)version|release|firmware|fixed|patched|affected|before|prior|through|upgrade|[<>=≤≥]",
        )
    });
    items.retain(|i| {
        // A listed version continues a statement that had its version word.
        if i.evidence.rule == "listed-version" || VERSION_WORD.is_match(&i.evidence.text) {
            return true;
        }
        let v = i.normalized.as_deref().unwrap_or("");
        let last = v.rsplit(' ').next().unwrap_or("");
        // The address's own numbers: "127.0.0.1-rr.1u.ms" (a DNS-rebinding host) is
        // one, whatever follows the quad.
        let core = last.split('-').next().unwrap_or(last);
        let parts: Vec<&str> = core.split('.').collect();
        !(parts.len() == 4
            && parts
                .iter()
                .all(|p| p.parse::<u16>().is_ok_and(|n| n <= 255)))
    });
    // Versions of what the report runs on, not of what it reports: "Tested on: Ubuntu
    // 18.04.4", "Apache/2.4.46 (Win64) PHP/8.0.3", sqlmap's "back-end DBMS: MySQL >= 5.0"
    // (unless the subject is about that platform), and a number that begins a date
    // ("Version: 23 October 17").
    if let Some(subject) = docs.first().filter(|d| d.location == "subject") {
        let subject = subject.text.to_ascii_lowercase();
        items.retain(|i| {
            let Some(doc) = docs.iter().find(|d| d.location == i.evidence.location) else {
                return true;
            };
            let platform = platform_before(doc.text, i.evidence.start)
                .is_some_and(|p| !subject.contains(&p.to_ascii_lowercase()));
            !platform && !date_after(doc.text, i)
        });
    }
    // Drop weak "major" items (v1, v2) when stronger statements exist, and duplicates.
    // ("the latest release" is no stronger: it names no version.)
    let strong = items
        .iter()
        .any(|i| !matches!(i.evidence.rule.as_str(), "major-v" | "latest"));
    if strong {
        items.retain(|i| i.evidence.rule != "major-v");
    }
    let mut seen = BTreeSet::new();
    items.retain(|i| seen.insert(i.normalized.clone().unwrap_or_else(|| i.text.clone())));
    items
}
