//! Outlook messages (MS-OXMSG): an OLE compound file whose streams hold
//! MAPI properties. Read: sender, recipients, subject, the plain-text body
//! (or the HTML body reduced to visible text), the transport headers' date,
//! and every attachment, extracted recursively like an EML's.
//!
//! Variable-length properties live in streams named
//! `__substg1.0_<PPPP><TTTT>` (property id, property type); attachments in
//! storages `__attach_version1.0_#<n>`, recipients in `__recip_version1.0_#<n>`.
//! The compressed-RTF body (0x1009) is not decompressed: Outlook writes a
//! plain-text body beside it in practice.

use std::io::Read;
use std::path::Path;

use heron_core::{Notice, NoticeCode};

use crate::{ExtractError, Extraction, ExtractionLimits};

const SUBJECT: u16 = 0x0037;
const SENDER_NAME: u16 = 0x0C1A;
const SENDER_EMAIL: u16 = 0x0C1F;
const SENDER_SMTP: u16 = 0x5D01;
const DISPLAY_TO: u16 = 0x0E04;
const DISPLAY_CC: u16 = 0x0E03;
const TRANSPORT_HEADERS: u16 = 0x007D;
const BODY: u16 = 0x1000;
const BODY_HTML: u16 = 0x1013;
const ATTACH_DATA: u16 = 0x3701;
const ATTACH_LONG_FILENAME: u16 = 0x3707;
const ATTACH_FILENAME: u16 = 0x3704;
const ATTACH_DISPLAY_NAME: u16 = 0x3001;

const TYPE_UNICODE: u16 = 0x001F;
const TYPE_STRING8: u16 = 0x001E;
const TYPE_BINARY: u16 = 0x0102;

/// Attachments read per message; later ones are skipped with a warning.
const MAX_ATTACHMENTS: usize = 64;

type Compound = cfb::CompoundFile<std::fs::File>;

pub(crate) fn extract(path: &Path, limits: &ExtractionLimits) -> Result<Extraction, ExtractError> {
    let mut file =
        cfb::open(path).map_err(|e| ExtractError::Corrupt(format!("Outlook message: {e}")))?;
    let budget = limits.max_decompressed_bytes;
    let root = Path::new("/");
    let mut extraction = Extraction::default();
    let mut head = Vec::new();

    let sender_name = string(&mut file, root, SENDER_NAME, budget);
    let sender_address = string(&mut file, root, SENDER_SMTP, budget)
        .or_else(|| string(&mut file, root, SENDER_EMAIL, budget))
        .filter(|a| a.contains('@'));
    let from = match (sender_name, sender_address) {
        (Some(name), Some(address)) if name != address => Some(format!("{name} <{address}>")),
        (Some(name), _) => Some(name),
        (None, address) => address,
    };
    if let Some(from) = from {
        head.push(format!("From: {from}"));
        extraction.metadata.insert("from".to_owned(), from);
    }
    if let Some(to) = string(&mut file, root, DISPLAY_TO, budget).filter(|t| !t.is_empty()) {
        head.push(format!("To: {to}"));
        extraction.metadata.insert("to".to_owned(), to);
    }
    if let Some(cc) = string(&mut file, root, DISPLAY_CC, budget).filter(|t| !t.is_empty()) {
        head.push(format!("Cc: {cc}"));
    }
    if let Some(date) = string(&mut file, root, TRANSPORT_HEADERS, budget)
        .as_deref()
        .and_then(header_date)
    {
        head.push(format!("Date: {date}"));
        extraction.metadata.insert("creationdate".to_owned(), date);
    }
    if let Some(subject) = string(&mut file, root, SUBJECT, budget) {
        head.push(format!("Subject: {subject}"));
        extraction.metadata.insert("title".to_owned(), subject);
    }
    let body = string(&mut file, root, BODY, budget)
        .or_else(|| {
            let html = string(&mut file, root, BODY_HTML, budget).or_else(|| {
                binary(&mut file, root, BODY_HTML, budget)
                    .map(|bytes| crate::text::decode(&bytes).0)
            })?;
            Some(crate::html::visible_text(&html).0)
        })
        .unwrap_or_default();
    extraction
        .pages
        .push(format!("{}\n\n{}", head.join("\n"), body.trim_end()));
    if extraction.metadata.is_empty() && body.trim().is_empty() {
        return Err(ExtractError::Corrupt(
            "Outlook message without subject, sender or body".to_owned(),
        ));
    }

    add_attachments(&mut file, &mut extraction, limits);
    extraction.page_count = Some(extraction.pages.len() as u32);
    Ok(extraction)
}

