//! Classify: read a report the way a careful triager does. Pure functions, no I/O.
//!
//! Input is the report's text (all decrypted text parts, and follow-ups) and
//! its attachments; output is [`Findings`]: proof of concept, affected
//! versions, impact and severity (CVSS vectors are validated and scored with
//! the `cvss` crate), reproduction steps, fix suggestions, CVE/CWE/GHSA ids,
//! credit, and low-effort signals. Every finding carries the evidence that
//! justified it: the text span, where it was found, and the rule that fired.
//!
//! The rules are general patterns (markdown sections, code blocks, request
//! lines, payload shapes, version phrases), not sentences of any corpus.

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;

/// An attachment as the classifier sees it.
#[derive(Debug, Clone)]
pub struct AttachmentIn<'a> {
    pub name: Option<&'a str>,
    pub content_type: &'a str,
    pub data: &'a [u8],
}

/// What the classifier reads.
#[derive(Debug, Clone, Default)]
pub struct Input<'a> {
    pub subject: &'a str,
    pub text: &'a str,
    pub attachments: Vec<AttachmentIn<'a>>,
}

pub use crate::domain::findings::*;
use crate::domain::status::{PocStatus, Severity, SeveritySource};

/// Most matches of one rule taken from one text. A 20 MiB log pasted into a report
/// would otherwise make hundreds of thousands of evidence spans (measured: ~90 MiB for
/// one 18 MiB message, BENCHMARKS.md); the first ones are the evidence that matters.
const MAX_MATCHES: usize = 32;

fn re(s: &str) -> Regex {
    crate::domain::builtin_regex(s)
}

/// One located piece of text.
struct Doc<'a> {
    location: String,
    text: &'a str,
}

/// Evidence for `start..end` of a document. Offsets computed by rules (a section cut
/// at 200 bytes, say) may fall inside a character or past the end: they are moved to
/// the enclosing character boundaries, so a span can always be sliced (fuzzing found this).
fn evidence(doc: &Doc<'_>, start: usize, end: usize, rule: &str) -> Evidence {
    let end = doc.text.ceil_char_boundary(end.min(doc.text.len()));
    let start = doc.text.floor_char_boundary(start.min(end));
    let raw = doc.text.get(start..end).unwrap_or_default();
    let t = raw.trim();
    let text = if t.chars().count() > 200 {
        let mut s: String = t.chars().take(199).collect();
        s.push('…');
        s
    } else {
        t.to_string()
    };
    Evidence {
        text,
        location: doc.location.clone(),
        start,
        end,
        rule: rule.into(),
    }
}

// ---------------------------------------------------------------- sections

/// A markdown-ish section: heading text (lower case) and its byte range.
#[derive(Debug, Clone)]
struct Section {
    heading: String,
    start: usize,
    end: usize,
}

static HEADING: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?m)^[ \t>]*(?:#{1,6}[ \t]*(?P<h1>[^\n]+?)[ \t#]*$|\*\*(?P<h2>[^\n*]{2,60})\*\*[ \t]*:?[ \t]*$|(?P<h3>[A-Z][A-Za-z /&-]{2,40}):[ \t]*$|(?P<h4>[A-Z][^\n]{2,60}?)[ \t]*\n[ \t]*(?:-{3,}|={3,})[ \t]*$)",
    )
});

fn sections(text: &str) -> Vec<Section> {
    let mut heads: Vec<(usize, usize, String)> = HEADING
        .captures_iter(text)
        .map(|c| {
            let m = c.get(0).map(|m| (m.start(), m.end())).unwrap_or((0, 0));
            let h = c
                .name("h1")
                .or(c.name("h2"))
                .or(c.name("h3"))
                .or(c.name("h4"))
                .map(|x| x.as_str())
                .unwrap_or("");
            (m.0, m.1, h.trim().trim_matches('*').to_ascii_lowercase())
        })
        .collect();
    heads.sort_by_key(|h| h.0);
    let mut out = Vec::new();
    for (i, (_, body_start, h)) in heads.iter().enumerate() {
        let end = heads.get(i + 1).map(|n| n.0).unwrap_or(text.len());
        out.push(Section {
            heading: h.clone(),
            start: *body_start,
            end,
        });
    }
    out
}

fn section_at(secs: &[Section], pos: usize) -> Option<&Section> {
    secs.iter().rev().find(|s| s.start <= pos && pos <= s.end)
}

static FIX_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(patch(es)?|fix(es)?|remediation|mitigation|workarounds?|recommendations?|solution|suggested fix|resolution)\b",
    )
});
static POC_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\b(poc|proof[ -]of[ -]concept|exploit(ation|ing)?|reproduc\w*|repro|steps)\b")
});
static NONE_CONTENT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\W*(none|n/a|no (known )?(workarounds?|patch(es)?|fix)( (is|are) (currently )?available)?|not (yet )?available|no workarounds have been made public|tbd)\W*$",
    )
});

/// The sections of document `di` (none when out of range).
fn secs_of(secs: &[Vec<Section>], di: usize) -> &[Section] {
    secs.get(di).map_or(&[], Vec::as_slice)
}

/// A grade 0..=4 as a severity (out of range: medium).
fn severity_at(g: usize) -> Severity {
    Severity::ALL.get(g).copied().unwrap_or(Severity::Medium)
}

fn section_text<'a>(text: &'a str, s: &Section) -> &'a str {
    text.get(s.start..s.end).unwrap_or_default().trim()
}

// ---------------------------------------------------------------- PoC

struct CodeBlock {
    start: usize,
    end: usize,
    content_start: usize,
    content_end: usize,
    lang: String,
}

fn fenced_blocks(text: &str) -> Vec<CodeBlock> {
    static FENCE: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?m)^[ \t>]*(```|~~~)[ \t]*([\w+-]*)[^\n]*$"));
    let fences: Vec<_> = FENCE.captures_iter(text).collect();
    let mut out = Vec::new();
    // Fences pair up in order: opening, closing.
    for pair in fences.chunks_exact(2) {
        let [a, b] = pair else { continue };
        let (Some(am), Some(bm)) = (a.get(0), b.get(0)) else {
            continue;
        };
        out.push(CodeBlock {
            start: am.start(),
            end: bm.end(),
            content_start: (am.end() + 1).min(bm.start()),
            content_end: bm.start(),
            lang: a
                .get(2)
                .map(|l| l.as_str().to_ascii_lowercase())
                .unwrap_or_default(),
        });
    }
    out
}

/// Whether a code block (starting at `start`, of language `lang`) reads as an exploit
/// or reproducer rather than the product's code, a configuration or an instruction:
/// the sentence before it and the block itself decide.
fn code_is_exploit(text: &str, start: usize, lang: &str, content: &str) -> bool {
    if CONFIG_LANGS.contains(&lang) || INSTALL_CMD.is_match(content) {
        return false;
    }
    // The lead-in: the text since the previous blank line (at most 240 bytes).
    let before = text.get(..start).unwrap_or_default();
    let para = before.trim_end().rfind("\n\n").map_or(0, |i| i + 2);
    let from = para.max(start.saturating_sub(240));
    let from = (from..=start)
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(start);
    let lead = text.get(from..start).unwrap_or_default();
    // Attacker input in the block wins over any lead-in.
    if PAYLOAD.is_match(content) || HTTP_REQUEST.is_match(content) {
        return true;
    }
    !NOT_POC_LEAD.is_match(lead)
}

/// Indented code blocks: a blank line, then ≥1 lines indented by 4+ spaces or a tab with code-ish characters.
fn indented_blocks(text: &str) -> Vec<(usize, usize)> {
    static IND: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?m)(?:\A|\n[ \t]*\n)((?:(?:    |\t)[^\n]*\S[^\n]*(?:\n|\z))+)"));
    IND.captures_iter(text)
        .filter_map(|c| c.get(1))
        .filter(|m| {
            let s = m.as_str();
            let codeish = s
                .chars()
                .filter(|c| "(){};=<>$/\\|&'\"[]".contains(*c))
                .count();
            codeish >= 2 && !s.trim_start().starts_with(['-', '*', '•'])
        })
        .map(|m| (m.start(), m.end()))
        .collect()
}

static HTTP_REQUEST: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS)\s+\S*/\S*\s+HTTP/\d(\.\d)?"));
static COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?im)(?:^|\$|`|:[ \t]|\b)[ \t]*(?:sudo[ \t]+)?(curl|wget)[ \t]+(?:-{1,2}\w|['"]?https?://)[^\n]*|(?:^|\$|`)[ \t]*https?[ \t]+(?:GET|POST|PUT|DELETE|PATCH|:\d|https?://)[^\n]*|(?:^|\$)[ \t]*(?-i:python3?|node|ruby|perl|php|bash|sh|nc|ncat|java|go run)[ \t]+[^\n]*\S"#,
    )
});
static PAYLOAD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)<script\b[^\n]{0,80}|\bon(?:error|load|mouseover|focus|click)\s*=\s*[^\s>]{1,80}|javascript:[^\s"'<>]{1,80}|\balert\s*\([^\n)]{0,40}\)|'\s*or\s*'?1'?\s*=\s*'?1|\bunion(?:\s+all)?\s+select\b[^\n]{0,60}|(?:\.\./){2,}[^\s]{0,60}|(?:\.\.(?:%2f|%5c|\\)){2,}[^\s]{0,60}|%2e%2e%2f[^\s]{0,60}|\{\{\s*\d+\s*\*\s*\d+\s*\}\}|\$\{\s*\d+\s*\*\s*\d+\s*\}|\$\{jndi:[^\s}]{0,80}\}?|["'\[]__proto__["'\]]|__proto__\s*[.:\[]|;\s*drop\s+table\b[^\n]{0,40}|\bsleep\s*\(\s*\d+\s*\)|<!ENTITY\s+[^\n]{0,80}|\b169\.254\.169\.254\b[^\s]{0,60}|\bxp_cmdshell\b|\$\(\s*(?:id|whoami|touch|curl|wget)\b[^\n)]{0,60}\)"#,
    )
});
static CLAIMED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:i|we)(?:'ve| have| had| got| wrote| developed| created| built| possess)\s+(?:a\s+|an\s+)?(?:fully\s+)?(?:working|functional|full|weaponi[sz]ed|reliable)?\s*(?:poc|exploit|proof[- ]of[- ]concept)\b[^\n.]{0,80}|\b(?:poc|exploit|proof[- ]of[- ]concept|(?:technical |full )?details)\s+(?:is|are|will be|can be)?\s*(?:available|provided|shared|disclosed|released|sent)\s+(?:up)?on\s+request\b|\b(?:poc|exploit|proof[- ]of[- ]concept)\s+(?:is|are)\s+to\s+be\s+(?:disclosed|released|published)[^\n.]{0,60}|\bbefore\s+(?:i|we)\s+(?:share|send|disclose|provide|reveal)\b[^\n.]{0,60}|\b(?:bounty|reward|payment)\b[^\n.]{0,60}\b(?:first|before (?:i|we))\b",
    )
});

