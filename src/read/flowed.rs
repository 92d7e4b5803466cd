//! `format=flowed` text (RFC 3676) read back into the lines the writer typed.
//!
//! Thunderbird, Apple Mail, K-9 and Delta Chat send plain text as `format=flowed`:
//! a paragraph is cut into lines of about 72 characters, each ending in a space that
//! says "this line goes on"; a line that begins with a space, `>` or `From ` gets one
//! more space in front ("space-stuffing"). Read as it arrives, a long command line of a
//! proof of concept is split in two and an indented code line is shifted by one. This
//! module owns the decoding: soft breaks joined (with `DelSp=yes` the space that marks
//! them is dropped), stuffing removed, quote depth kept (`>` lines join only lines of
//! the same depth and come back as `> `), and the signature separator `-- ` left a
//! line of its own.

/// Decodes `text` (line ends `\n` or `\r\n`) from `format=flowed`; `delsp` is the
/// part's `DelSp=yes`. The result uses `\n` line ends.
pub fn unflow(text: &str, delsp: bool) -> String {
    let mut out = String::with_capacity(text.len());
    // The logical line being built: its quote depth and text so far.
    let mut open: Option<(usize, String)> = None;
    let finish = |out: &mut String, depth: usize, line: &str| {
        for _ in 0..depth {
            out.push('>');
        }
        if depth > 0 && !line.is_empty() {
            out.push(' ');
        }
        out.push_str(line);
        out.push('\n');
    };
    let ends_with_newline = text.ends_with('\n');
    let mut lines = text.split('\n').peekable();
    while let Some(raw) = lines.next() {
        if lines.peek().is_none() && raw.is_empty() && ends_with_newline {
            break; // the end of the last line, not a line
        }
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let depth = raw.bytes().take_while(|&b| b == b'>').count();
        let body = raw.get(depth..).unwrap_or_default();
        // Space-stuffing: one leading space was added by the writer.
        let body = body.strip_prefix(' ').unwrap_or(body);
        // A quote depth change ends the open line, whatever it said.
        if let Some((d, line)) = open.take_if(|(d, _)| *d != depth) {
            finish(&mut out, d, &line);
        }
        let flowed = body.ends_with(' ') && body != "-- ";
        let piece = if flowed && delsp {
            body.strip_suffix(' ').unwrap_or(body)
        } else {
            body
        };
        let (d, mut line) = open.take().unwrap_or((depth, String::new()));
        line.push_str(piece);
        if flowed {
            open = Some((d, line));
        } else {
            finish(&mut out, d, &line);
        }
    }
    if let Some((d, line)) = open {
        finish(&mut out, d, &line);
    }
    if !ends_with_newline && out.ends_with('\n') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::unflow;

    #[test]
    fn soft_breaks_join_and_hard_breaks_stay() {
        // A paragraph cut after spaces, then a short fixed line, as Thunderbird sends it.
        let t = "The upload handler of acme 2.4.1 writes the file name into the \r\n\
                 path unchecked.\r\nSteps:\r\n";
        assert_eq!(
            unflow(t, false),
            "The upload handler of acme 2.4.1 writes the file name into the path unchecked.\nSteps:\n"
        );
        // DelSp=yes (Apple Mail): the space that marks the break is not the text's.
        let t = "curl -s -X POST http://localhost:8080/api/upload -F \r\n'file=@x;filename=../../etc/cron.d/x'\r\n";
        assert_eq!(
            unflow(t, true),
            "curl -s -X POST http://localhost:8080/api/upload -F'file=@x;filename=../../etc/cron.d/x'\n"
        );
        assert_eq!(
            unflow(t, false),
            "curl -s -X POST http://localhost:8080/api/upload -F 'file=@x;filename=../../etc/cron.d/x'\n"
        );
    }

    #[test]
    fn stuffing_quotes_and_the_signature_separator() {
        // An indented code line is stuffed with one more space; "From " too.
        let t = "     if (len > sizeof(buf))\r\n From the logs:\r\n";
        assert_eq!(
            unflow(t, false),
            "    if (len > sizeof(buf))\nFrom the logs:\n"
        );
        // Quoted lines join within their depth and come back as "> ".
        let t =
            "> We still need the affected \r\n> versions.\r\n>> older \r\n>> text\r\nThanks\r\n";
        assert_eq!(
            unflow(t, false),
            "> We still need the affected versions.\n>> older text\nThanks\n"
        );
        // A flowed line followed by a deeper quote ends where the depth changes.
        let t = "my answer \r\n> quoted\r\n";
        assert_eq!(unflow(t, false), "my answer \n> quoted\n");
        // "-- " is the signature separator, not a soft break.
        let t = "Regards \r\nRita\r\n-- \r\nRita Reporter\r\n";
        assert_eq!(unflow(t, false), "Regards Rita\n-- \nRita Reporter\n");
    }

    #[test]
    fn text_that_is_not_flowed_reads_the_same() {
        for (t, want) in [
            ("", ""),
            ("one line", "one line"),
            ("a\nb\n", "a\nb\n"),
            ("a\r\n\r\nb\r\n", "a\n\nb\n"),
            (">quoted\nplain", "> quoted\nplain"),
        ] {
            assert_eq!(unflow(t, false), want, "{t:?}");
        }
        // A last line with a trailing space and no newline keeps its text.
        assert_eq!(unflow("ends flowed ", false), "ends flowed ");
    }
}
