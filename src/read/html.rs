//! HTML bodies as text: what a reader of the rendered mail sees, line by line.
//!
//! Reports arrive as HTML-only mail (Proton Mail's composer, Outlook, webmail with an
//! encryption extension), and what the classifier needs survives only if the
//! structure does: a `<pre>` proof of concept keeps its lines (fenced with "```", so
//! the classifier reads it as the code block it was), `<ol>` steps keep
//! their numbers, a `<h2>Impact</h2>` stays a heading, and paragraphs, list items and
//! table rows do not run into each other. This module owns that reading and nothing
//! else: no network, no images, no scripts, no styles (their content is dropped), no
//! attempt at layout beyond line breaks.
//!
//! mail-parser's own `html_to_text` breaks lines only at `<br>` and `</p>` and folds
//! the whitespace of `<pre>`, so a multi-line script in a `<pre>` became one line.

/// The text of an HTML document or fragment.
pub fn to_text(html: &str) -> String {
    let mut w = Writer::default();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        w.text(rest.get(..lt).unwrap_or_default());
        rest = rest.get(lt..).unwrap_or_default();
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after
                .find("-->")
                .map_or("", |e| after.get(e + 3..).unwrap_or_default());
            continue;
        }
        let end = match tag_end(rest) {
            TagEnd::At(end) => end,
            TagEnd::NotATag => {
                // A '<' that opens no tag ("a < b") is text.
                w.text("<");
                rest = rest.get(1..).unwrap_or_default();
                continue;
            }
            TagEnd::Never => {
                // No '>' ends this tag before the end of the input: what is left is text
                // (and is scanned once, not again from every later '<').
                w.text(rest);
                rest = "";
                break;
            }
        };
        let tag = rest.get(1..end).unwrap_or_default();
        rest = rest.get(end + 1..).unwrap_or_default();
        if let Some(skip) = w.tag(tag) {
            // <script>, <style>, <head>, <template>, <title>: drop up to the closing tag.
            rest = skip_to_close(rest, skip);
        }
    }
    w.text(rest);
    w.finish()
}

enum TagEnd {
    /// The tag's '>'.
    At(usize),
    /// The '<' does not start a tag ("a < b").
    NotATag,
    /// A tag starts, and nothing before the end of the input closes it.
    Never,
}

/// Where the tag opened at the start of `s` ends (its '>'), quotes respected.
fn tag_end(s: &str) -> TagEnd {
    let b = s.as_bytes();
    let Some(&first) = b.get(1) else {
        return TagEnd::NotATag;
    };
    if !(first.is_ascii_alphabetic() || first == b'/' || first == b'!' || first == b'?') {
        return TagEnd::NotATag;
    }
    let mut quote = None;
    for (i, &c) in b.iter().enumerate().skip(1) {
        match (quote, c) {
            (None, b'"' | b'\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, b'>') => return TagEnd::At(i),
            _ => {}
        }
    }
    TagEnd::Never
}

/// The text after the closing tag `</name>` (case-insensitive), or nothing. Reads only
/// up to that tag, so many `<style>` elements cost the input once, not once each.
fn skip_to_close<'a>(s: &'a str, name: &str) -> &'a str {
    let mut from = 0;
    while let Some(p) = s.get(from..).and_then(|r| r.find("</")) {
        let at = from + p + 2;
        let is_close = s
            .as_bytes()
            .get(at..at + name.len())
            .is_some_and(|n| n.eq_ignore_ascii_case(name.as_bytes()))
            && !s
                .as_bytes()
                .get(at + name.len())
                .is_some_and(u8::is_ascii_alphanumeric);
        if is_close {
            let after = s.get(at..).unwrap_or_default();
            return after
                .find('>')
                .map_or("", |e| after.get(e + 1..).unwrap_or_default());
        }
        from = at;
    }
    ""
}

/// Nesting shown at most this deep (quote marks, list indents): every line of a
/// deeper nesting would cost its depth again, and a hostile message nests thousands
/// of levels to turn a few kilobytes into gigabytes.
const MAX_DEPTH: usize = 8;