/// Words just before a code block that say it is the product's own code, a
/// configuration, a workaround or an upgrade instruction: not a proof of concept.
static NOT_POC_LEAD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)vulnerable code|(?:the|this) (?:following|affected|relevant|problematic) (?:code|function|method|snippet|lines?)|code (?:looks|will look|that looks)|source code|snippet (?:from|of)|(?:is|are) (?:implemented|defined)|implementation|\bin (?:the )?(?:file|source)\b|configur(?:e|ation)|initiali[sz]er|monkey[- ]?patch|workaround|to mitigate|mitigat|upgrade|install|(?:add|put|set) (?:the following|this)|dependency|dependencies|safe (?:code|usage|version)|instead|fixed code|patched code|correct(?:ed)? (?:code|usage)",
    )
});

/// Code block languages that are configuration or manifests, never an exploit.
const CONFIG_LANGS: &[&str] = &[
    "toml",
    "ini",
    "conf",
    "apache",
    "nginx",
    "gemfile",
    "cfg",
    "properties",
    "dockerfile",
];

/// Commands that install or upgrade software: instructions, not exploits.
static INSTALL_CMD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?im)^\s*\$?\s*(?:cargo (?:install|add|update)|gem (?:install|update)|bundle (?:update|install)|npm (?:install|i|update)|yarn (?:add|upgrade)|pip3? install|apt(?:-get)? (?:install|upgrade)|go get)\b",
    )
});

/// A PoC section needs something concrete: code, a request, a payload, a command, a
/// URL with a path or query (not a video or a file-sharing link), or inline code.
static CONCRETE: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)```|`[^`\n]{3,}`|<[a-z]+[\s>]|\b(?:GET|POST|PUT) /"#));

/// A URL that carries input (a query, or characters an exploit uses), on a host that is
/// not a video or file-sharing site (a screencast link is not a reproducer).
static INPUT_URL: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)https?://(?P<host>[^/\s)]+)[^\s)]*[?=&<>'"%][^\s)]*"#));
const MEDIA_HOSTS: &[&str] = &[
    "youtube.com",
    "youtu.be",
    "vimeo.com",
    "drive.google.com",
    "loom.com",
    "imgur.com",
    "dropbox.com",
];

fn concrete(body: &str) -> bool {
    CONCRETE.is_match(body)
        || INPUT_URL.captures_iter(body).any(|c| {
            c.name("host").is_some_and(|h| {
                let h = h.as_str().to_ascii_lowercase();
                !MEDIA_HOSTS
                    .iter()
                    .any(|m| h == *m || h.ends_with(&format!(".{m}")))
            })
        })
}

/// An inline code span calling a function, in a sentence that says it triggers the
/// bug (curl's advisories: "`curl_url_set(uh, CURLUPART_URL, "string", 0);` triggers the bug").
static INLINE_TRIGGER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)`[^`\n]{0,80}\w\([^`\n)]{2,}\)[^`\n]{0,20}`[^.\n]{0,40}\b(?:trigger|crash|reproduc|exploit|overflow)\w*|\b(?:trigger|crash|reproduc|exploit)\w*[^.\n]{0,60}`[^`\n]{0,80}\w\([^`\n)]{2,}\)[^`\n]{0,20}`",
    )
});

fn attachment_is_poc(name: &str, content_type: &str) -> Option<&'static str> {
    let l = name.to_ascii_lowercase();
    let ext = l.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let named = [
        "poc", "exploit", "repro", "payload", "proof", "crash", "attack",
    ]
    .iter()
    .any(|k| l.contains(k));
    let script = [
        "py", "sh", "js", "ts", "html", "htm", "svg", "php", "rb", "pl", "go", "c", "cpp", "rs",
        "java", "ps1", "bat", "http", "har", "xml", "yaml", "yml", "json", "ipynb", "lua",
    ]
    .contains(&ext)
        || content_type.contains("script")
        || content_type.contains("python")
        || content_type == "text/html";
    let archive = ["zip", "tgz", "gz", "tar", "7z", "pcap", "pcapng", "cap"].contains(&ext);
    if script {
        Some("script-attachment")
    } else if archive && named {
        Some("archive-or-capture-named-poc")
    } else if named && !content_type.starts_with("image/") {
        Some("attachment-named-poc")
    } else {
        None
    }
}

// ---------------------------------------------------------------- versions

// A version: numeric dotted parts (or x/* wildcards), an optional pre-release
// (`-rc.1`) and optional build metadata (`+8.13.9`, SemVer 2.0 §10).
const V: &str = r"`?v?\d+(?:\.(?:\d+[0-9A-Za-z_]*|x|X|\*|v[0-9a-f]{6,}[0-9A-Za-z_]*))+(?:\.(?:alpha|beta|rc|pre|dev|post)\w*(?:\.\d+)*)?(?:-[0-9A-Za-z][0-9A-Za-z.]*)?(?:\+(?:[0-9A-Za-z][0-9A-Za-z.]*)?)?`?";
const V1: &str = r"`?v?\d+(?:\.(?:\d+[0-9A-Za-z_]*|x|X|\*|v[0-9a-f]{6,}[0-9A-Za-z_]*))*(?:\.(?:alpha|beta|rc|pre|dev|post)\w*(?:\.\d+)*)?(?:-[0-9A-Za-z][0-9A-Za-z.]*)?(?:\+(?:[0-9A-Za-z][0-9A-Za-z.]*)?)?`?";

struct VersionRule {
    name: &'static str,
    re: Regex,
    /// How to normalise: the operator, or a marker.
    norm: &'static str,
}

