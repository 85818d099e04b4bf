//! Word 97–2003 `.doc` through `catdoc` (Debian package catdoc), run as a
//! child under the deadline like every external tool. Excel `.xls` goes
//! through calamine in `spreadsheet`, PowerPoint `.ppt` through our own
//! record walker in `ppt` (`catppt` misses text held in shapes).

use std::path::Path;
use std::time::Instant;

use crate::limits::truncate_text;
use crate::tool;
use crate::{ExtractError, Extraction, ExtractionLimits};

pub(crate) fn extract(
    program: &str,
    path: &Path,
    limits: &ExtractionLimits,
    deadline: Instant,
) -> Result<Extraction, ExtractError> {
    let output = tool::run(
        program,
        ["-d".as_ref(), "utf-8".as_ref(), path.as_os_str()],
        deadline,
        limits.max_text_bytes,
    )
    .map_err(|e| ExtractError::from_tool(e, limits))?;
    if !output.status.success() {
        return Err(match output.status.code() {
            None => ExtractError::Crashed(format!("{program} was killed by a signal")),
            Some(_) => ExtractError::Corrupt(
                output
                    .stderr
                    .lines()
                    .last()
                    .unwrap_or("the document could not be read")
                    .to_owned(),
            ),
        });
    }
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    truncate_text(&mut text, limits.max_text_bytes);
    let mut extraction = Extraction::default();
    // catdoc separates pages with form feeds, like pdftotext.
    extraction.pages = text.split('\u{c}').map(str::to_owned).collect();
    extraction.page_count = Some(extraction.pages.len() as u32);
    Ok(extraction)
}
