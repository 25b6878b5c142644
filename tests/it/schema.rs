//! The JSON Schemas in `docs/` are generated from the report's types (`cmtrace_analysis::schema`) and must
//! match them (`UPDATE_SCHEMA=1 cargo test --test it schema::` rewrites them), and what `analyze` really writes
//! must validate against them: `--format json` and every `--format ndjson` line, on the demo, every bundle
//! of `fixtures/bundles`, `fixtures/rules` and `fixtures/mixed`, the real logs, the parser fixtures (inputs
//! with errors and warnings) and a path that does not exist. The schemas are strict enough to fail a wrong
//! document: a misspelt status, a missing field or an unknown one.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::common::cmtrace;

const DOCUMENT: &str = "docs/analysis.schema.json";
const NDJSON: &str = "docs/analysis-ndjson.schema.json";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).expect("a JSON value") + "\n"
}

#[test]
fn schemas_are_current() {
    let update = std::env::var_os("UPDATE_SCHEMA").is_some();
    let mut stale = Vec::new();
    for (name, schema) in
        [(DOCUMENT, cmtrace_analysis::schema::document()), (NDJSON, cmtrace_analysis::schema::ndjson_line())]
    {
        let path = root().join(name);
        let text = pretty(&schema);
        if update {
            std::fs::write(&path, &text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(name);
        }
    }
    assert!(stale.is_empty(), "stale schemas {stale:?}: run `UPDATE_SCHEMA=1 cargo test --test it schema::`");
}

/// A validator for `schema` (formats asserted: `date-time` is checked, not only noted).
struct Validator {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Validator {
    fn new(schema: Value) -> Validator {
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler.enable_format_assertions();
        let url = "urn:cmtrace-rs:schema";
        compiler.add_resource(url, schema).expect("the schema is a resource");
        let index =
            compiler.compile(url, &mut schemas).unwrap_or_else(|e| panic!("the schema compiles: {e:#}"));
        Validator { schemas, index }
    }

    fn document() -> Validator {
        Validator::new(cmtrace_analysis::schema::document())
    }

    fn ndjson() -> Validator {
        Validator::new(cmtrace_analysis::schema::ndjson_line())
    }

    /// `Err` with every reason `v` does not validate.
    fn check(&self, v: &Value) -> Result<(), String> {
        self.schemas.validate(v, self.index).map_err(|e| format!("{e:#}"))
    }
}

/// Every folder whose `analyze` output is validated: the demo, every bundle of `fixtures/bundles`,
/// `fixtures/rules` and `fixtures/mixed` (the real logs among them), the parser fixtures and the hostile one.
fn inputs() -> Vec<PathBuf> {
    let fixtures = root().join("fixtures");
    let mut v =
        vec![fixtures.join("demo/case-1234"), fixtures.join("parse"), fixtures.join("hostile/escapes")];
    for group in ["bundles", "rules", "mixed"] {
        let dir = fixtures.join(group);
        let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("folder entry").path())
            .filter(|p| p.is_dir())
            .collect();
        assert!(found.len() > 5, "{}: only {} bundles", dir.display(), found.len());
        found.sort();
        v.extend(found);
    }
    for p in &v {
        assert!(p.is_dir(), "{}", p.display());
    }
    v
}

/// `cmtrace-rs analyze PATH --format FORMAT --fail-on never`: stdout and the exit status.
fn analyze(path: &Path, format: &str) -> (String, i32) {
    let out = cmtrace()
        .arg("analyze")
        .arg(path)
        .args(["--format", format, "--fail-on", "never"])
        .env_remove("NO_COLOR")
        .output()
        .expect("cmtrace-rs runs");
    (String::from_utf8(out.stdout).expect("UTF-8 output"), out.status.code().unwrap_or(-1))
}

/// Runs `job` on every item, on as many threads as there are cores (each job starts a `cmtrace-rs`, whose
/// start-up dominates in a debug build).
fn on_all_cores<T: Sync, R: Send>(items: &[T], job: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(items.len().max(1));
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> =
            items.chunks(chunk).map(|c| s.spawn(|| c.iter().map(&job).collect::<Vec<R>>())).collect();
        handles.into_iter().flat_map(|h| h.join().expect("a validating thread")).collect()
    })
}

