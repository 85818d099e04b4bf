//! RTF to text: groups, control words, hex and Unicode escapes; the
//! destinations that hold no body text (font and colour tables, styles,
//! document info, pictures, `\*` extensions) are skipped; headers,
//! footers and footnotes are read. `\'hh` bytes are read in the current
//! font's character set (`\fcharset`, CJK double-byte sets included) or
//! the document's code page (`\ansicpg`); `\uN` characters skip their
//! `\ucN` fallback characters.

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
    "fldinst",
    "filetbl",
    "revtbl",
];

/// What a group's content is.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Destination {
    Body,
    /// Not text a reader sees.
    Skipped,
    /// `\fonttbl`: fonts and their character sets are noted.
    Fonts,
}

/// The state a group inherits from its parent and restores on leaving.
#[derive(Debug, Clone, Copy)]
struct Group {
    destination: Destination,
    /// How `\'hh` bytes are read: the current font's character set, or
    /// the document's code page.
    encoding: &'static encoding_rs::Encoding,
    /// `\ucN`: characters of fallback after each `\uN`.
    fallback: usize,
}

pub(crate) fn rtf_text(bytes: &[u8]) -> Result<String, ExtractError> {
    if !bytes.starts_with(b"{\\rtf") {
        return Err(ExtractError::Corrupt("not an RTF document".to_owned()));
    }
    let mut text = String::new();
    let mut groups: Vec<Group> = vec![Group {
        destination: Destination::Body,
        encoding: encoding_rs::WINDOWS_1252,
        fallback: 1,
    }];
    // Font number → character set, from the font table.
    let mut fonts: std::collections::HashMap<i64, &'static encoding_rs::Encoding> =
        std::collections::HashMap::new();
    let mut font_being_defined: Option<i64> = None;
    let mut document_encoding = encoding_rs::WINDOWS_1252;
    // Bytes of `\'hh` escapes in a row, decoded together (a double-byte
    // character set spreads one character over two).
    let mut pending: Vec<u8> = Vec::new();
    let mut skip_fallback = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let group = *groups.last().unwrap_or(&Group {
            destination: Destination::Body,
            encoding: document_encoding,
            fallback: 1,
        });
        let in_body = group.destination == Destination::Body;
        let is_hex_escape = bytes[i] == b'\\' && bytes.get(i + 1) == Some(&b'\'');
        if !is_hex_escape && !pending.is_empty() {
            let (decoded, _, _) = group.encoding.decode(&pending);
            text.push_str(&decoded);
            pending.clear();
        }
        match bytes[i] {
            b'{' => {
                groups.push(group);
                i += 1;
            }
            b'}' => {
                if groups.len() > 1 {
                    groups.pop();
                }
                i += 1;
            }
            b'\\' => {
                i += 1;
                let Some(&next) = bytes.get(i) else { break };
                if next == b'\'' {
                    let hex = bytes
                        .get(i + 1..i + 3)
                        .and_then(|h| std::str::from_utf8(h).ok());
                    if let Some(byte) = hex.and_then(|h| u8::from_str_radix(h, 16).ok())
                        && in_body
                    {
                        if skip_fallback > 0 {
                            skip_fallback -= 1;
                        } else {
                            pending.push(byte);
                        }
                    }
                    i += 3;
                    continue;
                }
                if !next.is_ascii_alphabetic() {
                    // Control symbols: escaped characters and special marks.
                    match next {
                        b'*' => {
                            if let Some(top) = groups.last_mut() {
                                top.destination = Destination::Skipped;
                            }
                        }
                        b'\\' | b'{' | b'}' if in_body => text.push(next as char),
                        b'~' if in_body => text.push('\u{a0}'),
                        b'_' if in_body => text.push('\u{2011}'),
                        b'\n' | b'\r' if in_body => text.push('\n'),
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
                let Some(top) = groups.last_mut() else { break };
                match (top.destination, word, parameter) {
                    (_, "fonttbl", _) => top.destination = Destination::Fonts,
                    (Destination::Fonts, "f", Some(number)) => font_being_defined = Some(number),
                    (Destination::Fonts, "fcharset", Some(set)) => {
                        if let (Some(font), Some(encoding)) =
                            (font_being_defined, charset_encoding(set))
                        {
                            fonts.insert(font, encoding);
                        }
                    }
                    (_, "ansicpg", Some(page)) => {
                        if let Some(encoding) = code_page_encoding(page) {
                            document_encoding = encoding;
                            for group in &mut groups {
                                group.encoding = encoding;
                            }
                        }
                    }
                    (_, "uc", Some(count)) => top.fallback = usize::try_from(count).unwrap_or(1),
                    (Destination::Body, "f", Some(font)) => {
                        top.encoding = fonts.get(&font).copied().unwrap_or(document_encoding);
                    }
                    (_, word, _) if SKIPPED.contains(&word) => {
                        top.destination = Destination::Skipped
                    }
                    (Destination::Body, word, parameter) => {
                        if let Some(special) = special_character(word) {
                            text.push_str(special);
                        } else if word == "u"
                            && let Some(code) = parameter
                        {
                            let code = if code < 0 { code + 65_536 } else { code };
                            if let Some(c) = u32::try_from(code).ok().and_then(char::from_u32) {
                                text.push(c);
                            }
                            skip_fallback = top.fallback;
                        }
                    }
                    _ => {}
                }
            }
            b'\r' | b'\n' => i += 1,
            byte => {
                if in_body {
                    if skip_fallback > 0 {
                        skip_fallback -= 1;
                    } else {
                        text.push(byte as char);
                    }
                }
                i += 1;
            }
        }
    }
    if !pending.is_empty() {
        let encoding = groups.last().map_or(document_encoding, |g| g.encoding);
        text.push_str(&encoding.decode(&pending).0);
    }
    Ok(text)
}

/// Text of the control words that stand for a character or a break.
fn special_character(word: &str) -> Option<&'static str> {
    Some(match word {
        "par" | "line" | "sect" | "page" | "row" => "\n",
        "tab" | "cell" => "\t",
        "emdash" => "\u{2014}",
        "endash" => "\u{2013}",
        "emspace" => "\u{2003}",
        "enspace" => "\u{2002}",
        "qmspace" => "\u{2005}",
        "bullet" => "\u{2022}",
        "lquote" => "\u{2018}",
        "rquote" => "\u{2019}",
        "ldblquote" => "\u{201c}",
        "rdblquote" => "\u{201d}",
        _ => return None,
    })
}

