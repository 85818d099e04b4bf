//! E-mail (EML, RFC 5322 / MIME): headers, every body part (text parts,
//! and HTML parts reduced to visible text, an alternative that says
//! nothing new left out), and every attachment extracted in turn, up to
//! the nesting depth limit.

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

use crate::{ExtractError, Extraction, ExtractionLimits};

pub(crate) fn extract(bytes: &[u8], limits: &ExtractionLimits) -> Result<Extraction, ExtractError> {
    let message = MessageParser::default()
        .parse(bytes)
        .ok_or_else(|| ExtractError::Corrupt("not a readable e-mail message".to_owned()))?;
    let mut extraction = Extraction::default();
    let mut head = Vec::new();
    let address = |list: Option<&mail_parser::Address>| -> Option<String> {
        let list = list?;
        let shown: Vec<String> = list
            .iter()
            .map(|a| match (a.name(), a.address()) {
                (Some(name), Some(address)) => format!("{name} <{address}>"),
                (None, Some(address)) => address.to_owned(),
                (Some(name), None) => name.to_owned(),
                (None, None) => String::new(),
            })
            .filter(|s| !s.is_empty())
            .collect();
        (!shown.is_empty()).then(|| shown.join(", "))
    };
    if let Some(from) = address(message.from()) {
        head.push(format!("From: {from}"));
        extraction.metadata.insert("from".to_owned(), from);
    }
    if let Some(to) = address(message.to()) {
        head.push(format!("To: {to}"));
        extraction.metadata.insert("to".to_owned(), to);
    }
    if let Some(date) = message.date() {
        head.push(format!("Date: {}", date.to_rfc3339()));
        extraction
            .metadata
            .insert("creationdate".to_owned(), date.to_rfc3339());
    }
    if let Some(subject) = message.subject() {
        head.push(format!("Subject: {subject}"));
        extraction
            .metadata
            .insert("title".to_owned(), subject.to_owned());
    }
    let mut body = head.join("\n");
    body.push_str("\n\n");
    body.push_str(&body_parts(&message).join("\n\n"));
    extraction.pages.push(body);

    let mut attachments = Vec::new();
    for part in message.attachments() {
        let name = part.attachment_name().unwrap_or("attachment").to_owned();
        crate::append_nested(
            &mut extraction,
            "attachment",
            &name,
            part.contents(),
            limits,
        );
        attachments.push(name);
    }
    if !attachments.is_empty() {
        extraction
            .metadata
            .insert("attachments".to_owned(), attachments.join(", "));
    }
    extraction.page_count = Some(extraction.pages.len() as u32);
    Ok(extraction)
}

/// The text of every body part in order: the text parts, then HTML parts
/// whose visible text is not already there (the HTML alternative of a
/// text part adds nothing; an HTML-only part, or one with other words,
/// does).
fn body_parts(message: &Message<'_>) -> Vec<String> {
    let mut parts: Vec<String> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for part in message.text_bodies().chain(message.html_bodies()) {
        let text = match &part.body {
            PartType::Text(text) => text.to_string(),
            PartType::Html(html) => crate::html::visible_text(html).0,
            _ => continue,
        };
        let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if words.is_empty() || seen.iter().any(|known| known.contains(&words)) {
            continue;
        }
        seen.push(words);
        parts.push(text);
    }
    parts
}
