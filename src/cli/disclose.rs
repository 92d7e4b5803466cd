//! The commands that carry a case past the acknowledgment: `case reply` (answer the
//! reporter), `case templates`, `case set` (disclosure facts and credit) and
//! `case advisory` (OSV or CSAF draft). Argument handling and output only; the
//! decisions live in `reply::answer`, `reply::templates` and `reply::advisory`.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use super::{Cli, load, no_case, open_store, operator, print_json};
use crate::config::Config;
use crate::domain::disclosure::{self, Credit, Disclosure};
use crate::reply::answer::{self, ReplyRequest};
use crate::reply::templates;
use crate::store;

/// The answer formats `case advisory` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AdvisoryFormat {
    /// The Open Source Vulnerability format (osv.dev).
    Osv,
    /// A CSAF 2.0 security advisory (status draft).
    Csaf,
}

/// What `case set` may change; an empty value clears a field.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SetArgs {
    /// CVE id(s); repeat for several (replaces the list; "" clears it).
    #[arg(long = "cve")]
    pub cve: Vec<String>,
    /// CWE id(s), e.g. CWE-79; repeat for several ("" clears).
    #[arg(long = "cwe")]
    pub cwe: Vec<String>,
    /// A CVSS v3.x or v4.0 vector.
    #[arg(long)]
    pub cvss: Option<String>,
    /// The affected range, e.g. "<= 2.4.1" or ">= 2.0.0, < 2.4.2".
    #[arg(long)]
    pub affected: Option<String>,
    /// The first fixed version.
    #[arg(long = "fixed-in")]
    pub fixed_in: Option<String>,
    /// The package an advisory names.
    #[arg(long)]
    pub package: Option<String>,
    /// The package's ecosystem as OSV spells it (npm, PyPI, crates.io, Go, Maven, ...).
    #[arg(long)]
    pub ecosystem: Option<String>,
    /// The embargo's last day (YYYY-MM-DD); the SLA sweep reminds the team before it ends.
    #[arg(long)]
    pub embargo: Option<String>,
    /// Where the advisory is (or will be) published.
    #[arg(long = "advisory-url")]
    pub advisory_url: Option<String>,
    /// The name to credit.
    #[arg(long = "credit-name")]
    pub credit_name: Option<String>,
    /// The reporter's affiliation.
    #[arg(long = "credit-affiliation")]
    pub credit_affiliation: Option<String>,
    /// The reporter's handle.
    #[arg(long = "credit-handle")]
    pub credit_handle: Option<String>,
    /// Credit the reporter anonymously (or `--credit-anonymous=false` to name them).
    #[arg(long = "credit-anonymous", num_args = 0..=1, default_missing_value = "true")]
    pub credit_anonymous: Option<bool>,
}

/// `case reply`.
pub struct ReplyArgs<'a> {
    pub id: &'a str,
    pub file: Option<&'a Path>,
    pub template: Option<&'a str>,
    pub no_edit: bool,
    pub cleartext: bool,
    pub state: Option<&'a str>,
    pub dry_run: bool,
    pub actor: Option<&'a str>,
    pub json: bool,
}

/// The policy's template folder for a case, resolved against the config file.
fn templates_dir(cfg: &Config, mailbox: &str) -> Option<PathBuf> {
    let (_, p) = cfg.policy_for(mailbox);
    p.templates.map(|t| cfg.resolve(&t))
}

