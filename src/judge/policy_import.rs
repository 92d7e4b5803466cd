//! Policy import: read a project's SECURITY.md into a triaged policy.
//!
//! This module owns turning prose and markdown tables into [`PolicyConfig`] values,
//! each with the line that justified it, plus what the document offers besides
//! (contacts, channels, a PGP key, credit and safe-harbor statements) and what could
//! not be determined. It is pure text in, data out: the CLI prints it as TOML or JSON.
//!
//! Rules, in short (README.md, "Importing a SECURITY.md"):
//! - the acknowledgment window is the first duration in a sentence that promises a
//!   first answer (acknowledge, respond, reply, confirm receipt, first answer), not in
//!   an "if you have not heard from us within ..." fallback; the follow-up window is
//!   the next duration in a sentence about a detailed response, updates or a fix;
//!   business days stay business days (`"4bd"`, counted Monday to Friday);
//! - a PoC is required when an instruction (must, please, need, mandatory, required,
//!   describing) asks for a proof of concept, exploit code, the code used, precise
//!   requests or commands, or how to reproduce — not when it says "if possible";
//! - the supported-versions table is the first markdown table whose header names a
//!   version; ✅ ✔ :white_check_mark: yes supported → supported; ❌ ✗ :x: no → not;
//!   a cell is kept as written when the version check reads it, else reduced to the
//!   version it names ("Latest release in 8.x" → "8.x") or to latest/others.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::config::{Duration, PolicyConfig, VersionRow};
use crate::judge::policy::VersionRange;

/// The line a value came from (1-based) and its text.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Cite {
    pub line: usize,
    pub text: String,
}

/// Everything read out of one SECURITY.md.
#[derive(Debug, Clone)]
pub struct Imported {
    pub ack_within: Option<(Duration, Cite)>,
    pub followup_within: Option<(Duration, Cite)>,
    pub require: Vec<(String, Cite)>,
    pub reject_low_effort: Option<Cite>,
    pub supported_versions: Vec<(VersionRow, Cite)>,
    /// Table rows whose version cell the version check cannot read.
    pub unreadable_rows: Vec<Cite>,
    pub contacts: Vec<(String, Cite)>,
    pub channels: Vec<(String, Cite)>,
    pub pgp_key_offered: Option<Cite>,
    pub credit: Option<Cite>,
    pub safe_harbor: Option<Cite>,
    /// Policy fields the document did not settle (defaults apply).
    pub undetermined: Vec<String>,
}

fn re(s: &str) -> Regex {
    crate::domain::builtin_regex(s)
}

const NUM: &str = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fourteen|thirty)";

static DURATION: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)\b{NUM}\s*(?:\*\*)?\s*(business days?|working days?|hours?|hrs?|h\b|days?|weeks?|months?)"
    ))
});
static ACK_CONTEXT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)acknowledg|\brespond|\bresponse|\breply|\breplies|\banswer|confirm(?:s|ed)? receipt|hear back|get back to you|\btriage",
    )
});
static FALLBACK: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bif (?:you )?(?:do not|don't|have not|haven't|did not|didn't)\b|\bno (?:response|reply|answer)\b",
    )
});
static FOLLOWUP_CONTEXT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)detailed|\bupdate|\bfix|\bpatch|resolution|\bresolve|\bnext steps|\bprogress|\bassessment|\bpublic|disclos|\brelease",
    )
});
static POC_ASK: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)proof[- ]of[- ]concept|\bpoc\b|exploit code|the code you used|code (?:used )?to reproduce|http requests?|\bcurl\b|how (?:to|we|one|i) (?:can )?reproduce|command\(s\)|\b(?:minimal|small|working|reproducible|runnable|self-contained)\s+(?:example|reproduc\w*|test\s*case|program|script|snippet)\b",
    )
});
static INSTRUCTION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bmust\b|\bplease\b|\bneed\b|mandatory|\brequired?\b|\bdescribing\b|\bshould include\b|^\W*(?:send|e-?mail|submit|report|tell us)\b.{0,120}?\b(?:with|including|containing|and)\b|^\W*(?:include|provide|describe|attach|explain|share)\b|\bwhat to (?:include|provide|send)\b|\b(?:required|requested) (?:information|details)\b|\([^()]*?\b(?:send|e-?mail|submit|report|tell us|contact)\b[^()]{0,120}?\b(?:with|including|containing)\b[^()]*\)$|\(\W*(?:please\s+)?(?:include|provide|describe|attach|explain|share)\b[^()]*\)$",
    )
});
static OPTIONAL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)if (?:applicable|possible|available|you can)|\boptional|when possible|where possible|\bencourage",
    )
});
static VERSIONS_ASK: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?:affected|which|the) versions?\b|version\(s\)|versions? (?:affected|of the project)|\b(?:product|software|package|library|component|application|app|plugin|module|firmware|release)\s+versions?\b|^\W*versions?\b",
    )
});
static IMPACT_ASK: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^\W*(?:\d+\.\s*)?\**impact\b|\bthe impact\b|\bpotential impact\b"));
static STEPS_ASK: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)steps to reproduce|step-by-step|reproduction steps"));
static PATCH_ASK: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?:provide|submit|include|along with)[^.]{0,40}\b(?:a |working )?patch\b|patch submission|a working patch",
    )
});
static LOW_EFFORT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?:reject|close|dismiss|ignore|not (?:be )?accept)\w*[^.]{0,60}(?:vague|low[- ]effort|low[- ]quality|automated|scanner|without (?:a )?(?:poc|proof))|(?:vague|low[- ]effort|low[- ]quality|ai[- ]generated|automated scanner)[^.]{0,60}(?:rejected|closed|dismissed|ignored|not (?:be )?accepted)",
    )
});
static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b"));
/// A key to fetch from a keyserver (`gpg --recv-keys`, keys.openpgp.org).
static KEYSERVER: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)--recv-keys?\b|\bkeys\.openpgp\.org\b|\bkeyserver\b"));
static PGP: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)BEGIN PGP PUBLIC KEY|\b(?:pgp|gpg|openpgp)\b[^.\n]{0,30}\bkey\b|encrypt[^.\n]{0,40}\b(?:our|the) (?:public )?key|\bkeys?\b[^.\n]{0,40}\b(?:to\s+)?(?:communicate|encrypt)\w*\b[^.\n]{0,20}\b(?:sensitive|securely|confidential|reports?|messages?|mail)",
    )
});
static CREDIT: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\bcredit|acknowledg\w+ (?:you|reporters?) (?:in|publicly)|hall of fame|\banonym")
});
static SAFE_HARBOR: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)safe harbou?r|will not (?:pursue|take) legal action|not pursue legal|authori[sz]ed (?:research|testing)",
    )
});

/// (channel, pattern) pairs: where reports can go besides email.
static CHANNELS: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    vec![
        (
            "github-advisory",
            re(
                r#"(?i)github'?s?\s+(?:private\s+)?security advisor(?:y|ies)|\b(?:open|creat|submit|fil|draft|us|report|post)\w*\s+(?:\w+\s+){0,3}?security advisor(?:y|ies)|/security/advisories|["“']report a vulnerability|report a vulnerability["”']? (?:button|tab|link|form)|private vulnerability reporting|github'?s? (?:private )?(?:security|vulnerability) report"#,
            ),
        ),
        ("huntr", re(r"(?i)\bhuntr\b")),
        ("tidelift", re(r"(?i)\btidelift\b")),
        ("hackerone", re(r"(?i)\bhackerone\b")),
        ("bugcrowd", re(r"(?i)\bbugcrowd\b")),
        ("discord", re(r"(?i)\bdiscord\b")),
        // A project's own tracker ("file a 'Koha security' bug on Bugzilla"); GitHub's
        // issues are `github-issues`.
        (
            "bug-tracker",
            re(
                r"(?i)\b(?:bugzilla|jira|launchpad|redmine|mantis|bug[- ]?track(?:er|ing(?: system)?))\b",
            ),
        ),
        (
            "github-issues",
            re(
                r"(?i)(?:open|create|file|submit)\w* (?:a |an )?(?:new )?(?:github )?issue\b(?:[^.\n]{0,60})$|(?:open|create|file|submit)\w* (?:a |an )?(?:new )?(?:github )?issue (?:in|on|at) (?:our |the )?(?:github|issue tracker|issues? (?:page|list)|repo(?:sitory)?)\b|(?:via|through|using) (?:the |our )?(?:github )?issues\b|\b(?:go to|use|open|visit|in) the issues (?:section|tab|page)\b",
            ),
        ),
        // GitHub Discussions ("start a discussion thread", a link to …/discussions).
        (
            "github-discussions",
            re(
                r"(?i)\b(?:start|open|create|post)\w*\s+(?:a\s+|an\s+)?(?:new\s+)?(?:private\s+)?discussion(?:\s+thread)?\b|github\.com/[\w.-]+/[\w.-]+/discussions\b|\bgithub discussions\b",
            ),
        ),
        (
            "maintainer-contact",
            re(r"(?i)contact (?:one of )?(?:the |a )?maintainers?|maintainers? directly"),
        ),
    ]
});

/// A sentence that tells the reader how or where to report: a channel or an address
/// named anywhere else (how advisories are published, whom the team notifies) is not
/// one for reports.
static REPORT_CONTEXT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\breport(?:s|ing|ed)?\b|\bsubmi(?:t|ssion)|\bdisclos|\bsend\b|\be-?mail|\bcontact\b|\breach (?:out|us)|\b(?:open|create|file|use|join|post)\b|\bvia\b|\blet us know|\bnotify us",
    )
});
/// The team or others acting ("we will notify …", "they contact the maintainers",
/// "the team coordinates … via GitHub Security Advisories"): not an instruction to the
/// reporter.
static OTHERS_ACT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:we|they|the (?:\w+ )?team)\s+(?:(?:be|are|is|can be)\b\s*)?(?:(?:will|may|also|then|actively|usually|always|first)\s+){0,2}(?:contact|notif|inform|coordinat|announc|publish)\w*",
    )
});
/// A negated or closed clause: "do not open a public issue", "our HackerOne program is
/// closed".
static NEGATED: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\b(?:not|never|no longer)\b|n't\b|\b(?:closed|discontinued|deprecated|refuse\w*)\b")
});
/// Where to turn when the team does not answer: a secondary contact, not where
/// reports go.
static ESCALATION: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bif (?:you )?(?:do not|don't|have not|haven't|did not|didn't) (?:receiv|hear|get|got)\w*|\bescalat\w*",
    )
});
/// Not where new reports go: an address to ask for permission to test ("contact the
/// steering committee (tsc@…) for permission"), or the way reports came in before the
/// project moved ("pre-existing vulnerabilities reported through huntr or email will
/// continue to be worked through"), or where already-public problems go ("if there is
/// a CVE assigned, open an issue on our GitHub tracker, since … are public already").
static NOT_FOR_REPORTS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bfor (?:(?:prior|written|explicit)\s+)?(?:permission|authori[sz]ation)\b|\b(?:ask|request)\w*\s+(?:for\s+)?permission\b|\bpre-?existing\b|\bpreviously\s+(?:reported|submitted)\b|\balready\s+(?:reported|submitted|open)\b|\b(?:already\s+(?:been\s+)?(?:public|disclosed)|public(?:ly)?\s+(?:already|known))\b|\bCVE\s+(?:is\s+|has\s+been\s+)?assigned\b",
    )
});
/// What an email without an address must be about to be the email channel: a report,
/// not questions about the product ("email us at https://…/contact and ask for that
/// information").
static REPORT_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\breport|\bvulnerab|\bissues?\b|\bbugs?\b|\bsecurity\b|\bfindings?\b|\bdetails\b|\bproblems?\b|\bflaws?\b",
    )
});
/// "Send an email", "email our security team", "Email: …": a report by email even when
/// the address is elsewhere (a profile, a form).
static EMAIL_ASK: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:send|write|drop)\b[^.]{0,20}\be-?mail\b|^\W*e-?mail\b|\be-?mail (?:us|our|the|them|it|a |an )|\bby e-?mail\b",
    )
});
/// An address written to fool harvesters: `security [at] example [dot] org`,
/// `info at example dot com`. A plain " at " needs a spelled-out "dot".
static OBFUSCATED_EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b([a-z0-9][a-z0-9._%+-]*)\s*(?:\[at\]|\(at\)|\{at\}|\bat\b)\s*([a-z0-9-]+(?:\s*(?:\[dot\]|\(dot\)|\{dot\}|\bdot\b|\.)\s*[a-z0-9-]+)+)",
    )
});
/// GitHub's private vulnerability reporting, by its address.
static GITHUB_ADVISORY_LINK: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)github\.com/[^/\s]+/[^/\s]+/security(?:/advisories(?:/new)?)?/?(?:[?#].*)?$")
});
/// A person's GitHub profile (one path segment).
static GITHUB_PROFILE_LINK: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^https?://github\.com/[a-z0-9-]+/?$"));

