//! The documentation a newcomer reads (README.md and docs/*.md) stays inside the repository and true: no link
//! to the web, every relative link and anchor leads to something that exists, and the worked example of
//! docs/json-contract.md prints what the page says it prints. No document (those pages, the module comments
//! of the crates and of these tests) names a repository path that does not exist or a path of a machine, and
//! each crate's documentation lists its modules.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::cmtrace;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every Markdown file of docs/.
fn pages() -> Vec<PathBuf> {
    let mut v = vec![root().join("README.md")];
    let docs = root().join("docs");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&docs)
        .unwrap_or_else(|e| panic!("{}: {e}", docs.display()))
        .map(|e| e.expect("folder entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    found.sort();
    assert!(found.len() >= 4, "docs/: only {} Markdown files", found.len());
    v.extend(found);
    v
}

/// The text of a Markdown page with code blocks and code spans blanked (their content is not a link).
fn prose(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            out.push('\n');
            continue;
        }
        if fenced {
            out.push('\n');
            continue;
        }
        let mut in_code = false;
        for c in line.chars() {
            if c == '`' {
                in_code = !in_code;
                out.push(' ');
            } else {
                out.push(if in_code { ' ' } else { c });
            }
        }
        out.push('\n');
    }
    out
}

/// The link targets of a page: `[text](target)`, `[label]: target` and `<a href="target">`.
fn links(prose: &str) -> Vec<String> {
    let mut v = Vec::new();
    let mut rest = prose;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        if let Some(end) = rest.find(')') {
            v.push(rest[..end].trim().to_string());
        }
    }
    for line in prose.lines() {
        let t = line.trim_start();
        if let Some((label, target)) = t.split_once("]: ") {
            if label.starts_with('[') && !label.contains(' ') {
                v.push(target.split_whitespace().next().unwrap_or_default().to_string());
            }
        }
    }
    let mut rest = prose;
    while let Some(i) = rest.find("href=\"") {
        rest = &rest[i + 6..];
        if let Some(end) = rest.find('"') {
            v.push(rest[..end].to_string());
        }
    }
    v
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a page's headings (code blocks left out).
fn anchors(text: &str) -> Vec<String> {
    let mut fenced = false;
    let mut v = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            v.push(slug(line.trim_start_matches('#')));
        }
    }
    v
}

