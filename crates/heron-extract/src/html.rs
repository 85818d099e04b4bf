//! The visible text of HTML: a tolerant tokenizer, not a validator.
//!
//! Browsers never reject HTML, and neither may we: tags are skipped (with
//! quoted attribute values that may contain `>`), the contents of
//! `script`, `style`, `noscript`, `template`, `head` metadata and comments
//! are dropped, block-level tags become line breaks, and character
//! references are decoded. The `<title>` is kept as metadata.

use std::collections::BTreeMap;

/// Elements whose content is never shown.
const HIDDEN: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "object", "iframe",
];
/// Elements that start a new line.
const BLOCK: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "tr",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "header",
    "footer",
    "nav",
    "aside",
    "blockquote",
    "pre",
    "hr",
    "dd",
    "dt",
    "dl",
    "form",
    "fieldset",
    "address",
    "main",
    "figure",
    "figcaption",
    "caption",
    "thead",
    "tbody",
    "tfoot",
];
/// Elements that separate cells on a line.
const CELL: &[&str] = &["td", "th"];

/// Visible text and the title of an HTML document.
pub(crate) fn visible_text(html: &str) -> (String, BTreeMap<String, String>) {
    let mut text = String::with_capacity(html.len() / 2);
    let mut metadata = BTreeMap::new();
    let mut rest = html;
    let mut hidden: Option<String> = None;
    let mut in_title = false;
    let mut title = String::new();
    while !rest.is_empty() {
        let Some(open) = rest.find('<') else {
            push_text(&mut text, &mut title, rest, hidden.is_some(), in_title);
            break;
        };
        push_text(
            &mut text,
            &mut title,
            &rest[..open],
            hidden.is_some(),
            in_title,
        );
        rest = &rest[open..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            rest = comment.find("-->").map_or("", |end| &comment[end + 3..]);
            continue;
        }
        let (tag, after) = read_tag(rest);
        rest = after;
        let Some(tag) = tag else {
            // A lone '<' is text.
            push_text(&mut text, &mut title, "<", hidden.is_some(), in_title);
            rest = &rest[1..];
            continue;
        };
        if let Some(name) = &hidden {
            if tag.closing && &tag.name == name {
                hidden = None;
            }
            continue;
        }
        match tag.name.as_str() {
            "title" => in_title = !tag.closing,
            name if HIDDEN.contains(&name) && !tag.closing && !tag.self_closing => {
                hidden = Some(tag.name.clone())
            }
            name if BLOCK.contains(&name) && !text.ends_with('\n') => text.push('\n'),
            name if CELL.contains(&name)
                && !tag.closing
                && !text.ends_with('\n')
                && !text.is_empty() =>
            {
                text.push_str(" | ");
            }
            _ => {}
        }
    }
    let title = collapse_spaces(&title);
    if !title.is_empty() {
        metadata.insert("title".to_owned(), title);
    }
    (tidy(&text), metadata)
}

struct Tag {
    name: String,
    closing: bool,
    self_closing: bool,
}

/// Read a tag at the start of `input` (which starts with `<`). Returns
/// `None` when it is not a tag (e.g. `a < b`), with the input unchanged.
fn read_tag(input: &str) -> (Option<Tag>, &str) {
    let body = &input[1..];
    let (closing, body) = match body.strip_prefix('/') {
        Some(rest) => (true, rest),
        None => (false, body),
    };
    let starts_like_tag =
        body.starts_with(|c: char| c.is_ascii_alphabetic() || c == '!' || c == '?');
    if !starts_like_tag {
        return (None, input);
    }
    // Find the closing '>' outside quoted attribute values.
    let mut quote: Option<char> = None;
    let mut end = None;
    for (i, c) in body.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => {
                end = Some(i);
                break;
            }
            _ => {}
        }
    }
    let Some(end) = end else {
        return (None, input);
    };
    let inside = &body[..end];
    let name: String = inside
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    let tag = Tag {
        name,
        closing,
        self_closing: inside.ends_with('/'),
    };
    (Some(tag), &body[end + 1..])
}

fn push_text(text: &mut String, title: &mut String, raw: &str, hidden: bool, in_title: bool) {
    if hidden || raw.is_empty() {
        return;
    }
    let decoded = decode_entities(raw);
    if in_title {
        title.push_str(&decoded);
        return;
    }
    text.push_str(&decoded);
}

/// Decode character references: numeric ones and the common named ones.
pub(crate) fn decode_entities(raw: &str) -> String {
    if !raw.contains('&') {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest[1..]
            .find(|c: char| c == ';' || c.is_whitespace() || c == '&')
            .map(|i| i + 1);
        let decoded = end
            .filter(|&e| rest[e..].starts_with(';'))
            .and_then(|e| entity(&rest[1..e]).map(|c| (c, e + 1)));
        match decoded {
            Some((c, consumed)) => {
                out.push(c);
                rest = &rest[consumed..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "euro" => '€',
        "pound" => '£',
        "yen" => '¥',
        "copy" => '©',
        "reg" => '®',
        "mdash" => '—',
        "ndash" => '–',
        "hellip" => '…',
        "laquo" => '«',
        "raquo" => '»',
        "eacute" => 'é',
        "egrave" => 'è',
        "agrave" => 'à',
        "auml" => 'ä',
        "ouml" => 'ö',
        "uuml" => 'ü',
        "szlig" => 'ß',
        "ntilde" => 'ñ',
        "ccedil" => 'ç',
        _ => return None,
    })
}

fn collapse_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One line per block, spaces collapsed, no runs of blank lines.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = false;
    for line in text.lines() {
        let line = collapse_spaces(line);
        if line.is_empty() || line == "|" {
            blank = !out.is_empty();
            continue;
        }
        if blank {
            out.push('\n');
            blank = false;
        }
        out.push_str(line.trim_start_matches("| "));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_visible_text_only() {
        let html = r#"<!DOCTYPE html><html><head><title>Invoice &#35;42</title>
            <style>body { color: red }</style><script>var a = "<p>hidden</p>";</script></head>
            <body><h1>INVOICE</h1><p>Total:&nbsp;<b>$1,200</b> &amp; tax</p><!-- a <p>comment</p> -->
            <a href="x?a=1&b=2" title="a > b">Pay now</a><table><tr><td>Item</td><td>Qty</td></tr></table>
            <p>1 < 2</p></body></html>"#;
        let (text, metadata) = visible_text(html);
        assert_eq!(metadata["title"], "Invoice #42");
        assert!(text.contains("INVOICE\n"), "{text}");
        assert!(text.contains("Total: $1,200 & tax"), "{text}");
        assert!(text.contains("Pay now"), "{text}");
        assert!(text.contains("Item | Qty"), "{text}");
        assert!(text.contains("1 < 2"), "{text}");
        assert!(
            !text.contains("hidden") && !text.contains("color") && !text.contains("comment"),
            "{text}"
        );
    }

    #[test]
    fn unterminated_constructs_do_not_hang_or_panic() {
        for html in [
            "<",
            "<a href=\"",
            "<!--",
            "<script>never closed",
            "&",
            "&#xZZ;",
            "<p",
            "</",
        ] {
            let _ = visible_text(html);
        }
    }
}