/// The clause around `range` of `s`: between the nearest delimiters (`.`, `;`, `,`,
/// `:`, `(`, `)`) or contrast words ("instead", "but", "however") on either side.
fn clause_around(s: &str, start: usize, end: usize) -> &str {
    let before = s.get(..start).unwrap_or_default();
    let after = s.get(end..).unwrap_or_default();
    let delim = |c: char| matches!(c, '.' | ';' | ',' | ':' | '(' | ')' | '!' | '?');
    let mut from = before.rfind(delim).map_or(0, |i| i + 1);
    let lower = before.to_ascii_lowercase();
    for w in [" instead ", " but ", " however ", " or ", " and "] {
        if let Some(i) = lower.rfind(w) {
            from = from.max(i + w.len());
        }
    }
    let to = after.find(delim).map_or(s.len(), |i| end + i);
    s.get(from..to).unwrap_or(s)
}

/// Whether a channel mention at `start..end` of `s` is offered to the reporter: a
/// reporting sentence, not a fallback, nobody else acting, the clause not negated.
fn offered(s: &str, start: usize, end: usize) -> bool {
    // The team speaking of itself with no word to the reader ("in the future we might
    // only use GitHub's Security Advisory format"): no channel offered.
    static TEAM: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)\bwe\b|\bour team\b"));
    static TO_READER: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\byou\b|\byour\b|\bplease\b|\breport(?:s|ing|ed|ers?)?\b|\bsubmi|\bsend\b|\be-?mail\b|\bcontact\b|\breach\b|^\W*(?:use|open|create|file|join)\b",
        )
    });
    REPORT_CONTEXT.is_match(s)
        && !FALLBACK.is_match(s)
        && !OTHERS_ACT.is_match(s)
        && !NOT_FOR_REPORTS.is_match(s)
        && (!TEAM.is_match(s) || TO_READER.is_match(s))
        && !NEGATED.is_match(clause_around(s, start, end))
}

/// `info at example dot com` → `info@example.com` (None unless it reads as an address).
fn deobfuscate(c: &regex::Captures<'_>) -> Option<String> {
    static DOT: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)\s*(?:\[dot\]|\(dot\)|\{dot\}|\bdot\b|\.)\s*"));
    let whole = c.get(0)?.as_str().to_ascii_lowercase();
    let plain_at = !whole.contains("[at]") && !whole.contains("(at)") && !whole.contains("{at}");
    let host_raw = c.get(2)?.as_str();
    if plain_at && !host_raw.to_ascii_lowercase().contains("dot") {
        // "reach us at example.com" is a sentence, not an address.
        return None;
    }
    let host = DOT.replace_all(host_raw, ".").to_ascii_lowercase();
    let tld_ok = host
        .rsplit('.')
        .next()
        .is_some_and(|t| t.len() >= 2 && t.chars().all(|ch| ch.is_ascii_alphabetic()));
    let user = c.get(1)?.as_str().to_ascii_lowercase();
    tld_ok.then(|| format!("{user}@{host}"))
}

fn word_number(s: &str) -> Option<i64> {
    let n = match s.to_ascii_lowercase().as_str() {
        "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "twelve" => 12,
        "fourteen" => 14,
        "thirty" => 30,
        d => return d.parse().ok(),
    };
    Some(n)
}

/// The first duration in a text, as triaged writes it.
fn first_duration(text: &str) -> Option<Duration> {
    let c = DURATION.captures(text)?;
    let n = word_number(&c[1])?;
    let unit = c[2].to_ascii_lowercase();
    let d = if unit.starts_with("business") || unit.starts_with("working") {
        Duration::parse(&format!("{n}bd")).ok()?
    } else if unit.starts_with('h') {
        Duration::from_secs(n * 3600)
    } else if unit.starts_with("week") {
        Duration::from_secs(n * 7 * 86_400)
    } else if unit.starts_with("month") {
        Duration::from_secs(n * 30 * 86_400)
    } else {
        Duration::from_secs(n * 86_400)
    };
    Some(d)
}

/// A markdown table: its header cells, then each row's line and cells.
type Table = (Vec<String>, Vec<(usize, Vec<String>)>);

/// Sentences (with the line each starts on) and table rows (line, cells).
struct Doc {
    sentences: Vec<(usize, String)>,
    /// Markdown tables: (header cells, rows of (line, cells)).
    tables: Vec<Table>,
    /// Links outside code blocks and tables: (line, text, target). `[Report](…/security)`
    /// names a channel by its address alone.
    links: Vec<(usize, String, String)>,
    /// Lines under a heading that thanks or credits people ("Security Hall of Fame",
    /// "Acknowledgements"): the addresses there are researchers', not contacts.
    credit_lines: Vec<usize>,
    /// Lines under a heading about supported versions ("Supported Versions", "Security
    /// updates"): what they say of the latest release is the support statement.
    support_lines: Vec<usize>,
}

impl Doc {
    /// Links (text, target) on the lines of sentence `idx` (from its first line up to
    /// the next sentence's).
    fn links_of(&self, idx: usize) -> impl Iterator<Item = (&str, &str)> {
        let from = self.sentences.get(idx).map_or(0, |(l, _)| *l);
        let to = self
            .sentences
            .get(idx + 1)
            .map_or(usize::MAX, |(l, _)| (*l).max(from + 1));
        self.links
            .iter()
            .filter(move |(l, _, _)| *l >= from && *l < to)
            .map(|(_, t, u)| (t.as_str(), u.as_str()))
    }
}

static MD_LINK: LazyLock<Regex> = LazyLock::new(|| re(r"\[([^\]]*)\]\(([^)]*)\)"));

fn strip_md(s: &str) -> String {
    let s = MD_LINK.replace_all(s, "$1");
    s.replace("**", "").replace('`', "").trim().to_string()
}