#[test]
fn no_link_leaves_the_repository() {
    let mut problems = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
        let name = page.strip_prefix(root()).unwrap_or(&page).display().to_string();
        let prose = prose(&text);
        for (n, line) in prose.lines().enumerate() {
            let lower = line.to_ascii_lowercase();
            if lower.contains("http://") || lower.contains("https://") {
                problems.push(format!(
                    "{name}:{}: a web address: {}",
                    n + 1,
                    text.lines().nth(n).unwrap_or("")
                ));
            }
        }
        for target in links(&prose) {
            let (file, anchor) = match target.split_once('#') {
                Some((f, a)) => (f, Some(a)),
                None => (target.as_str(), None),
            };
            if file.contains("://") || file.starts_with("mailto:") {
                problems.push(format!("{name}: a link out of the repository: {target}"));
                continue;
            }
            let path = if file.is_empty() { page.clone() } else { page.parent().unwrap().join(file) };
            let Ok(real) = path.canonicalize() else {
                problems.push(format!("{name}: a link to nothing: {target}"));
                continue;
            };
            if !real.starts_with(root().canonicalize().unwrap()) {
                problems.push(format!("{name}: a link out of the repository: {target}"));
                continue;
            }
            if let Some(anchor) = anchor {
                let linked = std::fs::read_to_string(&real).unwrap_or_default();
                if !anchors(&linked).iter().any(|a| a == anchor) {
                    problems.push(format!("{name}: no heading for the anchor of {target}"));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "README.md and docs/ must stay inside the repository:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_checks_find_what_they_look_for() {
    let text = "see [a](docs/x.md#y)\n[b]: https://example.com\n`https://in.code` <a href=\"z.md\">z</a>\n```\nhttps://in.block\n```\n";
    let p = prose(text);
    assert!(p.contains("https://example.com") && !p.contains("in.code") && !p.contains("in.block"));
    assert_eq!(links(&p), ["docs/x.md#y", "https://example.com", "z.md"]);
    assert_eq!(slug(" The document (`--format json`)"), "the-document---format-json");
    assert_eq!(anchors("# A b\n```\n# not\n```\n## Exit status\n"), ["a-b", "exit-status"]);
}

/// The first fenced block of `lang` after the heading `heading` in `text`.
fn block_after<'a>(text: &'a str, heading: &str, lang: &str) -> &'a str {
    let from = text.find(heading).unwrap_or_else(|| panic!("no heading {heading:?}"));
    let open = format!("```{lang}\n");
    let start = text[from..].find(&open).unwrap_or_else(|| panic!("no ```{lang} block after {heading:?}"))
        + from
        + open.len();
    let end = text[start..].find("```").expect("a closed block") + start;
    &text[start..end]
}

#[test]
fn the_worked_example_prints_what_the_contract_says() {
    let page = std::fs::read_to_string(root().join("docs/json-contract.md")).expect("docs/json-contract.md");
    let heading = "## Worked example";
    let program = block_after(&page, heading, "python");
    let console = block_after(&page, heading, "console");
    let (command, expected) = console.split_once('\n').expect("a command and its output");
    assert_eq!(
        command, "$ cmtrace-rs analyze fixtures/demo/case-1234 --format json | python3 failed_phases.py",
        "the example's command changed: update this test"
    );
    let report = cmtrace()
        .current_dir(root())
        .args(["analyze", "fixtures/demo/case-1234", "--format", "json"])
        .output()
        .expect("cmtrace-rs runs");
    assert_eq!(report.status.code(), Some(1), "the demo has error findings");
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(dir.path().join("failed_phases.py"), program).expect("the program written");
    let mut python = Command::new("python3")
        .arg("failed_phases.py")
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs the worked example (install python3: .ci/run does)");
    std::io::Write::write_all(&mut python.stdin.take().expect("stdin"), &report.stdout)
        .expect("the report piped");
    let out = python.wait_with_output().expect("python3 ends");
    assert!(out.status.success(), "the example fails: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), expected, "docs/json-contract.md shows another output");
}

/// README.md, docs/*.md and the module comments (`//!`) of every Rust file of the three crates and of these
/// tests: (name, text). A module comment is kept at its line numbers; other lines are blank.
fn documents() -> Vec<(String, String)> {
    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("folder entry").path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|x| x == "rs") {
                out.push(path);
            }
        }
    }
    let mut docs: Vec<(String, String)> = pages()
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.strip_prefix(root()).unwrap_or(&p).display().to_string(), text)
        })
        .collect();
    let mut sources = Vec::new();
    for dir in ["src", "parsers/src", "analysis/src", "tests/it"] {
        rust_files(&root().join(dir), &mut sources);
    }
    sources.sort();
    for p in sources {
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let comments: Vec<&str> =
            text.lines().map(|l| l.trim_start().strip_prefix("//!").unwrap_or_default()).collect();
        docs.push((p.strip_prefix(root()).unwrap_or(&p).display().to_string(), comments.join("\n")));
    }
    docs
}

/// What a document names that is not there: a backquoted path of the repository (its first part a file or
/// folder at the top of the repository) or a Markdown file's name (`FLOW.md`, backquoted or not) that does
/// not exist, a backquoted path out of the repository (`../shared/...`), and any path of a machine (`/work/...`, `/home/...`, `/tmp/...`) outside a line that says it
/// is an example. `top` is what the top of the repository holds; `exists` says whether a path of it does
/// (paths below an ignored folder such as `fuzz/corpus/` are made by commands and pass).
fn drift(name: &str, text: &str, top: &[String], exists: &dyn Fn(&str) -> bool) -> Vec<String> {
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let at = format!("{name}:{}", n + 1);
        let lower = line.to_ascii_lowercase();
        let example = lower.contains("example") || lower.contains("e.g.");
        for machine in ["/work/", "/home/", "/root/", "/tmp/", "/users/", "/mnt/", "c:\\users\\"] {
            let found = lower.match_indices(machine).any(|(i, _)| {
                !lower[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-')
            });
            if found && !example {
                problems.push(format!("{at}: a path of a machine ({machine}...): {}", line.trim()));
            }
        }
        let mut named: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || "()[],;\"'".contains(c))
            .filter(|w| {
                let w = w.trim_end_matches(['.', ':']);
                w.ends_with(".md") && w.starts_with(|c: char| c.is_ascii_uppercase()) && !w.contains('/')
            })
            .collect();
        for (i, span) in line.split('`').enumerate() {
            if i % 2 == 1 {
                named.extend(span.split_whitespace());
            }
        }
        for word in named {
            let word = word.trim_matches(|c: char| "()[],;:\"'".contains(c)).trim_end_matches('.');
            // A place in a file (`path:line`, `path#anchor`) names the file.
            let path = word.split([':', '#']).next().unwrap_or_default().trim_end_matches('/');
            if path.is_empty() || path.contains(['<', '>', '{', '*', '$', '=']) {
                continue;
            }
            if path.split('/').any(|part| part == "..") {
                problems.push(format!("{at}: names {path}, a path out of the repository"));
                continue;
            }
            let first = path.split('/').next().unwrap_or_default();
            let of_repo = (path.contains('/') && top.iter().any(|t| t == first)) || path.ends_with(".md");
            if of_repo
                && !exists(path)
                && !exists(&format!("{}/{path}", name.rsplit_once('/').map_or("", |p| p.0)))
            {
                problems.push(format!("{at}: names {path}, which does not exist"));
            }
        }
    }
    problems
}

