//! The HTML report (`analyze --format html`), read as text (`tests/it/html_browser.rs` opens it in a browser):
//! one self-contained page that loads nothing from the network; a section per listed device with every
//! phase, its findings and their evidence `path:line` with the lines around it read again from the file
//! (from a zip too); every tag and attribute the page's own, whatever the logs and host names hold; in a
//! fleet, exactly the failing devices of the JSON report in full and the others as rows, with a line that
//! says what was left out; the exit status of `--fail-on` as for every format.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{self, cmtrace, DEMO};

const PHASES: usize = 11;

struct Run {
    stdout: String,
    code: i32,
}

fn analyze(inputs: &[PathBuf], extra: &[&str]) -> Run {
    let out = cmtrace().arg("analyze").args(inputs).args(extra).output().expect("runs");
    Run { stdout: String::from_utf8(out.stdout).expect("UTF-8"), code: out.status.code().expect("exits") }
}

fn html(inputs: &[PathBuf], extra: &[&str]) -> String {
    let run = analyze(inputs, &[&["--format", "html", "--fail-on", "never"], extra].concat());
    assert_eq!(run.code, 0);
    run.stdout
}

fn json(inputs: &[PathBuf], extra: &[&str]) -> Value {
    let run = analyze(inputs, &[&["--format", "json", "--fail-on", "never"], extra].concat());
    serde_json::from_str(&run.stdout).expect("JSON")
}

/// `&`, `<`, `>` escaped: log text as the page holds it in element content.
fn escaped(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The devices of a JSON report that the HTML report gives a row (client logs collected, or a finding),
/// and those of them with an error or warning finding.
fn shown_and_failing(doc: &Value) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut failing = BTreeSet::new();
    let mut with_finding = BTreeSet::new();
    for f in doc["findings"].as_array().unwrap() {
        if let Some(d) = f["device"].as_str() {
            with_finding.insert(d.to_string());
            if f["severity"] != "info" {
                failing.insert(d.to_string());
            }
        }
    }
    let shown = doc["devices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            !d["client_hosts"].as_array().unwrap().is_empty()
                || with_finding.contains(d["key"].as_str().unwrap())
        })
        .map(|d| d["key"].as_str().unwrap().to_string())
        .collect();
    (shown, failing)
}

/// The device sections of a page: (key as the page escapes it, the section's HTML).
fn device_sections(page: &str) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(at) = rest.find("<section class=\"device ") {
        let section = &rest[at..];
        let end = section.find("</section>").expect("section ends");
        let key_at = section.find("data-key=\"").expect("a key") + "data-key=\"".len();
        let key = &section[key_at..key_at + section[key_at..].find('"').unwrap()];
        out.push((key.to_string(), &section[..end]));
        rest = &section[end..];
    }
    out
}

/// The page's own style sheet and script, which the page holds as they are.
const CSS: &str = include_str!("../../src/render/html/report.css");
const JS: &str = include_str!("../../src/render/html/report.js");

/// The page without the bodies of its style sheet and script, which must be the page's own.
fn markup(page: &str) -> String {
    let mut rest = page.to_string();
    for (open, body, close) in [("<style nonce=\"", CSS, "</style>"), ("<script nonce=\"", JS, "</script>")] {
        let at = rest.find(open).unwrap_or_else(|| panic!("{open}"));
        let start = at + rest[at..].find('>').unwrap() + 1;
        let end = start + rest[start..].find(close).unwrap_or_else(|| panic!("{close}"));
        assert_eq!(&rest[start..end], body, "the page's own {close}");
        rest.replace_range(start..end, "");
    }
    rest
}

/// Every tag of the page: `<name attributes...>` up to its `>` (attribute values hold no raw `>`).
fn tags(page: &str) -> Vec<&str> {
    page.match_indices('<').map(|(i, _)| &page[i..i + page[i..].find('>').expect("tag ends") + 1]).collect()
}

const OWN_TAGS: &[&str] = &[
    "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "header", "footer", "h1", "h2", "h3", "h4",
    "h5", "h6", "p", "ul", "li", "b", "code", "section", "table", "thead", "tbody", "tr", "th", "td", "div",
    "label", "select", "option", "optgroup", "input", "button", "output", "a", "svg", "g", "rect", "text",
    "path", "line", "figure", "article", "span", "pre", "mark", "details", "summary", "br", "script",
];

