//! The JSON-lines rendering shared by the file and stdout sinks:
//! `{"topic": "...", "partition": null, "timestamp": <ms>, "headers": {...},
//! "key": <key>, "value": <value>}`. JSON keys and values are embedded as
//! JSON; other content is a base64 string; null stays null.

use std::io::Write;

use base64::Engine;
use sluice_connect_api::record::ContentType;
use sluice_connect_api::SerializedRecord;

fn write_str(out: &mut Vec<u8>, s: &str) {
    // serde_json's string escaper never fails on a Vec.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn write_content(out: &mut Vec<u8>, bytes: Option<&[u8]>, content: ContentType) {
    match bytes {
        None => out.extend_from_slice(b"null"),
        Some(b) if content == ContentType::Json && !b.is_empty() => out.extend_from_slice(b),
        Some(b) => {
            out.push(b'"');
            let start = out.len();
            let len = base64::encoded_len(b.len(), true).expect("base64 length fits in usize");
            out.resize(start + len, 0);
            let written = base64::engine::general_purpose::STANDARD
                .encode_slice(b, &mut out[start..])
                .expect("buffer sized by encoded_len");
            out.truncate(start + written);
            out.push(b'"');
        }
    }
}

/// Appends one record as a JSON line (with the trailing newline) to `out`.
pub fn render_line(record: &SerializedRecord, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"topic\":");
    write_str(out, &record.topic);
    out.extend_from_slice(b",\"partition\":");
    match record.partition {
        Some(p) => {
            let _ = write!(out, "{p}");
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"timestamp\":");
    match record.timestamp {
        Some(t) => {
            let _ = write!(out, "{t}");
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"headers\":{");
    for (i, (k, v)) in record.headers.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, k);
        out.push(b':');
        match v {
            Some(bytes) => write_str(out, &String::from_utf8_lossy(bytes)),
            None => out.extend_from_slice(b"null"),
        }
    }
    out.extend_from_slice(b"},\"key\":");
    write_content(out, record.key.as_deref(), record.key_type);
    out.extend_from_slice(b",\"value\":");
    write_content(out, record.value.as_deref(), record.value_type);
    out.extend_from_slice(b"}\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        kt: ContentType,
        vt: ContentType,
    ) -> SerializedRecord {
        SerializedRecord {
            topic: "server1.public.t\"x".into(),
            partition: None,
            timestamp: Some(1700000000123),
            headers: vec![("h".into(), Some(b"v".to_vec())), ("n".into(), None)],
            key: key.map(<[u8]>::to_vec),
            value: value.map(<[u8]>::to_vec),
            key_type: kt,
            value_type: vt,
        }
    }

    #[test]
    fn json_is_embedded_and_other_content_is_base64() {
        let mut out = Vec::new();
        render_line(
            &record(
                Some(br#"{"id":1}"#),
                Some(b"hello"),
                ContentType::Json,
                ContentType::Text,
            ),
            &mut out,
        );
        assert_eq!(*out.last().unwrap(), b'\n');
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v,
            json!({"topic": "server1.public.t\"x", "partition": null, "timestamp": 1700000000123i64,
                   "headers": {"h": "v", "n": null}, "key": {"id": 1}, "value": "aGVsbG8="})
        );
        // Field order is the contract's.
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("{\"topic\":"), "{text}");
        assert!(text.find("\"key\"").unwrap() < text.find("\"value\"").unwrap());
    }

    #[test]
    fn tombstone_and_null_key_render_as_null() {
        let mut out = Vec::new();
        let mut r = record(None, None, ContentType::Json, ContentType::Json);
        r.partition = Some(3);
        render_line(&r, &mut out);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["key"], serde_json::Value::Null);
        assert_eq!(v["value"], serde_json::Value::Null);
        assert_eq!(v["partition"], 3);
    }
}
