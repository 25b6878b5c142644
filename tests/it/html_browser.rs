//! The HTML report in a real browser: headless Chromium opens the demo's page, the mixed fleet's page and a
//! page made of hostile log lines, runs their script, and the test reads the DOM after it ran (`--dump-dom`):
//! the script finished (`<body data-ready="1">`) and recorded no error (`data-errors`), the filters counted
//! the devices, every swimlane has one lane per host of its device and its findings pinned, `#show=ID` opens
//! the details of a mark as a click does, `#q=ID`, `#rule=`, `#host=` and `#status=` narrow the devices as
//! the search box and the filters do, and nothing a log holds became an element. The browser's own log
//! (`--enable-logging=stderr`) holds no console message at all: the page writes none, so any is an error, a
//! Content-Security-Policy violation included. A screenshot of the demo is written to
//! `target/tmp/html-report.png` (`docs/html-report.png` is a copy).
//!
//! Chromium is `$CHROME`, else `chromium` or `chromium-browser` on the PATH. Without it these tests fail:
//! install it (`apt-get install chromium`) or point `CHROME` at one.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;

use crate::common::{self, cmtrace, wait_within, DEMO};

/// One browser at a time: two cores are not enough for several, and a slow start is not a failure.
static BROWSER: Mutex<()> = Mutex::new(());

fn chromium() -> PathBuf {
    if let Some(c) = std::env::var_os("CHROME").filter(|c| !c.is_empty()) {
        let c = PathBuf::from(c);
        assert!(c.is_file(), "CHROME={} is not a file: point it at a Chromium or Chrome binary", c.display());
        return c;
    }
    for name in ["chromium", "chromium-browser"] {
        let found = std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file());
        if let Some(p) = found {
            return p;
        }
    }
    panic!(
        "headless Chromium is needed to test the HTML report in a browser, and none was found as $CHROME, \
         `chromium` or `chromium-browser`: install it (Debian: apt-get install chromium) or set CHROME"
    );
}

/// What the browser made of a page: the DOM after the scripts ran, and its log.
struct Loaded {
    dom: String,
    log: String,
}

/// Runs headless Chromium on `page` (with `#fragment` when not empty) and `args`; fails after two minutes.
fn browse(page: &Path, fragment: &str, args: &[&str]) -> Loaded {
    let _one = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let profile = tempfile::tempdir().expect("a profile folder");
    let mut url = format!("file://{}", page.canonicalize().expect("the page").display());
    if !fragment.is_empty() {
        url.push('#');
        url.push_str(fragment);
    }
    let dir = tempfile::tempdir().expect("a folder for the output");
    let (out_path, err_path) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = Command::new(chromium())
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(&url)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("Chromium starts");
    let status = wait_within(&mut child, Duration::from_secs(120))
        .unwrap_or_else(|| panic!("Chromium did not finish with {url} in two minutes"));
    let log = std::fs::read_to_string(&err_path).unwrap_or_default();
    assert!(status.success(), "Chromium failed on {url}: {status}\n{log}");
    Loaded { dom: std::fs::read_to_string(&out_path).expect("the DOM"), log }
}

/// The page's DOM after its script ran; fails on any console message or script error.
fn dom_of(page: &Path, fragment: &str) -> String {
    let loaded = browse(page, fragment, &["--dump-dom"]);
    let console: Vec<&str> =
        loaded.log.lines().filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught")).collect();
    assert!(console.is_empty(), "the page wrote to the console:\n{}", console.join("\n"));
    let body = body_tag(&loaded.dom);
    assert!(body.contains("data-ready=\"1\""), "the script finished: {body}");
    assert!(body.contains("data-errors=\"\""), "the script recorded no error: {body}");
    loaded.dom
}

fn body_tag(dom: &str) -> &str {
    let at = dom.find("<body").expect("a body");
    &dom[at..at + dom[at..].find('>').unwrap() + 1]
}

/// Writes the report of `inputs` (with `extra` arguments) as `name` under target/tmp.
fn report(name: &str, inputs: &[PathBuf], extra: &[&str]) -> PathBuf {
    let out = cmtrace()
        .arg("analyze")
        .args(inputs)
        .args(["--format", "html", "--fail-on", "never"])
        .args(extra)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, out.stdout).unwrap();
    path
}

fn json(inputs: &[PathBuf]) -> Value {
    let out = cmtrace()
        .arg("analyze")
        .args(inputs)
        .args(["--format", "json", "--fail-on", "never"])
        .output()
        .expect("runs");
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// The text of `attr="..."` in `tag`.
fn attr<'a>(tag: &'a str, attr: &str) -> Option<&'a str> {
    let at = tag.find(&format!(" {attr}=\""))? + attr.len() + 3;
    Some(&tag[at..at + tag[at..].find('"')?])
}

/// The device sections of a DOM: (key, section).
fn sections(dom: &str) -> Vec<(String, &str)> {
    let mut out = Vec::new();
    let mut rest = dom;
    while let Some(at) = rest.find("<section class=\"device ") {
        let section = &rest[at..];
        let end = section.find("</section>").expect("section ends");
        let open = &section[..section.find('>').unwrap()];
        out.push((attr(open, "data-key").expect("a key").to_string(), &section[..end]));
        rest = &section[end..];
    }
    out
}