/// The attribute names of a tag, as a browser reads them (quoted values skipped whole).
fn attribute_names(tag: &str) -> Vec<String> {
    let inner = tag.trim_start_matches('<').trim_end_matches('>').trim_end_matches('/');
    let mut chars = inner.chars().skip_while(|c| !c.is_whitespace()).peekable();
    let mut names = Vec::new();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let name: String =
            std::iter::from_fn(|| chars.next_if(|c| !c.is_whitespace() && *c != '=')).collect();
        if name.is_empty() {
            break;
        }
        names.push(name);
        if chars.next_if_eq(&'=').is_some() {
            match chars.next() {
                Some(q @ ('"' | '\'')) => while chars.next().is_some_and(|c| c != q) {},
                _ => while chars.next_if(|c| !c.is_whitespace()).is_some() {},
            }
        }
    }
    names
}

/// Every tag is one the page writes, none has an event-handler attribute, and there is one script: the
/// page's own, with the nonce its Content-Security-Policy names.
fn assert_only_own_markup(page: &str) {
    let markup = markup(page);
    for tag in tags(&markup) {
        let name: String = tag[1..]
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
            .collect();
        let name = if name == "!DOCTYPE" { name } else { name.to_ascii_lowercase() };
        assert!(OWN_TAGS.contains(&name.as_str()), "a tag the page does not write: {tag}");
        let handler = attribute_names(tag).into_iter().any(|a| a.to_ascii_lowercase().starts_with("on"));
        assert!(!handler, "an event-handler attribute: {tag}");
    }
    assert_eq!(page.matches("<script").count(), 1, "one script");
    assert_eq!(page.matches("</script>").count(), 1, "one script end");
    let csp_at = page.find("Content-Security-Policy").expect("a CSP");
    let nonce_at = page[csp_at..].find("'nonce-").expect("a nonce") + csp_at + "'nonce-".len();
    let nonce = &page[nonce_at..nonce_at + 32];
    assert!(nonce.chars().all(|c| c.is_ascii_hexdigit()), "nonce {nonce}");
    assert!(page.contains(&format!("<script nonce=\"{nonce}\">")));
    assert!(page.contains("default-src 'none'"), "nothing else loads");
}

/// Nothing loads from the network: no link, no remote `src`, `href`, `url(` or `@import`.
fn assert_self_contained(page: &str) {
    let lower = page.to_ascii_lowercase();
    assert!(!lower.contains("<link"), "no <link>");
    assert!(!lower.contains("@import"), "no @import");
    for attr in ["src=", "href=", "url("] {
        for (i, _) in lower.match_indices(attr) {
            let value = lower[i + attr.len()..].trim_start_matches(['"', '\'', ' ']);
            assert!(
                !(value.starts_with("http:") || value.starts_with("https:") || value.starts_with("//")),
                "{attr} loads from the network: {}",
                &page[i..(i + 80).min(page.len())]
            );
        }
    }
    for tag in tags(&markup(page)) {
        if tag.starts_with("<a ") {
            let href = tag.split("href=\"").nth(1).expect("a link has an href");
            assert!(href.starts_with('#'), "links stay in the page: {tag}");
        }
    }
}

/// Ids are unique, and every mark of a swimlane (`data-d`) and every link names one.
fn assert_links_resolve(page: &str) {
    let markup = markup(page);
    let mut ids = BTreeSet::new();
    for tag in tags(&markup) {
        if let Some(id) = attribute_value(tag, "id") {
            assert!(ids.insert(id.to_string()), "id {id} twice");
        }
    }
    for tag in tags(&markup) {
        for name in ["data-d", "data-detail"] {
            if let Some(target) = attribute_value(tag, name) {
                assert!(ids.contains(target), "{name}={target} names no element: {tag}");
            }
        }
        if let Some(href) = attribute_value(tag, "href") {
            assert!(ids.contains(&href[1..]), "a link to nothing: {tag}");
        }
    }
}

/// The value of attribute `name` in a tag, when the tag has it.
fn attribute_value<'t>(tag: &'t str, name: &str) -> Option<&'t str> {
    let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(&tag[at..at + tag[at..].find('"')?])
}

/// Line `n` (1-based) of a file as written.
fn file_line(path: &str, n: u64) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    text.split('\n').nth(n as usize - 1).map(|l| l.trim_end_matches('\r').to_string())
}