/// The encoding of a Windows code page (`\ansicpgN`).
fn code_page_encoding(page: i64) -> Option<&'static encoding_rs::Encoding> {
    u16::try_from(page).ok().and_then(codepage::to_encoding)
}

/// The encoding of a font's `\fcharsetN`.
fn charset_encoding(set: i64) -> Option<&'static encoding_rs::Encoding> {
    let page = match set {
        0 => 1252,
        77 => 10000,
        128 => 932,
        129 => 949,
        134 => 936,
        136 => 950,
        161 => 1253,
        162 => 1254,
        163 => 1258,
        177 => 1255,
        178 => 1256,
        186 => 1257,
        204 => 1251,
        222 => 874,
        238 => 1250,
        _ => return None,
    };
    code_page_encoding(page)
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

    #[test]
    fn code_pages_character_sets_and_fallbacks() {
        // Czech in code page 1250: \'9a is š there (a different letter in 1252).
        let czech = br"{\rtf1\ansi\ansicpg1250 P\'f8\'edli\'9a \'9elu\'9dou\'e8k\'fd\par}";
        assert_eq!(rtf_text(czech).unwrap().trim(), "Příliš žluťoučký");
        // Japanese through a Shift_JIS font: two bytes make one character.
        let japanese = br"{\rtf1\ansi{\fonttbl{\f0\fswiss Arial;}{\f1\fnil\fcharset128 MS Mincho;}}\f0 Total {\f1 \'8b\'e0\'8a\'7a} end\par}";
        assert_eq!(rtf_text(japanese).unwrap().trim(), "Total 金額 end");
        // \uc2: two fallback characters after each \u.
        let unicode = br"{\rtf1\uc2 \u8364\'80\'80 and \uc0\u8212 done}";
        assert_eq!(rtf_text(unicode).unwrap(), "€ and —done");
        let special =
            br"{\rtf1 a\emdash b\endash c\_d\~e \lquote q\rquote \ldblquote w\rdblquote\bullet}";
        assert_eq!(rtf_text(special).unwrap(), "a—b–c\u{2011}d\u{a0}e ‘q’“w”•");
        let header = br"{\rtf1{\header Page header text\par}Body\par}";
        assert!(rtf_text(header).unwrap().contains("Page header text"));
    }
}
