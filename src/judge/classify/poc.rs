//! Proof of concept: code blocks (and whether they exploit or are the product's
//! own code, a workaround, a manifest), requests, commands, payloads, PoC sections
//! with concrete input, attachments that are exploits.

use super::*;

/// Whether a code block (starting at `start`, of language `lang`) reads as an exploit
/// or reproducer rather than the product's code, a configuration or an instruction:
/// the sentence before it and the block itself decide.
pub(super) fn code_is_exploit(text: &str, start: usize, lang: &str, content: &str) -> bool {
    if CONFIG_LANGS.contains(&lang) || INSTALL_CMD.is_match(content) {
        return false;
    }
    // The lead-in: the text since the previous blank line (at most 240 bytes).
    let before = text.get(..start).unwrap_or_default();
    let para = before.trim_end().rfind("\n\n").map_or(0, |i| i + 2);
    let from = para.max(start.saturating_sub(240));
    let from = char_start(text, from, start);
    let lead = text.get(from..start).unwrap_or_default();
    // Attacker input in the block wins over any lead-in.
    if PAYLOAD.is_match(content) || HTTP_REQUEST.is_match(content) {
        return true;
    }
    // The product's own code or configuration, whatever the lead-in says: a CI
    // workflow, or a block that opens with a comment naming its source file.
    if CI_WORKFLOW.is_match(content) || SOURCE_FILE_COMMENT.is_match(content) {
        return false;
    }
    !NOT_POC_LEAD.is_match(lead) && !SOURCE_LINK_LEAD.is_match(lead)
}

/// A CI workflow (GitHub Actions, GitLab CI): the project's configuration.
static CI_WORKFLOW: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?m)^[ \t-]*(?:runs-on|uses|run-name)[ \t]*:[ \t]*\S|^[ \t]*(?:stages|before_script)[ \t]*:|\$\{\{\s*(?:github|inputs|secrets|env|steps|matrix)\.",
    )
});

/// A first line naming the block's source file: `/* winpr/utils/trio/trio.c */`,
/// `// src/auth/login.js`, `libfreerdp/core/rdp.c:`, `lib/a.c:parse_header:`.
static SOURCE_FILE_COMMENT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\A\s*(?:(?:/\*|//|#)[ \t]*[\w./-]+\.(?:c|h|cc|cpp|hpp|java|kt|rb|py|js|ts|go|rs|php|cs|swift|scala|ya?ml)\b[^\n]{0,40}|[\w.-]*/[\w./-]+\.(?:c|h|cc|cpp|hpp|java|kt|rb|py|js|ts|go|rs|php|cs|swift|scala)(?::[\w:~]*)?)(?:\*/)?[ \t]*\r?\n",
    )
});

/// A lead-in that ends by pointing at the product's source ("… in
/// look_for_existing_users_sync <https://gitlab.example/…/gdm-display.c#L513>:"): the
/// block quotes that source.
static SOURCE_LINK_LEAD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?:https?://\S+(?:/blob/|/-/blob/|/tree/|/src/)\S*|\S+#L\d+(?:-L?\d+)?)[>)\]]*[ \t]*[:.]?\s*\z|\bexcerpt\b",
    )
});

pub(super) static HTTP_REQUEST: LazyLock<Regex> =
    LazyLock::new(|| re(r"\b(GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS)\s+\S*/\S*\s+HTTP/\d(\.\d)?"));
pub(super) static COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?im)(?:^|\$|`|:[ \t]|\b)[ \t]*(?:sudo[ \t]+)?(curl|wget)[ \t]+(?:-{1,2}\w|['"]?https?://)[^\n]*|(?:^|\$|`)[ \t]*https?[ \t]+(?:GET|POST|PUT|DELETE|PATCH|:\d|https?://)[^\n]*|(?:^|\$)[ \t]*(?-i:python3?|node|ruby|perl|php|bash|sh|nc|ncat|java|go run)[ \t]+[^\n]*\S|(?:^|\$|`)[ \t]*(?:sudo[ \t]+)?sqlmap[ \t]+-{1,2}\w[^\n]*"#,
    )
});
/// A command shown with the shell prompt it was typed at: a Windows console
/// (`C:\>sc qc AESTFilters`, `PS C:\Users\me\config> Get-Content server.xml`) or a Unix
/// one (`user@host:~$ ./exploit 10.0.0.1`). The transcript of a run reproduces it.
pub(super) static SHELL_PROMPT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?m)^[ \t]*(?:PS[ \t]+)?[A-Za-z]:\\(?:[^\n>]*[^ \t\n>-])?>[ \t]*[A-Za-z.\\][^\n]*|^[ \t]*[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+:[^\n$#]*[$#][ \t]+[^ \t\n][^\n]*",
    )
});