static VERSION_RULES: LazyLock<Vec<VersionRule>> = LazyLock::new(|| {
    let r = |name, pat: String, norm| VersionRule {
        name,
        re: re(&pat),
        norm,
    };
    vec![
        r("range-between", format!(r"(?i)\bbetween\s+(?:versions?\s+)?(?P<a>{V1})\s+and\s+(?P<b>{V1})"), "between"),
        r("range-through", format!(r"(?i)\b(?:versions?\s+)?(?P<a>{V})\s+(?:through|to|until|–|-)\s+(?:version\s+)?(?P<b>{V})\b"), "between"),
        r("fixed-in", format!(r"(?i)\b(?:fixed|patched|resolved|addressed|corrected|released)\s+in\s+(?:`?[A-Za-z][\w-]{{0,20}}`?\s+)?(?:versions?\s+)?\[?`?(?:@?[\w-]+@|[\w-]+\s*(?:>=|=>))?\s*(?P<a>{V1})"), "<"),
        r("upgrade-to", format!(r"(?i)\b(?:upgrad(?:e|ed|ing)|updat(?:e|ed|ing)|bump(?:ed|ing)?|mov(?:e|ed|ing))\s+(?:`?[A-Za-z][\w-]{{0,20}}`?\s+)?(?:at\s+least\s+)?to\s+(?:`?[A-Za-z][\w-]{{0,20}}`?\s+)?(?:versions?\s+)?\[?(?P<a>{V1})"), "<"),
        r("fixed-label", format!(r"(?im)^[ \t*-]*(?:fixed|patched|safe|unaffected|non-vulnerable)\s+(?:versions?|releases?|in)\s*:\s*(?:`?[A-Za-z][\w-]{{0,20}}`?\s+)?(?P<a>{V1})"), "<"),
        r("published-as", format!(r"(?i)\b(?:published|released|shipped|available)\s+as\s+`?[A-Za-z][\w-]{{0,30}}`?\s+(?P<a>{V1})"), "<"),
        r("fix-included", format!(r"(?i)\b(?:fix|patch)\w*\s+(?:has\s+been|is|was)\s+(?:included|shipped|released|available)\s+in\s+(?:`?[A-Za-z][\w-]{{0,20}}`?\s+)?(?:versions?\s+)?(?P<a>{V1})"), "<"),
        r("op-range", format!(r"(?P<op><=|>=|=<|=>|≤|≥|<|>)\s*(?P<a>{V})\s*(?:,|and|&&)?\s*`?\s*(?P<op2><=|=<|≤|<)\s*(?P<b>{V})"), "op-range"),
        r("op", format!(r"(?P<op><=|>=|=<|=>|≤|≥|<|>)\s*(?P<a>{V}|`?v\d+`?\b)"), "op"),
        r("and-earlier", format!(r"(?i)(?P<a>{V1})\s+(?:and|or)\s+(?:all\s+)?(?:earlier|before|older|below|prior|lower)(?:\s+versions?)?"), "<="),
        r("before-and-including", format!(r"(?i)\b(?:before|up to|prior to)\s+and\s+including\s+(?:versions?\s+)?(?P<a>{V1})"), "<="),
        r("up-to", format!(r"(?i)\b(?:up\s+to|through|until|to and including|including and prior to)\s+(?:versions?\s+)?(?P<a>{V1})"), "<="),
        r("before", format!(r"(?i)\b(?:before|prior\s+to|older\s+than|lower\s+than|below|earlier\s+than|pre-)\s*(?:`?[A-Za-z][\w-]{{0,20}}`?\s+)?(?:versions?\s+)?(?P<a>{V1})"), "<"),
        r("since", format!(r"(?i)\b(?:since|starting\s+(?:from|with|at|in)|from|introduced\s+in|beginning\s+(?:with|in))\s+(?:[A-Z][\w-]{{0,20}}\s+)?(?:versions?\s+)?(?P<a>{V})"), ">="),
        r("series", r"\b(?P<a>\d+(?:\.\d+)?\.[xX*](?:\.[xX*])?)\b".to_string(), "series"),
        r("product-version", format!(r"(?P<p>[A-Za-z][\w.-]{{1,30}})\s+(?:versions?\s+)?(?P<a>{V})\s+(?:is\s+|are\s+)?(?:has|have|allows?|is\s+vulnerable|are\s+vulnerable|is\s+affected|are\s+affected|contains?|suffers?|exposes?|leaks?|crashes|fails)\b"), "="),
        r("in-product-version", format!(r"\b(?:in|of|on)\s+(?P<p>[A-Z][\w.-]{{1,30}}(?:\s+[A-Z][\w.-]{{1,30}}){{0,2}})\s+(?:versions?\s+)?(?P<a>{V})(?:[\s,.;:)]|$)"), "="),
        r("version-stated", format!(r"(?i)\b(?:affected|vulnerable|tested|reproduced|reproducible|confirmed|verified|works)\s*:?\s*(?:on|in|with|against)?\s*(?:`?[A-Za-z][\w-]{{0,20}}`?\s+)?(?:versions?\s*:?\s*)?(?P<a>{V})"), "="),
        r("versions-label", format!(r"(?im)^[ \t*-]*(?:affected\s+)?versions?\s*:\s*(?:`?[A-Za-z][\w.-]{{0,30}}`?\s+){{0,2}}(?P<a>{V1})"), "="),
        r("commit", r"(?i)\b(?:since|at|in|after|introduced in|main at|master at)?\s*commit\s+\[?`?(?P<c>[0-9a-f]{7,40})\b".to_string(), "commit"),
        r("commit-url", r"(?i)\b(?:this|since|after|introduced\s+(?:in|by))\s+\[?commit\]?\(\S*?/commit/(?P<c>[0-9a-f]{7,40})\b".to_string(), "commit"),
        r("all-versions", r"(?i)\b(?:all|every)\s+(?:released\s+|current\s+|supported\s+)?versions\b".to_string(), "all"),
        r("latest", r"(?i)\b(?:the\s+)?(?:latest|most recent|current)\s+(?:stable\s+)?(?:version|release)\b|\b(?:main|master)\s+branch\b|\blatest\s+(?:main|master|commit|nightly|snapshot|head)\b|\(latest(?:\s+release)?\)".to_string(), "latest"),
        r("version-word", format!(r"(?i)\bversions?\s+\[?(?P<a>{V})\]?(?:[\s,.;:)]|$)"), "="),
        r("major-v", r"\b(?:in|on|for|and|or|of)\s+(?P<a>v\d{1,2})\b".to_string(), "major"),
    ]
});

static LIST_CONT: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"\A\s*(?:,|;|\band\b|\bor\b|/)\s*(?:and\s+|or\s+)?(?:@?[\w-]+@)?(?:`?[A-Z][\w.-]{{0,30}}`?\s+){{0,3}}(?:versions?\s+)?(?P<a>{V})"
    ))
});

/// The text with every Markdown link target (`](…)`) and bare URL replaced by spaces of
/// the same byte length.
fn mask_link_targets(text: &str) -> String {
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
static NEGATED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:not|n't|never)\s+(?:yet\s+)?(?:been\s+)?(?:tested|tried|checked|verified|reproduced|looked\s+at)\b|\bun(?:tested|verified)\b",
    )
});