/// `text` with its HTML comments (`<!-- … -->`, to the end when unclosed) blanked,
/// line breaks kept so line numbers still cite the file. GitHub's SECURITY.md template
/// leaves its guidance ("Tell them where to go, how often they can expect to get an
/// update") and sometimes its sample table in comments: a rendered page shows neither.
/// Comments inside fenced code blocks are shown as written, so they are kept.
fn blank_html_comments(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("<!--") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut in_fence = false;
    let mut in_comment = false;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if !in_comment && (t.starts_with("```") || t.starts_with("~~~")) {
            in_fence = !in_fence;
        }
        if in_fence {
            out.push_str(line);
            continue;
        }
        let mut rest = line;
        while !rest.is_empty() {
            if in_comment {
                match rest.find("-->") {
                    Some(i) => {
                        out.extend(std::iter::repeat_n(' ', i + 3));
                        rest = rest.get(i + 3..).unwrap_or_default();
                        in_comment = false;
                    }
                    None => {
                        let nl = rest.ends_with('\n');
                        out.extend(std::iter::repeat_n(' ', rest.len() - usize::from(nl)));
                        if nl {
                            out.push('\n');
                        }
                        rest = "";
                    }
                }
            } else {
                match rest.find("<!--") {
                    Some(i) => {
                        out.push_str(rest.get(..i).unwrap_or_default());
                        rest = rest.get(i..).unwrap_or_default();
                        in_comment = true;
                    }
                    None => {
                        out.push_str(rest);
                        rest = "";
                    }
                }
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

fn split_doc(text: &str) -> Doc {
    let text = &*blank_html_comments(text);
    let mut sentences = Vec::new();
    let mut tables: Vec<Table> = Vec::new();
    let mut links = Vec::new();
    // The current paragraph: its source lines (line number, cleaned text).
    let mut para: Vec<(usize, String)> = Vec::new();
    // The instruction that introduces a list ("please include:") is carried to its items.
    let mut list_intro: Option<String> = None;
    // The list item being read (its sentence's index and its text so far): the lines
    // after an item, up to a blank line, continue it (Markdown's continuation and lazy
    // lines), so "* A description … It is very\n  important to …" stays one item.
    let mut open_item: Option<(usize, String)> = None;
    let mut in_table = false;
    // A table laid out with tabs or runs of spaces (a SECURITY.md pasted from a rendered
    // page, or written as plain text): "Version<TAB>Supported", "5.1.x     SUPPORTED".
    let mut in_plain_table = false;
    let mut in_code = false;
    let mut in_credits = false;
    let mut credit_lines = Vec::new();
    let mut in_support = false;
    let mut support_lines = Vec::new();
    static SUPPORT_HEADING: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)\bsupported\s+(?:versions|releases)\b|\bversion\s+support\b"));
    // A heading that asks for the contents of a report ("What to Include", "Required
    // information") introduces the list below it even without a colon.
    static CONTENTS_HEADING: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)^\W*(?:what|information|details)\s+to\s+(?:include|provide|send)\b|^\W*(?:required|requested)\s+(?:information|details)\b|^\W*(?:report|submission)\s+(?:contents|requirements|format|template)\b|\bshould\s+(?:include|contain)\b",
        )
    });
    static CREDITS_HEADING: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)hall of fame|\bthanks\b|\bthank you\b|^\W*(?:security\s+)?(?:acknowledge?ments|credits|contributors|researchers)\W*$",
        )
    });
    // A paragraph: its text, and where each of its source lines starts in that text.
    // Splits a paragraph into sentences, each with the line it starts on.
    let flush = |para: &mut Vec<(usize, String)>, out: &mut Vec<(usize, String)>| {
        let lines = std::mem::take(para);
        let plain = lines
            .iter()
            .map(|(_, t)| t.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        // Where each source line starts in `plain`.
        let starts: Vec<(usize, usize)> = lines
            .iter()
            .scan(0usize, |off, (line, t)| {
                let here = *off;
                *off += t.len() + 1;
                Some((here, *line))
            })
            .collect();
        let mut pos = 0;
        for s in split_sentences(&plain) {
            let at = plain
                .get(pos..)
                .and_then(|p| p.find(&s))
                .map_or(pos, |i| pos + i);
            pos = at + s.len();
            let line = starts
                .iter()
                .rev()
                .find(|(off, _)| *off <= at)
                .map_or(0, |(_, l)| *l);
            out.push((line, s));
        }
    };
    let all_lines: Vec<&str> = text.lines().collect();
    // Whether the list under the current lead had item markers: then the lines after
    // it are prose again, not marker-less items.
    let mut intro_had_markers = false;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let paragraph_of_one_line = all_lines
            .get(i + 1)
            .is_none_or(|next| next.trim().is_empty());
        let t = raw.trim();
        if t.starts_with('#') {
            let heading = strip_md(t.trim_start_matches('#'));
            in_credits = CREDITS_HEADING.is_match(&heading);
            in_support = SUPPORT_HEADING.is_match(&heading);
        }
        if in_credits {
            credit_lines.push(line);
        }
        if in_support {
            support_lines.push(line);
        }
        if t.starts_with("```") {
            in_code = !in_code;
            open_item = None;
            flush(&mut para, &mut sentences);
            continue;
        }
        if in_code || t.starts_with("-----") || t.starts_with("<!--") {
            continue;
        }
        if t.starts_with('|') {
            open_item = None;
            flush(&mut para, &mut sentences);
            let cells: Vec<String> = t
                .trim_matches('|')
                .split('|')
                .map(|c| strip_md(c.trim()))
                .collect();
            let separator = cells
                .iter()
                .all(|c| !c.is_empty() && c.chars().all(|ch| matches!(ch, '-' | ':' | ' ')));
            if !in_table {
                tables.push((cells, Vec::new()));
                in_table = true;
            } else if !separator && let Some(tb) = tables.last_mut() {
                tb.1.push((line, cells));
            }
            continue;
        }
        in_table = false;
        if !t.is_empty() {
            let cells = plain_cells(t);
            // Labels, not sentences ("… addressed.  On request, …" is two sentences).
            let short = |c: &String| c.chars().count() <= 30 && c.split_whitespace().count() <= 4;
            let header = !in_plain_table
                && cells.len() >= 2
                && cells.iter().all(short)
                && cells.first().is_some_and(|c| {
                    let c = c.to_ascii_lowercase();
                    ["version", "release", "branch", "series"]
                        .iter()
                        .any(|w| c.contains(w))
                })
                && cells.iter().skip(1).any(|c| {
                    let c = c.to_ascii_lowercase();
                    c.contains("support") || c.contains("status") || c.contains("security")
                });
            if header {
                open_item = None;
                flush(&mut para, &mut sentences);
                tables.push((cells, Vec::new()));
                in_plain_table = true;
                continue;
            }
            if in_plain_table {
                if t.chars().all(|c| matches!(c, '-' | '=' | '+' | ' ' | '\t')) {
                    continue;
                }
                if cells.len() >= 2 && cells.first().is_some_and(short) {
                    if let Some(tb) = tables.last_mut() {
                        tb.1.push((line, cells));
                    }
                    continue;
                }
            }
        }
        in_plain_table = false;
        for c in MD_LINK.captures_iter(t) {
            if let (Some(text), Some(u)) = (c.get(1), c.get(2)) {
                links.push((line, strip_md(text.as_str()), u.as_str().trim().to_string()));
            }
        }
        if t.is_empty() || t.starts_with('#') {
            open_item = None;
            flush(&mut para, &mut sentences);
            if t.starts_with('#') {
                // "### When submitting a report, please provide the following:" introduces
                // the list below it like a sentence would.
                let heading = strip_md(t.trim_start_matches('#'));
                // A whole sentence set as a heading ("### We will acknowledge your
                // report within 48 hours."; some documents are written that way
                // throughout) is read as the sentence it is.
                let words = heading.split_whitespace().count();
                if words >= 6 && heading.trim_end().ends_with(['.', '!']) {
                    sentences.push((line, heading.trim().to_string()));
                }
                list_intro = (heading.trim_end().ends_with(':')
                    || CONTENTS_HEADING.is_match(&heading))
                .then_some(heading);
                intro_had_markers = false;
            }
            continue;
        }
        // "- item", "* item", "1. item": the item's text without its marker.
        let numbered = t
            .split_once(". ")
            .filter(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            .map(|(_, rest)| rest);
        let item = t.starts_with("- ") || t.starts_with("* ") || numbered.is_some();
        if item {
            flush(&mut para, &mut sentences);
            let body = strip_md(numbered.unwrap_or_else(|| t.trim_start_matches(['-', '*', ' '])));
            let with_intro = match &list_intro {
                Some(intro) => format!("{body} ({intro})"),
                None => body.clone(),
            };
            sentences.push((line, with_intro));
            open_item = Some((sentences.len() - 1, body));
            intro_had_markers = list_intro.is_some();
            continue;
        }
        let clean = strip_md(t);
        // Under "… including:", short paragraphs of their own are the list's items
        // when the markers were lost (text pasted from a rendered page).
        if para.is_empty()
            && open_item.is_none()
            && !intro_had_markers
            && paragraph_of_one_line
            && let Some(intro) = &list_intro
            && clean.chars().count() <= 80
            && !clean.ends_with(['.', ':', '!', '?'])
        {
            sentences.push((line, format!("{clean} ({intro})")));
            continue;
        }
        if let Some((idx, body)) = open_item.as_mut() {
            body.push(' ');
            body.push_str(&clean);
            if let Some(sentence) = sentences.get_mut(*idx) {
                sentence.1 = match &list_intro {
                    Some(intro) => format!("{body} ({intro})"),
                    None => body.clone(),
                };
            }
            continue;
        }
        para.push((line, clean.clone()));
        intro_had_markers = false;
        // The intro is the paragraph's last sentence, which may start lines above.
        list_intro = clean.trim_end().ends_with(':').then(|| {
            let text = para
                .iter()
                .map(|(_, t)| t.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            split_sentences(&text).pop().unwrap_or(clean)
        });
    }
    flush(&mut para, &mut sentences);
    Doc {
        sentences,
        tables,
        links,
        credit_lines,
        support_lines,
    }
}

/// The cells of a line laid out with tabs or runs of two or more spaces.
fn plain_cells(line: &str) -> Vec<String> {
    static GAP: LazyLock<Regex> = LazyLock::new(|| re(r"\t+\s*| {2,}"));
    GAP.split(line.trim())
        .map(|c| strip_md(c.trim()))
        .filter(|c| !c.is_empty())
        .collect()
}

fn split_sentences(p: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = p.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        cur.push(c);
        let end = matches!(c, '.' | '!' | '?')
            && chars.get(i + 1).is_none_or(|n| n.is_whitespace())
            && !cur.ends_with("e.g.")
            && !cur.ends_with("i.e.");
        if end {
            out.push(cur.trim().to_string());
            cur.clear();
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

fn cite(line: usize, text: &str) -> Cite {
    let t: String = text.chars().take(200).collect();
    Cite { line, text: t }
}

/// A support cell that ends on a date ("Until 2023-12-31", "EOL March 2025", "security
/// fixes until 31 Dec 2026", or the bare date): supported while that day (or month,
/// when no day is given) has not ended at `now`. `None` when the cell names no end date.
fn dated_cell(c: &str, now: i64) -> Option<bool> {
    const MONTH: &str = r"(?P<MN>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?";
    static DATE: LazyLock<Regex> = LazyLock::new(|| {
        let m = |n: &str| MONTH.replace("MN", n);
        re(&format!(
            r"(?i)(?:^\W*|\b(?:until|till|through|thru|to|ends?|ending|eol|end[- ]of[- ]life|expires?)\b\W*)(?:(?P<y>\d{{4}})[-/.](?P<m>\d{{1,2}})(?:[-/.](?P<d>\d{{1,2}}))?|{}\s+(?:(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?,?\s+)?(?P<y2>\d{{4}})|(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?\s+{}\s*,?\s+(?P<y3>\d{{4}})|(?P<a4>\d{{1,2}})(?P<sep>[./])(?P<b4>\d{{1,2}})[./](?P<y4>\d{{4}}))\W*$",
            m("mn2"),
            m("mn3")
        ))
    });
    let c = DATE.captures(c.trim())?;
    let num = |n: &str| c.name(n).and_then(|x| x.as_str().parse::<u32>().ok());
    let month_of = |n: &str| {
        let name = c.name(n)?.as_str().to_ascii_lowercase();
        const NAMES: [&str; 12] = [
            "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
        ];
        NAMES
            .iter()
            .position(|p| name.starts_with(p))
            .and_then(|i| u32::try_from(i + 1).ok())
    };
    if let Some(y) = num("y4") {
        // "31.12.2023" is day first; "12/31/2023" and "31/12/2023" say which by the
        // number over 12. When both readings are dates ("03/04/2025") they must agree.
        let (a, b) = (num("a4")?, num("b4")?);
        let dotted = c.name("sep").is_some_and(|s| s.as_str() == ".");
        let day_first = still_supported(now, y, b, Some(a));
        let month_first = still_supported(now, y, a, Some(b));
        return match (day_first, month_first) {
            (Some(x), _) if dotted => Some(x),
            (Some(x), None) | (None, Some(x)) => Some(x),
            (Some(x), Some(z)) if x == z => Some(x),
            _ => None,
        };
    }
    let (y, m, d) = if let Some(y) = num("y") {
        (y, num("m")?, num("d"))
    } else if let Some(y) = num("y2") {
        (y, month_of("mn2")?, num("d2"))
    } else {
        (num("y3")?, month_of("mn3")?, num("d3"))
    };
    still_supported(now, y, m, d)
}

/// Whether `now` is before the end of the day `y-m-d` (of the month, without a day).
/// `None` when that is no date.
fn still_supported(now: i64, y: u32, m: u32, d: Option<u32>) -> Option<bool> {
    let y = i32::try_from(y).ok()?;
    let last_day = match d {
        Some(d) => chrono::NaiveDate::from_ymd_opt(y, m, d)?,
        None => {
            let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            chrono::NaiveDate::from_ymd_opt(ny, nm, 1)?.pred_opt()?
        }
    };
    let end = last_day
        .succ_opt()?
        .and_hms_opt(0, 0, 0)?
        .and_utc()
        .timestamp();
    Some(now < end)
}

/// The word a GitHub emoji shortcode stands for in a legend written with the emoji
/// itself (`:clock1:` in the table, "🕐 Security fixes only" below it).
fn emoji_of_shortcode(code: &str) -> Option<&'static str> {
    Some(match code {
        ":clock1:" => "🕐",
        ":warning:" => "⚠",
        ":construction:" => "🚧",
        ":calendar:" | ":date:" => "📅",
        ":hourglass:" | ":hourglass_flowing_sand:" => "⏳",
        ":no_entry:" => "⛔",
        ":no_entry_sign:" => "🚫",
        ":stop_sign:" => "🛑",
        ":lock:" => "🔒",
        ":shield:" => "🛡",
        ":large_orange_diamond:" => "🔶",
        ":yellow_circle:" => "🟡",
        ":green_circle:" => "🟢",
        ":red_circle:" => "🔴",
        ":white_circle:" => "⚪",
        ":heavy_minus_sign:" => "➖",
        _ => return None,
    })
}

/// A status cell that is only a symbol the document explains in a legend ("🕐 Security
/// and bug fixes only", "⚠️ = critical fixes only", "📅 Planned"): what the legend says.
/// `None` when no legend line explains it, or the explanation decides nothing.
fn legend_cell(cell: &str, text: &str) -> Option<bool> {
    let cell = cell.trim();
    let symbol = emoji_of_shortcode(&cell.to_ascii_lowercase())
        .map(str::to_string)
        .unwrap_or_else(|| cell.trim_end_matches('\u{fe0f}').to_string());
    // A shortcode (`:clock1:`) may be explained by its emoji or by itself.
    let shortcode = cell.len() > 2 && cell.starts_with(':') && cell.ends_with(':');
    if symbol.is_empty() || (!shortcode && symbol.chars().any(|c| c.is_alphanumeric())) {
        return None;
    }
    static ON: LazyLock<Regex> = LazyLock::new(|| {
        re(r"(?i)\b(?:security|supported|maintained|maintenance|fixes|patches|lts|long[- ]term)\b")
    });
    static OFF: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:unsupported|unmaintained|not\s+(?:supported|maintained)|no\s+(?:longer|support|fixes|updates)|end[- ]of[- ]life|eol|deprecated|planned|upcoming|future|unreleased)\b",
        )
    });
    for line in text.lines() {
        let l = line.trim().trim_start_matches(['-', '*', '|', ' ']);
        let Some(rest) = l
            .strip_prefix(symbol.as_str())
            .or_else(|| l.strip_prefix(cell))
        else {
            continue;
        };
        let rest = rest.trim_start_matches(['\u{fe0f}', ' ', ':', '=', '-', '|', '–', '—']);
        if rest.is_empty() {
            continue;
        }
        return if OFF.is_match(rest) {
            Some(false)
        } else if ON.is_match(rest) {
            Some(true)
        } else {
            None
        };
    }
    None
}

/// Reads a supported-versions cell: ✅ / ❌ and friends.
fn supported_cell(c: &str) -> Option<bool> {
    let l = c.to_ascii_lowercase();
    if l.contains('✅')
        || l.contains('✔')
        || l.contains(":white_check_mark:")
        || l.contains(":heavy_check_mark:")
        || l.starts_with("yes")
        || l == "supported"
        || l.starts_with("active")
    {
        Some(true)
    } else if l.contains('❌')
        || l.contains('✗')
        || l.contains('✖')
        || l.contains(":x:")
        || l.starts_with("no")
        || l.contains("unsupported")
        || l.contains("end of life")
        || l.contains("eol")
        || [
            "ended",
            "discontinued",
            "expired",
            "dropped",
            "deprecated",
            "outdated",
            "obsolete",
        ]
        .iter()
        .any(|w| l.contains(w))
    {
        Some(false)
    } else if [
        "best effort",
        "best-effort",
        "security",
        "maintenance",
        "lts",
        "critical",
    ]
    .iter()
    .any(|w| l.contains(w))
    {
        // "Best effort", "Security fixes only", "Maintenance", "LTS": supported, in a
        // narrower way (read after the refusals: "no security fixes" is one).
        Some(true)
    } else {
        None
    }
}