#[derive(Default)]
struct Writer {
    out: String,
    /// Inside `<pre>` (nesting depth): whitespace is kept.
    pre: usize,
    /// Open lists, innermost last: `Some(n)` an ordered list at item n, `None` bullets.
    lists: Vec<Option<u32>>,
    /// A space is due before the next word (collapsed whitespace).
    space: bool,
    /// Inside `<blockquote>` (nesting depth): each line starts with "> " per level, the
    /// way a quoted reply reads in plain text (the classifier leaves quoted mail out).
    quote: usize,
    /// An open `<a href>`: its target and where its text starts in `out`.
    link: Option<(String, usize)>,
    /// The open `<pre>`'s fence: where its "```" line starts and where a language
    /// name would go (right after the backticks).
    fence: Option<(usize, usize)>,
    /// Fenced `<pre>` blocks written: (opening line start, opening line end, closing
    /// line start, closing line end) in `out`.
    fences: Vec<(usize, usize, usize, usize)>,
}

impl Writer {
    fn text(&mut self, raw: &str) {
        if raw.is_empty() {
            return;
        }
        let decoded = decode_entities(raw);
        if self.pre > 0 {
            let text = decoded.replace("\r\n", "\n").replace('\r', "\n");
            for (i, line) in text.split('\n').enumerate() {
                if i > 0 {
                    self.out.push('\n');
                }
                if !line.is_empty() {
                    self.quote_prefix();
                    self.out.push_str(line);
                }
            }
            self.space = false;
            return;
        }
        for (i, word) in decoded.split(|c: char| c.is_whitespace()).enumerate() {
            if i > 0 {
                self.space = true;
            }
            if word.is_empty() {
                continue;
            }
            if self.space && !self.at_line_start() {
                self.out.push(' ');
            }
            self.space = false;
            self.quote_prefix();
            self.out.push_str(word);
        }
    }

    /// At the start of a line inside a blockquote: its "> " marks.
    fn quote_prefix(&mut self) {
        if self.quote > 0 && self.at_line_start() {
            self.out.push_str(&"> ".repeat(self.quote.min(MAX_DEPTH)));
        }
    }

    fn at_line_start(&self) -> bool {
        self.out.is_empty() || self.out.ends_with('\n')
    }

    /// End the current line (no empty line).
    fn line(&mut self) {
        if !self.at_line_start() {
            self.out.push('\n');
        }
        self.space = false;
    }

    /// End the current paragraph: one empty line.
    fn para(&mut self) {
        self.line();
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    /// Applies a tag (the text between '<' and '>'). Returns the element whose content
    /// is to be skipped, if any.
    fn tag(&mut self, tag: &str) -> Option<&'static str> {
        let (close, body) = match tag.strip_prefix('/') {
            Some(b) => (true, b),
            None => (false, tag),
        };
        let name: String = body
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match name.as_str() {
            "script" | "style" | "head" | "template" | "title" if !close => {
                return ["script", "style", "head", "template", "title"]
                    .into_iter()
                    .find(|n| *n == name);
            }
            "br" => {
                self.out.push('\n');
                self.space = false;
            }
            // A link's target is part of what the sender wrote (a proof of concept is often
            // a crafted URL behind "click here"): written after its text, as plain-text
            // mail clients render links, unless the text already is the target.
            "a" if !close => self.link = href(body).map(|h| (h, self.out.len())),
            "a" => {
                if let Some((target, start)) = self.link.take() {
                    let text = self.out.get(start..).unwrap_or_default().trim();
                    if text != target && text.trim_end_matches('/') != target.trim_end_matches('/')
                    {
                        self.out.push_str(&format!(" <{target}>"));
                    }
                }
            }
            // Preformatted text is fenced as a code block ("```"), so that what the
            // sender marked as code (a script, a request, a payload) reads as code.
            "pre" => {
                if close {
                    self.line();
                    self.pre = self.pre.saturating_sub(1);
                    if self.pre == 0 {
                        self.close_fence();
                    }
                } else {
                    self.para();
                    if self.pre == 0 {
                        self.quote_prefix();
                        let start = self.out.len();
                        self.out.push_str("```");
                        self.fence = Some((start, self.out.len()));
                        self.out.push('\n');
                        self.language(body);
                    }
                    self.pre += 1;
                }
            }
            // `<pre><code class="language-python">`: the block's language.
            "code" if !close && self.pre > 0 => self.language(body),
            // Inline code outside a block reads as Markdown writes it: `like this`.
            "code" | "kbd" | "samp" | "tt" if self.pre == 0 => {
                if close {
                    self.out.push('`');
                } else {
                    if self.space && !self.at_line_start() {
                        self.out.push(' ');
                    }
                    self.space = false;
                    self.quote_prefix();
                    self.out.push('`');
                }
            }
            "blockquote" => {
                self.para();
                if close {
                    self.quote = self.quote.saturating_sub(1);
                } else {
                    self.quote += 1;
                }
            }
            "p" | "table" | "hr" | "dl" => self.para(),
            "ul" | "ol" => {
                if close {
                    self.lists.pop();
                    if self.lists.is_empty() {
                        self.para();
                    } else {
                        self.line();
                    }
                } else {
                    if self.lists.is_empty() {
                        self.para();
                    } else {
                        self.line();
                    }
                    self.lists.push((name == "ol").then_some(0));
                }
            }
            "li" => {
                self.line();
                if !close {
                    self.quote_prefix();
                    let marker = match self.lists.last_mut() {
                        Some(Some(n)) => {
                            *n += 1;
                            format!("{n}. ")
                        }
                        _ => "- ".to_string(),
                    };
                    let indent = "   ".repeat(self.lists.len().saturating_sub(1).min(MAX_DEPTH));
                    self.out.push_str(&indent);
                    self.out.push_str(&marker);
                }
            }
            h if heading_level(h).is_some() => {
                self.para();
                if !close {
                    self.quote_prefix();
                    let level = heading_level(h).unwrap_or(1);
                    self.out.push_str(&"#".repeat(level));
                    self.out.push(' ');
                }
            }
            "div" | "tr" | "dt" | "dd" | "section" | "article" | "header" | "footer"
            | "address" | "figure" | "caption" | "center" => self.line(),
            "td" | "th" if !close => {
                if !self.at_line_start() {
                    self.out.push_str(" | ");
                }
                self.space = false;
            }
            _ => {}
        }
        None
    }

