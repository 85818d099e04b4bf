//! XML (all text nodes) and JSON (keys and values as `key: value` lines).

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::ExtractError;

/// The text nodes of an XML document, one element's text per line.
/// Malformed XML keeps what was read before the error.
pub(crate) fn xml_text(xml: &[u8]) -> Result<String, ExtractError> {
    let mut reader = Reader::from_reader(xml);
    let mut buffer = Vec::new();
    let mut text = String::new();
    // Text of the current element: entity references split it into
    // several events, so it is joined before it is written out.
    let mut current = String::new();
    let flush = |current: &mut String, text: &mut String| {
        let trimmed = current.trim();
        if !trimmed.is_empty() {
            text.push_str(trimmed);
            text.push('\n');
        }
        current.clear();
    };
    loop {
        match reader.read_event_into(&mut buffer) {
            Ok(Event::Text(e)) => current.push_str(&e.xml10_content()),
            Ok(Event::CData(e)) => current.push_str(&e.xml10_content()),
            Ok(Event::GeneralRef(e)) => {
                if let Ok(Some(c)) = e.resolve_char_ref() {
                    current.push(c);
                } else {
                    current.push_str(&crate::html::decode_entities(&format!("&{};", &*e)));
                }
            }
            Ok(Event::Start(_) | Event::End(_) | Event::Empty(_)) => flush(&mut current, &mut text),
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(e) if text.is_empty() && current.trim().is_empty() => {
                return Err(ExtractError::Corrupt(format!("malformed XML: {e}")));
            }
            Err(_) => break,
        }
        buffer.clear();
    }
    flush(&mut current, &mut text);
    Ok(text)
}

/// `path: value` lines for every scalar of a JSON document, so that keys
/// ("invoice_number") and values both reach the classifier.
pub(crate) fn json_text(json: &[u8], max_bytes: usize) -> Result<String, ExtractError> {
    let value: serde_json::Value = serde_json::from_slice(json)
        .map_err(|e| ExtractError::Corrupt(format!("malformed JSON: {e}")))?;
    let mut text = String::new();
    walk(&value, "", &mut text, max_bytes, 0);
    Ok(text)
}

fn walk(value: &serde_json::Value, key: &str, text: &mut String, max_bytes: usize, depth: usize) {
    if text.len() > max_bytes || depth > 64 {
        return;
    }
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let label = k.replace(['_', '-'], " ");
                walk(v, &label, text, max_bytes, depth + 1);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                walk(item, key, text, max_bytes, depth + 1);
            }
        }
        serde_json::Value::Null => {}
        scalar => {
            let shown = match scalar {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            if key.is_empty() {
                text.push_str(&shown);
            } else {
                text.push_str(&format!("{key}: {shown}"));
            }
            text.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_text_nodes() {
        let xml = b"<?xml version='1.0'?><invoice><number>42</number><!-- c --><vendor>A &amp; B</vendor><note><![CDATA[raw <text>]]></note></invoice>";
        let text = xml_text(xml).unwrap();
        assert!(text.contains("42"), "{text}");
        assert!(text.contains("raw <text>"), "{text}");
        assert!(text.contains('&'), "{text}");
        assert!(xml_text(b"<a><b>x</a>").is_ok());
        assert!(xml_text(b"<").is_err() || xml_text(b"<").is_ok());
    }

    #[test]
    fn json_keys_and_values() {
        let text = json_text(br#"{"invoice_number": "INV-1", "lines": [{"amount": 12.5}], "paid": false, "x": null}"#, 1 << 20).unwrap();
        assert!(text.contains("invoice number: INV-1"), "{text}");
        assert!(text.contains("amount: 12.5"), "{text}");
        assert!(json_text(b"{oops", 100).is_err());
    }
}
