//! Impact: weakness classes, impact statements, stated and CVSS severities, the
//! estimate when neither is given, and CVSS scoring.

use super::*;

pub(super) const CLASSES: &[(&str, &str)] = &[
    (
        "rce",
        r"(?i)remote code execution|\brce\b|arbitrary (?:code|command)s?(?: execution)?|(?:code|command) (?:execution|injection)|execute (?:arbitrary|malicious|any) (?:code|commands?)|\bos command\b|code injection|sandbox (?:escape|bypass)|escape the sandbox|template injection|\bssti\b|reverse shell|\bweb ?shell\b|\b(?:php|jsp|aspx?|malicious|uploaded|attacker's|attacker-controlled) (?:[\w-]+ )?(?:script|code|shell|payload|file)s? (?:will|would|is|are|gets?|can) (?:be )?(?:executed|run)\b",
    ),
    (
        "sqli",
        r"(?i)sql injection|\bsqli\b|union(?:\s|/\*[^*\n]{0,20}\*/)+(?:all(?:\s|/\*[^*\n]{0,20}\*/)+)?select|'\s*or\s*'?1'?\s*=\s*'?1",
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
        r"(?i)\bidor\b|insecure direct object|broken access control|missing authori[sz]ation|other (?:users|customers)'|\b(?:any|every) other (?:user|customer|tenant)'s\b|without (?:the )?(?:required )?permission|not within their",
    ),
    (
        "info-disclosure",
        r"(?i)information disclosure|info(?:rmation)? leak|sensitive (?:data|information)|\b(?:personal )?data (?:disclosure|exposure|leak(?:s|age)?)\b|\bleak(?:s|ed|ing|age)?\b|expos(?:es|ed|ure) (?:of )?(?:sensitive|the|credentials|tokens?|secrets?)|disclos(?:e|es|ure) of",
    ),
    (
        "dos",
        r"(?i)denial[- ]of[- ]service|\bdos\b|\bcrash(?:es|ed)?\b|\bsegmentation faults?\b|\bsegfaults?\b|\bSIGSEGV\b|resource exhaustion|consume (?:significant|large|very large|excessive|unbounded)|infinite loop|memory exhaustion|out of memory|indefinite(?:ly)? block|\b(?:potential|remote|unexpected|reachable)\s+panic\b|\bpanics?\s+(?:on|when|while)\b|\b(?:can|could|may|might|will|to)\s+panic\b|\b(?:cause|causes|caused|causing|trigger|triggers|triggering|leads?\s+to|results?\s+in)\s+(?:a\s+|an\s+)?panic",
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

pub(super) static CLASS_RES: LazyLock<Vec<(&'static str, Regex)>> =
    LazyLock::new(|| CLASSES.iter().map(|(n, p)| (*n, re_wrapped(p))).collect());

/// Weakness classes that say what is wrong but not what an attacker gains.
pub(super) const WEAKNESS_ONLY: &[&str] = &[
    "race-condition",
    "prototype-pollution",
    "memory-corruption",
    "weak-crypto",
];

pub(super) static IMPACT_PHRASE: LazyLock<Regex> = LazyLock::new(|| {
    re_wrapped(
        r"(?i)\bimpact\s*:|\b(?:allow|allows|allowed|allowing|enable|enables|enabled|enabling|permit|permits|permitted|let|lets)\s+(?:an?\s+|the\s+|any\s+|some\s+|other\s+)?(?:[\w-]+\s+){0,2}(?:attackers?|users?|adversar(?:y|ies)|clients?|hackers?|actors?|editors?|visitors?|them|anyone|one)\b|\b(?:attackers?|adversar(?:y|ies)|hackers?)\s+(?:can|could|may|might|is able to|are able to|would be able to)\b|\b(?:could|can|may|might|would|will)\s+(?:potentially\s+)?(?:lead|result|allow|cause|be (?:used|abused|exploited|leveraged))\b|\bleads?\s+to\b|\bresult(?:s|ing)?\s+in\b|\bloss of\b|\bopen(?:s|ing)? up\b|\bmade it possible\b|\bit (?:is|was) possible (?:for|to)\b|\b(?:could|can)\s+(?:change|create|delete|modify|read|write|access|execute|run|obtain|steal|inject|escalate|impersonate|forge|spoof|bypass|crash|exhaust|take over|hijack)\b|\b(?:is|are)\s+vulnerable\s+to\s+(?:cross|remote|sql|server|arbitrary|denial|command|code)|\b(?:malicious|untrusted)\s+(?:user|actor|party|repository|input|server|client)s?\s+(?:can|could|may|might)\b|\battacker[- ]controlled\b|\bcontents? of arbitrary\b|\b(?:was|were|is|are)\s+able\s+to\b|\ballow(?:s|ed|ing)?\s+(?:to|for)\s+(?:read|write|access|execute|modify|delete|view|obtain|bypass|restore|change|create|upload|download|list|enumerate|inject|corrupt|overwrite|crash|leak)\w*\b|\brevealing\b|\bgain(?:s|ed|ing)?\s+(?:knowledge|access|control|privileges?|information)\b|\bcaus(?:e|es|ed|ing)\b[^.\n]{0,80}\b(?:to\s+(?:block|hang|crash|leak|exit|abort|be\s+(?:printed|logged|exposed|written|disclosed|leaked))|denial of service)\b|\b(?:sensitive|secret|private|confidential)\s+(?:values?|data|information|files?|tokens?|keys?|outputs?)\b[^.\n]{0,60}\b(?:printed|logged|exposed|leaked|disclosed|revealed|written)\b",
    )
});

pub(super) static CVSS_RE: LazyLock<Regex> = LazyLock::new(|| {
    re(r"CVSS:(?:3\.[01]|4\.0)/[A-Za-z]{1,3}:[A-Za-z](?:/[A-Za-z]{1,3}:[A-Za-z])*")
});
pub(super) static STATED_SEVERITY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\bseverity\s*(?:level|rating)?\s*(?:is\s*|of\s*|[:=]\s*)\**(critical|high|medium|moderate|low|informational)\b|\b(critical|high|medium|moderate|low)[- ](?:severity|risk)\b|\b(?:classified|categori[sz]ed|rated|deemed|assessed|calculated|scored|graded|considered)\s+(?:it\s+|this\s+(?:vulnerability\s+|issue\s+|bug\s+|finding\s+)?)?as\s+(?:an?\s+)?[*_\[]*(critical|high|medium|moderate|low)\b",
    )
});
/// A grade as the first word of a Severity (or Risk) section, the way advisories and
/// researchers' reports give it: "### Severity\nModerate - …", "## Severity\n\n*Medium*",
/// "**Severity**\n\[HIGH\] - …".
static SECTION_GRADE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^[\s*_\[(]*(critical|high|medium|moderate|low|informational)\b"));
static SEVERITY_HEADING: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:[\w ]*\b)?(?:severity|risk)(?:\s*(?:/|and)\s*(?:severity|risk|impact))?(?:\s+(?:rating|level|assessment))?$",
    )
});