    /// A `class="language-x"` on the tag that opens a fenced block names its language
    /// (only before any of the block's text).
    fn language(&mut self, tag: &str) {
        let Some((_, lang_at)) = self.fence else {
            return;
        };
        if self.out.len() != lang_at + 1 {
            return;
        }
        let lower = tag.to_ascii_lowercase();
        let Some(at) = lower.find("language-") else {
            return;
        };
        let lang: String = lower
            .get(at + 9..)
            .unwrap_or_default()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '#' | '-' | '_'))
            .take(20)
            .collect();
        self.out.insert_str(lang_at, &lang);
        self.fence = Some((lang_at - 3, lang_at + lang.len()));
    }

    /// Ends the open fenced block; an empty one, or one holding OpenPGP armor (which is
    /// read and replaced by its plaintext later), is not fenced after all.
    fn close_fence(&mut self) {
        let Some((start, end)) = self.fence.take() else {
            return;
        };
        let inner = self.out.get(end..).unwrap_or_default();
        if inner.trim().is_empty() || inner.contains("-----BEGIN PGP ") {
            let to = (end + 1).min(self.out.len());
            self.out.replace_range(start..to, "");
            return;
        }
        self.line();
        self.quote_prefix();
        let close_start = self.out.len();
        self.out.push_str("```");
        self.fences
            .push((start, end + 1, close_start, self.out.len()));
        self.para();
    }

    fn finish(mut self) -> String {
        // A fence left open by a missing </pre> is closed; a single fenced block that
        // holds most of the text (a plain-text body sent as one <pre>) is the message,
        // not code in it, and is not fenced.
        if self.pre > 0 {
            self.close_fence();
        }
        if let [(open_start, open_end, close_start, close_end)] = self.fences[..] {
            let inside = self
                .out
                .get(open_end..close_start)
                .unwrap_or_default()
                .chars()
                .filter(|c| !c.is_whitespace())
                .count();
            let all = self.out.chars().filter(|c| !c.is_whitespace()).count();
            if inside * 10 >= all * 7 {
                self.out.replace_range(close_start..close_end, "");
                self.out.replace_range(open_start..open_end, "");
            }
        }
        let mut out = String::with_capacity(self.out.len());
        let mut blank = 0;
        for line in self.out.lines() {
            let line = line.trim_end();
            if line.is_empty() {
                blank += 1;
                if blank > 1 || out.is_empty() {
                    continue;
                }
            } else {
                blank = 0;
            }
            out.push_str(line);
            out.push('\n');
        }
        while out.ends_with('\n') {
            out.pop();
        }
        out
    }
}

/// The `href` of an `<a …>` tag's text, when it is a web link.
fn href(tag: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let at = lower.find("href")?;
    let rest = tag
        .get(at + 4..)?
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let value = match rest.chars().next()? {
        q @ ('"' | '\'') => rest.get(1..)?.split(q).next()?,
        _ => rest.split(|c: char| c.is_whitespace() || c == '>').next()?,
    };
    let value = decode_entities(value).trim().to_string();
    let scheme = value.get(..8).unwrap_or(&value).to_ascii_lowercase();
    (scheme.starts_with("http://") || scheme.starts_with("https://")).then_some(value)
}