/// Supported versions stated in prose, when there is no table: "Only the 2.x release
/// line receives security updates. The 1.x line is no longer maintained." → 2.x yes,
/// 1.x no, others no; "the latest version v5 is supported; we back-port patches for v4
/// in critical cases" → 5.x yes, 4.x yes. Each row cites its sentence.
fn prose_supported_versions(doc: &Doc, out: &mut Imported) {
    static SUPPORT_TALK: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:receives?|gets?|get|receive)\s+(?:security\s+)?(?:updates|fixes|patches)|\b(?:provides?|providing|ships?|issues?|releases?)\s+(?:security\s+)?(?:updates|fixes|patches|support)\s+(?:for|to)\b|\b(?:updates|fixes|patches|support)\s+(?:are|is)\s+(?:only\s+)?(?:provided|available|issued|released|offered|made)\s+(?:for|to)\b|\b(?:is|are)\s+(?:still\s+|currently\s+|actively\s+)?(?:being\s+)?(?:supported|maintained)\b|\bwe\s+(?:currently\s+|only\s+|actively\s+)?support\b|\bno longer\s+(?:supported|maintained|receives?)|\b(?:not|un)\s*(?:supported|maintained)\b|\bend[- ]of[- ]life\b|\beol\b|\bback-?port",
        )
    });
    static NEGATIVE: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\bno longer\b|\bnot\b|\bunsupported\b|\bunmaintained\b|\bend[- ]of[- ]life\b|\beol\b|\bdeprecated\b",
        )
    });
    static LINE: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)(?:^|[\s(])(?P<op>(?:[<>]=?|=[<>])\s*)?(?:(?P<v>v\d+(?:\.\d+)*(?:\.[x*])?|\d+(?:\.\d+)+(?:\.[x*])?|\d+\.[x*])(?:\s*(?:release\s+)?(?:line|series|branch|releases?|versions?)|[\s,;)]|\.\s|\.?$)|(?P<m>\d+)\s*(?:release\s+)?(?:line|series|branch)\b)",
        )
    });
    let mut only = None;
    for (line, s) in &doc.sentences {
        if !SUPPORT_TALK.is_match(s) {
            continue;
        }
        // A sentence may hold two statements ("v5 is supported; v4 back-ported").
        for clause in s.split(';') {
            let supported = !NEGATIVE.is_match(clause);
            let rows_before = out.supported_versions.len();
            for c in LINE.captures_iter(clause) {
                let Some(v) = c.name("v").or(c.name("m")) else {
                    continue;
                };
                // "the most recent release (`N`, e.g. `1.8`)": an example, not a row.
                static EXAMPLE: LazyLock<Regex> = LazyLock::new(|| {
                    re(
                        r"(?i)(?:\be\.\s?g\.?|\bi\.\s?e\.?|\bfor example|\bsuch as|\blike)[\s,:`(]*$",
                    )
                });
                let before = clause.get(..v.start()).unwrap_or_default();
                if EXAMPLE.is_match(before) {
                    continue;
                }
                // "3.5 and higher", "2.0+": a lower bound; "lower than 3.5", "before
                // 2.0": an upper one.
                static AND_UP: LazyLock<Regex> = LazyLock::new(|| {
                    re(
                        r"(?i)^[`*_]*(?:\+|\s+(?:and|or)\s+(?:higher|above|later|newer|greater|up(?:wards?)?)\b)",
                    )
                });
                static BELOW: LazyLock<Regex> = LazyLock::new(|| {
                    re(
                        r"(?i)\b(?:(?:lower|older|earlier|less)\s+than|below|prior\s+to|before)\s+(?:versions?\s+|releases?\s+)?[`*_]*$",
                    )
                });
                let after = clause.get(v.end()..).unwrap_or_default();
                let word_op = if AND_UP.is_match(after) {
                    Some(">=")
                } else if BELOW.is_match(before) {
                    Some("<")
                } else {
                    None
                };
                let v = v.as_str().trim_start_matches(['v', 'V']);
                // "(>= 0.13)": the bound as written; "=<" is written "<=".
                let op = c.name("op").map(|o| o.as_str().trim()).or(word_op);
                let range = match op {
                    Some(o) => normalize_range(&format!("{o} {v}")).unwrap_or_default(),
                    None if v.contains('.') => v.to_string(),
                    None => format!("{v}.x"),
                };
                if VersionRange::parse(&range).is_err()
                    || out.supported_versions.iter().any(|(r, _)| r.range == range)
                {
                    continue;
                }
                out.supported_versions
                    .push((VersionRow { range, supported }, cite(*line, s)));
            }
            // "Only X …" where X is a row of this clause.
            if supported
                && out.supported_versions.len() > rows_before
                && clause.to_ascii_lowercase().contains("only")
                && only.is_none()
            {
                only = Some(cite(*line, s));
            }
        }
    }
    // "We provide security updates for the latest release", "only the most recent
    // version is supported", "the latest three major releases are supported": the
    // latest release is supported (a lower bound when a count is given: the older
    // releases it names are left unknown, not unsupported, and the cited sentence says
    // the rest).
    static LATEST: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:latest|most\s+recent|newest|current)\s+(?P<count>(?:two|three|four|five|\d+)\s+)?(?:stable\s+)?(?:major\s+|minor\s+)?(?:[A-Z][\w.-]*\s+)?(?:releases?|versions?)\b|\b(?:main|master|default|development)`?\s+branch\b",
        )
    });
    // Under a "Supported Versions" heading, a sentence naming the latest release is the
    // statement ("We encourage users to upgrade to the latest ImageMagick release").
    let in_support = |line: &usize| doc.support_lines.binary_search(line).is_ok();
    // "The current and previous releases", "the most recent release (N) and the one
    // previous to it (N-1)", "the current release series and the next most recent
    // one", "the latest two minor versions": release series counted back from the
    // current one (`latest`, `latest-1`, …; `latest major-1` when majors are counted).
    // Closed unless the document lets the older ones go ("N-1 drops out of support",
    // "when a release series is no longer supported"): then an "others" row refuses
    // them; "older versions evaluated case by case" leaves them unknown.
    static PREVIOUS: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:previous|prior|preceding|next\s+most\s+recent|second\s+(?:newest|latest|most\s+recent))\b|\bN\s*-\s*1\b",
        )
    });
    static COUNTED_SERIES: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:latest|last|most\s+recent|newest|current)\s+(?P<count>two|three|four|five|[2-9])\s+(?:stable\s+)?(?P<level>major|minor|feature)\s+(?:releases?|versions?|release\s+series|series|lines)\b",
        )
    });
    static CURRENT_AND: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:current|latest|most\s+recent|newest)\s+and\s+(?:the\s+)?(?:previous|prior|preceding)\b|\bN\s+and\s+N\s*-\s*1\b",
        )
    });
    static MAJOR: LazyLock<Regex> = LazyLock::new(|| {
        re(r"(?i)\bmajor\s+(?:releases?|versions?|release\s+series|series|lines?)\b")
    });
    static LETS_GO: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(?:release\s+series|releases?|versions?|N-1|N\+1)\b[^.]{0,60}?\b(?:drops?\s+out\s+of\s+support|(?:is|are|will)\s+no\s+longer\s+(?:be\s+)?(?:supported|maintained))",
        )
    });
    if out.supported_versions.is_empty() {
        let talk = |line: &usize, s: &str| {
            (SUPPORT_TALK.is_match(s) || in_support(line)) && !NEGATIVE.is_match(s)
        };
        let found = doc.sentences.iter().find_map(|(line, s)| {
            if !talk(line, s) {
                return None;
            }
            if let Some(c) = COUNTED_SERIES.captures(s) {
                let count = match c
                    .name("count")
                    .map_or("", |m| m.as_str())
                    .to_ascii_lowercase()
                    .as_str()
                {
                    "two" => 2,
                    "three" => 3,
                    "four" => 4,
                    "five" => 5,
                    n => n.parse().unwrap_or(1),
                };
                let major = c
                    .name("level")
                    .is_some_and(|m| m.as_str().eq_ignore_ascii_case("major"));
                return Some((*line, s, count, major));
            }
            let current_too = LATEST.is_match(s) || CURRENT_AND.is_match(s);
            (PREVIOUS.is_match(s) && current_too).then(|| (*line, s, 2, MAJOR.is_match(s)))
        });
        if let Some((line, s, count, major)) = found {
            for back in 0..count {
                let range = match (major, back) {
                    (false, 0) => "latest".to_string(),
                    (false, n) => format!("latest-{n}"),
                    (true, 0) => "latest major".to_string(),
                    (true, n) => format!("latest major-{n}"),
                };
                out.supported_versions.push((
                    VersionRow {
                        range,
                        supported: true,
                    },
                    cite(line, s),
                ));
            }
            let closing = if s.to_ascii_lowercase().contains("only") {
                Some(cite(line, s))
            } else {
                doc.sentences
                    .iter()
                    .find(|(_, t)| LETS_GO.is_match(t))
                    .map(|(l, t)| cite(*l, t))
            };
            if let Some(c) = closing {
                out.supported_versions.push((
                    VersionRow {
                        range: "others".into(),
                        supported: false,
                    },
                    c,
                ));
            }
            return;
        }
    }
    if out.supported_versions.is_empty()
        && let Some((line, s)) = doc.sentences.iter().find(|(line, s)| {
            (SUPPORT_TALK.is_match(s) || in_support(line))
                && LATEST.is_match(s)
                && !NEGATIVE.is_match(s)
        })
    {
        out.supported_versions.push((
            VersionRow {
                range: "latest".into(),
                supported: true,
            },
            cite(*line, s),
        ));
        // "Only the latest 3 releases": a lower bound, so no "others" row (the 2nd and
        // 3rd newest are supported too).
        let counted = LATEST
            .captures(s)
            .is_some_and(|c| c.name("count").is_some());
        if s.to_ascii_lowercase().contains("only") && !counted {
            only = Some(cite(*line, s));
        }
    }
    // "Only X is supported": every other version is not.
    if let Some(c) = only
        && !out.supported_versions.is_empty()
    {
        out.supported_versions.push((
            VersionRow {
                range: "others".into(),
                supported: false,
            },
            c,
        ));
    }
}

/// A version cell as the policy's version check reads it, if it can be.
pub fn normalize_range(cell: &str) -> Option<String> {
    static VERSIONISH: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)(?:[<>]=?|=)?\s*v?\d+(?:\.(?:\d+|x|\*))*(?:\.(?:x|\*))?"));
    let t = cell.trim().trim_end_matches('.');
    // "=< 10.4.2" is written "<= 10.4.2".
    let canonical = match t.get(..2) {
        Some("=<") => format!("<={}", t.get(2..).unwrap_or_default()),
        Some("=>") => format!(">={}", t.get(2..).unwrap_or_default()),
        _ => t.to_string(),
    };
    let t = canonical.as_str();
    let l = t.to_ascii_lowercase();
    if VersionRange::parse(t).is_ok() {
        // Keywords ("Latest", "Others") in the form the config documents.
        let keyword = !t.bytes().any(|b| b.is_ascii_digit());
        return Some(if keyword { l } else { t.to_string() });
    }
    if let Some(m) = VERSIONISH.find(t) {
        let v = m.as_str().split_whitespace().collect::<Vec<_>>().join(" ");
        if VersionRange::parse(&v).is_ok() {
            return Some(v);
        }
    }
    // "Next most recent release series", "previous minor version", "N-1": a series
    // counted back from the current one; "previous versions" (plural) are the others.
    static BACK: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\bN\s*-\s*(?P<n>[1-9])\b|\b(?:next\s+most\s+recent|second\s+(?:newest|latest|most\s+recent)|previous|prior|preceding)\s+(?:(?P<level>major|minor|feature)\s+)?(?:release|version|series|one|line|branch)\b",
        )
    });
    if let Some(c) = BACK.captures(t) {
        let n = c.name("n").map_or("1", |m| m.as_str());
        let major = c
            .name("level")
            .is_some_and(|m| m.as_str().eq_ignore_ascii_case("major"));
        return Some(if major {
            format!("latest major-{n}")
        } else {
            format!("latest-{n}")
        });
    }
    // "< Latest", "before latest": every release older than the current one.
    let older_than_current =
        (l.starts_with('<') || l.starts_with("before") || l.starts_with("not "))
            && ["latest", "current", "newest"]
                .iter()
                .any(|w| l.contains(w));
    if older_than_current
        || ["other", "older", "previous", "prior", "earlier", "below"]
            .iter()
            .any(|w| l.contains(w))
    {
        return Some("others".into());
    }
    if ["latest", "current", "main", "master", "newest", "recent"]
        .iter()
        .any(|w| l.contains(w))
    {
        return Some("latest".into());
    }
    None
}

/// Reads a SECURITY.md. `now` (unix seconds) decides rows supported "until" a date
/// ("3.5.x | Until 2023-12-31"): supported while that day has not ended.
pub fn import(text: &str, now: i64) -> Imported {
    let doc = split_doc(text);
    let mut out = Imported {
        ack_within: None,
        followup_within: None,
        require: Vec::new(),
        reject_low_effort: None,
        supported_versions: Vec::new(),
        unreadable_rows: Vec::new(),
        contacts: Vec::new(),
        channels: Vec::new(),
        pgp_key_offered: None,
        credit: None,
        safe_harbor: None,
        undetermined: Vec::new(),
    };
    // Windows: the first promised first answer, then the next promise after it.
    let mut ack_at = None;
    for (idx, (line, s)) in doc.sentences.iter().enumerate() {
        if FALLBACK.is_match(s) {
            continue;
        }
        if out.ack_within.is_none() && ACK_CONTEXT.is_match(s) {
            if let Some(m) = DURATION.find(s)
                && let Some(d) = first_duration(s)
            {
                out.ack_within = Some((d, cite(*line, s)));
                ack_at = Some(idx);
                // "acknowledged within 24 hours, and a detailed response within 48 hours"
                // "… and provide a response to the report within 48 hours": after the
                // acknowledgement, a second answer is the follow-up.
                static SECOND_ANSWER: LazyLock<Regex> = LazyLock::new(|| {
                    re(r"(?i)\b(?:respon(?:d|se)|reply|answer|assess|evaluat|investigat|triag)")
                });
                let rest = s.get(m.end()..).unwrap_or_default();
                if (FOLLOWUP_CONTEXT.is_match(rest) || SECOND_ANSWER.is_match(rest))
                    && let Some(d2) = first_duration(rest)
                {
                    out.followup_within = Some((d2, cite(*line, s)));
                }
            }
            continue;
        }
        if let Some(a) = ack_at
            && idx > a
            && out.followup_within.is_none()
            && FOLLOWUP_CONTEXT.is_match(s)
            && let Some(d) = first_duration(s)
        {
            out.followup_within = Some((d, cite(*line, s)));
        }
    }
    // Required items.
    let want = |name: &str, line: usize, s: &str, out: &mut Imported| {
        if !out.require.iter().any(|(n, _)| n == name) {
            out.require.push((name.to_string(), cite(line, s)));
        }
    };
    // "Include any relevant information, such as the affected versions": what follows
    // "any … information, such as" are examples of what may help, not requirements.
    static EXAMPLES: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\bany (?:other |additional |relevant |useful |further )*(?:information|details|context)\b,?\s*(?:such as|e\.g\.|for example|like)\b[^.()]*",
        )
    });
    for (line, full) in &doc.sentences {
        if OPTIONAL.is_match(full) || !INSTRUCTION.is_match(full) {
            continue;
        }
        let asks = EXAMPLES.replace_all(full, "");
        let s: &str = &asks;
        if POC_ASK.is_match(s) {
            want("poc", *line, full, &mut out);
        }
        if VERSIONS_ASK.is_match(s) {
            want("versions", *line, full, &mut out);
        }
        if IMPACT_ASK.is_match(s) {
            want("impact", *line, full, &mut out);
        }
        if STEPS_ASK.is_match(s) {
            want("repro_steps", *line, full, &mut out);
        }
        if PATCH_ASK.is_match(s) {
            want("fix_suggestion", *line, full, &mut out);
        }
    }
    let mut email_asked: Option<Cite> = None;
    for (idx, (line, s)) in doc.sentences.iter().enumerate() {
        if out.reject_low_effort.is_none() && LOW_EFFORT.is_match(s) {
            out.reject_low_effort = Some(cite(*line, s));
        }
        // A key named only inside an address ("…/GPG-KEY-spring.txt") or one that signs
        // releases is not a key for reports.
        static URL: LazyLock<Regex> = LazyLock::new(|| re(r"\b(?:https?|ftp)://\S+"));
        static RELEASE_SIGNING: LazyLock<Regex> = LazyLock::new(|| {
            re(
                r"(?i)\b(?:releases?|jars?|artifacts?|packages?|tarballs?|binaries|builds?|commits?|tags?|downloads?)\b[^.]{0,60}\bsign(?:ed|s|ing)?\b|\bsign(?:ed|s|ing)?\b[^.]{0,40}\b(?:releases?|jars?|artifacts?|packages?|tarballs?|binaries|builds?|commits?|tags?|downloads?)\b",
            )
        });
        if out.pgp_key_offered.is_none()
            && (PGP.is_match(&URL.replace_all(s, " ")) || KEYSERVER.is_match(s))
            && (!RELEASE_SIGNING.is_match(s) || s.to_ascii_lowercase().contains("encrypt"))
            && !s.to_ascii_lowercase().contains("don't encrypt")
            && !s.to_ascii_lowercase().contains("do not encrypt")
        {
            out.pgp_key_offered = Some(cite(*line, s));
        }
        if out.credit.is_none() && CREDIT.is_match(s) {
            out.credit = Some(cite(*line, s));
        }
        if out.safe_harbor.is_none() && SAFE_HARBOR.is_match(s) {
            out.safe_harbor = Some(cite(*line, s));
        }
        // Whom the team notifies (downstream packagers, a CNA it works with) is not a
        // contact for reports, nor is where to escalate when the team does not answer.
        let others = OTHERS_ACT.is_match(s)
            || ESCALATION.is_match(s)
            || NOT_FOR_REPORTS.is_match(s)
            || doc.credit_lines.binary_search(line).is_ok();
        let plain = EMAIL.find_iter(s).map(|m| m.as_str().to_ascii_lowercase());
        let hidden = OBFUSCATED_EMAIL
            .captures_iter(s)
            .filter_map(|c| deobfuscate(&c));
        for addr in plain.chain(hidden).collect::<Vec<_>>() {
            if others || addr.ends_with("example.com") || addr.starts_with("git@") {
                continue;
            }
            if !out.contacts.iter().any(|(a, _)| *a == addr) {
                out.contacts.push((addr, cite(*line, s)));
            }
        }
        let offer = |name: &str, out: &mut Imported| {
            if !out.channels.iter().any(|(n, _)| n == name) {
                out.channels.push((name.to_string(), cite(*line, s)));
            }
        };
        // "Email the maintainers directly at security@…": the address is the channel.
        let has_address = EMAIL.is_match(s) || OBFUSCATED_EMAIL.is_match(s);
        for (name, rx) in CHANNELS.iter() {
            if *name == "maintainer-contact" && has_address {
                continue;
            }
            if rx.find_iter(s).any(|m| offered(s, m.start(), m.end())) {
                offer(name, &mut out);
            }
        }
        if let Some(m) = EMAIL_ASK.find(s)
            && offered(s, m.start(), m.end())
            && (has_address || REPORT_SUBJECT.is_match(s))
        {
            email_asked.get_or_insert_with(|| cite(*line, s));
        }
        // Links: `[Report a vulnerability](https://github.com/o/r/security/advisories/new)`,
        // `contact [a maintainer](https://github.com/them)`. A link counts in the
        // sentence that holds its text.
        for (text, url) in doc.links_of(idx) {
            let Some(at) = (!text.is_empty()).then(|| s.find(text)).flatten() else {
                continue;
            };
            if !offered(s, at, at + text.len()) {
                continue;
            }
            if GITHUB_ADVISORY_LINK.is_match(url) {
                offer("github-advisory", &mut out);
            } else if GITHUB_PROFILE_LINK.is_match(url)
                && s.to_ascii_lowercase().contains("contact")
            {
                offer("maintainer-contact", &mut out);
            }
        }
    }
    // A key fingerprint as OpenPGP tools print it (ten groups of four hex digits) is a
    // key offered, even in a table with no sentence around it.
    static FINGERPRINT: LazyLock<Regex> =
        LazyLock::new(|| re(r"(?i)\b[0-9a-f]{4}(?:[ \t]{1,2}[0-9a-f]{4}){9}\b"));
    if out.pgp_key_offered.is_none()
        && let Some((i, l)) = text
            .lines()
            .enumerate()
            .find(|(_, l)| FINGERPRINT.is_match(l))
    {
        out.pgp_key_offered = Some(cite(i + 1, l.trim()));
    }
    if text.contains("BEGIN PGP PUBLIC KEY") && out.pgp_key_offered.is_none() {
        let line = text
            .lines()
            .position(|l| l.contains("BEGIN PGP PUBLIC KEY"))
            .map_or(1, |i| i + 1);
        out.pgp_key_offered = Some(cite(line, "-----BEGIN PGP PUBLIC KEY BLOCK-----"));
    }
    if let Some(c) = out.contacts.first().map(|(_, c)| c.clone()).or(email_asked) {
        out.channels.insert(0, ("email".into(), c));
    }
    // The supported-versions table: a first column of versions (releases, branches)
    // and a column saying whether each gets security fixes ("Supported", "Security
    // Updates", "Status"), perhaps with an end-of-life date beside it.
    let lower = |c: &String| c.to_ascii_lowercase();
    let first_is_versions = |h: &[String]| {
        h.first().map(lower).is_some_and(|c| {
            ["version", "release", "branch", "series", "tag"]
                .iter()
                .any(|w| c.contains(w))
        })
    };
    let status_of = |h: &[String]| {
        let pos = |want: &[&str]| {
            h.iter()
                .skip(1)
                .position(|c| want.iter().any(|w| lower(c).contains(w)))
                .map(|i| i + 1)
        };
        // "Supported until" is an end date, not the status.
        let end_col = |c: &String| {
            let c = lower(c);
            c.contains("until") || c.contains("eol") || c.contains("end")
        };
        h.iter()
            .skip(1)
            .position(|c| {
                !end_col(c) && (lower(c).contains("support") || lower(c).contains("security"))
            })
            .map(|i| i + 1)
            .or_else(|| pos(&["status", "maintained"]))
            .or_else(|| pos(&["support"]))
    };
    if let Some((header, rows)) = doc
        .tables
        .iter()
        .find(|(h, _)| first_is_versions(h) && status_of(h).is_some())
    {
        let status_col = status_of(header).unwrap_or(1);
        // An end date of its own column ("EOL", "End of life", "Supported until",
        // "Security support ends").
        let end_col = header.iter().enumerate().skip(1).find_map(|(i, c)| {
            let c = lower(c);
            (i != status_col
                && (c.contains("eol")
                    || c.contains("eos")
                    || c.contains("end of")
                    || c.contains("end-of")
                    || c.contains("until")
                    || c.contains("ends")))
            .then_some(i)
        });
        for (line, cells) in rows {
            let (Some(v), Some(st)) = (cells.first(), cells.get(status_col)) else {
                continue;
            };
            let status = dated_cell(st, now)
                .or_else(|| supported_cell(st))
                .or_else(|| legend_cell(st, text));
            // A row whose end date has passed is no longer supported, whatever its
            // status cell said when it was written.
            let ended = end_col
                .and_then(|i| cells.get(i))
                .and_then(|c| dated_cell(c, now))
                .map(|still| !still);
            let supported = match (status, ended) {
                (Some(_), Some(true)) => Some(false),
                (Some(s), _) => Some(s),
                (None, Some(true)) => Some(false),
                (None, _) => None,
            };
            let Some(supported) = supported else {
                out.unreadable_rows.push(cite(*line, &cells.join(" | ")));
                continue;
            };
            match normalize_range(v) {
                Some(range) => out.supported_versions.push((
                    VersionRow { range, supported },
                    cite(*line, &format!("| {} |", cells.join(" | "))),
                )),
                None => out.unreadable_rows.push(cite(*line, &cells.join(" | "))),
            }
        }
    }
    // A table that lists only what is no longer supported leaves the supported
    // releases to the prose beside it ("only 3.5 and higher are supported").
    if out.supported_versions.iter().all(|(r, _)| !r.supported) {
        prose_supported_versions(&doc, &mut out);
    }
    for (field, missing) in [
        ("ack_within", out.ack_within.is_none()),
        ("followup_within", out.followup_within.is_none()),
        ("require", out.require.is_empty()),
        ("supported_versions", out.supported_versions.is_empty()),
        (
            "contact",
            out.contacts.is_empty() && out.channels.is_empty(),
        ),
    ] {
        if missing {
            out.undetermined.push(field.into());
        }
    }
    out
}