fn negated_before(text: &str, start: usize) -> bool {
    let before = text.get(..start).unwrap_or_default();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let from = line_start.max(start.saturating_sub(80));
    // Back off to a char boundary.
    let from = (from..=start)
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(start);
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

fn clean_version(s: &str) -> String {
    // "v0.15.1+" (and later) is 0.15.1; "0.3.3+8.13.9" keeps its build metadata.
    s.trim_matches('`')
        .trim_start_matches(['v', 'V'])
        .trim_end_matches('+')
        .to_string()
}

const PRODUCT_STOP: &[&str] = &[
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

fn product_before(text: &str, start: usize) -> Option<String> {
    let before = text.get(..start).unwrap_or_default();
    let mut words = before.split_whitespace().rev();
    for _ in 0..2 {
        let w = words.next()?;
        let w = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-' && c != '_' && c != '.');
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
    let docs = [Doc {
        location: "label".into(),
        text: s,
    }];
    let items = extract_versions(&docs, &[]);
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

fn extract_versions(docs: &[Doc<'_>], fix_sections: &[Vec<Section>]) -> Vec<VersionItem> {
    let mut items: Vec<VersionItem> = Vec::new();
    let mut taken: Vec<(usize, usize, usize)> = Vec::new(); // (doc, start, end)
    for (di, doc) in docs.iter().enumerate() {
        // Link targets ("[0.2.0](https://…/versions/0.2.0)") are not statements: they are
        // blanked (same byte offsets, so evidence still points into the text), except
        // for the rule that reads commit links.
        let masked = mask_link_targets(doc.text);
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
                if negated_before(doc.text, at) {
                    // "I have not tested 2.x", "not affected: < 7.62.0": not what was reported.
                    taken.push((di, s, e));
                    continue;
                }
                let a = c.name("a").map(|x| clean_version(x.as_str()));
                let in_fix = fix_sections
                    .get(di)
                    .and_then(|secs| section_at(secs, s))
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
        let Some(secs) = fix_sections.get(di) else {
            continue;
        };
        for sec in secs.iter().filter(|s| FIX_HEADING.is_match(&s.heading)) {
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
            r"(?:^|[\s(\[@])(?P<a>v?\d+\.\d+\.\d+(?:\.\d+)?(?:-[0-9A-Za-z][0-9A-Za-z.]*)?)(?:[\s).,;:\]]|$)",
        )
    });
    for (di, doc) in docs.iter().enumerate() {
        let masked = mask_link_targets(doc.text);
        let code: Vec<(usize, usize)> = fenced_blocks(doc.text)
            .iter()
            .map(|b| (b.start, b.end))
            .chain(indented_blocks(doc.text))
            .collect();
        for c in MENTION.captures_iter(&masked).take(MAX_MATCHES) {
            let Some(m) = c.name("a") else { continue };
            let (s, e) = (m.start(), m.end());
            if taken.iter().any(|&(d, ts, te)| d == di && s < te && ts < e)
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
        re(r"(?i)version|release|fixed|patched|affected|before|prior|through|upgrade|[<>=≤≥]")
    });
    items.retain(|i| {
        // A listed version continues a statement that had its version word.
        if i.evidence.rule == "listed-version" || VERSION_WORD.is_match(&i.evidence.text) {
            return true;
        }
        let v = i.normalized.as_deref().unwrap_or("");
        let last = v.rsplit(' ').next().unwrap_or("");
        let parts: Vec<&str> = last.split('.').collect();
        !(parts.len() == 4
            && parts
                .iter()
                .all(|p| p.parse::<u16>().is_ok_and(|n| n <= 255)))
    });
    // Drop weak "major" items (v1, v2) when stronger statements exist, and duplicates.
    let strong = items.iter().any(|i| i.evidence.rule != "major-v");
    if strong {
        items.retain(|i| i.evidence.rule != "major-v");
    }
    let mut seen = BTreeSet::new();
    items.retain(|i| seen.insert(i.normalized.clone().unwrap_or_else(|| i.text.clone())));
    items
}

// ---------------------------------------------------------------- impact

const CLASSES: &[(&str, &str)] = &[
    (
        "rce",
        r"(?i)remote code execution|\brce\b|arbitrary (?:code|command)s?(?: execution)?|(?:code|command) (?:execution|injection)|execute (?:arbitrary|malicious|any) (?:code|commands?)|\bos command\b|code injection|sandbox (?:escape|bypass)|escape the sandbox|template injection|\bssti\b|reverse shell",
    ),
    (
        "sqli",
        r"(?i)sql injection|\bsqli\b|union\s+(?:all\s+)?select|'\s*or\s*'?1'?\s*=\s*'?1",
    ),
    (
        "xss",
        r"(?i)cross[- ]site scripting|\bxss\b|<script\b|\bon(?:error|load|mouseover|focus|click)\s*=|\balert\s*\(",
    ),
    (
        "ssrf",
        r"(?i)server[- ]side request forgery|\bssrf\b|169\.254\.169\.254",
    ),
    (
        "path-traversal",
        r"(?i)path traversal|directory traversal|(?:\.\./){2,}|(?:\.\.%2f){2,}|arbitrary file (?:read|write|access)|contents? of arbitrary files|local file inclusion|\blfi\b|read arbitrary files",
    ),
    (
        "auth-bypass",
        r"(?i)auth(?:entication|orization)? bypass|bypass(?:es|ed|ing)? (?:the )?(?:auth\w*|login|mfa|2fa|multi-factor|two-factor|signature|origin|access control|permission)|signature (?:verification )?bypass|\bimpersonat\w+|alg\s*=\s*none|unauthori[sz]ed access",
    ),
    (
        "access-control",
        r"(?i)\bidor\b|insecure direct object|broken access control|missing authori[sz]ation|other (?:users|customers)'|without (?:the )?(?:required )?permission|not within their",
    ),
    (
        "info-disclosure",
        r"(?i)information disclosure|info(?:rmation)? leak|sensitive (?:data|information)|\bleak(?:s|ed|ing|age)?\b|expos(?:es|ed|ure) (?:of )?(?:sensitive|the|credentials|tokens?|secrets?)|disclos(?:e|es|ure) of",
    ),
    (
        "dos",
        r"(?i)denial[- ]of[- ]service|\bdos\b|\bcrash(?:es|ed)?\b|resource exhaustion|consume (?:significant|large|very large|excessive|unbounded)|infinite loop|memory exhaustion|out of memory|indefinite(?:ly)? block",
    ),
    (
        "csrf",
        r"(?i)cross[- ]site request forgery|\bcsrf\b|\bxsrf\b",
    ),
    (
        "open-redirect",
        r"(?i)open redirect|redirects? (?:off-site|to (?:an? )?(?:arbitrary|external|attacker))",
    ),
    ("xxe", r"(?i)\bxxe\b|xml external entit"),
    (
        "deserialization",
        r"(?i)(?:unsafe|insecure|untrusted) deserializ\w+|deserialization of untrusted",
    ),
    ("prototype-pollution", r"(?i)prototype pollution|__proto__"),
    (
        "privilege-escalation",
        r"(?i)privilege escalation|escalat\w+ (?:of )?privileges?|elevat\w+ (?:of )?privileges?",
    ),
    (
        "memory-corruption",
        r"(?i)buffer overflow|heap overflow|stack overflow|use[- ]after[- ]free|out[- ]of[- ]bounds (?:write|read)|memory corruption|double free",
    ),
    ("request-smuggling", r"(?i)request smuggling|desync"),
    (
        "header-injection",
        r"(?i)header injection|crlf injection|response splitting",
    ),
    (
        "weak-crypto",
        r"(?i)predictable (?:tokens?|values?|random)|weak (?:cipher|crypto\w*|random)|timing attack|dns poisoning|hostname verification",
    ),
    (
        "spoofing",
        r"(?i)\bspoof(?:ing|ed|s)?\b|\bphishing\b|\bforge (?:their|the|a) ",
    ),
    (
        "security-bypass",
        r"(?i)\b(?:is|are|be|been|can be) bypassed\b|\bbypass(?:es|ed|ing)? (?:the |this |a )?(?:[\w.`-]+ ){0,2}(?:check|restriction|protection|limitation|filter|validation|allow ?list|deny ?list|blacklist|whitelist|sandbox|origin check)s?\b|\bblacklist bypass\b",
    ),
    ("race-condition", r"(?i)race condition|\btoctou\b"),
];

static CLASS_RES: LazyLock<Vec<(&'static str, Regex)>> =
    LazyLock::new(|| CLASSES.iter().map(|(n, p)| (*n, re(p))).collect());

/// Weakness classes that say what is wrong but not what an attacker gains.
const WEAKNESS_ONLY: &[&str] = &[
    "race-condition",
    "prototype-pollution",
    "memory-corruption",
    "weak-crypto",
];

static IMPACT_PHRASE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bimpact\s*:|\b(?:allow|allows|allowing|enable|enables|enabling|permit|permits|let|lets)\s+(?:an?\s+|the\s+|any\s+|remote\s+|unauthenticated\s+|authenticated\s+|local\s+|malicious\s+|low[- ]privileged?\s+|(?:un)?privileged\s+|some\s+|other\s+)*(?:attackers?|users?|adversar(?:y|ies)|clients?|hackers?|actors?|editors?|visitors?|them|anyone|one)\b|\b(?:attackers?|adversar(?:y|ies)|hackers?)\s+(?:can|could|may|might|is able to|are able to|would be able to)\b|\b(?:could|can|may|might|would|will)\s+(?:potentially\s+)?(?:lead|result|allow|cause|be (?:used|abused|exploited|leveraged))\b|\bleads?\s+to\b|\bresult(?:s|ing)?\s+in\b|\bloss of\b|\bopen(?:s|ing)? up\b|\bmade it possible\b|\bit (?:is|was) possible (?:for|to)\b|\b(?:could|can)\s+(?:change|create|delete|modify|read|write|access|execute|run|obtain|steal|inject|escalate|impersonate|forge|spoof|bypass|crash|exhaust|take over|hijack)\b|\b(?:is|are)\s+vulnerable\s+to\s+(?:cross|remote|sql|server|arbitrary|denial|command|code)|\b(?:malicious|untrusted)\s+(?:user|actor|party|repository|input|server|client)s?\s+(?:can|could|may|might)\b|\battacker[- ]controlled\b|\bcontents? of arbitrary\b|\b(?:was|were|is|are)\s+able\s+to\b|\ballow(?:s|ed|ing)?\s+(?:to|for)\s+(?:read|write|access|execute|modify|delete|view|obtain|bypass|restore|change|create|upload|download|list|enumerate|inject)\w*\b|\brevealing\b|\bgain(?:s|ed|ing)?\s+(?:knowledge|access|control|privileges?|information)\b|\bcaus(?:e|es|ed|ing)\b[^.\n]{0,80}\b(?:to\s+(?:block|hang|crash|leak|exit|abort|be\s+(?:printed|logged|exposed|written|disclosed|leaked))|denial of service)\b|\b(?:sensitive|secret|private|confidential)\s+(?:values?|data|information|files?|tokens?|keys?|outputs?)\b[^.\n]{0,60}\b(?:printed|logged|exposed|leaked|disclosed|revealed|written)\b",
    )
});

static CVSS_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"CVSS:(?:3\.[01]|4\.0)/[A-Za-z]{1,3}:[A-Za-z](?:/[A-Za-z]{1,3}:[A-Za-z])*")
});
static STATED_SEVERITY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bseverity\s*(?:level|rating)?\s*(?:is\s*|of\s*|[:=]\s*)\**(critical|high|medium|moderate|low|informational)\b|\b(critical|high|medium|moderate|low)[- ](?:severity|risk)\b|\bclassified as (critical|high|medium|moderate|low)\b",
    )
});

