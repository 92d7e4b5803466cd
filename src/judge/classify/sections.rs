//! Sections of a report: Markdown (ATX, bold, setext) and `Label:` headings, and
//! which heading a position falls under (PoC, Fix/Workaround ...).

use super::*;

/// A markdown-ish section: heading text (lower case) and its byte range.
#[derive(Debug, Clone)]
pub(super) struct Section {
    pub(super) heading: String,
    pub(super) start: usize,
    pub(super) end: usize,
}

pub(super) static HEADING: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?m)^[ \t>]*(?:#{1,6}[ \t]*(?P<h1>[^\n]+?)[ \t#]*$|\*\*(?P<h2>[^\n*]{2,60})\*\*[ \t]*:?[ \t]*$|(?P<h3>[A-Z][A-Za-z /&-]{2,40}):[ \t]*$|(?P<h4>[A-Z][^\n]{2,60}?)[ \t]*\n[ \t]*(?:-{3,}|={3,})[ \t]*$)",
    )
});

pub(super) fn sections(text: &str) -> Vec<Section> {
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

pub(super) fn section_at(secs: &[Section], pos: usize) -> Option<&Section> {
    secs.iter().rev().find(|s| s.start <= pos && pos <= s.end)
}

pub(super) static FIX_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(patch(es)?|fix(es)?|remediations?|mitigations?|workarounds?|recommendations?|solutions?|suggested fix|resolutions?)\b",
    )
});
pub(super) static POC_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\b(poc|proof[ -]of[ -]concept|exploit(ation|ing)?|reproduc\w*|repro|steps)\b")
});
pub(super) static NONE_CONTENT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\W*(none|n/a|no (known )?(workarounds?|patch(es)?|fix)( (is|are) (currently )?available)?|not (yet )?available|no workarounds have been made public|tbd)\W*$",
    )
});

/// A grade 0..=4 as a severity (out of range: medium).
pub(super) fn severity_at(g: usize) -> Severity {
    Severity::ALL.get(g).copied().unwrap_or(Severity::Medium)
}

/// The first char boundary at or after `from`, not after `limit`: where a window of the
/// bytes just before `limit` may start.
pub(super) fn char_start(text: &str, from: usize, limit: usize) -> usize {
    (from..=limit)
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(limit)
}

pub(super) fn section_text<'a>(text: &'a str, s: &Section) -> &'a str {
    text.get(s.start..s.end).unwrap_or_default().trim()
}