/// Extract each attachment storage's data stream as a nested file.
/// Embedded messages (data stored as a sub-storage) are named but not
/// followed: their properties would need the parent's named-property map.
fn add_attachments(file: &mut Compound, extraction: &mut Extraction, limits: &ExtractionLimits) {
    let storages: Vec<std::path::PathBuf> = file
        .read_root_storage()
        .filter(|e| e.is_storage() && e.name().starts_with("__attach_version1.0_#"))
        .map(|e| e.path().to_path_buf())
        .collect();
    let mut names = Vec::new();
    for (index, storage) in storages.iter().enumerate() {
        if index == MAX_ATTACHMENTS {
            extraction.warnings.push(Notice::new(
                NoticeCode::LimitExceeded,
                format!("only the first {MAX_ATTACHMENTS} attachments were read"),
            ));
            break;
        }
        let budget = limits.max_decompressed_bytes;
        let name = string(file, storage, ATTACH_LONG_FILENAME, budget)
            .or_else(|| string(file, storage, ATTACH_FILENAME, budget))
            .or_else(|| string(file, storage, ATTACH_DISPLAY_NAME, budget))
            .unwrap_or_else(|| format!("attachment-{}", index + 1));
        match binary(file, storage, ATTACH_DATA, budget) {
            Some(data) => crate::append_nested(extraction, "attachment", &name, &data, limits),
            None => extraction.warnings.push(Notice::new(
                NoticeCode::ExtractionFailed,
                format!("attachment {name:?}: no data stream (embedded message or OLE object)"),
            )),
        }
        names.push(name);
    }
    if !names.is_empty() {
        extraction
            .metadata
            .insert("attachments".to_owned(), names.join(", "));
    }
}

/// A string property: UTF-16LE (`001F`) or 8-bit (`001E`, decoded as
/// Windows-1252 unless it is valid UTF-8). Trailing NULs are dropped.
fn string(file: &mut Compound, storage: &Path, property: u16, budget: u64) -> Option<String> {
    if let Some(bytes) = stream(file, storage, property, TYPE_UNICODE, budget) {
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
            .collect();
        let text = String::from_utf16_lossy(&units);
        return Some(text.trim_end_matches('\0').to_owned());
    }
    let bytes = stream(file, storage, property, TYPE_STRING8, budget)?;
    let text = match std::str::from_utf8(&bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(&bytes).0.into_owned(),
    };
    Some(text.trim_end_matches('\0').to_owned())
}

fn binary(file: &mut Compound, storage: &Path, property: u16, budget: u64) -> Option<Vec<u8>> {
    stream(file, storage, property, TYPE_BINARY, budget)
}

/// Read one property stream, at most `budget` bytes (a lying size field
/// must not allocate without bound).
fn stream(
    file: &mut Compound,
    storage: &Path,
    property: u16,
    kind: u16,
    budget: u64,
) -> Option<Vec<u8>> {
    let path = storage.join(format!("__substg1.0_{property:04X}{kind:04X}"));
    let stream = file.open_stream(&path).ok()?;
    let mut bytes = Vec::new();
    stream.take(budget).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// The `Date:` header of the transport headers, as RFC 3339 when it parses.
fn header_date(headers: &str) -> Option<String> {
    let value = headers.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("date").then(|| value.trim())
    })?;
    let parsed = mail_parser::MessageParser::default()
        .parse(format!("Date: {value}\r\n\r\n").as_bytes())
        .and_then(|m| m.date().map(|d| d.to_rfc3339()));
    Some(parsed.unwrap_or_else(|| value.to_owned()))
}