/// What a device's swimlane must show, from the JSON report: the hosts of its lanes (its hosts, the hosts of
/// its events and of its findings' evidence), its timed events, and a pin for each finding with a timed
/// evidence line (at most one per such line: lines of one finding at one place share a pin).
struct Expected {
    lanes: BTreeSet<String>,
    marks: usize,
    pins: std::ops::RangeInclusive<usize>,
}

fn expected(doc: &Value, key: &str) -> Expected {
    let device = doc["devices"].as_array().unwrap().iter().find(|d| d["key"] == key).expect("the device");
    let mut lanes: BTreeSet<String> =
        device["hosts"].as_array().unwrap().iter().map(|h| h.as_str().unwrap().to_string()).collect();
    let events: Vec<&Value> =
        doc["timeline"].as_array().unwrap().iter().filter(|e| e["device"] == key).collect();
    lanes.extend(events.iter().map(|e| e["host"].as_str().unwrap().to_string()));
    let findings: Vec<&Value> =
        doc["findings"].as_array().unwrap().iter().filter(|f| f["device"] == key).collect();
    let evidence: Vec<&Value> = findings.iter().flat_map(|f| f["evidence"].as_array().unwrap()).collect();
    lanes.extend(evidence.iter().map(|e| e["host"].as_str().unwrap().to_string()));
    let timed = |e: &Value| !e["time"].is_null();
    let pinned = findings.iter().filter(|f| f["evidence"].as_array().unwrap().iter().any(timed)).count();
    Expected {
        lanes,
        marks: events.iter().filter(|e| timed(e)).count(),
        pins: pinned..=evidence.iter().filter(|e| timed(e)).count(),
    }
}

/// Every detailed device's swimlane, as the browser holds it, against the JSON report.
fn check_swimlanes(dom: &str, doc: &Value) -> usize {
    let sections = sections(dom);
    for (key, section) in &sections {
        let want = expected(doc, key);
        let svg = &section[section.find("<svg class=\"swim\"").expect("a swimlane")..];
        let svg = &svg[..svg.find("</svg>").expect("svg ends")];
        let lanes: Vec<&str> = svg
            .match_indices("<g class=\"lane\"")
            .map(|(i, _)| attr(&svg[i..i + svg[i..].find('>').unwrap()], "data-host").expect("a host"))
            .collect();
        let distinct: BTreeSet<String> = lanes.iter().map(|h| h.to_string()).collect();
        assert_eq!(lanes.len(), distinct.len(), "{key}: one lane per host");
        assert_eq!(distinct, want.lanes, "{key}: the lanes are its hosts");
        assert_eq!(svg.matches("<g class=\"phase ").count(), 11, "{key}: 11 phases");
        assert_eq!(svg.matches("<path class=\"m ").count(), want.marks, "{key}: a mark per timed event");
        let pins = svg.matches("<g class=\"pin ").count();
        assert!(want.pins.contains(&pins), "{key}: {pins} pins, not in {:?}", want.pins);
    }
    sections.len()
}

#[test]
fn the_demo_page_runs_and_draws_every_device() {
    let page = report("demo.html", &common::demo(), &[]);
    let doc = json(&common::demo());
    let dom = dom_of(&page, "");
    assert_eq!(check_swimlanes(&dom, &doc), 2, "both devices in full");
    assert!(dom.contains("<output id=\"f-count\">showing 2 of 2 device(s)</output>"), "the filters ran");
    assert!(dom.contains("<g class=\"pin e\""), "the findings are pinned");
    // No panel is open until a mark is clicked.
    assert!(!dom.contains("<div class=\"panel\">"), "panels closed");
}

#[test]
fn a_mark_opens_its_line() {
    let page = report("demo-show.html", &common::demo(), &[]);
    // The first pin of the first finding of the first device: the untrusted root CA on LAPTOP-K9X1.
    let dom = dom_of(&page, "show=d0-f1-0");
    let at = dom.find("<div class=\"panel\">").expect("the panel is open");
    let panel = &dom[at..at + dom[at..].find("</figure>").unwrap()];
    assert!(panel.contains("LAPTOP-K9X1/Windows/ccmsetup/Logs/ccmsetup.log:5</code>"), "path:line");
    assert!(panel.contains("local as written"), "the time as written");
    assert!(panel.contains("<mark>"), "the cited line in its context");
    assert!(panel.contains("Show it in the report"));
    // An event's mark shows its row: UTC, the time as written, host, line.
    let dom = dom_of(&page, "show=d0-e0");
    let at = dom.find("<div class=\"panel\">").expect("the panel is open");
    let panel = &dom[at..at + dom[at..].find("</figure>").unwrap()];
    for head in ["<dt>UTC</dt>", "<dt>Local time as written</dt>", "<dt>Host</dt>", "<dt>Line</dt>"] {
        assert!(panel.contains(head), "{head} in {panel}");
    }
    assert!(panel.contains("ccmsetup.log:"), "{panel}");
}