/// `case reply ID`: writes (or reads) the text, then queues it.
pub fn reply(cli: &Cli, a: &ReplyArgs<'_>) -> Result<i32> {
    let cfg = load(cli)?;
    let mut st = open_store(&cfg)?;
    let Some(c) = store::case_by_public_id(st.db(), a.id)? else {
        return Ok(no_case(a.id));
    };
    let then = match a.state {
        Some(s) => Some(s.parse::<crate::domain::case::State>()?),
        None => None,
    };
    let facts = answer::template_facts(st.db(), c.id)?;
    let seed = match a.template {
        Some(name) => {
            let dir = templates_dir(&cfg, &c.mailbox);
            let (label, text) = match templates::load(dir.as_deref(), name) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(1);
                }
            };
            match templates::render(&text, &label, &facts) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("error: {e}");
                    return Ok(1);
                }
            }
        }
        None => String::new(),
    };
    let text = if let Some(f) = a.file {
        read_text(f)?
    } else if a.no_edit {
        seed
    } else if let Some(editor) = editor() {
        let preamble = answer::editor_preamble(st.db(), c.id, &facts)?;
        edit(&editor, &format!("{preamble}{seed}"))?
    } else if !std::io::stdin().is_terminal() {
        read_text(Path::new("-"))?
    } else {
        eprintln!(
            "error: no reply text\n  hint: pass --file FILE (or - for standard input), set $EDITOR, or use --template NAME --no-edit"
        );
        return Ok(1);
    };
    let text = answer::strip_comments(&text);
    if text.trim().is_empty() {
        eprintln!("error: the reply is empty: nothing was sent");
        return Ok(1);
    }
    if a.dry_run {
        println!(
            "to: {}\nsubject: {}\n\n{text}",
            c.reporter.as_deref().unwrap_or("(no reporter address)"),
            answer::reply_subject(&c.id_public)
        );
        return Ok(0);
    }
    let keys = crate::read::keys::validate(&cfg)?;
    let author = a.actor.map(str::to_string).unwrap_or_else(operator);
    let req = ReplyRequest {
        case_id: c.id,
        text: &text,
        author: &author,
        template: a.template,
        cleartext: a.cleartext,
    };
    match answer::reply_and_move(&mut st, &cfg, &keys, &req, then)? {
        Ok(q) => {
            if a.json {
                print_json(&serde_json::json!({
                    "case": c.id_public,
                    "queued": q.outbox_id,
                    "to": q.to,
                    "message_id": q.message_id,
                    "in_reply_to": q.in_reply_to,
                    "encrypted": q.encrypted,
                }))?;
            } else {
                println!(
                    "{}: reply queued to {} as <{}> ({}){}; the daemon sends it (or run `triaged run --once`)",
                    c.id_public,
                    q.to,
                    q.message_id,
                    if q.encrypted {
                        "signed and encrypted"
                    } else {
                        "signed, not encrypted"
                    },
                    q.in_reply_to
                        .map(|i| format!(", in reply to <{i}>"))
                        .unwrap_or_default()
                );
            }
            Ok(0)
        }
        Err(r) => {
            eprintln!("error: {r}");
            Ok(4)
        }
    }
}

fn editor() -> Option<String> {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|e| !e.trim().is_empty())
}