/// The grade a Severity section opens with, if any.
fn section_severity(docs: &[Doc<'_>]) -> Option<Severity> {
    docs.iter().find_map(|doc| {
        doc.sections.iter().find_map(|s| {
            if !SEVERITY_HEADING.is_match(&s.heading) {
                return None;
            }
            // From the heading on, not bounded by the section: a grade on a bold line of
            // its own ("**Medium**") reads as a heading of its own.
            let c = SECTION_GRADE.captures(doc.text.get(s.start..)?)?;
            Some(severity_at(grade(c.get(1)?.as_str())))
        })
    })
}

pub(super) fn grade(s: &str) -> usize {
    match s.to_ascii_lowercase().as_str() {
        "critical" => 4,
        "high" => 3,
        "medium" | "moderate" => 2,
        "low" | "informational" => 1,
        _ => 0,
    }
}

pub(super) fn class_base(class: &str) -> usize {
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

pub(super) static SCOPE_DOWN: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\blocal (?:access|attacker|user)|\brequires? (?:an? )?(?:admin\w*|authenticat\w+|privileged?|physical|local|user interaction)|\b(?:authenticated|privileged|trusted) (?:attacker|user)s?\b|\bcommand[- ]line (?:argument|option)s?|\bcli (?:argument|option)s?|\bself[- ]xss\b|\bno (?:direct )?security impact\b|limited circumstances|\b(?:when|if|once) (?:a|the) (?:victim|user) (?:opens|executes|runs|clicks|visits|imports|loads)\b|\busers? with access to (?:the )?(?:backend|admin\w*|control panel)|\bafter (?:logging in|the login|login|authenticat\w+)\b",
    )
});
pub(super) static SCOPE_UP: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)account takeover|take over (?:any|the|an?) (?:account|admin)|full (?:control|compromise)|administrator'?s? (?:right|session|account|privileges)|any authenticated action|entire cluster|(?:steal|exfiltrate) (?:credentials|session|tokens?)|unauthenticated (?:attacker|remote|user)",
    )
});

