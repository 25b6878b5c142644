//! The documentation a newcomer reads (README.md and docs/*.md) stays inside the repository and true: no link
//! to the web, every relative link and anchor leads to something that exists, and the worked example of
//! docs/json-contract.md prints what the page says it prints.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
    let report = Command::new(env!("CARGO_BIN_EXE_cmtrace-rs"))
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
