//! The JSON Schema (draft 2020-12) of what `analyze` writes, generated from the model's types with
//! `schemars` (feature `schema`): `document()` for `--format json`, `ndjson_line()` for one line of
//! `--format ndjson`. `tests/it/schema.rs` of the root package writes them to `docs/` and validates real output
//! against them.
//!
//! The schemas are exact for this build: every object is closed (`additionalProperties: false`), every
//! field that is always written is required, and statuses, phase ids, severities, paths, log kinds, rule ids
//! and failure classes are enumerated. A field added later (the contract allows it within a
//! `schema_version`) is added here too, so the committed schema never lags the output. Values that are not
//! a Rust type of their own (`&'static str` ids, times written by `ser_opt_utc`) get the marker types below
//! through `#[schemars(with = ...)]`.

use std::borrow::Cow;

use schemars::generate::SchemaSettings;
use schemars::transform::{RecursiveTransform, Transform};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

use crate::model::{Device, Finding, Input, Report, TimelineEvent, SCHEMA_VERSION};

/// `schema_version`: this build's version, as a constant.
pub(crate) struct SchemaVersion;

impl JsonSchema for SchemaVersion {
    fn schema_name() -> Cow<'static, str> {
        "SchemaVersion".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The version of this document's layout: a field renamed or removed bumps it, a field added does not.",
            "type": "integer",
            "const": SCHEMA_VERSION,
        })
    }
}

/// A time as `model::format_utc` writes it: RFC 3339, UTC, milliseconds, `Z`, a four-digit year.
pub(crate) struct UtcTime;

impl JsonSchema for UtcTime {
    fn inline_schema() -> bool {
        false
    }

    fn schema_name() -> Cow<'static, str> {
        "Time".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "UTC, RFC 3339 with milliseconds and a Z suffix, e.g. 2026-11-20T15:31:39.105Z.",
            "type": "string",
            "format": "date-time",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$",
        })
    }
}

/// A rule id of the catalog (`rules::RULES`).
pub(crate) struct RuleId;

impl JsonSchema for RuleId {
    fn inline_schema() -> bool {
        false
    }

    fn schema_name() -> Cow<'static, str> {
        "RuleId".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let ids: Vec<&str> = crate::rules::RULES.iter().map(|r| r.id).collect();
        json_schema!({
            "description": "A rule of the diagnostic catalog (`cmtrace-rs rules` lists them with their severity and fix). New rules add ids.",
            "type": "string",
            "enum": ids,
        })
    }
}

/// A failure class of the failure catalog (`causes::CLASSES`).
pub(crate) struct CauseClass;

impl JsonSchema for CauseClass {
    fn inline_schema() -> bool {
        false
    }

    fn schema_name() -> Cow<'static, str> {
        "CauseClass".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let ids: Vec<&str> = crate::causes::CLASSES.iter().map(|c| c.id).collect();
        json_schema!({
            "description": "The class of failure the device's error lines before a failure show (e.g. content-download), for a failure no specific rule explains. New classes add ids.",
            "type": "string",
            "enum": ids,
        })
    }
}

/// A timeline event's name (`cmtrace_parsers::EventKind::name`): snake_case, an open set.
pub(crate) struct EventName;

impl JsonSchema for EventName {
    fn schema_name() -> Cow<'static, str> {
        "EventName".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^[a-z][a-z0-9]*(_[a-z0-9]+)*$",
        })
    }
}

/// Every object schema with `properties` is closed: the output has exactly the fields the schema names.
fn close_objects(schema: &mut Schema) {
    if schema.get("properties").is_some() && schema.get("additionalProperties").is_none() {
        schema.insert("additionalProperties".into(), false.into());
    }
}

fn generator() -> SchemaGenerator {
    SchemaSettings::draft2020_12()
        .for_serialize()
        .with_transform(RecursiveTransform(close_objects))
        .into_generator()
}

/// The schema of the `analyze --format json` document.
pub fn document() -> Value {
    let mut schema = generator().into_root_schema_for::<Report>();
    schema.insert(
        "title".into(),
        format!("cmtrace-rs analyze --format json (schema_version {SCHEMA_VERSION})").into(),
    );
    schema.insert(
        "description".into(),
        "The report of `cmtrace-rs analyze --format json`: every input read, the devices with the steps of \
         their flow, the findings with their evidence, and the timeline of the flow's events. Generated from \
         the types that write it (docs/json-contract.md explains each field)."
            .into(),
    );
    schema.to_value()
}

/// The schema of one line of `analyze --format ndjson`: an input, a device, a finding or an event object of
/// the document, each opening with `type` (`input`, `device`, `finding`, `event`) and `schema_version`.
pub fn ndjson_line() -> Value {
    let mut generator = generator();
    let kinds: [(&str, Schema); 4] = [
        ("input", generator.subschema_for::<Input>()),
        ("device", generator.subschema_for::<Device>()),
        ("finding", generator.subschema_for::<Finding>()),
        ("event", generator.subschema_for::<TimelineEvent<'static>>()),
    ];
    let version = generator.subschema_for::<SchemaVersion>();
    let mut defs = generator.take_definitions(true);
    let mut lines = Vec::new();
    for (kind, reference) in kinds {
        // The line is the object itself with two more fields in front: its definition, extended.
        let name = reference
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .expect("a model type is a definition")
            .to_string();
        let mut object = defs[&name].clone();
        let map = object.as_object_mut().expect("an object schema");
        let mut properties = Map::new();
        properties.insert("type".into(), json!({ "const": kind }));
        properties.insert("schema_version".into(), version.clone().to_value());
        properties.extend(map["properties"].as_object().expect("properties").clone());
        map.insert("properties".into(), Value::Object(properties));
        let mut required = vec![json!("type"), json!("schema_version")];
        required.extend(map.get("required").and_then(Value::as_array).cloned().unwrap_or_default());
        map.insert("required".into(), Value::Array(required));
        map.insert("title".into(), format!("NDJSON line: {kind}").into());
        let line_name = format!("{name}Line");
        defs.insert(line_name.clone(), object);
        lines.push(json!({ "$ref": format!("#/$defs/{line_name}") }));
    }
    let mut schema = json_schema!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("cmtrace-rs analyze --format ndjson, one line (schema_version {SCHEMA_VERSION})"),
        "description": "One line of `cmtrace-rs analyze --format ndjson`: an object of the JSON document \
    (an input, a device, a finding or a timeline event) with `type` and `schema_version` in front. \
    Lines come in that order: inputs, devices, findings, events.",
        "oneOf": lines,
    });
    let mut closing = RecursiveTransform(close_objects);
    closing.transform(&mut schema);
    schema.insert("$defs".into(), Value::Object(defs));
    schema.to_value()
}