/// A command on a line of its own: a program and at least two options
/// (`dbus-send --print-reply --system --dest=org.blueman.Mechanism \`), anything run
/// with sudo (`sudo acmectl -e "x;id"`), or a local program run with arguments
/// (`$ ./tshark -nVxr crash.pcap`).
pub(super) static COMMAND_LINE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?m)^[ \t]*(?:\$[ \t]*)?(?:sudo[ \t]+)?(?:\./)?[a-z][A-Za-z0-9_.+-]+(?:[ \t]+--?[A-Za-z][A-Za-z0-9_-]*(?:=[^ \t\n]+)?){2,}[^\n]*|^[ \t]*(?:\$[ \t]*)?sudo[ \t]+(?:-[A-Za-z0-9_]+[ \t]+)*[a-z./][A-Za-z0-9_./+-]*[ \t]+[^ \t\n][^\n]*|(?:^|\$)[ \t]*\./[A-Za-z0-9_.-]+[ \t]+[^ \t\n][^\n]*",
    )
});

/// A request line on a line of its own, without the protocol version
/// (`GET .//WEB-INF/web.xml`, `POST /api/v1/users`).
pub(super) static REQUEST_LINE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?m)^[ \t]*(?:GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS)[ \t]+(?:https?://|\.{0,2}/)[^ \t\n]*[ \t]*\r?$",
    )
});

/// A command line in an inline code span: a command word and arguments, at least one
/// of them a flag or a path ("run `ls -l /tmp/export-*.sql` as another user",
/// "`./poc 127.0.0.1 8125`"). A bare name (`app export`, `copy_bytes`) is not one.
pub(super) static INLINE_COMMAND: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"`(?:\$[ \t]*)?(?:sudo[ \t]+)?(?:\./[\w.-]+|[a-z][\w.+-]{0,20})(?:[ \t]+[^`\s]+)*?[ \t]+(?:-{1,2}[A-Za-z][\w-]*|\.{0,2}/[^`\s]+)(?:[ \t]+[^`\s]+)*`",
    )
});
pub(super) static PAYLOAD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)<script\b[^\n]{0,80}|\bon(?:error|load|mouseover|focus|click)\s*=\s*[^\s>]{1,80}|javascript:[^\s"'<>]{1,80}|\balert\s*\([^\n)]{0,40}\)|'\s*or\s*'?1'?\s*=\s*'?1|\bunion(?:(?:\s|/\*[^*\n]{0,20}\*/)+all)?(?:\s|/\*[^*\n]{0,20}\*/)+select\b[^\n]{0,60}|[?&][\w\[\].-]{1,40}=(?:https?|ftp)://[^\s&]+\.(?:txt|php|sh|pl|py|js|gif)\b|(?:\.\./){2,}[^\s]{0,60}|(?:\.\.(?:%2f|%5c|\\)){2,}[^\s]{0,60}|%2e%2e%2f[^\s]{0,60}|\{\{\s*\d+\s*\*\s*\d+\s*\}\}|\$\{\s*\d+\s*\*\s*\d+\s*\}|\$\{jndi:[^\s}]{0,80}\}?|["'\[]__proto__["'\]]|__proto__\s*[.:\[]|;\s*drop\s+table\b[^\n]{0,40}|\bsleep\s*\(\s*\d+\s*\)|\b(?:load_file|benchmark|extractvalue|updatexml)\s*\(|\binto\s+(?:out|dump)file\b|\bwaitfor\s+delay\b|<!ENTITY\s+[^\n]{0,80}|\b169\.254\.169\.254\b[^\s]{0,60}|\bxp_cmdshell\b|\$\(\s*(?:id|whoami|touch|curl|wget)\b[^\n)]{0,60}\)|["'`][^\s"'`;]{0,12}[ \t]*(?:;|&&|\|\|)[ \t]*(?:/(?:usr/)?bin/)?(?:exit|echo|id|whoami|curl|wget|cat|touch|sleep|rm|ls|printenv|env)\b[^\n]{0,60}"#,
    )
});
pub(super) static CLAIMED: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:i|we)(?:'ve| have| had| got| wrote| developed| created| built| possess)\s+(?:a\s+|an\s+)?(?:fully\s+)?(?:working|functional|full|weaponi[sz]ed|reliable)?\s*(?:poc|exploit|proof[- ]of[- ]concept)\b[^\n.]{0,80}|\b(?:poc|exploit|proof[- ]of[- ]concept|(?:technical |full )?details)\s+(?:is|are|will be|can be)?\s*(?:available|provided|shared|disclosed|released|sent)\s+(?:up)?on\s+request\b|\b(?:poc|exploit|proof[- ]of[- ]concept)\s+(?:is|are)\s+to\s+be\s+(?:disclosed|released|published)[^\n.]{0,60}|\bbefore\s+(?:i|we)\s+(?:share|send|disclose|provide|reveal)\b[^\n.]{0,60}|\b(?:bounty|reward|payment)\b[^\n.]{0,60}\b(?:first|before (?:i|we))\b",
    )
});