#[test]
fn the_demo_page_is_self_contained_and_complete() {
    let page = html(&common::demo(), &[]);
    let doc = json(&common::demo(), &[]);
    assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(page.trim_end().ends_with("</html>"));
    assert_self_contained(&page);
    assert_only_own_markup(&page);
    assert_links_resolve(&page);
    assert!(page.contains("FAILED: errors found"), "the verdict");
    // The search finds a device by the message id of a request its connection point forwarded (the page reads
    // the requests' message ids, which the other reports leave out).
    let connector_request = "3087bd34-b82c-4950-b972-e82bb0fb8385";
    assert!(
        page.split("data-ids=\"").skip(1).any(|ids| ids
            .split('"')
            .next()
            .unwrap_or("")
            .contains(connector_request)),
        "a device row's search ids hold {connector_request}"
    );

    // A section per device with its key, all 11 phases in its swimlane and its phase table.
    let (shown, _) = shown_and_failing(&doc);
    let sections = device_sections(&page);
    let keys: BTreeSet<String> = sections.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(keys, shown, "a section per device");
    assert_eq!(sections.len(), shown.len(), "each device once");
    for (key, section) in &sections {
        assert_eq!(
            section.matches("<g class=\"phase ").count(),
            PHASES,
            "{key}: 11 phase rows in the swimlane"
        );
        let device = doc["devices"].as_array().unwrap().iter().find(|d| d["key"] == key.as_str()).unwrap();
        for p in device["phases"].as_array().unwrap() {
            let id = p["id"].as_str().unwrap();
            assert_eq!(
                section.matches(&format!("<code>{id}</code>")).count(),
                1,
                "{key}: {id} in the phase table"
            );
            assert!(section.contains(&format!(">{id}</text>")), "{key}: {id} in the swimlane");
        }
        assert!(section.contains("<svg class=\"swim\""), "{key}: a swimlane");
        for h in device["hosts"].as_array().unwrap() {
            assert!(section.contains(&format!("<g class=\"lane\" data-host=\"{}\"", h.as_str().unwrap())));
        }
    }

    // Every finding, with each cited path:line, the lines around it and its codes decoded.
    let findings = doc["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    for f in findings {
        let rule = f["rule"].as_str().unwrap();
        assert!(page.contains(&format!("data-rule=\"{rule}\"")), "finding {rule}");
        for e in f["evidence"].as_array().unwrap() {
            let (path, line) = (e["path"].as_str().unwrap(), e["line"].as_u64().unwrap());
            assert!(page.contains(&format!("{}:{line}</code>", escaped(path))), "{rule}: {path}:{line}");
            let cited = file_line(path, line).expect("the cited line");
            assert!(
                page.contains(&format!("{line:>6}</span> {}\n</mark>", escaped(&cited))),
                "{rule}: line {line}"
            );
            if line > 1 {
                let before = file_line(path, line - 1).unwrap();
                assert!(page.contains(&escaped(&before)), "{rule}: the line before {path}:{line}");
            }
        }
    }
    assert!(page.contains("12175 (0x80072F8F) ERROR_WINHTTP_SECURE_FAILURE"), "codes decoded");
    assert!(page.contains("class=\"pin e\""), "findings pinned on the swimlane");
    assert!(page.contains("local as written"), "the time as the log wrote it");
    assert!(!page.contains("changed since"), "the files did not change");
    assert!(!page.contains("id=\"left-out\""), "a small report details every device");
}

#[test]
fn the_exit_status_follows_fail_on_and_colour_stays_off() {
    let errors = analyze(&common::demo(), &["--format", "html"]);
    assert_eq!(errors.code, 1, "the demo has errors: --fail-on error");
    assert!(errors.stdout.contains("</html>"), "the page is written whatever the status");
    assert_eq!(analyze(&common::demo(), &["--format", "html", "--fail-on", "never"]).code, 0);
    // What a person reads: no colour codes, whatever --color says.
    let coloured = analyze(&common::demo(), &["--format", "html", "--color", "always"]);
    assert!(!coloured.stdout.contains('\x1b'), "no ANSI escape");
    assert_eq!(coloured.stdout.len(), errors.stdout.len(), "the same page");
}