/// Opens `$EDITOR` on a private temporary file holding `start`; returns what was saved.
fn edit(editor: &str, start: &str) -> Result<String> {
    let dir = PrivateDir::new()?;
    let path = dir.0.join("reply.txt");
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
        f.write_all(start.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    // As git does: the editor variable may carry arguments ("code --wait").
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("triaged-editor")
        .arg(&path)
        .status()
        .with_context(|| format!("starting the editor {editor:?}"))?;
    if !status.success() {
        anyhow::bail!("the editor {editor:?} failed ({status}); nothing was sent");
    }
    std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
}

/// A folder only the operator can read, removed when dropped (the reply may quote
/// an encrypted report).
struct PrivateDir(PathBuf);

impl PrivateDir {
    fn new() -> Result<PrivateDir> {
        use std::os::unix::fs::DirBuilderExt;
        let mut r = [0u8; 8];
        sequoia_openpgp::crypto::random(&mut r[..]).context("random bytes for a folder name")?;
        let name: String = r.iter().map(|b| format!("{b:02x}")).collect();
        let p = std::env::temp_dir().join(format!("triaged-reply-{name}"));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&p)
            .with_context(|| format!("creating {}", p.display()))?;
        Ok(PrivateDir(p))
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read_text(f: &Path) -> Result<String> {
    if f == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .take(1 << 20)
            .read_to_string(&mut s)
            .context("reading the reply from standard input")?;
        Ok(s)
    } else {
        std::fs::read_to_string(f)
            .with_context(|| format!("reading the reply from {}", f.display()))
    }
}

/// `case templates ID`: the templates the case's policy offers, and where each is from.
pub fn list_templates(cli: &Cli, id: &str) -> Result<i32> {
    let cfg = load(cli)?;
    let st = open_store(&cfg)?;
    let Some(c) = store::case_by_public_id(st.db(), id)? else {
        return Ok(no_case(id));
    };
    let dir = templates_dir(&cfg, &c.mailbox);
    for (name, from) in templates::available(dir.as_deref()) {
        println!("{name:<22} {from}");
    }
    println!(
        "placeholders: {}",
        templates::PLACEHOLDERS
            .iter()
            .map(|p| format!("{{{p}}}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    Ok(0)
}

/// Applies `case set` arguments to the current facts; the error names the flag.
fn apply(
    d: &mut Disclosure,
    credit: &mut Option<Credit>,
    a: &SetArgs,
) -> std::result::Result<Vec<String>, String> {
    let mut changed = Vec::new();
    let opt = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_string());
    if !a.cve.is_empty() {
        d.cve_ids = a
            .cve
            .iter()
            .filter(|v| !v.trim().is_empty())
            .map(|v| disclosure::cve_id(v).map_err(|e| format!("--cve: {e}")))
            .collect::<std::result::Result<_, _>>()?;
        changed.push(format!("cve [{}]", d.cve_ids.join(", ")));
    }
    if !a.cwe.is_empty() {
        d.cwe_ids = a
            .cwe
            .iter()
            .filter(|v| !v.trim().is_empty())
            .map(|v| disclosure::cwe_id(v).map_err(|e| format!("--cwe: {e}")))
            .collect::<std::result::Result<_, _>>()?;
        changed.push(format!("cwe [{}]", d.cwe_ids.join(", ")));
    }
    if let Some(v) = &a.cvss {
        d.cvss = opt(v);
        if let Some(vec) = &d.cvss {
            crate::judge::classify::score_cvss(vec).map_err(|e| {
                format!("--cvss: {vec:?} is not a valid CVSS v3.x or v4.0 vector ({e})")
            })?;
        }
        changed.push(format!("cvss {}", d.cvss.as_deref().unwrap_or("-")));
    }
    if let Some(v) = &a.affected {
        d.affected = opt(v);
        changed.push(format!("affected {}", d.affected.as_deref().unwrap_or("-")));
    }
    if let Some(v) = &a.fixed_in {
        d.fixed_in = opt(v);
        changed.push(format!("fixed-in {}", d.fixed_in.as_deref().unwrap_or("-")));
    }
    if let Some(v) = &a.package {
        d.package = opt(v);
        changed.push(format!("package {}", d.package.as_deref().unwrap_or("-")));
    }
    if let Some(v) = &a.ecosystem {
        d.ecosystem = opt(v);
        changed.push(format!(
            "ecosystem {}",
            d.ecosystem.as_deref().unwrap_or("-")
        ));
    }
    if let Some(v) = &a.embargo {
        d.embargo_until = match opt(v) {
            Some(s) => Some(
                disclosure::embargo_date(&s)
                    .map_err(|e| format!("--embargo: {e}"))?
                    .format("%Y-%m-%d")
                    .to_string(),
            ),
            None => None,
        };
        changed.push(format!(
            "embargo {}",
            d.embargo_until.as_deref().unwrap_or("-")
        ));
    }
    if let Some(v) = &a.advisory_url {
        d.advisory_url = match opt(v) {
            Some(s) => {
                Some(disclosure::advisory_url(&s).map_err(|e| format!("--advisory-url: {e}"))?)
            }
            None => None,
        };
        changed.push(format!(
            "advisory-url {}",
            d.advisory_url.as_deref().unwrap_or("-")
        ));
    }
    let credit_flags = a.credit_name.is_some()
        || a.credit_affiliation.is_some()
        || a.credit_handle.is_some()
        || a.credit_anonymous.is_some();
    if credit_flags {
        let c = credit.get_or_insert_with(Credit::default);
        if let Some(v) = &a.credit_name {
            c.name = opt(v);
        }
        if let Some(v) = &a.credit_affiliation {
            c.affiliation = opt(v);
        }
        if let Some(v) = &a.credit_handle {
            c.handle = opt(v);
        }
        if let Some(v) = a.credit_anonymous {
            c.anonymous = v;
        }
        changed.push(format!("credit {}", c.line().unwrap_or_else(|| "-".into())));
    }
    Ok(changed)
}

/// `case set ID ...`: disclosure facts and credit.
pub fn set(cli: &Cli, id: &str, a: &SetArgs, actor: Option<&str>, json: bool) -> Result<i32> {
    let cfg = load(cli)?;
    let mut st = open_store(&cfg)?;
    let Some(c) = store::case_by_public_id(st.db(), id)? else {
        return Ok(no_case(id));
    };
    let (mut d, mut credit) = store::disclosure_of(st.db(), c.id)?;
    let changed = match apply(&mut d, &mut credit, a) {
        Ok(ch) => ch,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(1);
        }
    };
    if !changed.is_empty() {
        let actor = actor.map(str::to_string).unwrap_or_else(operator);
        st.write("case-set", |tx| {
            store::set_disclosure(tx, c.id, &d, credit.as_ref(), &actor, &changed.join("; "))
        })?;
    }
    if json {
        print_json(&serde_json::json!({"case": c.id_public, "disclosure": d, "credit": credit}))?;
    } else if changed.is_empty() {
        println!("{id}: nothing to change (see `triaged case set --help`)");
    } else {
        println!("{id}: {}", changed.join("; "));
    }
    Ok(0)
}

/// `case advisory ID --format osv|csaf`: a draft advisory on standard output or in a file.
pub fn advisory(
    cli: &Cli,
    id: &str,
    format: AdvisoryFormat,
    output: Option<&Path>,
    publisher: Option<&str>,
    namespace: Option<&str>,
) -> Result<i32> {
    let cfg = load(cli)?;
    let st = open_store(&cfg)?;
    let Some(mut c) = store::case_by_public_id(st.db(), id)? else {
        return Ok(no_case(id));
    };
    if c.subject_sealed
        && let Ok(k) = crate::read::keys::team_keys(&cfg)
    {
        c.open(&k)?;
    }
    let (d, credit) = store::disclosure_of(st.db(), c.id)?;
    let impact = super::case::typed_findings(&store::findings_of(st.db(), c.id)?).map(|f| f.impact);
    let classes: Vec<String> = impact.as_ref().map(|i| i.class.clone()).unwrap_or_default();
    let reported_cvss: Option<String> = impact
        .as_ref()
        .and_then(|i| i.cvss.as_ref())
        .map(|c| c.vector.clone());
    let description: Option<String> = impact
        .as_ref()
        .and_then(|i| i.evidence.first())
        .map(|e| e.text.clone());
    let domain = cfg
        .outbox
        .from
        .as_deref()
        .and_then(|f| f.rsplit_once('@').map(|(_, d)| d.to_string()))
        .unwrap_or_else(|| "example.invalid".into());
    let namespace = namespace
        .map(str::to_string)
        .unwrap_or_else(|| format!("https://{domain}"));
    let source = crate::reply::advisory::Source {
        case: &c.id_public,
        title: c.subject.as_deref(),
        disclosure: &d,
        credit: credit.as_ref(),
        classes: &classes,
        description: description.as_deref(),
        reported_cvss: reported_cvss.as_deref(),
        opened_at: c.created_at,
        now: store::now(),
        publisher: publisher.unwrap_or(&domain),
        namespace: &namespace,
    };
    let v = match format {
        AdvisoryFormat::Osv => crate::reply::advisory::osv(&source),
        AdvisoryFormat::Csaf => crate::reply::advisory::csaf(&source),
    };
    let v = match v {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(1);
        }
    };
    let text = serde_json::to_string_pretty(&v).context("serialising the advisory")? + "\n";
    match output {
        Some(p) => {
            std::fs::write(p, &text).with_context(|| format!("writing {}", p.display()))?;
            eprintln!("{id}: draft advisory written to {}", p.display());
        }
        None => print!("{text}"),
    }
    Ok(0)
}