#[test]
fn real_output_validates() {
    let document = Validator::document();
    let line = Validator::ndjson();
    let mut paths = inputs();
    // Nothing readable: exit 2, and still one document whose `inputs[]` says why.
    paths.push(root().join("fixtures/no-such-folder"));
    // Every input as JSON; as NDJSON the multi-device bundles, the demo and the inputs with problems (the
    // lines are the document's objects, written by the same code: `render::json`'s tests check that).
    let mut jobs: Vec<(&Path, &str)> = paths.iter().map(|p| (p.as_path(), "json")).collect();
    jobs.extend(
        paths
            .iter()
            .filter(|p| {
                !p.starts_with(root().join("fixtures/rules")) && !p.starts_with(root().join("fixtures/mixed"))
            })
            .map(|p| (p.as_path(), "ndjson")),
    );
    let results = on_all_cores(&jobs, |&(path, format)| {
        let (out, status) = analyze(path, format);
        let mut failures = Vec::new();
        let mut kinds = Vec::new();
        let mut events = std::collections::BTreeSet::new();
        let expected_status = if path.exists() { 0 } else { 2 };
        if status != expected_status {
            failures.push(format!("{} ({format}): exit status {status}", path.display()));
        }
        let docs: Vec<Value> = match format {
            "json" => vec![serde_json::from_str(&out).unwrap_or_else(|e| panic!("{}: {e}", path.display()))],
            _ => out
                .lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: {e}: {l}", path.display())))
                .collect(),
        };
        for (i, v) in docs.iter().enumerate() {
            let checked = if format == "json" { document.check(v) } else { line.check(v) };
            if let Err(e) = checked {
                failures.push(format!("{} ({format}, object {}): {e}", path.display(), i + 1));
            }
            if format == "ndjson" {
                kinds.push(v["type"].as_str().unwrap_or_default().to_string());
            } else {
                events.extend(
                    v["timeline"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|e| e["event"].as_str())
                        .map(String::from),
                );
            }
        }
        (format, docs.len(), kinds, failures, events)
    });
    let failures: Vec<&String> = results.iter().flat_map(|r| &r.3).collect();
    assert!(
        failures.is_empty(),
        "{} outputs do not validate:\n{}",
        failures.len(),
        failures.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("\n")
    );
    let documents = results.iter().filter(|r| r.0 == "json").count();
    let lines: usize = results.iter().filter(|r| r.0 == "ndjson").map(|r| r.1).sum();
    let kinds: std::collections::BTreeSet<&str> =
        results.iter().flat_map(|r| &r.2).map(|k| k.as_str()).collect();
    assert!(documents > 80, "only {documents} documents validated");
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), ["device", "event", "finding", "input"]);
    // The event names are an open list in the schema: the contract page lists those of this release.
    let page = contract_page();
    let events: std::collections::BTreeSet<&str> =
        results.iter().flat_map(|r| &r.4).map(|e| e.as_str()).collect();
    let unlisted: Vec<&&str> = events.iter().filter(|e| !page.contains(&format!("`{e}`"))).collect();
    assert!(unlisted.is_empty(), "docs/json-contract.md does not list the event names {unlisted:?}");
    eprintln!("{documents} JSON documents and {lines} NDJSON lines validate; {} event names", events.len());
}

/// The demo's document, to break in the tests below.
fn demo() -> Value {
    static DEMO: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    DEMO.get_or_init(|| {
        let (out, _) = analyze(&root().join("fixtures/demo/case-1234"), "json");
        serde_json::from_str(&out).expect("one JSON document")
    })
    .clone()
}

/// The demo's document validates, and fails once `change` is applied, with an error that names `expect`.
fn fails_when(change: impl FnOnce(&mut Value), expect: &str) {
    let validator = Validator::document();
    let mut doc = demo();
    validator.check(&doc).expect("the demo validates");
    change(&mut doc);
    let e = validator.check(&doc).expect_err("the changed document must not validate");
    assert!(e.contains(expect), "the error does not name {expect:?}: {e}");
}