/// Words just before a code block that say it is the product's own code, a
/// configuration, a workaround or an upgrade instruction: not a proof of concept.
pub(super) static NOT_POC_LEAD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)vulnerable code|(?:the|this) (?:following|affected|relevant|problematic) (?:code|function|method|snippet|lines?)|code (?:looks|will look|that looks)|source code|snippet (?:from|of)|(?:is|are) (?:implemented|defined)|implementation|\bin (?:the )?(?:file|source)\b|configur(?:e|ation)|initiali[sz]er|monkey[- ]?patch|workaround|to mitigate|mitigat|upgrade|install|(?:add|put|set) (?:the following|this)|dependency|dependencies|safe (?:code|usage|version)|instead|fixed code|patched code|correct(?:ed)? (?:code|usage)",
    )
});

/// Code block languages that are configuration or manifests, never an exploit.
pub(super) const CONFIG_LANGS: &[&str] = &[
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
pub(super) static INSTALL_CMD: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?im)^\s*\$?\s*(?:cargo (?:install|add|update)|gem (?:install|update)|bundle (?:update|install)|npm (?:install|i|update)|yarn (?:add|upgrade)|pip3? install|apt(?:-get)? (?:install|upgrade)|go get)\b",
    )
});

/// A PoC section needs something concrete: code, a request, a payload, a command, a
/// URL with a path or query (not a video or a file-sharing link), or inline code.
pub(super) static CONCRETE: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)```|`[^`\n]{3,}`|<[a-z]+[\s>]|\b(?:GET|POST|PUT) /"#));

/// A URL that carries input (a query, or characters an exploit uses), on a host that is
/// not a video or file-sharing site (a screencast link is not a reproducer).
pub(super) static INPUT_URL: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?i)https?://(?P<host>[^/\s)]+)[^\s)]*[?=&<>'"%][^\s)]*"#));
pub(super) const MEDIA_HOSTS: &[&str] = &[
    "youtube.com",
    "youtu.be",
    "vimeo.com",
    "drive.google.com",
    "loom.com",
    "imgur.com",
    "dropbox.com",
];

pub(super) fn concrete(body: &str) -> bool {
    CONCRETE.is_match(body)
        || INPUT_URL.captures_iter(body).any(|c| {
            let media = c.name("host").is_none_or(|h| {
                let h = h.as_str().to_ascii_lowercase();
                MEDIA_HOSTS
                    .iter()
                    .any(|m| h == *m || h.ends_with(&format!(".{m}")))
            });
            !media && !only_placeholders(c.get(0).map_or("", |m| m.as_str()))
        })
}

/// A URL whose parameters hold only placeholders (`?keyword=[SQL]`, `?id={sqli}`,
/// `?q=<payload>`): it says where the input goes, not what it is.
fn only_placeholders(url: &str) -> bool {
    static PLACEHOLDER: LazyLock<Regex> =
        LazyLock::new(|| re(r"^(?:\[[^\]]{1,30}\]|\{[^}]{1,30}\}|<[^>]{1,30}>|x+|\.\.\.)?$"));
    let Some((_, query)) = url.split_once('?') else {
        return false;
    };
    let values: Vec<&str> = query
        .split('&')
        .map(|kv| kv.split_once('=').map_or("", |(_, v)| v))
        .collect();
    !url.contains("..") && !url.contains('%') && values.iter().all(|v| PLACEHOLDER.is_match(v))
}

/// An inline code span calling a function, in a sentence that says it triggers the
/// bug (curl's advisories: "`curl_url_set(uh, CURLUPART_URL, "string", 0);` triggers the bug").
pub(super) static INLINE_TRIGGER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)`[^`\n]{0,80}\w\([^`\n)]{2,}\)[^`\n]{0,20}`[^.\n]{0,40}\b(?:trigger|crash|reproduc|exploit|overflow)\w*|\b(?:trigger|crash|reproduc|exploit)\w*[^.\n]{0,60}`[^`\n]{0,80}\w\([^`\n)]{2,}\)[^`\n]{0,20}`",
    )
});

pub(super) fn attachment_is_poc(name: &str, content_type: &str) -> Option<&'static str> {
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

