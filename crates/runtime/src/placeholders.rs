//! `${provider:...}` placeholders in configuration values (Kafka's config
//! providers): `${env:NAME}` reads an environment variable and
//! `${file:/path/to/file.properties:key}` reads `key` from a properties file.
//! Unlike Kafka, the providers need no `config.providers` declaration.

use std::collections::BTreeMap;

use crate::properties::parse_properties;

/// Resolves every placeholder in every value. Errors name the key whose
/// value could not be resolved and why (never the resolved secret).
pub fn resolve_placeholders(
    props: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, (String, String)> {
    let mut out = BTreeMap::new();
    let mut file_cache: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (key, value) in props {
        let resolved = resolve_value(value, &mut file_cache).map_err(|e| (key.clone(), e))?;
        out.insert(key.clone(), resolved);
    }
    Ok(out)
}

fn resolve_value(
    value: &str,
    files: &mut BTreeMap<String, BTreeMap<String, String>>,
) -> Result<String, String> {
    if !value.contains("${") {
        return Ok(value.to_string());
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let inner = &after[..end];
        match inner.split_once(':') {
            Some(("env", name)) => {
                let v = std::env::var(name).map_err(|_| {
                    format!("environment variable {name} referenced by ${{env:{name}}} is not set")
                })?;
                out.push_str(&v);
            }
            Some(("file", path_and_key)) => {
                let (path, key) = path_and_key.rsplit_once(':').ok_or_else(|| {
                    format!(
                        "${{file:{path_and_key}}} must have the form ${{file:/path/to/file:key}}"
                    )
                })?;
                if !files.contains_key(path) {
                    let text = std::fs::read_to_string(path).map_err(|e| {
                        format!("cannot read {path} referenced by a ${{file:...}} placeholder: {e}")
                    })?;
                    let parsed = parse_properties(&text).map_err(|e| format!("{path}: {e}"))?;
                    files.insert(path.to_string(), parsed);
                }
                let v = files[path].get(key).ok_or_else(|| {
                    format!(
                        "key {key} not found in {path} (referenced by a ${{file:...}} placeholder)"
                    )
                })?;
                out.push_str(v);
            }
            _ => {
                // Not a provider we know: leave it as Kafka does.
                out.push_str("${");
                out.push_str(inner);
                out.push('}');
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn resolves_env_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = dir.path().join("secrets.properties");
        std::fs::write(&secrets, "db.password=s3cret\n").unwrap();
        std::env::set_var("SLUICE_TEST_HOST", "db.example");
        let p = props(&[
            ("database.hostname", "${env:SLUICE_TEST_HOST}"),
            (
                "database.password",
                &format!("${{file:{}:db.password}}", secrets.display()),
            ),
            ("mixed", "x-${env:SLUICE_TEST_HOST}-y"),
            ("other", "${vault:a:b}"),
        ]);
        let r = resolve_placeholders(&p).unwrap();
        assert_eq!(r["database.hostname"], "db.example");
        assert_eq!(r["database.password"], "s3cret");
        assert_eq!(r["mixed"], "x-db.example-y");
        assert_eq!(r["other"], "${vault:a:b}");
    }

    #[test]
    fn missing_env_names_the_key() {
        let (key, msg) =
            resolve_placeholders(&props(&[("a", "${env:SLUICE_SURELY_UNSET_VAR}")])).unwrap_err();
        assert_eq!(key, "a");
        assert!(msg.contains("SLUICE_SURELY_UNSET_VAR"));
    }
}