impl Imported {
    /// The policy these findings make (defaults where the document is silent).
    pub fn policy(&self, source: &str) -> PolicyConfig {
        let d = PolicyConfig::default();
        PolicyConfig {
            ack_within: self.ack_within.as_ref().map_or(d.ack_within, |(x, _)| *x),
            followup_within: self.followup_within.as_ref().map(|(x, _)| *x),
            resolve_within: None,
            require: self.require.iter().map(|(n, _)| n.clone()).collect(),
            supported_versions: self
                .supported_versions
                .iter()
                .map(|(r, _)| r.clone())
                .collect(),
            reject_low_effort: self.reject_low_effort.is_some(),
            source: Some(source.to_string()),
            latest: None,
            credit: false,
            ..d
        }
    }

    /// A `[policy.NAME]` block, every value preceded by the line it came from.
    pub fn to_toml(&self, name: &str, source: &str) -> String {
        let q = |s: &str| format!("{s:?}");
        let c = |c: &Cite| format!("# line {}: {}\n", c.line, c.text.replace('\n', " "));
        let mut t = String::new();
        t.push_str(&format!(
            "# Imported from {source} by `triaged policy import`. Check each value against the\n\
             # line it came from, then add this block to triaged.toml.\n"
        ));
        for (a, ci) in &self.contacts {
            t.push_str(&format!("# contact: {a} (line {})\n", ci.line));
        }
        let chans: Vec<&str> = self.channels.iter().map(|(n, _)| n.as_str()).collect();
        t.push_str(&format!(
            "# channels: {}\n",
            if chans.is_empty() {
                "none found".into()
            } else {
                chans.join(", ")
            }
        ));
        t.push_str(&format!(
            "# PGP key offered: {}\n",
            self.pgp_key_offered
                .as_ref()
                .map_or("no".to_string(), |c| format!("yes (line {})", c.line))
        ));
        if let Some(ci) = &self.credit {
            t.push_str(&format!(
                "# credit/anonymity (recorded, not enforced): line {}: {}\n",
                ci.line, ci.text
            ));
        }
        if let Some(ci) = &self.safe_harbor {
            t.push_str(&format!(
                "# safe harbor (recorded, not enforced): line {}: {}\n",
                ci.line, ci.text
            ));
        }
        for r in &self.unreadable_rows {
            t.push_str(&format!(
                "# supported-versions row not read (line {}): {}\n",
                r.line, r.text
            ));
        }
        if !self.undetermined.is_empty() {
            t.push_str(&format!(
                "# could not determine: {} (defaults apply)\n",
                self.undetermined.join(", ")
            ));
        }
        t.push_str(&format!("[policy.{name}]\nsource = {}\n", q(source)));
        if let Some((d, ci)) = &self.ack_within {
            t.push_str(&c(ci));
            t.push_str(&format!("ack_within = {}\n", q(&d.to_string())));
        }
        if let Some((d, ci)) = &self.followup_within {
            t.push_str(&c(ci));
            t.push_str(&format!("followup_within = {}\n", q(&d.to_string())));
        }
        for (n, ci) in &self.require {
            t.push_str(&format!("# {n}: line {}: {}\n", ci.line, ci.text));
        }
        let req: Vec<String> = self.require.iter().map(|(n, _)| q(n)).collect();
        t.push_str(&format!("require = [{}]\n", req.join(", ")));
        if let Some(ci) = &self.reject_low_effort {
            t.push_str(&c(ci));
            t.push_str("reject_low_effort = true\n");
        }
        if !self.supported_versions.is_empty() {
            t.push_str("supported_versions = [\n");
            for (r, ci) in &self.supported_versions {
                t.push_str(&format!(
                    "  {{ range = {}, supported = {} }}, # line {}: {}\n",
                    q(&r.range),
                    r.supported,
                    ci.line,
                    ci.text
                ));
            }
            t.push_str("]\n");
            // Rows counted from the current release decide nothing until it is known.
            if self
                .supported_versions
                .iter()
                .any(|(r, _)| VersionRange::parse(&r.range).is_ok_and(|v| v.counts_from_latest()))
            {
                t.push_str("# The rows above count from the current release: set it, e.g.\n# latest = \"2.8.4\"\n");
            }
        }
        t
    }

