//! E-mail (EML, RFC 5322 / MIME): headers, the text body (HTML bodies
//! reduced to visible text), and every attachment extracted in turn, up to
//! the nesting depth limit.

use heron_core::{Notice, NoticeCode};
use mail_parser::{MessageParser, MimeHeaders};

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
    if let Some(text) = message.body_text(0) {
        body.push_str(&text);
    } else if let Some(html) = message.body_html(0) {
        body.push_str(&crate::html::visible_text(&html).0);
    }
    extraction.pages.push(body);

    let mut attachments = Vec::new();
    for part in message.attachments() {
        let name = part.attachment_name().unwrap_or("attachment").to_owned();
        add_attachment(&mut extraction, &name, part.contents(), limits);
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

/// Extract an attachment (of an EML or MSG message) and append its pages,
/// each marked with the attachment's name. A failure is a warning: the
/// message's own text stands.
pub(crate) fn add_attachment(
    extraction: &mut Extraction,
    name: &str,
    bytes: &[u8],
    limits: &ExtractionLimits,
) {
    match crate::extract_nested(bytes, name, limits) {
        Ok(nested) => {
            for page in nested.pages {
                extraction
                    .pages
                    .push(format!("[attachment {name}]\n{page}"));
            }
            extraction.ocr_used |= nested.ocr_used;
            extraction.warnings.extend(nested.warnings);
        }
        Err(e) => extraction.warnings.push(Notice::new(
            NoticeCode::ExtractionFailed,
            format!("attachment {name:?}: {e}"),
        )),
    }
}
