//! Runs every case of `testdata/postgres-types/*.json`: the expected
//! schemas and values are Debezium's (each case names the Debezium test,
//! documentation table or code it comes from), rendered as Kafka's
//! `JsonConverter` renders them. See `testdata/postgres-types/README.md`.

#[path = "types_common.rs"]
mod types_common;

use serde_json::Value as Json;
use sluice_connect_api::{Schema, Value};
use sluice_postgres::types::{column_mapping, CatalogRow, TypeRegistry};
use sluice_testkit::golden;
use types_common::*;

fn run_case(file: &str, doc: &Json, case: &Json, failures: &mut Vec<String>) {
    let name = case["case"].as_str().unwrap();
    let label = format!("{file}#{name}");
    let mut props = settings_map(doc.get("settings"));
    props.extend(settings_map(case.get("settings")));
    let settings = settings_from(&props);

    let user_types: Vec<CatalogRow> = doc
        .get("user_types")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().map(catalog_row).collect())
        .unwrap_or_default();
    let mut registry = TypeRegistry::builtin();
    for row in &user_types {
        registry.add_catalog_row(row.clone());
    }

    let (type_name, typmod) = parse_type_spec(case["type"].as_str().unwrap());
    let oid = oid_by_name(&registry, &user_types, &type_name);
    let optional = case["optional"].as_bool().unwrap_or(true);
    let mapping = column_mapping(&registry, oid, typmod, optional, &settings);

    if case["unsupported"].as_bool() == Some(true) {
        if let Ok(m) = mapping {
            failures.push(format!(
                "{label}: expected UnsupportedType, got schema {}",
                schema_json(&m.schema)
            ));
        }
        return;
    }
    let mapping = match mapping {
        Ok(m) => m,
        Err(e) => {
            failures.push(format!("{label}: unexpected {e}"));
            return;
        }
    };
    let mapping = match case.get("default_expression").and_then(|v| v.as_str()) {
        Some(expr) => mapping.with_default_expression(expr),
        None => mapping,
    };

    let actual_schema = schema_json(&mapping.schema);
    if !json_equal(&actual_schema, &case["schema"]) {
        failures.push(format!(
            "{label}: schema\n  actual:   {actual_schema}\n  expected: {}",
            case["schema"]
        ));
    }

    let value: Value = if case["unavailable"].as_bool() == Some(true) {
        mapping.unavailable_value()
    } else if case["null"].as_bool() == Some(true) {
        mapping.null_value()
    } else {
        let text = case["text"].as_str().unwrap();
        match mapping.convert_text(text.as_bytes()) {
            Ok(v) => {
                if case["error"].as_bool() == Some(true) {
                    failures.push(format!("{label}: expected a conversion error, got {v:?}"));
                    return;
                }
                v
            }
            Err(e) => {
                if case["error"].as_bool() != Some(true) {
                    failures.push(format!("{label}: unexpected {e}"));
                } else if !e.to_string().contains(text) {
                    failures.push(format!("{label}: error does not name the text: {e}"));
                }
                return;
            }
        }
    };
    let actual = value_json(&value, &mapping.schema);
    if !json_equal(&actual, &case["value"]) {
        failures.push(format!(
            "{label}: value\n  actual:   {actual}\n  expected: {}",
            case["value"]
        ));
    }
    if let Some(expected_plain) = case.get("decimal").and_then(|v| v.as_str()) {
        match &value {
            Value::Decimal(d) if d.to_plain_string() == expected_plain => {}
            other => failures.push(format!(
                "{label}: expected decimal {expected_plain}, got {other:?}"
            )),
        }
    }
    if !value.is_null() {
        check_valid(&label, &mapping.schema, &value, failures);
    }
}

fn check_valid(label: &str, schema: &Schema, value: &Value, failures: &mut Vec<String>) {
    if let Err(e) = schema.validate_value(value) {
        failures.push(format!(
            "{label}: value does not validate against its schema: {e}"
        ));
    }
}

#[test]
fn types_match_debezium_expectations() {
    let dir = golden::testdata_path("postgres-types");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 10, "case files missing in {}", dir.display());
    let mut failures = Vec::new();
    let mut count = 0;
    for path in &files {
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        let doc: Json = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        for case in doc["cases"].as_array().unwrap() {
            assert!(
                case["source"].as_str().is_some_and(|s| !s.is_empty()),
                "{file}: every case cites its source"
            );
            count += 1;
            run_case(&file, &doc, case, &mut failures);
        }
    }
    assert!(count > 200, "only {count} cases");
    assert!(
        failures.is_empty(),
        "{} of {count} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