#[test]
fn the_search_narrows_the_devices_to_an_id() {
    let page = report("demo-search.html", &common::demo(), &[]);
    // A message id of DESKTOP-7Q2M's CCM messaging, as the log writes it (braces, upper case).
    let dom = dom_of(&page, "q={BD03DEED-D09A-4E63-ADAD-596376FFB0DA}");
    assert!(dom.contains("showing 1 of 2 device(s)"), "one device has that message id");
    let hidden: Vec<String> = sections(&dom)
        .into_iter()
        .filter(|(_, s)| s[..s.find('>').unwrap()].contains(" hidden"))
        .map(|(k, _)| k)
        .collect();
    assert_eq!(hidden, ["LAPTOP-K9X1"], "the other device's section is hidden");
    // Its Entra device id, and a host name, find it too.
    assert!(dom_of(&page, "q=8d2b4ff9-0172-4998-9851-b5324303385f").contains("showing 1 of 2 device(s)"));
    assert!(dom_of(&page, "q=mp01").contains("showing 1 of 2 device(s)"));
    assert!(dom_of(&page, "q=no-such-id").contains("<p id=\"no-match\" class=\"note\">"), "no match said");
}

#[test]
fn the_filters_narrow_the_devices() {
    let page = report("demo-filters.html", &common::demo(), &[]);
    // (filters, the device left): LAPTOP-K9X1 failed on an untrusted root CA and has phases not collected;
    // DESKTOP-7Q2M is healthy, and seen on the management point too.
    for (filters, left) in [
        ("rule=root-ca-untrusted", "LAPTOP-K9X1"),
        ("status=p:c", "LAPTOP-K9X1"),
        ("status=s:e", "LAPTOP-K9X1"),
        ("status=s:ok", "GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139"),
        ("host=MP01", "GUID:C66EE0FD-08E7-4B38-B282-7E6954B71139"),
        ("host=LAPTOP-K9X1&rule=install-failed", "LAPTOP-K9X1"),
    ] {
        let dom = dom_of(&page, filters);
        assert!(dom.contains("showing 1 of 2 device(s)"), "#{filters}: one device");
        let shown: Vec<String> = sections(&dom)
            .into_iter()
            .filter(|(_, s)| !s[..s.find('>').unwrap()].contains(" hidden"))
            .map(|(k, _)| k)
            .collect();
        assert_eq!(shown, [left], "#{filters}");
    }
    let dom = dom_of(&page, "host=MP01&status=s:e");
    assert!(dom.contains("showing 0 of 2 device(s)"), "filters combine");
}

#[test]
fn the_fleet_page_runs_and_draws_its_failing_devices() {
    let fleet = common::mixed_fleet();
    let page = report("fleet.html", &fleet, &[]);
    let doc = json(&fleet);
    let dom = dom_of(&page, "");
    let drawn = check_swimlanes(&dom, &doc);
    let failing: BTreeSet<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .filter_map(|f| f["device"].as_str())
        .collect();
    assert_eq!(drawn, failing.len(), "the failing devices in full");
    let rows = dom.matches("<tr id=\"r").count();
    assert!(dom.contains(&format!("showing {rows} of {rows} device(s)")), "every row counted");
}

#[test]
fn hostile_log_lines_do_nothing_in_a_browser() {
    let dir = tempfile::tempdir().unwrap();
    let host = "PC-<img src=x onerror=\"document.title='pwned'\">";
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(DEMO)
        .join("LAPTOP-K9X1/Windows/ccmsetup/Logs/ccmsetup.log");
    let log = std::fs::read_to_string(src).unwrap().replace(
        "Text=ERROR_WINHTTP_SECURE_FAILURE]LOG]",
        "Text=ERROR_WINHTTP_SECURE_FAILURE </script><script>document.body.setAttribute('data-pwned','1')</script>\
         <img src=x onerror=\"document.body.setAttribute('data-pwned','2')\">]LOG]",
    );
    let logs = dir.path().join(host).join("Windows/ccmsetup/Logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::write(logs.join("ccmsetup.log"), log).unwrap();
    let page = report("hostile.html", &[dir.path().to_path_buf()], &["--timeline"]);
    let dom = dom_of(&page, "show=d0-f1-0");
    assert!(!body_tag(&dom).contains("data-pwned"), "no script from the log ran: {}", body_tag(&dom));
    assert!(!dom.contains("<title>pwned</title>"), "no handler from a host name ran");
    assert!(!dom.to_ascii_lowercase().contains("<img"), "no image element");
    assert_eq!(dom.matches("<script").count(), 1, "the page's script only");
    assert!(dom.contains("&lt;/script&gt;&lt;script&gt;"), "the line is shown as text");
}

#[test]
fn a_screenshot_of_the_demo() {
    let page = report("demo-screenshot.html", &common::demo(), &[]);
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("html-report.png");
    let _ = std::fs::remove_file(&shot);
    let loaded = browse(&page, "", &[&format!("--screenshot={}", shot.display()), "--window-size=1400,1800"]);
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot ({e}):\n{}", loaded.log));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    assert!(png.len() > 20_000, "a page, not a blank: {} bytes", png.len());
}
