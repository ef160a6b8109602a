//! Golden files: expected outputs kept under `testdata/`.
//!
//! Paths are relative to the test data directory, found as follows:
//! `$SLUICE_TESTDATA_DIR` if set; else the nearest `testdata/` directory in
//! the ancestors of the crate under test (`$CARGO_MANIFEST_DIR`, which cargo
//! sets when it runs tests) or of this crate; else `testdata/` next to the
//! workspace's `Cargo.toml` (created when blessing).
//!
//! With `SLUICE_BLESS=1` in the environment, [`assert_golden_json`] and
//! [`assert_golden_text`] write the actual value to the golden file instead
//! of comparing — review the diff before committing it.
//!
//! ```no_run
//! use sluice_testkit::golden;
//! use serde_json::json;
//!
//! let event = json!({"op": "c", "after": {"id": 1}});
//! golden::assert_golden_json("postgres/insert_event.json", &event);
//! golden::assert_json_eq(&event, &json!({"after": {"id": 1}, "op": "c"}));
//! ```

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The environment variable that turns comparing into writing.
pub const BLESS_ENV: &str = "SLUICE_BLESS";

/// Whether `SLUICE_BLESS` is set to something other than `0`, `false` or
/// the empty string.
pub fn bless_enabled() -> bool {
    match std::env::var(BLESS_ENV) {
        Ok(v) => !matches!(v.trim(), "" | "0" | "false" | "no"),
        Err(_) => false,
    }
}

fn start_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        dirs.push(PathBuf::from(dir));
    }
    dirs.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    dirs
}

/// The workspace root: the nearest ancestor of the crate under test (or of
/// this crate) whose `Cargo.toml` has a `[workspace]` table.
pub fn workspace_root() -> PathBuf {
    for start in start_dirs() {
        for dir in start.ancestors() {
            let manifest = dir.join("Cargo.toml");
            if let Ok(text) = std::fs::read_to_string(&manifest) {
                if text.lines().any(|l| l.trim() == "[workspace]") {
                    return dir.to_path_buf();
                }
            }
        }
    }
    // This crate lives at <root>/crates/testkit.
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The test data directory (see the module documentation).
pub fn testdata_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("SLUICE_TESTDATA_DIR") {
        return PathBuf::from(dir);
    }
    for start in start_dirs() {
        for dir in start.ancestors() {
            let candidate = dir.join("testdata");
            if candidate.is_dir() {
                return candidate;
            }
        }
    }
    workspace_root().join("testdata")
}

/// `testdata_dir().join(relative)`.
pub fn testdata_path(relative: impl AsRef<Path>) -> PathBuf {
    testdata_dir().join(relative)
}

/// The bytes of a test data file; panics with the full path if it cannot be
/// read.
#[track_caller]
pub fn read_testdata(relative: impl AsRef<Path>) -> Vec<u8> {
    let path = testdata_path(relative);
    match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => panic!("cannot read test data file {}: {e}", path.display()),
    }
}

/// A test data file as UTF-8 text; panics if it cannot be read.
#[track_caller]
pub fn read_testdata_string(relative: impl AsRef<Path>) -> String {
    let path = testdata_path(relative);
    match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => panic!("cannot read test data file {}: {e}", path.display()),
    }
}

/// A test data file parsed as one JSON value; panics if it cannot be read or
/// parsed.
#[track_caller]
pub fn read_json(relative: impl AsRef<Path>) -> Value {
    let relative = relative.as_ref();
    let text = read_testdata_string(relative);
    match serde_json::from_str(&text) {
        Ok(value) => value,
        Err(e) => panic!(
            "test data file {} is not valid JSON: {e}",
            testdata_path(relative).display()
        ),
    }
}

/// A test data file of JSON lines (one value per non-blank line); panics if
/// it cannot be read or a line cannot be parsed.
#[track_caller]
pub fn read_jsonl(relative: impl AsRef<Path>) -> Vec<Value> {
    let relative = relative.as_ref();
    let text = read_testdata_string(relative);
    let mut values = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(value) => values.push(value),
            Err(e) => panic!(
                "{}:{}: not valid JSON: {e}",
                testdata_path(relative).display(),
                n + 1
            ),
        }
    }
    values
}

/// The first difference between two JSON values, described with its path
/// (`$.payload.after.id`, `$.rows[3]`), or `None` if they are equal.
/// Objects are compared as maps (key order does not matter); numbers are
/// compared as written by serde_json (`1` and `1.0` differ).
pub fn json_diff(actual: &Value, expected: &Value) -> Option<String> {
    diff_at("$", actual, expected)
}