fn grade(s: &str) -> usize {
    match s.to_ascii_lowercase().as_str() {
        "critical" => 4,
        "high" => 3,
        "medium" | "moderate" => 2,
        "low" | "informational" => 1,
        _ => 0,
    }
}

fn class_base(class: &str) -> usize {
    match class {
        "rce" => 4,
        "sqli"
        | "auth-bypass"
        | "ssrf"
        | "path-traversal"
        | "deserialization"
        | "xxe"
        | "privilege-escalation"
        | "memory-corruption"
        | "request-smuggling" => 3,
        "open-redirect" | "header-injection" | "race-condition" | "weak-crypto" => 1,
        _ => 2,
    }
}

static SCOPE_DOWN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\blocal (?:access|attacker|user)|\brequires? (?:an? )?(?:admin\w*|authenticat\w+|privileged?|physical|local|user interaction)|\b(?:authenticated|privileged|trusted) (?:attacker|user)s?\b|\bcommand[- ]line (?:argument|option)s?|\bcli (?:argument|option)s?|\bself[- ]xss\b|\bno (?:direct )?security impact\b|limited circumstances",
    )
});
static SCOPE_UP: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)account takeover|take over (?:any|the|an?) (?:account|admin)|full (?:control|compromise)|administrator'?s? (?:right|session|account|privileges)|any authenticated action|entire cluster|(?:steal|exfiltrate) (?:credentials|session|tokens?)|unauthenticated (?:attacker|remote|user)",
    )
});

// ---------------------------------------------------------------- other findings

static STEPS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?im)\b(?:steps to reproduce|to reproduce|reproduction steps|how to reproduce|reproducer|repro steps)\b|^[ \t]*(?:step[ \t]*)?1[.):][ \t]+\S[^\n]*\n(?:[^\n]*\n){0,8}?[ \t]*(?:step[ \t]*)?2[.):][ \t]+\S",
    )
});
static FIX_PHRASE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?im)\b(?:suggested|recommended|proposed|possible) (?:fix|patch|remediation|mitigation)\b|\bto fix this\b|\bthe fix (?:is|would be)\b|\b(?:fixed|patched|resolved|addressed) in\b|\b(?:upgrade|update) (?:\w+ )?to\b|\bshould (?:instead )?(?:be )?(?:use|using|validate|validated|sanitiz\w+|escap\w+|check|checked|reject|rejected|enforce|restrict|encode|encoded|verify|verified|limit|limited|drop|dropped)\b|\bwe recommend\b|\brecommend(?:ed)? (?:to|that|using|upgrading)\b|\bparameteri[sz]ed queries\b|^diff --git|^@@ -\d|\bcommit [0-9a-f]{7,40}\b.{0,40}\bfix|\bworkarounds?\b[^\n]{0,80}(?:\bis\b|:|\bdisable\b|\bset\b|\benforce\b|\buse\b)|\b(?:flaw|bug|issue|vulnerability|problem)\s+(?:was|is|has been)\s+(?:fully\s+)?(?:resolved|fixed|corrected|addressed|mitigated)\s+by\b|\b(?:is|was|has been)\s+(?:fully\s+)?(?:fixed|corrected|resolved|mitigated)\s+(?:in\s+[^\n]{0,40}?)?by\s+(?:enforcing|ensuring|adding|checking|validating|rejecting|limiting|removing|replacing|using|correcting|making|escaping|sanitiz\w+)\b|\bpatched\s+(?:with|in|by)\s+commit\b|^[ \t#*]*(?:fix|fix idea|remediation|suggested patch|mitigation|recommendation)s?\s*:",
    )
});
static CVE_RE: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\bCVE-(\d{4})-(\d{4,7})\b"));
static CWE_RE: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\bCWE-(\d{1,4})\b"));
static GHSA_RE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\bGHSA(?:-[23456789cfghjmpqrvwx]{4}){3}\b"));
static CREDIT_NAME: LazyLock<Regex> = LazyLock::new(|| {
    re(concat!(
        r#"(?i)\b(?:please\s+)?credit\s+(?:me|us|this (?:finding|report|issue))?\s*(?:as|to)\s+(?:["“'](?P<q>[^"”'\n]{2,80})["”']|(?P<n>[^\n.,;()]{2,60}))|"#,
        r"\bthanks?\s+to\s+(?P<t>[^\n.;]{2,80}?)\s+for\s+(?:reporting|disclosing|discovering|finding|responsibly)|\b(?:reported|discovered|found)\s+by\s+(?P<r>[A-Z][^\n.,;()]{1,60})",
    ))
});
static ANON: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:remain|stay|be kept|be listed as|credited as)\s+anonymous\b|\b(?:do not|don't|please don't|no need to)\s+(?:credit|mention|name)\s+(?:me|us)\b|\bno credit\b",
    )
});
static BEG_BOUNTY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:bounty|reward|compensation|payment|paypal|bitcoin|btc|usdt)\b[^\n]{0,80}\b(?:before|first|in exchange|amount|how much|offer|eligible)\b|\b(?:how much|what) (?:is|will) (?:the|your) (?:bounty|reward)\b|\bbefore (?:i|we) (?:share|send|disclose|provide|reveal)\b",
    )
});
static SCANNER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:missing|lack of|no|absent|not (?:set|configured|enabled))\b[^\n.]{0,40}\b(?:dmarc|spf|dkim|x-frame-options|content-security-policy|csp header|hsts|strict-transport-security|x-content-type-options|x-xss-protection|referrer-policy|permissions-policy|security headers?|clickjacking protection|csrf token on (?:the )?logout|rate limit\w*)\b|\b(?:dmarc|spf|dkim)\b[^\n.]{0,30}\b(?:missing|not (?:found|set|configured)|record)\b|\bclickjacking\b|\bbanner grabbing\b|\bserver version disclos\w+|\bself[- ]xss\b|\bautocomplete\s+(?:enabled|on)\b",
    )
});

// ---------------------------------------------------------------- classify