/// A client log whose host folder and messages hold HTML, a script end and quotes.
fn hostile_bundle() -> (tempfile::TempDir, &'static str) {
    const HOST: &str = "PC-<img src=x onerror=alert(1)>\"'";
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(DEMO)
        .join("LAPTOP-K9X1/Windows/ccmsetup/Logs/ccmsetup.log");
    let log = std::fs::read_to_string(src).unwrap();
    let hostile = log
        .replace(
            "Text=ERROR_WINHTTP_SECURE_FAILURE]LOG]",
            "Text=ERROR_WINHTTP_SECURE_FAILURE </script><script>document.body.setAttribute('data-pwned','1')</script>]LOG]",
        )
        .replace("INVALID_CA is set]LOG]", "INVALID_CA is set <img src=x onerror=\"document.title='pwned'\">]LOG]")
        .replace(
            "CcmSetup failed with error code 0x80072f8f]LOG]",
            "CcmSetup failed with error code 0x80072f8f \" onmouseover=\"alert(3)\" x=' <svg onload=alert(4)> \u{2028}\u{2029}]LOG]",
        );
    assert_ne!(hostile, log, "the payloads went in");
    let logs = dir.path().join(HOST).join("Windows/ccmsetup/Logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("ccmsetup.log"), hostile).unwrap();
    (dir, HOST)
}

#[test]
fn log_text_and_host_names_stay_text() {
    let (dir, host) = hostile_bundle();
    let page = html(&[dir.path().to_path_buf()], &["--timeline"]);
    assert_only_own_markup(&page);
    assert_self_contained(&page);
    let lower = page.to_ascii_lowercase();
    assert!(!lower.contains("<img"), "no image tag");
    assert!(!lower.contains("<svg onload"), "no foreign svg tag");
    assert!(
        page.contains("&lt;/script&gt;&lt;script&gt;document.body.setAttribute("),
        "the script end is text"
    );
    assert!(page.contains("&lt;img src=x onerror=\"document.title='pwned'\"&gt;"), "the tag is text");
    // The host name is in attributes (filters, lanes) with its quotes escaped, and in text.
    assert!(
        page.contains("data-host=\"PC-&lt;img src=x onerror=alert(1)&gt;&quot;&#39;\""),
        "lane of {host}"
    );
    assert!(page.contains("<option value=\"PC-&lt;img src=x onerror=alert(1)&gt;&quot;&#39;\">"));
    assert!(page.contains("<b>PC-&lt;img src=x onerror=alert(1)&gt;\"'</b>"));
    // The finding that cites the lines is there: the payloads went through every part of the page.
    assert!(page.contains("data-rule=\"root-ca-untrusted\""));
}

#[test]
fn control_characters_are_shown_as_escapes() {
    let hostile = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hostile/escapes")];
    let page = html(&hostile, &["--timeline"]);
    assert!(page.contains("\\x1b"), "an escape shown");
    let raw = page
        .chars()
        .filter(|&c| c != '\n' && c != '\t' && (c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c)));
    assert_eq!(raw.count(), 0, "no raw control character");
    assert_only_own_markup(&page);
}

#[test]
fn a_fleet_details_its_failing_devices_and_counts_the_others() {
    let fleet = common::mixed_fleet();
    let doc = json(&fleet, &[]);
    let (shown, failing) = shown_and_failing(&doc);
    assert!(shown.len() > 20 && !failing.is_empty() && failing.len() < shown.len());
    let page = html(&fleet, &[]);
    assert_self_contained(&page);
    assert_only_own_markup(&page);
    assert_links_resolve(&page);
    let detailed: BTreeSet<String> = device_sections(&page).into_iter().map(|(k, _)| k).collect();
    assert_eq!(detailed, failing, "exactly the failing devices in full");
    assert_eq!(page.matches("<tr id=\"r").count(), shown.len(), "a row per device");
    let left = shown.len() - failing.len();
    assert!(
        page.contains(&format!("{left} device(s) have a summary row only")),
        "the line that says what was left out"
    );
    assert!(page.contains("<code>--devices all</code> details every device"), "and how to get it");
    // Every rule is in the table by rule.
    for f in doc["findings"].as_array().unwrap() {
        let rule = f["rule"].as_str().unwrap();
        assert!(page.contains(&format!("<tr data-rule=\"{rule}\"")), "rule {rule} in the table");
    }
    // `--devices all` details every device; `none` only counts them.
    let all: BTreeSet<String> =
        device_sections(&html(&fleet, &["--devices", "all"])).into_iter().map(|(k, _)| k).collect();
    assert_eq!(all, shown);
    let none = html(&fleet, &["--devices", "none"]);
    assert!(device_sections(&none).is_empty());
    assert!(none.contains(&format!("{} device(s) have a summary row only", shown.len())));
}