/// A token holding percent-encoded bytes (a crafted link or parameter).
static ENCODED: LazyLock<Regex> = LazyLock::new(|| re(r"[^\s<>\x22]*%[0-9A-Fa-f]{2}[^\s<>\x22]*"));

/// `%XX` decoded (lossily, as the server would read it); other bytes kept.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = |j: usize| b.get(j).and_then(|&h| (h as char).to_digit(16));
        match (c, hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The proof of concept: what in the report reproduces the issue (or only claims to).
pub(super) fn find_poc(docs: &[Doc<'_>], input: &Input<'_>) -> Poc {
    let mut poc_ev: Vec<Evidence> = Vec::new();
    for doc in docs.iter().skip(1) {
        // Blocks that are the product's code or configuration: what the line rules
        // below find inside them (a `run: sh ./autogen.sh` step) is not the reporter's.
        let mut not_poc: Vec<(usize, usize)> = Vec::new();
        for b in &doc.fenced {
            let content = doc
                .text
                .get(b.content_start..b.content_end)
                .unwrap_or_default()
                .trim();
            if content.is_empty() {
                continue;
            }
            let in_fix = section_at(&doc.sections, b.start)
                .is_some_and(|s| FIX_HEADING.is_match(&s.heading));
            let is_diff = b.lang == "diff"
                || content
                    .lines()
                    .filter(|l| l.starts_with('+') || l.starts_with('-') || l.starts_with("@@"))
                    .count()
                    * 2
                    > content.lines().count();
            if in_fix || is_diff || !code_is_exploit(doc.text, b.start, &b.lang, content) {
                not_poc.push((b.start, b.end));
                continue;
            }
            poc_ev.push(evidence(doc, b.start, b.end, "code-block"));
        }
        for &(s, e) in &doc.indented {
            let in_fix =
                section_at(&doc.sections, s).is_some_and(|sec| FIX_HEADING.is_match(&sec.heading));
            let content = doc.text.get(s..e).unwrap_or_default();
            if !in_fix && code_is_exploit(doc.text, s, "", content) {
                poc_ev.push(evidence(doc, s, e, "indented-code"));
            }
        }
        for (rule, rx) in [
            ("http-request", &*HTTP_REQUEST),
            ("command", &*COMMAND),
            ("shell-prompt", &*SHELL_PROMPT),
            ("command-line", &*COMMAND_LINE),
            ("request-line", &*REQUEST_LINE),
            ("inline-command", &*INLINE_COMMAND),
            ("payload", &*PAYLOAD),
            ("inline-call-triggers", &*INLINE_TRIGGER),
        ] {
            for m in rx.find_iter(doc.text).take(MAX_MATCHES) {
                // A command or payload inside a Fix/Workaround section is a remedy.
                let in_fix = section_at(&doc.sections, m.start())
                    .is_some_and(|sec| FIX_HEADING.is_match(&sec.heading));
                let install = matches!(rule, "command" | "command-line" | "inline-command")
                    && INSTALL_CMD.is_match(m.as_str().trim_start_matches(['`', '$', ' ']));
                let quoted_code = rule != "payload"
                    && not_poc.iter().any(|&(s, e)| m.start() >= s && m.end() <= e);
                // The line rules added for plain-text advisories repeat nothing an
                // earlier rule already holds (a curl line is a `command` already).
                let repeated = matches!(rule, "shell-prompt" | "command-line" | "request-line")
                    && poc_ev.iter().any(|e| {
                        e.location == doc.location && e.start < m.end() && m.start() < e.end
                    });
                if in_fix || install || quoted_code || repeated {
                    continue;
                }
                poc_ev.push(evidence(doc, m.start(), m.end(), rule));
            }
        }
        // A payload percent-encoded in a link ("…?AuthenticatorUri=%22%3E%3Cscript%3E…"),
        // where no other rule already took that text.
        for m in ENCODED.find_iter(doc.text).take(MAX_MATCHES) {
            let covered = poc_ev
                .iter()
                .any(|e| e.location == doc.location && e.start < m.end() && e.end > m.start());
            let in_fix = section_at(&doc.sections, m.start())
                .is_some_and(|sec| FIX_HEADING.is_match(&sec.heading));
            if !covered && !in_fix && PAYLOAD.is_match(&percent_decode(m.as_str())) {
                poc_ev.push(evidence(doc, m.start(), m.end(), "encoded-payload"));
            }
        }
        for s in &doc.sections {
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
    for doc in docs {
        for m in CLAIMED.find_iter(doc.text).take(MAX_MATCHES) {
            claimed_ev.push(evidence(doc, m.start(), m.end(), "claimed"));
        }
    }
    if !poc_ev.is_empty() {
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
    }
}
