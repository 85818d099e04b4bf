//! RTF to text: groups, control words, hex and Unicode escapes; the
//! destinations that hold no body text (font and colour tables, styles,
//! document info, pictures, `\*` extensions) are skipped.

use crate::ExtractError;

/// Destinations whose content is not body text.
const SKIPPED: &[&str] = &[
    "fonttbl",
    "colortbl",
    "stylesheet",
    "info",
    "pict",
    "object",
    "themedata",
    "colorschememapping",
    "latentstyles",
    "datastore",
    "xmlnstbl",
    "listtable",
    "listoverridetable",
    "rsidtbl",
    "generator",
    "header",
    "footer",
    "fldinst",
    "filetbl",
    "revtbl",
];

pub(crate) fn rtf_text(bytes: &[u8]) -> Result<String, ExtractError> {
    if !bytes.starts_with(b"{\\rtf") {
        return Err(ExtractError::Corrupt("not an RTF document".to_owned()));
    }
    let mut text = String::new();
    // Per group: whether its content is skipped.
    let mut skip_stack: Vec<bool> = vec![false];
    let mut unicode_skip = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let skipping = *skip_stack.last().unwrap_or(&false);
        match bytes[i] {
            b'{' => {
                skip_stack.push(skipping);
                i += 1;
            }
            b'}' => {
                if skip_stack.len() > 1 {
                    skip_stack.pop();
                }
                i += 1;
            }
            b'\\' => {
                i += 1;
                let Some(&next) = bytes.get(i) else { break };
                if next == b'\'' {
                    // \'hh: a byte in the document's code page (taken as Windows-1252).
                    let hex = bytes
                        .get(i + 1..i + 3)
                        .and_then(|h| std::str::from_utf8(h).ok());
                    if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok())
                        && !skipping
                    {
                        if unicode_skip > 0 {
                            unicode_skip -= 1;
                        } else {
                            let single = [byte];
                            let (decoded, _, _) = encoding_rs::WINDOWS_1252.decode(&single);
                            text.push_str(&decoded);
                        }
                    }
                    i += 3;
                    continue;
                }
                if !next.is_ascii_alphabetic() {
                    // Control symbols: escaped characters and special marks.
                    match next {
                        b'*' => {
                            if let Some(top) = skip_stack.last_mut() {
                                *top = true;
                            }
                        }
                        b'\\' | b'{' | b'}' if !skipping => text.push(next as char),
                        b'~' if !skipping => text.push(' '),
                        b'\n' | b'\r' if !skipping => text.push('\n'),
                        _ => {}
                    }
                    i += 1;
                    continue;
                }
                let start = i;
                while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                    i += 1;
                }
                let word = std::str::from_utf8(&bytes[start..i]).unwrap_or("");
                let number_start = i;
                if i < bytes.len() && bytes[i] == b'-' {
                    i += 1;
                }
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                let parameter: Option<i64> = std::str::from_utf8(&bytes[number_start..i])
                    .ok()
                    .and_then(|n| n.parse().ok());
                if i < bytes.len() && bytes[i] == b' ' {
                    i += 1;
                }
                if SKIPPED.contains(&word) {
                    if let Some(top) = skip_stack.last_mut() {
                        *top = true;
                    }
                    continue;
                }
                if skipping {
                    continue;
                }
                match word {
                    "par" | "line" | "sect" | "page" | "row" => text.push('\n'),
                    "tab" | "cell" => text.push('\t'),
                    "u" => {
                        if let Some(code) = parameter {
                            let code = if code < 0 { code + 65_536 } else { code };
                            if let Some(c) = u32::try_from(code).ok().and_then(char::from_u32) {
                                text.push(c);
                            }
                            unicode_skip = 1;
                        }
                    }
                    _ => {}
                }
            }
            b'\r' | b'\n' => i += 1,
            byte => {
                if !skipping {
                    if unicode_skip > 0 {
                        unicode_skip -= 1;
                    } else {
                        text.push(byte as char);
                    }
                }
                i += 1;
            }
        }
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_text_without_tables() {
        let rtf = br"{\rtf1\ansi{\fonttbl{\f0 Arial;}}{\colortbl;\red0\green0\blue0;}{\*\generator Foo;}\f0\fs24 Invoice No. 42\par Total: \'a3100 caf\'e9 \u8364? end\par}";
        let text = rtf_text(rtf).unwrap();
        assert!(text.contains("Invoice No. 42\n"), "{text:?}");
        assert!(text.contains("£100 café €"), "{text:?}");
        assert!(!text.contains("Arial") && !text.contains("Foo"), "{text:?}");
        assert!(rtf_text(b"plain").is_err());
        let _ = rtf_text(br"{\rtf1 \'");
        let _ = rtf_text(br"{\rtf1 }}}}{{{\u");
    }
}