/// Validates and scores a CVSS v3.x or v4.0 vector.
pub fn score_cvss(vector: &str) -> Result<CvssInfo, String> {
    if vector.starts_with("CVSS:4.0/") {
        let v = cvss::v4::Vector::from_str(vector).map_err(|e| e.to_string())?;
        let value = v.score().value();
        let severity = v
            .score()
            .severity()
            .as_str()
            .parse()
            .unwrap_or(Severity::None);
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
            severity: score.severity().as_str().parse().unwrap_or(Severity::None),
        })
    }
}

/// Distance between two severity grades (for "within one grade").
pub fn grade_distance(a: &str, b: &str) -> usize {
    grade(a).abs_diff(grade(b))
}

/// A negation just before `start`, in the same clause and at most three words back:
/// "no code execution", "does not lead to code execution", "without a crash".
fn ruled_out_before(text: &str, start: usize) -> bool {
    static NEGATION: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)(?:^|[^\w'])(?:no|not|without|never|nor|cannot|can't|isn't|wasn't|doesn't|didn't|won't)\s+(?:[\w-]+\s+){0,3}$",
        )
    });
    let from = char_start(text, start.saturating_sub(48), start);
    text.get(from..start)
        .is_some_and(|ctx| NEGATION.is_match(ctx))
}

/// A weakness named as what something "may lead to" ("may result in a use-after-free",
/// "can lead to a too small buffer allocation"): a mechanism, not the consequence an
/// attacker gets, unless the words after it name one (a crash, code execution, a leak).
fn names_only_a_mechanism(tail: &str) -> bool {
    static MECHANISM: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)^\W*(?:to|in)?\s*(?:(?:an?|the)\s+)?(?:(?:potential|possible|subsequent)\s+)?(?:use[- ]after[- ]free|double[- ]free|out[- ]of[- ]bounds?\s+(?:read|write|access)|oob\s+(?:read|write)|(?:(?:heap|stack|global)[- ]?)?(?:based\s+)?(?:buffer\s+)?(?:overflow|underflow|over-?read)|integer\s+(?:overflow|underflow|truncation|wraparound)|null\s+pointer\s+dereference|undefined\s+behaviou?r|data\s+race|race\s+condition|type\s+confusion|uninitiali[sz]ed\s+(?:memory|read|value)|(?:a\s+)?too\s+small\s+(?:buffer|allocation))",
        )
    });
    static CONSEQUENCE: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)crash|denial|\bdos\b|code execution|execut|\brce\b|leak|disclos|expos|arbitrary|bypass|escalat|privilege|takeover|take over|hijack|inject|sandbox escape|corrupt|overwrite|read (?:sensitive|secret|private|other)|control",
        )
    });
    let sentence = tail.split(['.', '\n', ';']).next().unwrap_or_default();
    MECHANISM.is_match(sentence) && !CONSEQUENCE.is_match(sentence)
}

