//! ZIP archives: every member extracted in turn (nested archives too, up to
//! the depth limit), with the decompression budget shared by all members.

use std::io::Read;
use std::path::Path;

use heron_core::{Notice, NoticeCode};

use crate::{ExtractError, Extraction, ExtractionLimits};

/// Members looked at per archive.
const MAX_MEMBERS: usize = 1_000;

pub(crate) fn extract(path: &Path, limits: &ExtractionLimits) -> Result<Extraction, ExtractError> {
    let mut archive = crate::docx::open_archive(path)?;
    let mut budget = limits.max_decompressed_bytes;
    let mut extraction = Extraction::default();
    let mut names = Vec::new();
    for index in 0..archive.len().min(MAX_MEMBERS) {
        let mut member = match archive.by_index(index) {
            Ok(member) => member,
            Err(e) => {
                extraction.warnings.push(Notice::new(
                    NoticeCode::ExtractionFailed,
                    format!("member {index}: {e}"),
                ));
                continue;
            }
        };
        if member.is_dir() {
            continue;
        }
        let name = member
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| format!("member-{index}"));
        let mut bytes = Vec::new();
        if let Err(e) = (&mut member).take(budget + 1).read_to_end(&mut bytes) {
            extraction.warnings.push(Notice::new(
                NoticeCode::ExtractionFailed,
                format!("{name}: {e}"),
            ));
            continue;
        }
        if bytes.len() as u64 > budget {
            extraction.warnings.push(Notice::new(
                NoticeCode::LimitExceeded,
                "the archive decompresses to more than the allowed size; the rest was skipped",
            ));
            break;
        }
        budget -= bytes.len() as u64;
        names.push(name.clone());
        match crate::extract_nested(&bytes, &name, limits) {
            Ok(nested) => {
                for page in nested.pages {
                    extraction.pages.push(format!("[{name}]\n{page}"));
                }
                extraction.ocr_used |= nested.ocr_used;
                extraction.warnings.extend(nested.warnings);
            }
            Err(ExtractError::Unsupported { .. }) => {}
            Err(e) => extraction.warnings.push(Notice::new(
                NoticeCode::ExtractionFailed,
                format!("{name}: {e}"),
            )),
        }
    }
    if archive.len() > MAX_MEMBERS {
        extraction.warnings.push(Notice::new(
            NoticeCode::LimitExceeded,
            format!("only the first {MAX_MEMBERS} members were read"),
        ));
    }
    extraction
        .metadata
        .insert("members".to_owned(), names.join(", "));
    extraction.page_count = Some(extraction.pages.len() as u32);
    Ok(extraction)
}
