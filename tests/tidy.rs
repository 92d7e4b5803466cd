//! Tidy: the architecture invariants of ARCHITECTURE.md, checked over the source
//! tree the way rust-analyzer's `tidy` tests do. Each check also runs against a
//! planted violation, so a check that cannot fail would be noticed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Which stages a stage may import (`crate::<stage>`). Dependencies point one way:
/// cli → app → {ingest, reply, deliver, sla} → {store, judge, read, net, config} → domain.
const ALLOWED: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("config", &["domain"]),
    ("net", &["config", "domain"]),
    ("read", &["config", "domain"]),
    ("judge", &["config", "domain"]),
    ("store", &["domain"]),
    ("reply", &["config", "domain", "judge", "read", "store"]),
    ("deliver", &["config", "domain", "net", "store"]),
    ("sla", &["config", "domain", "read", "reply", "store"]),
    (
        "ingest",
        &["config", "domain", "judge", "net", "read", "reply", "store"],
    ),
    (
        "app",
        &[
            "config", "deliver", "domain", "ingest", "judge", "net", "read", "reply", "sla",
            "store",
        ],
    ),
    (
        "cli",
        &[
            "app", "config", "deliver", "domain", "ingest", "judge", "net", "read", "reply", "sla",
            "store",
        ],
    ),
];

/// SQL allowed outside `store/`: file → the most SQL statements it may hold. Empty
/// since issue 14 moved the last statements into `store/`; kept as the place (and the
/// ratchet) for any exception that would ever have to be argued for.
const SQL_DEBT: &[(&str, usize)] = &[];

/// Modules still allowed unchecked index and string slicing (issue 14 converts them to
/// checked `get`s; the lints are denied everywhere else). May only shrink.
const SLICING_DEBT: &[&str] = &[];

const SQL_STARTS: &[&str] = &[
    "\"SELECT ",
    "\"INSERT ",
    "\"UPDATE ",
    "\"DELETE ",
    "\"CREATE ",
    "\"PRAGMA ",
    "\"WITH ",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without its test module and without comment lines.
fn code_of(text: &str) -> String {
    let main = text.split("#[cfg(test)]").next().unwrap_or("");
    main.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The stages named by `crate::stage` paths, including `use crate::{a::x, b}`.
fn imported_stages(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        if let Some(group) = after.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or("");
            for item in inner.split(',') {
                let name = ident(item.trim());
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        } else {
            let name = ident(after);
            if !name.is_empty() {
                out.insert(name);
            }
        }
        rest = after;
    }
    out
}

fn sql_statements(code: &str) -> usize {
    SQL_STARTS.iter().map(|k| code.matches(k).count()).sum()
}

/// Every violation of the invariants in the tree rooted at `root` (a crate directory).
fn check_tree(root: &Path) -> Vec<String> {
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(k, v)| (*k, v.iter().copied().collect()))
        .collect();
    let debt: BTreeMap<&str, usize> = SQL_DEBT.iter().copied().collect();
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();
    let mut problems = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(root)
            .unwrap_or(&f)
            .to_string_lossy()
            .replace('\\', "/");
        let parts: Vec<&str> = rel.split('/').collect();
        if parts.len() < 3 {
            continue; // src/lib.rs, src/main.rs: the crate root
        }
        let stage = parts[1];
        let Some(may) = allowed.get(stage) else {
            problems.push(format!(
                "{rel}: src/{stage}/ is not a stage of ARCHITECTURE.md (add it to the map and to ALLOWED)"
            ));
            continue;
        };
        let code = code_of(&std::fs::read_to_string(&f).unwrap_or_default());
        for dep in imported_stages(&code) {
            if dep != stage && !may.contains(dep.as_str()) {
                problems.push(format!(
                    "{rel}: {stage} imports crate::{dep}, against the allowed direction"
                ));
            }
        }
        if matches!(stage, "read" | "judge") && code.contains("tokio::") {
            problems.push(format!(
                "{rel}: {stage} uses tokio (read/ and judge/ are synchronous)"
            ));
        }
        if stage != "store" {
            let n = sql_statements(&code);
            let max = debt.get(rel.as_str()).copied().unwrap_or(0);
            if n > max {
                problems.push(format!(
                    "{rel}: {n} SQL statement(s) outside store/ (allowed: {max}); add a named method to store/"
                ));
            }
        }
        let raw = std::fs::read_to_string(&f).unwrap_or_default();
        if raw.contains("allow(clippy::indexing_slicing") && !SLICING_DEBT.contains(&rel.as_str()) {
            problems.push(format!(
                "{rel}: allows unchecked slicing (use `get`; the lint is denied crate-wide)"
            ));
        }
        if code.contains("unreachable!()") {
            problems.push(format!(
                "{rel}: `unreachable!()` is a disguised panic (return or skip instead)"
            ));
        }
        if !matches!(stage, "store" | "domain") && code.contains("rusqlite") {
            problems.push(format!(
                "{rel}: uses rusqlite (only store/ holds a connection; domain/ only maps typed values)"
            ));
        }
        if stage == "cli" && code.contains(".transaction") {
            problems.push(format!(
                "{rel}: a transaction in cli/ (move it into store/)"
            ));
        }
    }
    problems
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_source_tree_keeps_the_architecture_invariants() {
    let problems = check_tree(&repo());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn planted_violations_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let judge = dir.path().join("src/judge");
    std::fs::create_dir_all(&judge).unwrap();
    std::fs::write(
        judge.join("bad.rs"),
        "use crate::{domain::case, store::Store};\n\
         // crate::net in a comment is fine\n\
         fn f() { let q = \"SELECT 1\"; tokio::spawn(async {}); x.unwrap_or_else(|| unreachable!()); }\n\
         #[cfg(test)]\nmod tests { use crate::app::daemon; }\n",
    )
    .unwrap();
    let cli = dir.path().join("src/cli");
    std::fs::create_dir_all(&cli).unwrap();
    std::fs::write(
        cli.join("x.rs"),
        "fn g(c: &mut rusqlite::Connection) { c.transaction(); }\n",
    )
    .unwrap();
    let problems = check_tree(dir.path());
    let want = [
        "src/judge/bad.rs: judge imports crate::store",
        "src/judge/bad.rs: judge uses tokio",
        "src/judge/bad.rs: 1 SQL statement(s) outside store/",
        "src/judge/bad.rs: `unreachable!()` is a disguised panic",
        "src/cli/x.rs: uses rusqlite",
        "src/cli/x.rs: a transaction in cli/",
    ];
    for w in want {
        assert!(
            problems.iter().any(|p| p.starts_with(w)),
            "{w} not in {problems:#?}"
        );
    }
    assert_eq!(problems.len(), want.len(), "{problems:#?}");
}