/// Classifies one report.
pub fn classify(input: &Input<'_>) -> Findings {
    let mut docs = vec![
        Doc {
            location: "subject".into(),
            text: input.subject,
        },
        Doc {
            location: "body".into(),
            text: input.text,
        },
    ];
    for a in &input.attachments {
        if let Ok(t) = std::str::from_utf8(a.data)
            && (a.content_type.starts_with("text/")
                || a.name
                    .is_some_and(|n| attachment_is_poc(n, a.content_type).is_some()))
        {
            docs.push(Doc {
                location: format!("attachment:{}", a.name.unwrap_or("(unnamed)")),
                text: t,
            });
        }
    }
    let secs: Vec<Vec<Section>> = docs.iter().map(|d| sections(d.text)).collect();

    // --- PoC
    let mut poc_ev: Vec<Evidence> = Vec::new();
    for (di, doc) in docs.iter().enumerate().skip(1) {
        for b in fenced_blocks(doc.text) {
            let content = doc
                .text
                .get(b.content_start..b.content_end)
                .unwrap_or_default()
                .trim();
            if content.is_empty() {
                continue;
            }
            let in_fix = section_at(secs_of(&secs, di), b.start)
                .is_some_and(|s| FIX_HEADING.is_match(&s.heading));
            let is_diff = b.lang == "diff"
                || content
                    .lines()
                    .filter(|l| l.starts_with('+') || l.starts_with('-') || l.starts_with("@@"))
                    .count()
                    * 2
                    > content.lines().count();
            if in_fix || is_diff || !code_is_exploit(doc.text, b.start, &b.lang, content) {
                continue;
            }
            poc_ev.push(evidence(doc, b.start, b.end, "code-block"));
        }
        for (s, e) in indented_blocks(doc.text) {
            let in_fix = section_at(secs_of(&secs, di), s)
                .is_some_and(|sec| FIX_HEADING.is_match(&sec.heading));
            let content = doc.text.get(s..e).unwrap_or_default();
            if !in_fix && code_is_exploit(doc.text, s, "", content) {
                poc_ev.push(evidence(doc, s, e, "indented-code"));
            }
        }
        for (rule, rx) in [
            ("http-request", &*HTTP_REQUEST),
            ("command", &*COMMAND),
            ("payload", &*PAYLOAD),
            ("inline-call-triggers", &*INLINE_TRIGGER),
        ] {
            for m in rx.find_iter(doc.text).take(MAX_MATCHES) {
                // A command or payload inside a Fix/Workaround section is a remedy.
                let in_fix = section_at(secs_of(&secs, di), m.start())
                    .is_some_and(|sec| FIX_HEADING.is_match(&sec.heading));
                if in_fix || (rule == "command" && INSTALL_CMD.is_match(m.as_str())) {
                    continue;
                }
                poc_ev.push(evidence(doc, m.start(), m.end(), rule));
            }
        }
        for s in secs_of(&secs, di) {
            if POC_HEADING.is_match(&s.heading) && !FIX_HEADING.is_match(&s.heading) {
                let body = section_text(doc.text, s);
                if body.len() >= 60 && !CLAIMED.is_match(body) && concrete(body) {
                    poc_ev.push(evidence(
                        doc,
                        s.start,
                        s.end.min(s.start + 200),
                        "poc-section",
                    ));
                }
            }
        }
    }
    for a in &input.attachments {
        if let Some(name) = a.name
            && let Some(rule) = attachment_is_poc(name, a.content_type)
        {
            poc_ev.push(Evidence {
                text: name.to_string(),
                location: format!("attachment:{name}"),
                start: 0,
                end: 0,
                rule: rule.into(),
            });
        }
    }
    let mut claimed_ev = Vec::new();
    for doc in &docs {
        for m in CLAIMED.find_iter(doc.text).take(MAX_MATCHES) {
            claimed_ev.push(evidence(doc, m.start(), m.end(), "claimed"));
        }
    }
    let poc = if !poc_ev.is_empty() {
        Poc {
            status: PocStatus::Present,
            evidence: poc_ev.clone(),
        }
    } else if !claimed_ev.is_empty() {
        Poc {
            status: PocStatus::Claimed,
            evidence: claimed_ev.clone(),
        }
    } else {
        Poc {
            status: PocStatus::Absent,
            evidence: Vec::new(),
        }
    };

    // --- versions
    let items = extract_versions(&docs, &secs);
    let versions = Versions {
        present: !items.is_empty(),
        items,
    };

    // --- impact and classes
    let mut classes: Vec<String> = Vec::new();
    let mut impact_ev = Vec::new();
    for doc in &docs {
        for (name, rx) in CLASS_RES.iter() {
            if let Some(m) = rx.find(doc.text) {
                if !classes.iter().any(|c| c == name) {
                    classes.push((*name).to_string());
                }
                impact_ev.push(evidence(doc, m.start(), m.end(), &format!("class:{name}")));
            }
        }
    }
    let mut impact_present = false;
    for (di, doc) in docs.iter().enumerate() {
        for s in secs_of(&secs, di) {
            if s.heading.contains("impact") && section_text(doc.text, s).len() >= 20 {
                impact_present = true;
                impact_ev.push(evidence(
                    doc,
                    s.start,
                    s.end.min(s.start + 200),
                    "impact-section",
                ));
            }
        }
        if let Some(m) = IMPACT_PHRASE.find(doc.text) {
            impact_present = true;
            let line_start = doc
                .text
                .get(..m.start())
                .unwrap_or_default()
                .rfind('\n')
                .map(|p| p + 1)
                .unwrap_or(0);
            let line_end = doc
                .text
                .get(m.end()..)
                .unwrap_or_default()
                .find('\n')
                .map(|p| m.end() + p)
                .unwrap_or(doc.text.len());
            impact_ev.push(evidence(doc, line_start, line_end, "impact-statement"));
        }
    }
    // A consequence class (XSS, RCE, SSRF, DoS ...) names an impact; a weakness
    // class alone (race condition, prototype pollution) does not.
    if classes.iter().any(|c| !WEAKNESS_ONLY.contains(&c.as_str())) {
        impact_present = true;
    }

    let mut cvss = None;
    let mut cvss_error = None;
    for doc in &docs {
        if let Some(m) = CVSS_RE.find(doc.text) {
            match score_cvss(m.as_str()) {
                Ok(c) => {
                    impact_ev.push(evidence(doc, m.start(), m.end(), "cvss-vector"));
                    cvss = Some(c);
                }
                Err(e) => cvss_error = Some(format!("{}: {e}", m.as_str())),
            }
            break;
        }
    }
    let all_text: String = docs.iter().map(|d| d.text).collect::<Vec<_>>().join("\n");
    let (severity, severity_source) = if let Some(c) = &cvss {
        (
            c.severity.parse().unwrap_or(Severity::None),
            SeveritySource::Cvss,
        )
    } else if let Some(c) = STATED_SEVERITY.captures(&all_text) {
        let word = (1..=3)
            .find_map(|i| c.get(i))
            .map(|m| m.as_str())
            .unwrap_or("medium");
        (severity_at(grade(word)), SeveritySource::Stated)
    } else if !classes.is_empty() || impact_present {
        let mut g = classes.iter().map(|c| class_base(c)).max().unwrap_or(2);
        if SCOPE_DOWN.is_match(&all_text) {
            g = g.saturating_sub(1).max(1);
        } else if SCOPE_UP.is_match(&all_text) {
            g = (g + 1).min(4);
        }
        (severity_at(g), SeveritySource::Estimated)
    } else {
        (Severity::None, SeveritySource::None)
    };
    let impact = Impact {
        present: impact_present,
        class: classes.clone(),
        severity,
        severity_source,
        cvss,
        cvss_error,
        evidence: impact_ev,
    };

    // --- repro steps
    let mut repro_ev = Vec::new();
    for doc in docs.iter().skip(1) {
        if let Some(m) = STEPS.find(doc.text) {
            repro_ev.push(evidence(doc, m.start(), m.end(), "steps"));
        }
    }
    if repro_ev.is_empty()
        && poc.status == PocStatus::Present
        && let Some(first) = poc.evidence.first()
    {
        repro_ev.push(Evidence {
            rule: "poc-is-reproducer".into(),
            ..first.clone()
        });
    }
    let repro_steps = Flag {
        present: !repro_ev.is_empty(),
        evidence: repro_ev,
    };

    // --- fix suggestion
    let mut fix_ev = Vec::new();
    for (di, doc) in docs.iter().enumerate().skip(1) {
        for s in secs_of(&secs, di) {
            if FIX_HEADING.is_match(&s.heading) {
                let body = section_text(doc.text, s);
                if body.len() >= 8 && !NONE_CONTENT.is_match(body) {
                    fix_ev.push(evidence(
                        doc,
                        s.start,
                        s.end.min(s.start + 200),
                        "fix-section",
                    ));
                }
            }
        }
        for m in FIX_PHRASE.find_iter(doc.text).take(MAX_MATCHES) {
            fix_ev.push(evidence(doc, m.start(), m.end(), "fix-statement"));
        }
        for b in fenced_blocks(doc.text) {
            if b.lang == "diff" {
                fix_ev.push(evidence(doc, b.start, b.end, "diff"));
            }
        }
    }
    for a in &input.attachments {
        if let Some(n) = a.name
            && (n.ends_with(".patch") || n.ends_with(".diff"))
        {
            fix_ev.push(Evidence {
                text: n.into(),
                location: format!("attachment:{n}"),
                start: 0,
                end: 0,
                rule: "patch-attachment".into(),
            });
        }
    }
    let fix_suggestion = Flag {
        present: !fix_ev.is_empty(),
        evidence: fix_ev,
    };

    // --- ids
    let mut cve = BTreeSet::new();
    let mut cwe = BTreeSet::new();
    let mut ghsa = BTreeSet::new();
    for doc in &docs {
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

    // --- credit
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

    // --- low effort
    let mut reasons = Vec::new();
    let mut le_ev = Vec::new();
    let technical = poc.status == PocStatus::Present
        || versions.present
        || repro_steps.present
        || !cve.is_empty();
    for doc in &docs {
        if let Some(m) = BEG_BOUNTY.find(doc.text) {
            if !reasons.contains(&"beg-bounty") {
                reasons.push("beg-bounty");
            }
            le_ev.push(evidence(doc, m.start(), m.end(), "beg-bounty"));
        }
        if let Some(m) = SCANNER.find(doc.text) {
            if !reasons.contains(&"scanner-finding") {
                reasons.push("scanner-finding");
            }
            le_ev.push(evidence(doc, m.start(), m.end(), "scanner-finding"));
        }
    }
    let body_len = input.text.trim().len();
    static SEC_WORDS: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)vulnerab|exploit|attack|inject|bypass|malicious|escalat|overflow|unauthori[sz]ed|leak|traversal|forgery|sandbox",
        )
    });
    // Short but specific (a maintainer's advisory): it names code or a weakness.
    static SPECIFIC: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\w::\w|\w\.\w+\(|\w\(\)|\b(?:insecure|incorrect|improper|unsafe|non-cryptographic\w*|predictable|weak (?:random|hash|cipher|key)|out[- ]of[- ]bounds|use[- ]after[- ]free|double free|race condition|null (?:pointer )?dereference|denial of service|integer (?:overflow|underflow)|buffer|unchecked|unvalidated|unsanitized|plaintext|cleartext|hard-?coded)\b",
        )
    });
    let specific = SPECIFIC.is_match(&all_text);
    if classes.is_empty() && !impact.present && !technical && input.attachments.is_empty() {
        if body_len < 400 && !specific {
            reasons.push("no-technical-detail");
        } else if !SEC_WORDS.is_match(&all_text) && !specific {
            reasons.push("not-a-vulnerability-report");
        }
    }
    // Bounty talk next to a real PoC is not low effort; a scanner-style finding (missing
    // header, rate limiting, clickjacking) is low effort only when nothing shows it can be
    // reproduced (no PoC and no reproduction steps).
    let flag = reasons.contains(&"no-technical-detail")
        || reasons.contains(&"not-a-vulnerability-report")
        || (reasons.contains(&"beg-bounty") && poc.status != PocStatus::Present)
        || (reasons.contains(&"scanner-finding")
            && poc.status != PocStatus::Present
            && !repro_steps.present);
    let low_effort = LowEffort {
        flag,
        reasons: reasons.into_iter().map(str::to_string).collect(),
        evidence: le_ev,
    };

    Findings {
        poc,
        versions,
        impact,
        repro_steps,
        fix_suggestion,
        cve_ids: cve.into_iter().collect(),
        cwe_ids: cwe.into_iter().collect(),
        ghsa_ids: ghsa.into_iter().collect(),
        credit,
        low_effort,
    }
}