fn diff_at(path: &str, actual: &Value, expected: &Value) -> Option<String> {
    match (actual, expected) {
        (Value::Object(a), Value::Object(e)) => {
            for (key, ev) in e {
                let child = child_path(path, key);
                match a.get(key) {
                    None => {
                        return Some(format!(
                            "{child}: missing in actual (expected {})",
                            show(ev)
                        ))
                    }
                    Some(av) => {
                        if let Some(d) = diff_at(&child, av, ev) {
                            return Some(d);
                        }
                    }
                }
            }
            let mut extra: Vec<&String> = a.keys().filter(|k| !e.contains_key(*k)).collect();
            extra.sort();
            extra.first().map(|key| {
                format!(
                    "{}: unexpected in actual (actual {})",
                    child_path(path, key),
                    show(&a[key.as_str()])
                )
            })
        }
        (Value::Array(a), Value::Array(e)) => {
            for (i, (av, ev)) in a.iter().zip(e).enumerate() {
                if let Some(d) = diff_at(&format!("{path}[{i}]"), av, ev) {
                    return Some(d);
                }
            }
            if a.len() != e.len() {
                let n = a.len().min(e.len());
                let detail = if a.len() > e.len() {
                    format!("first extra element in actual: {}", show(&a[n]))
                } else {
                    format!("first missing element: {}", show(&e[n]))
                };
                return Some(format!(
                    "{path}: actual has {} elements, expected {}; {detail}",
                    a.len(),
                    e.len()
                ));
            }
            None
        }
        _ if actual == expected => None,
        _ => Some(format!(
            "{path}: expected {} {}, actual {} {}",
            kind(expected),
            show(expected),
            kind(actual),
            show(actual)
        )),
    }
}

fn child_path(path: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && !key.starts_with(|c: char| c.is_ascii_digit())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        format!("{path}.{key}")
    } else {
        format!("{path}[{}]", Value::String(key.to_string()))
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn show(v: &Value) -> String {
    truncate(&v.to_string(), 300)
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

/// Asserts that two JSON values are equal (objects as maps), panicking with
/// the path of the first difference and both values.
#[track_caller]
pub fn assert_json_eq(actual: &Value, expected: &Value) {
    if let Some(diff) = json_diff(actual, expected) {
        panic!("{}", mismatch_message(&diff, actual, expected, None));
    }
}

fn mismatch_message(diff: &str, actual: &Value, expected: &Value, file: Option<&Path>) -> String {
    let mut msg = String::from("JSON values differ");
    if let Some(file) = file {
        let _ = write!(msg, " from golden file {}", file.display());
    }
    let _ = write!(
        msg,
        "\nfirst difference: {diff}\n--- expected ---\n{}\n--- actual ---\n{}",
        truncate(&pretty(expected), 4000),
        truncate(&pretty(actual), 4000)
    );
    if file.is_some() {
        let _ = write!(msg, "\n(run with {BLESS_ENV}=1 to accept the actual value)");
    }
    msg
}

/// Compares `actual` with the JSON golden file `relative` (under
/// [`testdata_dir`]), or with `SLUICE_BLESS=1` writes it there (pretty,
/// with a final newline).
#[track_caller]
pub fn assert_golden_json(relative: impl AsRef<Path>, actual: &Value) {
    let path = testdata_path(relative);
    if bless_enabled() {
        write_golden(&path, &format!("{}\n", pretty(actual)));
        return;
    }
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => panic!(
            "cannot read golden file {}: {e} (run with {BLESS_ENV}=1 to create it)",
            path.display()
        ),
    };
    let expected: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => panic!("golden file {} is not valid JSON: {e}", path.display()),
    };
    if let Some(diff) = json_diff(actual, &expected) {
        panic!(
            "{}",
            mismatch_message(&diff, actual, &expected, Some(&path))
        );
    }
}

/// Compares `actual` with the text golden file `relative`, or with
/// `SLUICE_BLESS=1` writes it there. Reports the first differing line.
#[track_caller]
pub fn assert_golden_text(relative: impl AsRef<Path>, actual: &str) {
    let path = testdata_path(relative);
    if bless_enabled() {
        write_golden(&path, actual);
        return;
    }
    let expected = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => panic!(
            "cannot read golden file {}: {e} (run with {BLESS_ENV}=1 to create it)",
            path.display()
        ),
    };
    if expected == actual {
        return;
    }
    let mut exp_lines = expected.lines();
    let mut act_lines = actual.lines();
    let mut line = 1;
    let first = loop {
        match (exp_lines.next(), act_lines.next()) {
            (Some(e), Some(a)) if e == a => line += 1,
            (e, a) => break (e, a),
        }
    };
    let detail = match first {
        (Some(e), Some(a)) => format!("line {line}:\n  expected: {e:?}\n  actual:   {a:?}"),
        (Some(e), None) => format!("actual ends before line {line}, expected: {e:?}"),
        (None, Some(a)) => format!("actual has extra line {line}: {a:?}"),
        (None, None) => "the texts differ only in line endings or the final newline".to_string(),
    };
    panic!(
        "text differs from golden file {}\nfirst difference at {detail}\n\
         (run with {BLESS_ENV}=1 to accept the actual value)",
        path.display()
    );
}