/// Impact and severity: weakness classes, impact statements and sections, a CVSS vector
/// when given, a stated severity, else an estimate from the classes and the scope words.
pub(super) fn find_impact(docs: &[Doc<'_>], all_text: &str) -> Impact {
    let mut classes: Vec<String> = Vec::new();
    let mut impact_ev = Vec::new();
    for doc in docs {
        for (name, rx) in CLASS_RES.iter() {
            // "no code execution found so far", "does not lead to a crash": a class
            // the report rules out is not its class.
            let stated = rx
                .find_iter(doc.text)
                .take(MAX_MATCHES)
                .find(|m| !ruled_out_before(doc.text, m.start()));
            if let Some(m) = stated {
                if !classes.iter().any(|c| c == name) {
                    classes.push((*name).to_string());
                }
                impact_ev.push(evidence(doc, m.start(), m.end(), &format!("class:{name}")));
            }
        }
    }
    // In a cross-site scripting report "arbitrary code" is the script the victim's
    // browser runs ("a stored XSS allows attackers to run arbitrary code via the
    // content parameter"), not code execution on the server: unless a server-side
    // marker says otherwise (remote code execution, commands, a shell), it is XSS.
    if classes.iter().any(|c| c == "xss") && classes.iter().any(|c| c == "rce") {
        static SCRIPT_CODE: LazyLock<Regex> = LazyLock::new(|| {
            re(
                r"(?i)^(?:execute (?:arbitrary|malicious|any) code|arbitrary code(?: execution)?|code (?:execution|injection))$",
            )
        });
        let rce = CLASS_RES.iter().find(|(n, _)| *n == "rce").map(|(_, r)| r);
        let only_script = rce.is_some_and(|rx| {
            docs.iter()
                .flat_map(|d| rx.find_iter(d.text).take(MAX_MATCHES))
                .all(|m| SCRIPT_CODE.is_match(m.as_str()))
        });
        if only_script {
            classes.retain(|c| c != "rce");
            impact_ev.retain(|e| e.rule != "class:rce");
        }
    }
    let mut impact_present = false;
    for doc in docs {
        for s in &doc.sections {
            let body = section_text(doc.text, s);
            // "Impact: Use-after-free in the renderer." names the weakness again.
            let only_mechanism = body.len() < 100
                && names_only_a_mechanism(
                    body.trim_start()
                        .trim_start_matches("This issue may lead to")
                        .trim_start_matches("This issue leads to")
                        .trim_start_matches("This may lead to"),
                );
            if s.heading.contains("impact") && body.len() >= 20 && !only_mechanism {
                impact_present = true;
                impact_ev.push(evidence(
                    doc,
                    s.start,
                    s.end.min(s.start + 200),
                    "impact-section",
                ));
            }
        }
        // The first statement whose consequence is more than a weakness's name.
        let stated = IMPACT_PHRASE
            .find_iter(doc.text)
            .take(MAX_MATCHES)
            .find(|m| !names_only_a_mechanism(doc.text.get(m.end()..).unwrap_or_default()));
        if let Some(m) = stated {
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
    for doc in docs {
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
    let (severity, severity_source) = if let Some(c) = &cvss {
        (c.severity, SeveritySource::Cvss)
    } else if let Some(g) = section_severity(docs) {
        (g, SeveritySource::Stated)
    } else if let Some(c) = STATED_SEVERITY.captures(all_text) {
        let word = (1..=3)
            .find_map(|i| c.get(i))
            .map(|m| m.as_str())
            .unwrap_or("medium");
        (severity_at(grade(word)), SeveritySource::Stated)
    } else if !classes.is_empty() || impact_present {
        let mut g = classes.iter().map(|c| class_base(c)).max().unwrap_or(2);
        if SCOPE_DOWN.is_match(all_text) {
            g = g.saturating_sub(1).max(1);
        } else if SCOPE_UP.is_match(all_text) {
            g = (g + 1).min(4);
        }
        (severity_at(g), SeveritySource::Estimated)
    } else {
        (Severity::None, SeveritySource::None)
    };
    Impact {
        present: impact_present,
        class: classes,
        severity,
        severity_source,
        cvss,
        cvss_error,
        evidence: impact_ev,
    }
}