/// Validates and scores a CVSS v3.x or v4.0 vector.
pub fn score_cvss(vector: &str) -> Result<CvssInfo, String> {
    if vector.starts_with("CVSS:4.0/") {
        let v = cvss::v4::Vector::from_str(vector).map_err(|e| e.to_string())?;
        let value = v.score().value();
        let severity = v.score().severity().as_str().to_string();
        Ok(CvssInfo {
            vector: vector.into(),
            version: "4.0".into(),
            score: value,
            severity,
        })
    } else {
        let v = cvss::v3::Vector::from_str(vector).map_err(|e| e.to_string())?;
        let score = v.score();
        Ok(CvssInfo {
            vector: vector.into(),
            version: vector.get(5..8).unwrap_or_default().to_string(),
            score: score.value(),
            severity: score.severity().as_str().to_string(),
        })
    }
}

/// Distance between two severity grades (for "within one grade").
pub fn grade_distance(a: &str, b: &str) -> usize {
    grade(a).abs_diff(grade(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(text: &str) -> Findings {
        classify(&Input {
            subject: "",
            text,
            attachments: vec![],
        })
    }

    #[test]
    fn poc_shapes() {
        assert_eq!(
            run("Run:\n\n```sh\ncurl -X POST http://localhost/api\n```\n")
                .poc
                .status,
            "present"
        );
        assert_eq!(
            run("GET /static/..%2f..%2fetc/passwd HTTP/1.1\nHost: x")
                .poc
                .status,
            "present"
        );
        assert_eq!(
            run("Post a comment with <img src=x onerror=alert(1)> to see it.")
                .poc
                .status,
            "present"
        );
        assert_eq!(
            run("I have a working exploit, tell me the bounty first.")
                .poc
                .status,
            "claimed"
        );
        assert_eq!(
            run("The PoC is to be disclosed on or after the 5th.")
                .poc
                .status,
            "claimed"
        );
        assert_eq!(
            run("The login form is vulnerable to XSS.").poc.status,
            "absent"
        );
        let f = classify(&Input {
            subject: "x",
            text: "see attached",
            attachments: vec![AttachmentIn {
                name: Some("exploit.sh"),
                content_type: "text/x-shellscript",
                data: b"#!/bin/sh\n",
            }],
        });
        assert_eq!(f.poc.status, "present");
        assert_eq!(f.poc.evidence[0].rule, "script-attachment");
    }

    fn norms(text: &str) -> Vec<String> {
        run(text)
            .versions
            .items
            .iter()
            .filter_map(|i| i.normalized.clone())
            .collect()
    }

    #[test]
    fn version_grammar_reads_what_advisories_write() {
        assert_eq!(
            norms("### Patches\n\nFixed in `protocol-http1` v0.15.1+.\n"),
            ["< 0.15.1"]
        );
        assert_eq!(
            norms(
                "It is recommended that all instances are upgraded at least to Nextcloud 12.0.3."
            ),
            ["< 12.0.3"]
        );
        assert_eq!(norms("Fixed versions: 0.3.3+8.13.9"), ["< 0.3.3+8.13.9"]);
        assert_eq!(
            norms("Fixed Versions:     5.0.0.beta1.1, 4.2.5.1, 4.1.14.1\n"),
            ["< 5.0.0.beta1.1", "< 4.2.5.1", "< 4.1.14.1"]
        );
        // A link target is not a statement; the link text is.
        assert_eq!(
            norms("Version [0.2.0](https://rubygems.org/gems/x/versions/0.1.9) of the gem leaks."),
            ["= 0.2.0"]
        );
        // Scope: a version the reporter did not test is not the reported version.
        assert_eq!(
            norms("Reproduced on acme 2.4.1. I have not tested 2.3.9 yet."),
            ["= 2.4.1"]
        );
        // A product named in prose with its version; an address is not a version.
        assert_eq!(
            norms("The webpki 0.22.1 release included a partial fix."),
            ["= 0.22.1"]
        );
        assert!(norms("The server at 10.0.0.1 answers.").is_empty());
        // The full commit, once.
        assert_eq!(
            norms("introduced in commit 2ddd69876a1e1119059debc59fe869cb4e754430"),
            ["commit 2ddd69876a1e1119059debc59fe869cb4e754430"]
        );
    }

    #[test]
    fn code_is_a_poc_only_when_it_exploits() {
        let poc = |t: &str| run(t).poc.status == PocStatus::Present;
        // A monkey patch under a setext "Workarounds" heading is a remedy.
        assert!(!poc(
            "Workarounds\n-----------\nPut this in an initializer:\n\n```\nclass Foo\n  def bar; end\nend\n```\n"
        ));
        // The product's own code, introduced as such.
        assert!(!poc(
            "Vulnerable code will look something like this:\n\n```ruby\nsanitize user_input, tags: %w(em)\n```\n"
        ));
        // Install instructions and manifests.
        assert!(!poc(
            "Upgrade:\n\n```\ncargo install mdbook --version 0.4.5 --force\n```\n"
        ));
        assert!(!poc("```toml\nchrono = { version = \"0.4.22\" }\n```\n"));
        // A PoC section with only a screencast link has nothing to run.
        assert!(!poc(
            "## Proof of Concept\n\nhttps://www.youtube.com/watch?v=k8dp0FJnSsI&ab_channel=someone plus more words here\n"
        ));
        // Attacker input wins over the lead-in; an inline call that triggers the bug counts.
        assert!(poc(
            "The following code shows it:\n\n```\nGET /a?q=<script>alert(1)</script> HTTP/1.1\n```\n"
        ));
        assert!(poc(
            "Passing a long string to `curl_url_set(uh, CURLUPART_URL, \"string\", 0);` triggers the bug."
        ));
        // "Ruby" at the start of a sentence is not a command.
        assert!(!poc(
            "Ruby puppetmaster in Puppet 4.x before 4.4.2 is affected."
        ));
    }

    #[test]
    fn fix_statements_as_advisories_and_reporters_write_them() {
        for t in [
            "This flaw was resolved by correcting the sigstack allocation logic.",
            "This is fixed by enforcing a maximum frame size of 256 KiB.",
            "Patched with commit https://example.org/commit/2232473733b7",
            "Fix idea: compare the tokens in constant time.",
            "## Remediation:\nEscape the title before rendering.",
        ] {
            assert!(run(t).fix_suggestion.present, "{t}");
        }
        assert!(
            !run("The title is rendered without escaping.")
                .fix_suggestion
                .present
        );
    }

    #[test]
    fn impact_statements_in_advisory_prose() {
        for t in [
            "Thus an user with read-only access was able to restore old versions.",
            "Improper access control in Social app 0.3.1 allowed to read posts of any user.",
            "pleaser before 0.4 allows a local unprivileged attacker to gain knowledge about files.",
            "The regression caused all output values, including sensitive values, to be printed at info level.",
        ] {
            assert!(run(t).impact.present, "{t}");
        }
        assert!(
            !run("This release updates the documentation.")
                .impact
                .present
        );
    }

    #[test]
    fn short_specific_advisories_and_reproducible_findings_are_not_low_effort() {
        let f =
            run("rand_core::le::read_u32_into has incorrect checks on the source buffer length.");
        assert!(!f.low_effort.flag, "{:?}", f.low_effort);
        let f = run(
            "Lack of rate limiting on login.\n\nSteps to reproduce:\n1. Open the login page\n2. Send 1000 requests with Burp Intruder\n3. None is blocked\n",
        );
        assert!(!f.low_effort.flag, "{:?}", f.low_effort);
        assert!(
            run("Missing SPF record on your domain. Do you pay a bounty?")
                .low_effort
                .flag
        );
    }

    #[test]
    fn versions_normalised() {
        let n = |s: &str| normalize_version_text(s);
        assert_eq!(n("<= 2.4.1").as_deref(), Some("<= 2.4.1"));
        assert_eq!(n("before 1.8.0").as_deref(), Some("< 1.8.0"));
        assert_eq!(n("2.3.x").as_deref(), Some("2.3.x"));
        assert_eq!(
            n("1.2.0 through 1.4.3").as_deref(),
            Some(">= 1.2.0, <= 1.4.3")
        );
        assert_eq!(n("3.1 and earlier").as_deref(), Some("<= 3.1"));
        assert_eq!(n("affected: v2.0.0-rc1").as_deref(), Some("= 2.0.0-rc1"));
        assert_eq!(n("all versions").as_deref(), Some("*"));
        assert_eq!(n("latest release").as_deref(), Some("latest"));
        assert_eq!(
            n("main at commit 1a2b3c4").as_deref(),
            Some("commit 1a2b3c4")
        );
        assert_eq!(n("up to 0.1.2").as_deref(), Some("<= 0.1.2"));
        assert_eq!(n("since 2.11.1").as_deref(), Some(">= 2.11.1"));
    }

    #[test]
    fn versions_with_product_and_fix_section() {
        let f = run("pgAdmin <= 8.5 is affected.\n\n### Patches\nThe fix ships in 8.6.\n");
        let norm: Vec<_> = f
            .versions
            .items
            .iter()
            .filter_map(|i| i.normalized.clone())
            .collect();
        assert!(norm.contains(&"<= 8.5".to_string()), "{norm:?}");
        assert!(norm.contains(&"< 8.6".to_string()), "{norm:?}");
        assert_eq!(f.versions.items[0].product.as_deref(), Some("pgAdmin"));
        assert!(!run("Please look at this issue.").versions.present);
    }

    #[test]
    fn impact_class_and_severity() {
        let f = run("An unauthenticated attacker can execute arbitrary code on the server (RCE).");
        assert!(f.impact.present);
        assert!(f.impact.class.contains(&"rce".to_string()));
        assert_eq!(f.impact.severity, "critical");
        assert_eq!(f.impact.severity_source, "estimated");
        let f = run("Impact: XSS. CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N");
        let c = f.impact.cvss.as_ref().unwrap();
        assert_eq!(c.score, 9.1);
        assert_eq!(f.impact.severity, "critical");
        assert_eq!(f.impact.severity_source, "cvss");
        let f = run("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N");
        assert_eq!(f.impact.cvss.as_ref().unwrap().version, "4.0");
        assert_eq!(f.impact.severity, "critical");
        let f = run("CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:N");
        assert!(f.impact.cvss.is_none());
        assert!(f.impact.cvss_error.is_some());
        // A weakness alone is not an impact statement.
        assert!(
            !run("The parser has a TOCTOU race condition because it does not lock.")
                .impact
                .present
        );
    }

    #[test]
    fn ids_credit_fix_steps() {
        let f = run(
            "See CVE-2024-12345 and cwe-79, GHSA-abcd-efgh-jkmp.\nSteps to reproduce:\n1. open\n2. click\n\nSuggested fix: escape the output.\nPlease credit me as Jane Doe.",
        );
        assert_eq!(f.cve_ids, vec!["CVE-2024-12345"]);
        assert_eq!(f.cwe_ids, vec!["CWE-79"]);
        assert!(f.repro_steps.present);
        assert!(f.fix_suggestion.present);
        assert_eq!(f.credit.as_ref().unwrap().name.as_deref(), Some("Jane Doe"));
        let f = run("I would like to remain anonymous.");
        assert!(f.credit.unwrap().anonymous);
        let f = run("### Patches\nNone.\n### Workarounds\nNone.\n");
        assert!(!f.fix_suggestion.present);
    }

    #[test]
    fn low_effort() {
        let f = run(
            "Your domain is missing a DMARC record and the X-Frame-Options header. What is the bounty amount?",
        );
        assert!(f.low_effort.flag);
        assert!(
            f.low_effort
                .reasons
                .contains(&"scanner-finding".to_string())
        );
        assert!(f.low_effort.reasons.contains(&"beg-bounty".to_string()));
        assert!(run("hello").low_effort.flag);
        let f = run(
            "SQL injection in /login: curl -d \"u=' OR '1'='1\" http://x/login. Is this eligible for a bounty?",
        );
        assert!(!f.low_effort.flag, "{:?}", f.low_effort);
    }
}