/// `h1`…`h6` → 1…6.
fn heading_level(name: &str) -> Option<usize> {
    let digit = name.strip_prefix('h')?;
    match digit.parse::<usize>() {
        Ok(n @ 1..=6) if digit.len() == 1 => Some(n),
        _ => None,
    }
}

/// Character references: numeric (`&#39;`, `&#x27;`) and the named ones mail
/// composers write. An unknown or malformed reference stays as written.
fn decode_entities(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('&') {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        rest = rest.get(amp..).unwrap_or_default();
        let semi = rest.get(..12.min(rest.len())).and_then(|w| w.find(';'));
        let decoded = semi.and_then(|e| entity(rest.get(1..e).unwrap_or_default()));
        match (semi, decoded) {
            (Some(e), Some(c)) => {
                out.push(c);
                rest = rest.get(e + 1..).unwrap_or_default();
            }
            _ => {
                out.push('&');
                rest = rest.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code).filter(|c| *c != '\0');
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "ensp" | "emsp" | "thinsp" => ' ',
        "ndash" => '–',
        "mdash" => '—',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "hellip" => '…',
        "bull" => '•',
        "middot" => '·',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "laquo" => '«',
        "raquo" => '»',
        "times" => '×',
        "shy" => '\u{ad}',
        "zwnj" => '\u{200c}',
        "zwj" => '\u{200d}',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::to_text;

    #[test]
    fn preformatted_code_keeps_its_lines_in_a_fenced_block() {
        let html = "<p>Run this:</p><pre>import socket\n  s = socket.socket()\n\ts.send(b&quot;x&quot;)</pre><p>Impact: a crash.</p>";
        assert_eq!(
            to_text(html),
            "Run this:\n\n```\nimport socket\n  s = socket.socket()\n\ts.send(b\"x\")\n```\n\nImpact: a crash."
        );
        // A highlighted block (GitHub's and Jekyll's markup) keeps its language and loses
        // its highlighting spans.
        let html = "<p>PoC:</p><div class=\"language-js highlighter-rouge\"><div class=\"highlight\"><pre class=\"highlight\"><code class=\"language-js\"><span class=\"kd\">var</span> <span class=\"nx\">u</span> <span class=\"o\">=</span> <span class=\"nx\">require</span>(<span class=\"s1\">'x'</span>);\n<span class=\"nx\">u</span>.<span class=\"nx\">set</span>({}, <span class=\"s1\">'a;Function()()'</span>);\n</code></pre></div></div><p>It loops.</p>";
        assert_eq!(
            to_text(html),
            "PoC:\n\n```js\nvar u = require('x');\nu.set({}, 'a;Function()()');\n```\n\nIt loops."
        );
        // Armor in a <pre> is read (and replaced by its plaintext) later: not fenced.
        let html = "<p>Report:</p><pre>-----BEGIN PGP MESSAGE-----\n\nwV4D\n-----END PGP MESSAGE-----</pre><p>Thanks</p>";
        assert_eq!(
            to_text(html),
            "Report:\n\n-----BEGIN PGP MESSAGE-----\n\nwV4D\n-----END PGP MESSAGE-----\n\nThanks"
        );
        // A plain-text body sent as one <pre> is the message, not a code block in it.
        let html = "<pre>Hello,\n\nthe login form of acme 2.4.1 takes any password.\nSteps: log in as admin with password x.\n\nRita</pre><p>--</p>";
        assert_eq!(
            to_text(html),
            "Hello,\n\nthe login form of acme 2.4.1 takes any password.\nSteps: log in as admin with password x.\n\nRita\n\n--"
        );
        // Inline code reads as Markdown's code spans.
        assert_eq!(
            to_text("<p>Run <code>ls -l /tmp/export-*.sql</code> as <kbd>bob</kbd>.</p>"),
            "Run `ls -l /tmp/export-*.sql` as `bob`."
        );
        // An unclosed <pre> still ends its fence; an empty one leaves nothing.
        assert_eq!(
            to_text("<p>a b c d e f g h</p><pre>x()"),
            "a b c d e f g h\n\n```\nx()\n```"
        );
        assert_eq!(to_text("<p>a</p><pre> </pre><p>b</p>"), "a\n\nb");
    }

    #[test]
    fn lists_keep_numbers_and_blocks_do_not_run_together() {
        let html = "<div>Steps</div><ol><li>Log in as A.</li><li>Open <b>/invoices/1</b>\n as B.</li></ol><ul><li>one</li><li>two<ol><li>nested</li></ol></li></ul><div>Done</div>";
        assert_eq!(
            to_text(html),
            "Steps\n\n1. Log in as A.\n2. Open /invoices/1 as B.\n\n- one\n- two\n   1. nested\n\nDone"
        );
    }

    #[test]
    fn headings_tables_entities_and_what_is_not_shown() {
        let html = "<html><head><title>x</title><style>p{color:red}</style></head><body>\
            <h2>Impact</h2><p>Any user&nbsp;can read &lt;other&gt; users&#39; files &amp; more &unknown; &#x1F600;</p>\
            <script>alert(1)</script><!-- a comment <p>hidden</p> -->\
            <table><tr><th>version</th><th>affected</th></tr><tr><td>2.4.1</td><td>yes</td></tr></table>\
            a < b</body></html>";
        assert_eq!(
            to_text(html),
            "## Impact\n\nAny user can read <other> users' files & more &unknown; 😀\n\nversion | affected\n2.4.1 | yes\n\na < b"
        );
    }

    #[test]
    fn armor_split_by_line_breaks_comes_back_as_lines() {
        let html = "<div dir=\"ltr\">-----BEGIN PGP MESSAGE-----<br><br>wV4DKMS4<br>=abcd<br>-----END PGP MESSAGE-----<br></div>";
        assert_eq!(
            to_text(html),
            "-----BEGIN PGP MESSAGE-----\n\nwV4DKMS4\n=abcd\n-----END PGP MESSAGE-----"
        );
    }

    #[test]
    fn a_quoted_reply_reads_as_quoted_lines() {
        let html = "<div>Here is the PoC you asked for.</div><div class=\"gmail_quote\"><div>On Mon, 30 Nov 2026, security@example.test wrote:<br></div>\
            <blockquote class=\"gmail_quote\"><div>Case: SEC-2026-0001</div><ul><li>a proof of concept</li></ul><pre>code\nmore</pre><blockquote>older</blockquote></blockquote></div>";
        assert_eq!(
            to_text(html),
            "Here is the PoC you asked for.\nOn Mon, 30 Nov 2026, security@example.test wrote:\n\n> Case: SEC-2026-0001\n\n> - a proof of concept\n\n> ```\n> code\n> more\n> ```\n\n> > older"
        );
    }

    #[test]
    fn a_links_target_follows_its_text_unless_it_is_the_text() {
        let html = "<p>Open <a href=\"https://shop.test/search?q=%3Cscript%3Ealert(1)%3C/script%3E&amp;x=1\">this link</a> as admin.</p>\
            <p><a href='https://shop.test/a'>https://shop.test/a</a> and <a href=\"mailto:x@example.org\">mail</a> and <a name=top>top</a></p>";
        assert_eq!(
            to_text(html),
            "Open this link <https://shop.test/search?q=%3Cscript%3Ealert(1)%3C/script%3E&x=1> as admin.\n\nhttps://shop.test/a and mail and top"
        );
    }

    #[test]
    fn deep_nesting_does_not_multiply_the_text() {
        let html = format!(
            "{}{}",
            "<blockquote><ul><li>".repeat(5000),
            "x<br>".repeat(5000)
        );
        let text = to_text(&html);
        assert!(
            text.len() < 4 * html.len(),
            "{} from {}",
            text.len(),
            html.len()
        );
        assert!(text.contains(&format!("{}x", "> ".repeat(8))));
    }

    #[test]
    fn unterminated_markup_loses_nothing_before_it() {
        assert_eq!(
            to_text("text <b>bold</b> <a href=\"x>"),
            "text bold <a href=\"x>"
        );
        assert_eq!(to_text("before<!-- never closed"), "before");
        assert_eq!(to_text("before<script>never closed"), "before");
        // Once no tag can end, the rest is text: "<b>" after an open quote is not read
        // again from every later '<'.
        assert_eq!(
            to_text("a <i title=\"x <b>c</b>"),
            "a <i title=\"x <b>c</b>"
        );
        assert_eq!(
            to_text("<STYLE>p{}</Style>shown<style>q{}</stylesheet>x</STYLE>too"),
            "showntoo"
        );
    }
}