#[test]
fn a_wrong_document_fails() {
    fails_when(|d| d["devices"][0]["phases"][0]["status"] = json!("faild"), "/devices/0/phases/0/status");
    fails_when(|d| d["devices"][0]["phases"][3]["id"] = json!("install.contents"), "/devices/0/phases/3/id");
    fails_when(|d| d["devices"][0]["path"] = json!("cmg-entra"), "/devices/0/path");
    fails_when(|d| d["findings"][0]["severity"] = json!("critical"), "/findings/0/severity");
    fails_when(|d| d["findings"][0]["rule"] = json!("root-ca-untrustd"), "/findings/0/rule");
    fails_when(|d| d["inputs"][0]["log_kind"] = json!("ccm_setup"), "/inputs/0/log_kind");
    fails_when(|d| d["schema_version"] = json!(1), "/schema_version");
    // A required field left out; one that is not in the contract added.
    fails_when(
        |d| {
            d["devices"][0]["phases"][0].as_object_mut().unwrap().remove("reason");
        },
        "reason",
    );
    fails_when(
        |d| {
            d["findings"][0].as_object_mut().unwrap().remove("evidence");
        },
        "evidence",
    );
    fails_when(|d| d["devices"][0]["phases"][0]["statu"] = json!("ok"), "statu");
    fails_when(|d| d["extra"] = json!(true), "extra");
    // Times: UTC with milliseconds and Z, nothing else.
    fails_when(|d| d["timeline"][0]["time"] = json!("2026-11-20T15:31:38Z"), "/timeline/0/time");
    fails_when(|d| d["timeline"][0]["time"] = json!("2026-11-20T15:31:38.100+01:00"), "/timeline/0/time");
    fails_when(|d| d["timeline"][0]["line"] = json!(0), "/timeline/0/line");
    // A device has its 11 phases; a finding at least one line of evidence.
    fails_when(
        |d| {
            d["devices"][0]["phases"].as_array_mut().unwrap().pop();
        },
        "/devices/0/phases",
    );
    fails_when(|d| d["findings"][0]["evidence"] = json!([]), "/findings/0/evidence");
}

#[test]
fn a_wrong_ndjson_line_fails() {
    let validator = Validator::ndjson();
    let (out, _) = analyze(&root().join("fixtures/demo/case-1234"), "ndjson");
    let lines: Vec<Value> =
        out.lines().map(|l| serde_json::from_str(l).expect("one object per line")).collect();
    let first = |kind: &str| lines.iter().find(|l| l["type"] == kind).cloned().expect(kind);
    for kind in ["input", "device", "finding", "event"] {
        let good = first(kind);
        validator.check(&good).unwrap_or_else(|e| panic!("{kind}: {e}"));
        let mut v = good.clone();
        v.as_object_mut().unwrap().remove("schema_version");
        assert!(validator.check(&v).is_err(), "{kind} without schema_version validates");
        let mut v = good.clone();
        v["type"] = json!("devices");
        assert!(validator.check(&v).is_err(), "{kind} with type 'devices' validates");
    }
    // An event line is not a device line: the `type` decides which object the line must be.
    let mut v = first("event");
    v["type"] = json!("device");
    assert!(validator.check(&v).is_err(), "an event typed as a device validates");
    let mut v = first("device");
    v["phases"][0]["status"] = json!("not-collected");
    assert!(validator.check(&v).is_err(), "a misspelt status validates");
}

fn contract_page() -> String {
    std::fs::read_to_string(root().join("docs/json-contract.md")).expect("docs/json-contract.md")
}

/// Every property name and every enumerated value of the schemas, as `code` in docs/json-contract.md: the page
/// describes each field and value the output can hold.
#[test]
fn the_contract_page_names_every_field_and_value() {
    fn walk(v: &Value, names: &mut std::collections::BTreeSet<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::Object(props)) = map.get("properties") {
                    names.extend(props.keys().cloned());
                }
                for key in ["enum", "const"] {
                    match map.get(key) {
                        Some(Value::Array(values)) => {
                            names.extend(values.iter().filter_map(Value::as_str).map(String::from))
                        }
                        Some(Value::String(s)) => {
                            names.insert(s.clone());
                        }
                        _ => {}
                    }
                }
                map.values().for_each(|x| walk(x, names));
            }
            Value::Array(items) => items.iter().for_each(|x| walk(x, names)),
            _ => {}
        }
    }
    let mut names = std::collections::BTreeSet::new();
    walk(&cmtrace_analysis::schema::document(), &mut names);
    walk(&cmtrace_analysis::schema::ndjson_line(), &mut names);
    assert!(names.len() > 100, "only {} names", names.len());
    let page = contract_page();
    let missing: Vec<&String> = names.iter().filter(|n| !page.contains(&format!("`{n}`"))).collect();
    assert!(missing.is_empty(), "docs/json-contract.md does not describe {missing:?}");
}