#[test]
fn documents_name_only_what_exists_and_no_machine_path() {
    let root = root();
    let top: Vec<String> = std::fs::read_dir(root)
        .expect("the repository")
        .map(|e| e.expect("folder entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n != "target" && n != ".git")
        .collect();
    // Folders git ignores that commands fill (`fuzz/corpus/`): named as where output goes.
    let ignored: Vec<String> = std::fs::read_to_string(root.join(".gitignore"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.ends_with('/') && !l.contains('*'))
        .map(|l| l.trim_start_matches('/').to_string())
        .collect();
    let exists = |p: &str| {
        let p = p.trim_start_matches('/');
        !p.is_empty() && (root.join(p).exists() || ignored.iter().any(|i| p.starts_with(i.as_str())))
    };
    let mut problems = Vec::new();
    for (name, text) in documents() {
        problems.extend(drift(&name, &text, &top, &exists));
    }
    assert!(problems.is_empty(), "documents that name what is not there:\n{}", problems.join("\n"));
}

#[test]
fn drift_finds_missing_paths_and_machine_paths() {
    let top = ["docs".to_string(), "tests".to_string()];
    let exists = |p: &str| ["docs", "docs/x.md", "tests/it/main.rs", "README.md"].contains(&p);
    let found = |text: &str| drift("README.md", text, &top, &exists);
    assert!(found("see `docs/x.md`, `tests/it/main.rs:12`, README.md and `docs/`").is_empty());
    assert!(found(
        "`tests/<name>.rs` and `docs/*.md` are patterns; `Windows/CCM/Logs` is no repository path"
    )
    .is_empty());
    assert_eq!(found("the table of FLOW.md").len(), 1);
    assert_eq!(found("see `docs/gone.md` and `tests/snapshots.rs`").len(), 2);
    assert_eq!(found("the contract of `../shared/spec/contract.md`").len(), 1, "out of the repository");
    assert_eq!(found("copied from /work/shared/domain").len(), 1);
    assert_eq!(found("written to `/tmp/x`").len(), 1);
    assert!(found("for example `--spill-dir /tmp/big`").is_empty(), "an example says so");
    assert!(found("a URL path such as https://host/work/x or CCM_Proxy/home/y").is_empty());
}

/// Each crate's documentation (the `//!` lines of its lib.rs) names every module the crate declares, as
/// `` `module` ``, with what it is for.
#[test]
fn crate_docs_list_every_module() {
    let mut problems = Vec::new();
    for lib in ["src/lib.rs", "parsers/src/lib.rs", "analysis/src/lib.rs"] {
        let text = std::fs::read_to_string(root().join(lib)).unwrap_or_else(|e| panic!("{lib}: {e}"));
        let doc: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("//!")).collect();
        let doc = doc.join("\n");
        for line in text.lines() {
            let decl = line.trim().trim_start_matches("pub(crate) ").trim_start_matches("pub ");
            if let Some(module) = decl.strip_prefix("mod ").and_then(|m| m.strip_suffix(';')) {
                if !doc.contains(&format!("`{module}`")) {
                    problems.push(format!("{lib}: module `{module}` is not in the crate documentation"));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