#[test]
fn the_sql_debt_only_shrinks() {
    // A debt entry larger than what the file holds must be lowered (the ratchet).
    for (file, max) in SQL_DEBT {
        let code = code_of(&std::fs::read_to_string(repo().join(file)).unwrap_or_default());
        let n = sql_statements(&code);
        assert_eq!(
            n, *max,
            "{file} holds {n} SQL statement(s); set its SQL_DEBT to {n} (0: remove the line)"
        );
    }
}

#[test]
fn the_slicing_exceptions_only_shrink() {
    for file in SLICING_DEBT {
        let text = std::fs::read_to_string(repo().join(file)).unwrap_or_default();
        assert!(
            text.contains("#![allow(clippy::indexing_slicing"),
            "{file} no longer allows slicing: remove it from SLICING_DEBT"
        );
    }
    let lib = std::fs::read_to_string(repo().join("src/lib.rs")).unwrap();
    for lint in [
        "unwrap_used",
        "expect_used",
        "clippy::panic",
        "indexing_slicing",
        "string_slice",
    ] {
        assert!(lib.contains(lint), "src/lib.rs no longer denies {lint}");
    }
}

#[test]
fn architecture_md_maps_every_folder_of_src() {
    let md = std::fs::read_to_string(repo().join("ARCHITECTURE.md")).unwrap();
    let mut missing = Vec::new();
    for e in std::fs::read_dir(repo().join("src")).unwrap().flatten() {
        if e.path().is_dir() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !md.contains(&format!("`{name}/`")) {
                missing.push(name);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md's code map lacks {missing:?}"
    );
    for (stage, _) in ALLOWED {
        assert!(
            repo().join("src").join(stage).is_dir(),
            "ALLOWED names src/{stage}/, which does not exist"
        );
    }
}
