//! The document model the rules read: each located text of a report (the subject,
//! the body, readable attachments) with its sections (Markdown and `Label:` headings),
//! its code blocks (fenced, with their language, and indented), and — for the body —
//! quoted earlier mail and the signature already blanked, and the markers of lines
//! kept behind `#` comment markers (Exploit-DB's header) blanked. Built once per report by
//! [`documents`]; every rule (`poc`, `versions`, `impact`, `steps`, `fix`, `ids`, `low_effort`) reads these
//! structures instead of finding sections and blocks again.

use super::*;

/// One located piece of text, and its structure.
pub(super) struct Doc<'a> {
    /// `subject`, `body`, or `attachment:NAME` (the evidence location).
    pub(super) location: String,
    pub(super) text: &'a str,
    pub(super) sections: Vec<Section>,
    /// Fenced code blocks (```` ``` ```` or `~~~`), with their language.
    pub(super) fenced: Vec<CodeBlock>,
    /// Indented code blocks: byte ranges.
    pub(super) indented: Vec<(usize, usize)>,
}

impl<'a> Doc<'a> {
    pub(super) fn new(location: String, text: &'a str) -> Doc<'a> {
        let fenced = fenced_blocks(text);
        // Indented lines inside a fenced block are that block's, not a block of their own.
        let indented = indented_blocks(text)
            .into_iter()
            .filter(|&(s, e)| !fenced.iter().any(|b| s < b.end && e > b.start))
            .collect();
        Doc {
            location,
            sections: sections(text),
            fenced,
            indented,
            text,
        }
    }

    /// Byte ranges of every code block, fenced or indented.
    pub(super) fn code_ranges(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.fenced
            .iter()
            .map(|b| (b.start, b.end))
            .chain(self.indented.iter().copied())
    }
}

/// The documents of a report, subject first, then the body (`masked_body`: quoted
/// mail and signature blanked by [`mask_quotes_and_signature`]), then every attachment
/// that is text or a PoC file.
pub(super) fn documents<'a>(input: &'a Input<'a>, masked_body: &'a str) -> Vec<Doc<'a>> {
    let mut docs = vec![
        Doc::new("subject".into(), input.subject),
        Doc::new("body".into(), masked_body),
    ];
    for a in &input.attachments {
        if let Ok(t) = std::str::from_utf8(a.data)
            && (a.content_type.starts_with("text/")
                || a.name
                    .is_some_and(|n| attachment_is_poc(n, a.content_type).is_some()))
        {
            docs.push(Doc::new(
                format!("attachment:{}", a.name.unwrap_or("(unnamed)")),
                t,
            ));
        }
    }
    docs
}

pub(super) struct CodeBlock {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) content_start: usize,
    pub(super) content_end: usize,
    pub(super) lang: String,
}

pub(super) fn fenced_blocks(text: &str) -> Vec<CodeBlock> {
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

/// Indented code blocks: a blank line, then ≥1 lines indented by 4+ spaces or a tab with code-ish characters.
pub(super) fn indented_blocks(text: &str) -> Vec<(usize, usize)> {
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