#[track_caller]
fn write_golden(path: &Path, contents: &str) {
    if let Some(parent) = path.parent() {
        if let Err(e) = std::fs::create_dir_all(parent) {
            panic!("cannot create {}: {e}", parent.display());
        }
    }
    if let Err(e) = std::fs::write(path, contents) {
        panic!("cannot write golden file {}: {e}", path.display());
    }
    eprintln!("{BLESS_ENV}: wrote {}", path.display());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_values_have_no_diff() {
        let a = json!({"a": 1, "b": [1, 2, {"c": null}]});
        let b = json!({"b": [1, 2, {"c": null}], "a": 1});
        assert_eq!(json_diff(&a, &b), None);
        assert_json_eq(&a, &b);
    }

    #[test]
    fn reports_first_differing_path() {
        let expected = json!({"payload": {"after": {"id": 1, "name": "x"}, "op": "c"}});
        let actual = json!({"payload": {"after": {"id": 2, "name": "x"}, "op": "c"}});
        assert_eq!(
            json_diff(&actual, &expected).unwrap(),
            "$.payload.after.id: expected number 1, actual number 2"
        );
    }

    #[test]
    fn reports_missing_and_extra_keys() {
        let d = json_diff(&json!({"a": 1}), &json!({"a": 1, "b": true})).unwrap();
        assert_eq!(d, "$.b: missing in actual (expected true)");
        let d = json_diff(&json!({"a": 1, "weird key": 2}), &json!({"a": 1})).unwrap();
        assert_eq!(d, "$[\"weird key\"]: unexpected in actual (actual 2)");
    }

    #[test]
    fn reports_arrays_and_types() {
        let d = json_diff(&json!([1, 2, 3]), &json!([1, 2])).unwrap();
        assert_eq!(
            d,
            "$: actual has 3 elements, expected 2; first extra element in actual: 3"
        );
        let d = json_diff(&json!({"x": [1, "2"]}), &json!({"x": [1, 2]})).unwrap();
        assert_eq!(d, "$.x[1]: expected number 2, actual string \"2\"");
        assert!(json_diff(&json!(1), &json!(1.0)).is_some());
    }

    #[test]
    #[should_panic(expected = "first difference: $.a: expected number 1, actual number 2")]
    fn assert_json_eq_panics_readably() {
        assert_json_eq(&json!({"a": 2}), &json!({"a": 1}));
    }

    #[test]
    fn finds_workspace_root_and_testdata() {
        let root = workspace_root();
        assert!(root.join("Cargo.toml").is_file());
        assert!(root.join("crates").join("testkit").is_dir());
        // testdata/ may not exist yet; the directory is still under the root.
        if std::env::var_os("SLUICE_TESTDATA_DIR").is_none() {
            assert!(testdata_dir().starts_with(&root));
        }
    }

    #[test]
    fn golden_files_compare_and_report() {
        // Uses an absolute path (Path::join with an absolute path replaces
        // the base), so no file under testdata/ is needed.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("event.json");
        std::fs::write(&file, "{\"op\": \"c\", \"after\": {\"id\": 1}}\n").unwrap();
        if !bless_enabled() {
            assert_golden_json(&file, &json!({"after": {"id": 1}, "op": "c"}));
            let err = std::panic::catch_unwind(|| {
                assert_golden_json(&file, &json!({"after": {"id": 2}, "op": "c"}))
            })
            .unwrap_err();
            let msg = err.downcast_ref::<String>().unwrap();
            assert!(msg.contains("$.after.id"), "{msg}");
            assert!(msg.contains("SLUICE_BLESS=1"), "{msg}");

            let text = dir.path().join("out.txt");
            std::fs::write(&text, "a\nb\nc\n").unwrap();
            assert_golden_text(&text, "a\nb\nc\n");
            let err =
                std::panic::catch_unwind(|| assert_golden_text(&text, "a\nB\nc\n")).unwrap_err();
            let msg = err.downcast_ref::<String>().unwrap();
            assert!(msg.contains("line 2"), "{msg}");
        }
    }

    #[test]
    fn truncates_on_char_boundary() {
        let s = "é".repeat(10);
        let t = truncate(&s, 5);
        assert!(t.starts_with("éé"));
        assert!(t.ends_with("(20 bytes)"));
    }
}