/// The body with what the reporter did not write for this report blanked (spaces of the
/// same byte length, so evidence offsets still point into the original): quoted earlier
/// mail after an attribution line ("On Mon, 1 Dec 2026, X wrote:", "-----Original
/// Message-----": everything after it), and the signature after the RFC 3676 delimiter
/// line "-- ". A reply that quotes our ack must not "contain" the examples the ack gives.
pub(super) fn mask_quotes_and_signature(text: &str) -> String {
    static ATTRIBUTION: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?im)^[ \t]*(?:on\b[^\n]{4,200}\bwrote:|[^\n]{4,200}\b(?:wrote|schrieb|a écrit|escribió|scrisse|schreef):)[ \t]*\r?$",
        )
    });
    static ORIGINAL: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?im)^[ \t]*-{2,}\s*(?:original message|forwarded message|ursprüngliche nachricht)\s*-{2,}[ \t]*\r?$",
        )
    });
    // Outlook's reply header, with or without its rule of underscores:
    // "From: …\nSent: …\nTo: …\nSubject: …" and everything after it.
    static OUTLOOK: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?im)^[ \t]*(?:\*\*)?(?:from|von|de|van)(?:\*\*)?:[^\n]{3,200}\r?\n[ \t]*(?:\*\*)?(?:sent|gesendet|envoyé|enviado|verzonden|date)(?:\*\*)?:[^\n]{3,100}\r?\n(?:[^\n]*\r?\n){0,3}?[ \t]*(?:\*\*)?(?:subject|betreff|objet|asunto|onderwerp)(?:\*\*)?:",
        )
    });
    static SIG: LazyLock<Regex> = LazyLock::new(|| re(r"(?m)^-- \r?$"));
    let mut spans: Vec<(usize, usize)> = Vec::new();
    if let Some(m) = ORIGINAL.find(text) {
        spans.push((m.start(), text.len()));
    }
    if let Some(m) = OUTLOOK.find(text) {
        spans.push((m.start(), text.len()));
    }
    if let Some(m) = SIG.find(text) {
        spans.push((m.start(), text.len()));
    }
    if let Some(a) = ATTRIBUTION.find(text) {
        // The attribution line and the quoted lines after it.
        let mut pos = a.start();
        let mut end = a.end();
        for line in text
            .get(a.end()..)
            .unwrap_or_default()
            .split_inclusive('\n')
        {
            let t = line.trim_start();
            if t.starts_with('>') || t.trim().is_empty() {
                end += line.len();
            } else {
                break;
            }
        }
        spans.push((pos, end));
        // Quoted lines further down (a reply written between quoted paragraphs).
        pos = end;
        let mut off = pos;
        for line in text.get(pos..).unwrap_or_default().split_inclusive('\n') {
            if line.trim_start().starts_with('>') {
                spans.push((off, off + line.len()));
            }
            off += line.len();
        }
    }
    if spans.is_empty() {
        return text.to_string();
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for (s, e) in spans {
        let s = s.max(done);
        if e <= s {
            continue;
        }
        out.push_str(text.get(done..s).unwrap_or_default());
        for ch in text.get(s..e).unwrap_or_default().chars() {
            if ch == '\n' {
                out.push('\n');
            } else {
                out.extend(std::iter::repeat_n(' ', ch.len_utf8()));
            }
        }
        done = e;
    }
    out.push_str(text.get(done..).unwrap_or_default());
    out
}

/// Plain-text advisories often put every line behind a comment marker: Exploit-DB's
/// header ("# Version: 1.0", "# Tested on: …"), a script's preamble pasted as prose ("#
/// An attacker can … with the elevated\n# privileges of …"). Read as Markdown, each line
/// is a heading and a sentence is cut at every line. In a run of three or more
/// consecutive lines that each start with a single `#` followed by a space (or nothing),
/// the marker is blanked (same byte offsets, so evidence still points into the text):
/// the lines read as the prose and `Label:` lines they are. Lines inside fenced code
/// blocks, `##` headings and `#!` lines are left as they are; one or two `#` lines are
/// Markdown headings.
pub(super) fn unprefix_comment_runs(text: &str) -> std::borrow::Cow<'_, str> {
    let mut comment_lines: Vec<usize> = Vec::new(); // offsets of the '#' to blank
    let mut run: Vec<usize> = Vec::new();
    let mut in_fence = false;
    let mut off = 0;
    let flush = |run: &mut Vec<usize>, out: &mut Vec<usize>| {
        if run.len() >= 3 {
            out.append(run);
        }
        run.clear();
    };
    for line in text.split_inclusive('\n') {
        let lead = line.len() - line.trim_start_matches([' ', '\t']).len();
        let t = line.get(lead..).unwrap_or_default();
        if t.starts_with("```") || t.starts_with("~~~") {
            in_fence = !in_fence;
        }
        let marker = !in_fence
            && t.starts_with('#')
            && t.get(1..)
                .is_some_and(|r| r.is_empty() || r.starts_with([' ', '\t', '\r', '\n']));
        if marker {
            run.push(off + lead);
        } else {
            flush(&mut run, &mut comment_lines);
        }
        off += line.len();
    }
    flush(&mut run, &mut comment_lines);
    if comment_lines.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut bytes = text.as_bytes().to_vec();
    for at in comment_lines {
        if let Some(b) = bytes.get_mut(at) {
            *b = b' ';
        }
    }
    // Only ASCII '#' bytes were replaced by ASCII spaces.
    std::borrow::Cow::Owned(String::from_utf8(bytes).unwrap_or_else(|_| text.to_string()))
}