#[test]
fn the_left_out_line_names_what_is_not_detailed() {
    let page = html(&common::demo(), &["--devices", "none"]);
    assert!(device_sections(&page).is_empty());
    assert!(page.contains("2 device(s) have a summary row only"), "both devices counted");
    assert!(page.contains("1 failing, 1 without an error or warning"));
    let failing = html(&common::demo(), &["--devices", "failing"]);
    assert_eq!(device_sections(&failing).len(), 1);
    assert!(failing.contains("1 device(s) have a summary row only"));
}

#[test]
fn context_is_read_from_a_zip_entry() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("case.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEMO);
    for entry in walk(&root) {
        let name = entry.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
        zip.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        std::io::Write::write_all(&mut zip, &std::fs::read(&entry).unwrap()).unwrap();
    }
    zip.finish().unwrap();
    let page = html(&[zip_path], &[]);
    let cited = "CcmSetup failed with error code 0x80072f8f";
    let at = page
        .find("case.zip/LAPTOP-K9X1/Windows/ccmsetup/Logs/ccmsetup.log:10</code>")
        .expect("cited in the zip");
    assert!(page[at..].contains(cited));
    assert!(!page.contains("Context not available"), "the entry was read again");
    let before = "[CCMHTTP] : WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CA is set";
    assert!(page[at..].contains(before), "with the lines around it");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files.extend(walk(&p));
        } else {
            files.push(p);
        }
    }
    files.sort();
    files
}

#[test]
fn the_timeline_is_there_on_request() {
    assert!(!html(&common::demo(), &[]).contains("id=\"timeline\""));
    let page = html(&common::demo(), &["--timeline"]);
    let events = json(&common::demo(), &[])["timeline"].as_array().unwrap().len();
    assert!(page.contains(&format!("<section id=\"timeline\"><h2>Timeline ({events} flow events, UTC)")));
    assert_eq!(page.matches("<tr id=\"t").count(), events, "a row per event");
}

/// Copies the demo bundle under `dir`.
fn copy_demo(dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEMO);
    let copy = dir.join("case-1234");
    for file in walk(&root) {
        let to = copy.join(file.strip_prefix(&root).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&file, &to).unwrap();
    }
    copy
}

#[test]
fn logs_that_changed_or_went_away_since_they_were_read_are_said_to_have() {
    use cmtrace_rs::render::{render_html, RenderOptions};
    let dir = tempfile::tempdir().unwrap();
    let bundle = copy_demo(dir.path());
    let analyzed = cmtrace_rs::commands::analyze::build_report(
        std::slice::from_ref(&bundle),
        &[],
        cmtrace_parsers::input::Limits::default(),
        cmtrace_rs::commands::collect::ReadFor::EveryId,
        |_| {},
        || {},
    )
    .expect("a report");
    let notes = |_: &str| Vec::new();
    let opts = RenderOptions {
        color: false,
        width: None,
        show_timeline: false,
        code_notes: &notes,
        devices: None,
        max_chars: 0,
    };
    let render = || {
        let mut page = Vec::new();
        render_html(&analyzed.report, &opts, cmtrace_parsers::input::Limits::default(), &mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        assert_only_own_markup(&page);
        page
    };
    // After the analysis, one cited log is rewritten: line 10 holds another message.
    let setup = bundle.join("LAPTOP-K9X1/Windows/ccmsetup/Logs/ccmsetup.log");
    let text = std::fs::read_to_string(&setup).unwrap();
    std::fs::write(&setup, text.replace("CcmSetup failed with error code 0x80072f8f", "Something else"))
        .unwrap();
    let page = render();
    assert!(page.contains("Line 10 no longer holds the message read from it: the file changed since"));
    assert!(page.contains("<mark>CcmSetup failed with error code 0x80072f8f</mark>"), "the message as read");
    // Another is cut short, then removed.
    let location = bundle.join("LAPTOP-K9X1/Windows/CCM/Logs/LocationServices.log");
    std::fs::write(&location, "one line\n").unwrap();
    let page = render();
    assert!(
        page.contains("Context not available for line 2: the file has fewer lines now than when it was read")
    );
    assert!(page.contains("WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CA is set</mark>"), "the message as read");
    std::fs::remove_file(&location).unwrap();
    let page = render();
    assert!(page.contains("Context not available for line 2: the file is no longer where it was read"));
}