    /// The JSON form (fields documented in README.md).
    pub(crate) fn to_json(&self, name: &str, source: &str) -> serde_json::Value {
        let p = self.policy(source);
        let cite = |c: &Cite| serde_json::json!({"line": c.line, "text": c.text});
        serde_json::json!({
            "name": name,
            "policy": {
                "source": p.source,
                "ack_within": self.ack_within.as_ref().map(|(d, _)| d.to_string()),
                "followup_within": p.followup_within.map(|d| d.to_string()),
                "require": p.require,
                "reject_low_effort": p.reject_low_effort,
                "supported_versions": p.supported_versions,
            },
            "evidence": {
                "ack_within": self.ack_within.as_ref().map(|(_, c)| cite(c)),
                "followup_within": self.followup_within.as_ref().map(|(_, c)| cite(c)),
                "require": self.require.iter().map(|(n, c)| serde_json::json!({"item": n, "line": c.line, "text": c.text})).collect::<Vec<_>>(),
                "reject_low_effort": self.reject_low_effort.as_ref().map(cite),
                "supported_versions": self.supported_versions.iter().map(|(_, c)| cite(c)).collect::<Vec<_>>(),
            },
            "contacts": self.contacts.iter().map(|(a, c)| serde_json::json!({"address": a, "line": c.line})).collect::<Vec<_>>(),
            "channels": self.channels.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
            "pgp_key_offered": self.pgp_key_offered.is_some(),
            "credit": self.credit.as_ref().map(cite),
            "safe_harbor": self.safe_harbor.as_ref().map(cite),
            "unreadable_rows": self.unreadable_rows.iter().map(cite).collect::<Vec<_>>(),
            "undetermined": self.undetermined,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{dated_cell, import, supported_cell};

    /// Noon UTC of a day, as unix seconds: the `now` of an import.
    fn noon(y: i32, m: u32, d: u32) -> i64 {
        chrono::NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .map(|t| t.and_utc().timestamp())
            .unwrap_or_default()
    }

    fn channels(text: &str) -> Vec<String> {
        import(text, 0)
            .channels
            .into_iter()
            .map(|(n, _)| n)
            .collect()
    }

    fn contacts(text: &str) -> Vec<String> {
        import(text, 0)
            .contacts
            .into_iter()
            .map(|(a, _)| a)
            .collect()
    }

    #[test]
    fn a_channel_counts_only_where_the_reader_is_told_to_report() {
        let doc = "Please report vulnerabilities to security@acme.example.org.\n\n\
                   The team coordinates fixes via GitHub Security Advisories.\n\n\
                   We announce releases on our Discord server.\n";
        assert_eq!(channels(doc), ["email"]);
    }

    #[test]
    fn a_negated_or_closed_channel_is_not_offered() {
        let doc = "Please do not open a public issue, instead use the \"Report a vulnerability\" button.\n\n\
                   Our HackerOne program is closed.\n";
        assert_eq!(channels(doc), ["github-advisory"]);
        // A fallback is not a channel either.
        let doc =
            "Report to security@acme.example.org. If you do not hear back, reach us on Discord.\n";
        assert_eq!(channels(doc), ["email"]);
    }

    #[test]
    fn links_name_channels_by_their_target() {
        let doc = "## Reporting\n\n[Report privately](https://github.com/acme/widget/security/advisories/new) \
                   or contact [Jo Maintainer](https://github.com/jo-maintainer).\n";
        assert_eq!(channels(doc), ["github-advisory", "maintainer-contact"]);
        // The link of another sentence on the same line does not count.
        let doc = "Do not use [the tracker](https://github.com/acme/widget/security). Email security@acme.example.org.\n";
        assert_eq!(channels(doc), ["email"]);
    }

    #[test]
    fn spelled_out_addresses_are_read_and_sentences_are_not() {
        let doc = "You may also report vulnerabilities to `security` at acme dot org.\n\n\
                   Or write to security [at] widget [dot] example [dot] net.\n\n\
                   Reach us at acme.org for anything else.\n";
        assert_eq!(
            contacts(doc),
            ["security@acme.org", "security@widget.example.net"]
        );
        assert_eq!(channels(doc), ["email"]);
    }

    #[test]
    fn an_email_without_an_address_is_still_the_email_channel() {
        let doc = "To report a vulnerability, please send an email to the maintainer (see the address in their profile).\n";
        assert_eq!(channels(doc), ["email"]);
        assert!(contacts(doc).is_empty());
    }

    #[test]
    fn a_heading_ending_in_a_colon_introduces_the_list_below() {
        let doc = "### When reporting, please provide the following:\n\n\
                   - The affected version(s) of the project.\n\
                   - A proof of concept.\n\n\
                   ## Versions\n\n\
                   - The affected version(s) of the project.\n";
        let im = import(doc, 0);
        let req: Vec<(String, usize)> = im.require.into_iter().map(|(n, c)| (n, c.line)).collect();
        assert_eq!(req, [("versions".to_string(), 3), ("poc".to_string(), 4)]);
    }

    #[test]
    fn where_to_escalate_is_not_where_reports_go() {
        let doc = "Report security bugs via [HackerOne](https://hackerone.com/acme).\n\n\
                   If you do not receive an acknowledgement within 6 business days, you may\n\
                   escalate to the foundation at security@foundation.example.org.\n";
        assert!(contacts(doc).is_empty(), "{:?}", contacts(doc));
        assert_eq!(channels(doc), ["hackerone"]);
    }

    #[test]
    fn an_imperative_list_item_is_a_requirement() {
        let doc = "## Report quality\n\n\
                   * Provide clear, detailed steps to reproduce the vulnerability.\n\
                   * Include the affected versions.\n";
        let req: Vec<String> = import(doc, 0).require.into_iter().map(|(n, _)| n).collect();
        assert_eq!(req, ["repro_steps", "versions"]);
    }

    #[test]
    fn examples_of_helpful_information_are_not_requirements() {
        let doc = "To report a vulnerability, please follow these steps:\n\n\
                   1. Email our security team with a detailed description.\n\
                   2. Include any relevant information, such as the affected versions or components.\n\
                   3. Provide a proof of concept.\n";
        let req: Vec<String> = import(doc, 0).require.into_iter().map(|(n, _)| n).collect();
        assert_eq!(req, ["poc"]);
    }

    #[test]
    fn whom_the_team_notifies_is_not_a_contact() {
        // The list's intro starts a line above the colon.
        let doc = "Report issues with a [draft advisory](https://github.com/acme/widget/security/advisories/new).\n\n\
                   Ahead of a release the list of people we\n\
                   actively contact is:\n\n\
                   - Distro packagers (packagers@distro.example.net)\n";
        assert!(contacts(doc).is_empty(), "{:?}", contacts(doc));
        assert_eq!(channels(doc), ["github-advisory"]);
    }

    fn rows(doc: &str, now: i64) -> Vec<(String, bool)> {
        import(doc, now)
            .supported_versions
            .into_iter()
            .map(|(r, _)| (r.range, r.supported))
            .collect()
    }

    #[test]
    fn a_printed_key_fingerprint_is_a_key_offered() {
        // In a table, with no sentence naming PGP around it.
        let doc = "## Reporting\n\nMail security@acme.example.org.\n\n\
                   | Maintainer | Fingerprint |\n|---|---|\n\
                   | Jo | 0A1B 2C3D 4E5F 6071 8293  A4B5 C6D7 E8F9 0A1B 2C3D |\n";
        let im = import(doc, 0);
        assert_eq!(im.pgp_key_offered.map(|c| c.line), Some(7));
        // "Keys that may be used to communicate sensitive reports", without a fingerprint.
        let doc =
            "The following keys may be used to communicate sensitive information to the team.\n";
        assert!(import(doc, 0).pgp_key_offered.is_some());
        // A commit hash, a rotated session key or a browser fingerprint is not a key offered.
        let doc = "Fixed in 0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d. We rotate session keys \
                   and compare browser fingerprints.\n";
        assert!(import(doc, 0).pgp_key_offered.is_none());
    }

    #[test]
    fn a_product_version_in_a_list_of_what_to_include_is_asked_for() {
        let doc = "Your report should include:\n\n- Product version\n- A description\n";
        let req: Vec<String> = import(doc, 0).require.into_iter().map(|(n, _)| n).collect();
        assert_eq!(req, ["versions"]);
        // Mentioned outside an instruction, a version is not asked for.
        let doc = "We publish the fixed product version in the advisory.\n";
        assert!(import(doc, 0).require.is_empty());
    }

    #[test]
    fn the_main_branch_said_to_be_supported_is_the_latest_row() {
        let doc = "## Supported Versions\nThe main branch is supported; fixes are applied on a best-effort basis.\n";
        assert_eq!(rows(doc, 0), [("latest".to_string(), true)]);
        let doc = "## Supported Versions\nThe `master` branch is no longer maintained.\n";
        assert!(rows(doc, 0).is_empty(), "{:?}", rows(doc, 0));
    }

    #[test]
    fn the_latest_release_in_prose_is_the_supported_row() {
        let doc =
            "## Supported Versions\n\nWe always provide security updates for the latest release.\n";
        assert_eq!(rows(doc, 0), [("latest".to_string(), true)]);
        let doc =
            "## Supported Versions\n\nOnly the most recent version receives security fixes.\n";
        assert_eq!(
            rows(doc, 0),
            [("latest".to_string(), true), ("others".to_string(), false)]
        );
        // A count of major releases: three major series counted back from the current
        // one; the older ones stay unknown (nothing says they are not supported).
        let doc = "## Supported Versions\n\nThe latest three major release versions are currently being supported with security updates.\n";
        assert_eq!(
            rows(doc, 0),
            [
                ("latest major".to_string(), true),
                ("latest major-1".to_string(), true),
                ("latest major-2".to_string(), true)
            ]
        );
        // Advice to upgrade is not a statement of support.
        let doc = "We recommend always using the latest versions of the library.\n";
        assert!(rows(doc, 0).is_empty());
    }

    #[test]
    fn a_row_supported_until_a_date_is_supported_until_that_day_ends() {
        let doc = "| Version | Supported |\n|---|---|\n\
                   | 4.2.x | Yes |\n\
                   | 3.5.x | Until 2023-12-31 |\n\
                   | 3.4.x | EOL March 2023 |\n\
                   | 3.3.x | security fixes until 31 Dec 2022 |\n\
                   | 3.2.x | sometimes |\n";
        let day = noon;
        let at = |now| rows(doc, now);
        let r = |v: &str, s| (v.to_string(), s);
        // Before every end date; on the last day of March 2023; after all of them.
        assert_eq!(
            at(day(2022, 6, 1)),
            [
                r("4.2.x", true),
                r("3.5.x", true),
                r("3.4.x", true),
                r("3.3.x", true)
            ]
        );
        assert_eq!(
            at(day(2023, 3, 31)),
            [
                r("4.2.x", true),
                r("3.5.x", true),
                r("3.4.x", true),
                r("3.3.x", false)
            ]
        );
        assert_eq!(
            at(day(2024, 1, 1)),
            [
                r("4.2.x", true),
                r("3.5.x", false),
                r("3.4.x", false),
                r("3.3.x", false)
            ]
        );
        // The cell that names no date stays unread, and says so.
        let im = import(doc, day(2024, 1, 1));
        assert_eq!(im.unreadable_rows.len(), 1);
        assert_eq!(im.unreadable_rows[0].line, 7);
        // Narrower support is support; a refusal naming it is not.
        for (cell, want) in [
            ("Best effort", Some(true)),
            ("Security fixes only", Some(true)),
            ("Maintenance (LTS)", Some(true)),
            ("No security fixes", Some(false)),
            ("Security support ended", Some(false)),
            ("To be defined", None),
        ] {
            assert_eq!(supported_cell(cell), want, "{cell}");
        }
        // A plain "EOL" still reads as not supported.
        assert_eq!(dated_cell("EOL", 0), None);
        assert_eq!(supported_cell("EOL"), Some(false));
        // An impossible date is not a date.
        assert_eq!(dated_cell("until 2023-02-30", 0), None);
    }

    #[test]
    fn a_status_column_its_legend_and_an_end_of_life_column_decide_a_row() {
        let day = noon;
        let r = |v: &str, s| (v.to_string(), s);
        // "Status" instead of "Supported"; a symbol explained in a legend; an EoL date
        // in a column of its own ends the row's support when it has passed.
        let doc = "| Version | Status | EoS/EoL |\n|---|---|---|\n\
                   | 9.x | :x: | Jan 15, 2024 |\n\
                   | 10.x | :clock1: | Jul 15, 2026 |\n\
                   | 11.x LTS | :white_check_mark: | Nov 15, 2030 |\n\
                   | 12.x | :calendar: | |\n\n\
                   ### Legend\n\n- 🕐 Security and bug fixes only\n- 📅 Planned\n";
        assert_eq!(
            rows(doc, day(2026, 1, 1)),
            [
                r("9.x", false),
                r("10.x", true),
                r("11.x", true),
                r("12.x", false)
            ]
        );
        assert_eq!(
            rows(doc, day(2026, 12, 1)),
            [
                r("9.x", false),
                r("10.x", false),
                r("11.x", true),
                r("12.x", false)
            ]
        );
        // "Planned" is no support yet, and the legend says so: the row is read.
        let im = import(doc, day(2026, 1, 1));
        assert!(im.unreadable_rows.is_empty(), "{:?}", im.unreadable_rows);
        // A legend written with the shortcodes themselves.
        let doc = "| Version | Status |\n|---|---|\n| 10.x | :construction: |\n| 9.x | :hourglass_flowing_sand: |\n\n\
                   - :construction: security fixes only\n- :hourglass_flowing_sand: end of life soon, no fixes\n";
        assert_eq!(rows(doc, 0), [r("10.x", true), r("9.x", false)]);
        // Without a legend the symbol decides nothing.
        let bare = "| Version | Status |\n|---|---|\n| 10.x | :clock1: |\n";
        assert!(rows(bare, 0).is_empty());
        assert_eq!(import(bare, 0).unreadable_rows.len(), 1);
        // A security column beside a general one; day-first dotted dates.
        let doc = "| Release | Security Updates | Updates | End of Life |\n|---|---|---|---|\n\
                   | 2.x | :white_check_mark: | :white_check_mark: | - |\n\
                   | 1.x | :white_check_mark: | :x: | 31.12.2023 |\n";
        assert_eq!(
            rows(doc, day(2024, 6, 1)),
            [r("2.x", true), r("1.x", false)]
        );
        assert_eq!(rows(doc, day(2023, 6, 1)), [r("2.x", true), r("1.x", true)]);
    }

    #[test]
    fn a_numeric_date_is_read_only_when_its_order_is_certain() {
        let day = noon;
        // Day over 12: either order is certain.
        assert_eq!(dated_cell("31/12/2023", day(2023, 12, 31)), Some(true));
        assert_eq!(dated_cell("12/31/2023", day(2024, 1, 1)), Some(false));
        // Dotted is day first (31.12., 01.02.).
        assert_eq!(dated_cell("01.02.2025", day(2025, 1, 15)), Some(true));
        assert_eq!(dated_cell("01.02.2025", day(2025, 2, 2)), Some(false));
        // 03/04/2025 is 3 April or 4 March: decided only when both agree.
        assert_eq!(dated_cell("03/04/2025", day(2026, 1, 1)), Some(false));
        assert_eq!(dated_cell("03/04/2025", day(2025, 3, 20)), None);
    }

    #[test]
    fn a_second_answer_promised_in_the_acknowledging_sentence_is_the_follow_up() {
        let win = |doc: &str| {
            let im = import(doc, 0);
            (
                im.ack_within.map(|(d, _)| d.to_string()),
                im.followup_within.map(|(d, _)| d.to_string()),
            )
        };
        let doc = "We will acknowledge reports within 24 hours and provide a response to the \
                   report within 48 hours.\n";
        assert_eq!(win(doc), (Some("1d".into()), Some("2d".into())));
        // One window named twice is no follow-up.
        let doc = "We will acknowledge and respond to reports within 3 days.\n";
        assert_eq!(win(doc), (Some("3d".into()), None));
    }

    #[test]
    fn a_table_laid_out_with_tabs_or_spaces_is_a_table() {
        let r = |v: &str, s| (v.to_string(), s);
        // Pasted from a rendered page: tab-separated, symbols and words.
        let doc = "Supported Versions\n\nVersion\tSupported\n5.1.x\t✅ Supported\n5.0.x\t❌ Unsupported\n\
                   < 4.0\t❌ Unsupported\n\nOnly supported versions receive security fixes.\n";
        assert_eq!(
            rows(doc, 0),
            [r("5.1.x", true), r("5.0.x", false), r("< 4.0", false)]
        );
        // Plain text with a rule under the header; the prose after it is not a row.
        let doc = "Version    Status\n-----------------\n5.1.x      SUPPORTED\n5.0.x      UNSUPPORTED\n\n\
                   Note: we fix what is supported.\n";
        assert_eq!(rows(doc, 0), [r("5.1.x", true), r("5.0.x", false)]);
        // Two spaces between sentences make no table.
        let doc = "## Supported Versions\n\nUpgrade to the latest release to get every security fix.  \
                   On request, we backport fixes.\n";
        assert_eq!(rows(doc, 0), [r("latest", true)]);
    }

    #[test]
    fn items_under_an_instruction_are_asked_for_with_or_without_markers() {
        let req = |doc: &str| -> Vec<String> {
            import(doc, 0).require.into_iter().map(|(n, _)| n).collect()
        };
        // The instruction is the list's lead ("Report privately with:"), not the item.
        let doc = "Report privately with:\n\n- Affected version/commit\n- Reproduction steps\n- Impact assessment\n";
        assert_eq!(req(doc), ["versions", "repro_steps", "impact"]);
        let doc =
            "Please open a private advisory. Include:\n- Steps to reproduce\n- Impact assessment\n";
        assert_eq!(req(doc), ["repro_steps", "impact"]);
        // The markers lost: short paragraphs under the lead are its items.
        let doc = "Send an email to sec@acme.example.org with a description, including:\n\n\
                   Steps to reproduce\n\nImpact assessment\n\nWe answer every report.\n";
        assert_eq!(req(doc), ["repro_steps", "impact"]);
        // After a list with markers, a wrapped paragraph is prose again: its lines
        // are one sentence, not items of the list.
        let doc = "Please include:\n\n- Steps to reproduce.\n\nWe will acknowledge your email within 48 hours, and we will send a more\n\
                   detailed response within 72 hours.\n";
        let im = import(doc, 0);
        assert_eq!(im.ack_within.as_ref().map(|(_, c)| c.line), Some(5));
        assert!(
            !im.ack_within
                .as_ref()
                .is_some_and(|(_, c)| c.text.contains("Please include")),
            "{:?}",
            im.ack_within
        );
        assert_eq!(
            im.followup_within.map(|(d, _)| d.to_string()),
            Some("3d".into())
        );
        // A lead that instructs nothing asks for nothing.
        let doc = "Our process:\n\n- Impact assessment\n- A fix\n";
        assert!(req(doc).is_empty(), "{:?}", req(doc));
    }

    #[test]
    fn bounds_in_prose_keep_their_direction() {
        let doc = "## Supported Versions\n\nCurrently, only version 3.5 and higher are supported \
                   and receive security updates. Versions lower than 3.5 are considered End of \
                   Life and will not receive any security updates.\n";
        assert_eq!(
            rows(doc, 0),
            [
                (">= 3.5".to_string(), true),
                ("< 3.5".to_string(), false),
                ("others".to_string(), false)
            ]
        );
        // A table naming only unsupported releases leaves the rest to that prose.
        let doc = format!(
            "{doc}\n| Version | Security Updates |\n|---|---|\n| 1.x | :x: |\n| 2.x | :x: |\n"
        );
        let got = rows(&doc, 0);
        assert_eq!(
            &got[..3],
            [
                ("1.x".to_string(), false),
                ("2.x".to_string(), false),
                (">= 3.5".to_string(), true)
            ]
        );
    }

    #[test]
    fn researchers_thanked_and_escalation_lists_are_not_contacts() {
        let doc = "# Reporting\n\nPlease email security@acme.example.org.\n\n\
                   ## Security Hall of Fame\n\n- Jo Researcher <jo@research.example.net>\n\n\
                   ## Escalation\n\nIf you have not received a reply within 48 hours, contact:\n\n\
                   - Coordinator: lead@acme.example.org\n";
        assert_eq!(contacts(doc), ["security@acme.example.org"]);
    }

    #[test]
    fn a_release_signing_key_or_a_key_named_in_an_address_is_not_offered_for_reports() {
        let doc = "## JAR signing\n\nOur JARs are signed.\nMore about the key: https://example.org/GPG-KEY-acme.txt\n";
        assert!(import(doc, 0).pgp_key_offered.is_none());
        let doc = "Releases are signed with our GPG key 0x1234ABCD.\n";
        assert!(import(doc, 0).pgp_key_offered.is_none());
        // A key to encrypt reports with still is, and so is one to fetch from a keyserver.
        let doc = "Please encrypt your report with our PGP key.\n";
        assert!(import(doc, 0).pgp_key_offered.is_some());
        let doc = "Fetch it with `gpg --recv-keys 0x1234ABCD`.\n";
        assert!(import(doc, 0).pgp_key_offered.is_some());
    }

    #[test]
    fn publishing_advisories_is_not_a_channel_but_opening_one_is() {
        for doc in [
            "On release day a security advisory will be published on our blog. Please tell us in your report whether to credit you.\n",
            "In the future, we might only use GitHub's Security Advisory format.\n",
        ] {
            assert!(channels(doc).is_empty(), "{doc}: {:?}", channels(doc));
        }
        for doc in [
            "Report it by creating a security advisory in this repository.\n",
            "Please open a draft Security Advisory.\n",
            "Please report it through GitHub Security Advisories.\n",
        ] {
            assert_eq!(channels(doc), ["github-advisory"], "{doc}");
        }
    }

    #[test]
    fn a_list_item_continues_over_its_following_lines() {
        // The second line of the first item neither ends the list nor hides the intro
        // from the items after it.
        let doc = "Please include the following information with your report:\n\n\
                   *   A description of the technical details. It is very\n    \
                   important to know how we can reproduce your findings.\n\
                   *   The affected versions.\n";
        let im = import(doc, 0);
        let req: Vec<(String, usize)> = im.require.into_iter().map(|(n, c)| (n, c.line)).collect();
        assert_eq!(req, [("poc".to_string(), 3), ("versions".to_string(), 5)]);
    }

    #[test]
    fn versions_given_as_examples_are_not_rows() {
        let doc = "## Supported Versions\n\nWe currently support the most recent release (N, e.g. 1.8) and the one before it (N-1, e.g. 1.7).\n";
        // The examples are not rows; the two series are counted from the current release.
        assert_eq!(
            rows(doc, 0),
            [("latest".to_string(), true), ("latest-1".to_string(), true)]
        );
        let doc = "## Supported Versions\n\nWe currently support 2.x and 3.x.\n";
        assert_eq!(
            rows(doc, 0),
            [("2.x".to_string(), true), ("3.x".to_string(), true)]
        );
    }

    #[test]
    fn an_address_for_permission_to_test_or_for_old_reports_is_not_a_contact() {
        let doc = "Report vulnerabilities through [HackerOne](https://hackerone.com/acme).\n\n\
                   Do not test against production. Ask the board (<board@acme.example.org>) for permission first.\n\n\
                   Reports already submitted by email (security@old.example.org) will still be handled.\n";
        assert!(contacts(doc).is_empty(), "{:?}", contacts(doc));
        assert_eq!(channels(doc), ["hackerone"]);
        let doc = "Since 2024 only reports through [GitHub](https://github.com/acme/w/security/advisories/new) \
                   are accepted. Pre-existing reports sent through huntr or security@acme.example.org are still worked on.\n";
        assert!(contacts(doc).is_empty(), "{:?}", contacts(doc));
        assert_eq!(channels(doc), ["github-advisory"]);
    }

    #[test]
    fn maintainers_reached_at_an_address_are_the_email_channel() {
        let doc = "Use GitHub's private vulnerability reporting, or write to the maintainers directly at sec@acme.example.org.\n";
        assert_eq!(channels(doc), ["email", "github-advisory"]);
        // Without an address, "contact the maintainers" stays its own channel.
        let doc = "Please contact the maintainers directly through their profiles to report it.\n";
        assert_eq!(channels(doc), ["maintainer-contact"]);
    }

    #[test]
    fn an_email_without_an_address_must_be_about_a_report() {
        let doc = "If you have questions about the API, please email us at https://acme.example.org/contact and ask.\n";
        assert!(channels(doc).is_empty(), "{:?}", channels(doc));
        // A numbered item loses its number: "2. **Email**, …" asks for an email.
        let doc = "Please report them privately in one of these ways:\n\n\
                   1. **Discord**, in a private message\n\
                   2. **Email**, send the details to the owner of the repository\n";
        assert_eq!(channels(doc), ["email", "discord"]);
    }

    #[test]
    fn an_issue_in_the_projects_tracker_is_the_github_issues_channel() {
        let doc = "For detailed reports, please create an issue in our issue tracker or contact us on Discord.\n";
        assert_eq!(channels(doc), ["discord", "github-issues"]);
        let doc =
            "To report vulnerabilities, please go to the Issues section and open a new ticket.\n";
        assert_eq!(channels(doc), ["github-issues"]);
        let doc = "Please do not open an issue on GitHub for security problems; email security@acme.example.org.\n";
        assert_eq!(channels(doc), ["email"]);
        // Where problems that are public already go is no channel for reports.
        let doc = "If there is a CVE assigned to the issue, please open an issue on our GitHub tracker \
                   instead, since things reported by scanners are public already.\n";
        assert!(channels(doc).is_empty(), "{:?}", channels(doc));
        let doc = "Vulnerabilities can be reported through GitHub issues, here: https://github.com/acme/lib/issues.\n";
        assert_eq!(channels(doc), ["github-issues"]);
        let doc = "To report a security risk, start a [discussion thread](https://github.com/acme/lib/discussions) without the details.\n";
        assert_eq!(channels(doc), ["github-discussions"]);
    }

    #[test]
    fn a_sentence_set_as_a_heading_is_read() {
        let doc = "# Security\n\n### Please email security@acme.example with a proof of concept.\n\
                   ### We will acknowledge your report within 48 hours.\n## Supported Versions\n";
        let imp = import(doc, 0);
        assert_eq!(imp.ack_within.map(|(d, _)| d.secs()), Some(2 * 86_400));
        assert!(
            imp.require.iter().any(|(r, _)| r == "poc"),
            "{:?}",
            imp.require
        );
    }

    /// GitHub's template guidance and a sample table left in HTML comments are not
    /// what the rendered page says.
    #[test]
    fn html_comments_are_not_read() {
        let doc = "# Security Policy\n\n<!--\n## Supported Versions\n\n| Version | Supported |\n| ------- | --------- |\n\
                   | 5.1.x | :white_check_mark: |\n| < 5.0 | :x: |\n-->\n\n## Reporting\n\n\
                   Email security@acme.example. <!-- we answer within 24 hours --> We acknowledge \
                   reports within 3 days.\n";
        let imp = import(doc, 0);
        assert!(
            imp.supported_versions.is_empty(),
            "{:?}",
            imp.supported_versions
        );
        assert_eq!(imp.ack_within.map(|(d, _)| d.secs()), Some(3 * 86_400));
        // Lines keep their numbers; a comment in a fenced block is shown as written.
        assert_eq!(
            super::blank_html_comments("a\n<!-- b\nc -->\nd")
                .lines()
                .count(),
            4
        );
        let fenced = "```html\n<!-- x -->\n```\n";
        assert_eq!(super::blank_html_comments(fenced), fenced);
    }

    #[test]
    fn a_project_bug_tracker_is_a_channel_unless_refused() {
        let doc = "To report a security problem, file a bug in our Bugzilla under the \"Security\" product.\n";
        assert_eq!(channels(doc), ["bug-tracker"]);
        let doc = "Do not report vulnerabilities in the public bug tracker. Email security@acme.example.org.\n";
        assert_eq!(channels(doc), ["email"]);
    }

    #[test]
    fn a_bound_keeps_its_operator_and_is_written_the_usual_way() {
        let doc = "## Supported versions\n\nOnly the newest minor releases are supported (>= 3.2) for fixes.\n";
        assert_eq!(
            rows(doc, 0),
            [(">= 3.2".to_string(), true), ("others".to_string(), false)]
        );
        let doc = "| Version | Supported |\n| --- | --- |\n| 7.1.x | :white_check_mark: |\n| =< 7.0.9 | :x: |\n";
        assert_eq!(
            rows(doc, 0),
            [("7.1.x".to_string(), true), ("<= 7.0.9".to_string(), false)]
        );
    }

    #[test]
    fn the_latest_release_named_under_a_supported_versions_heading_is_the_row() {
        let doc = "## Supported Versions\n\nWe ask users to move to the newest Widget release; backports are possible on request.\n";
        assert_eq!(rows(doc, 0), [("latest".to_string(), true)]);
        // Under another heading the same advice is no support statement.
        let doc = "## Staying safe\n\nWe ask users to move to the newest Widget release.\n";
        assert!(rows(doc, 0).is_empty());
    }

    #[test]
    fn support_provided_for_the_latest_releases_and_a_count_is_a_lower_bound() {
        let doc = "Acme provides security support for the latest major release.\n";
        assert_eq!(rows(doc, 0), [("latest".to_string(), true)]);
        // "only … the latest 2 releases": the second newest is supported too, so no
        // "others: unsupported" row.
        let doc = "Fixes are only provided for the latest 2 releases.\n";
        assert_eq!(rows(doc, 0), [("latest".to_string(), true)]);
    }

    #[test]
    fn the_current_and_previous_release_series_are_counted_back_from_the_latest() {
        let pair = |others: bool| {
            let mut r = vec![("latest".to_string(), true), ("latest-1".to_string(), true)];
            if others {
                r.push(("others".to_string(), false));
            }
            r
        };
        // Older versions "evaluated case by case" stay unknown.
        let doc = "The current and previous releases will receive security patches, with \
                   older versions evaluated case by case.\n";
        assert_eq!(rows(doc, 0), pair(false));
        // "N and N-1" with examples: the examples are not rows; the series that drops
        // out of support makes the rest unsupported.
        let doc = "## Supported Versions\n\nWe support the most recent release (`N`, e.g. \
                   `4.2`) and the release previous to it (`N-1`, e.g. `4.1`). With the \
                   release of `N+1`, `N-1` drops out of support.\n";
        assert_eq!(rows(doc, 0), pair(true));
        let doc = "## Supported versions\n\nThe current release series and the next most \
                   recent one (by major-minor version) will receive patches.\n\n\
                   ### Unsupported Release Series\n\nWhen a release series is no longer \
                   supported, upgrade to a supported one.\n";
        assert_eq!(rows(doc, 0), pair(true));
        // Counted minor series; "only" closes the list.
        let doc = "Only the latest three minor versions receive security fixes.\n";
        assert_eq!(
            rows(doc, 0),
            [
                ("latest".to_string(), true),
                ("latest-1".to_string(), true),
                ("latest-2".to_string(), true),
                ("others".to_string(), false)
            ]
        );
        // Majors counted ("major-minor" is not).
        let doc = "We provide security updates for the current and previous major versions.\n";
        assert_eq!(
            rows(doc, 0),
            [
                ("latest major".to_string(), true),
                ("latest major-1".to_string(), true)
            ]
        );
        // A previous release said to be unsupported is no support statement of this kind.
        let doc = "## Supported Versions\n\nPrevious releases are not supported; use the latest release.\n";
        assert!(!rows(doc, 0).iter().any(|(r, _)| r.starts_with("latest-")));
        // Table cells say the same.
        let doc = "| Version | Supported |\n|---|---|\n| Current minor release | :white_check_mark: |\n\
                   | Previous minor release | :white_check_mark: |\n| Previous versions | :x: |\n";
        assert_eq!(rows(doc, 0), pair(true));
        // The printed policy says what the rows need.
        let toml = import(doc, 0).to_toml("x", "SECURITY.md");
        assert!(toml.contains("\n# latest = \"2.8.4\"\n"), "{toml}");
        let toml = import("We support 2.x and 3.x.\n", 0).to_toml("x", "SECURITY.md");
        assert!(!toml.contains("# latest ="), "{toml}");
        for r in ["latest-1", "latest major-2", "latest"] {
            assert!(super::VersionRange::parse(r).is_ok(), "{r}");
        }
    }

    #[test]
    fn a_row_below_the_latest_release_is_every_older_release() {
        // The common template's "< Latest" row: not the latest release itself.
        let doc = "| Version | Supported |\n| ------- | --------- |\n| Latest | :white_check_mark: |\n\
                   | < Latest | :x: |\n";
        assert_eq!(
            rows(doc, 0),
            [("latest".to_string(), true), ("others".to_string(), false)]
        );
        let doc =
            "| Version | Supported |\n|---|---|\n| current | yes |\n| before current | no |\n";
        // "current" is a name of the latest release the config accepts as written.
        assert_eq!(
            rows(doc, 0),
            [("current".to_string(), true), ("others".to_string(), false)]
        );
    }

    #[test]
    fn a_heading_asking_what_to_include_introduces_its_list() {
        let doc = "### What to Include\n\n- Potential impact\n- Affected versions\n";
        let req: Vec<String> = import(doc, 0).require.into_iter().map(|(n, _)| n).collect();
        assert_eq!(req, ["impact", "versions"]);
    }
}
