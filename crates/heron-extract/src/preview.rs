//! Page previews for people: a PDF page rendered by Poppler's `pdftoppm`
//! (a child process under a deadline, like every PDF tool here), or an
//! image decoded under an allocation limit and scaled down; both as PNG
//! no larger than the size asked for. Other formats have no picture: the
//! reviewer reads their text.

use std::io::Cursor;
use std::path::Path;
use std::time::{Duration, Instant};

use image::ImageReader;

use crate::ExtractError;
use crate::sniff::{self, FileKind};
use crate::tool;

/// Largest decoded image a preview accepts, in pixels.
const MAX_PIXELS: u64 = 60_000_000;

/// A PNG of page `page` (1-based) of the file at `path`, its longer side
/// at most `max_side` pixels. `Ok(None)` when the file has no such page
/// or is not a PDF or an image.
pub fn render_page(
    path: &Path,
    page: u32,
    max_side: u32,
    timeout: Duration,
) -> Result<Option<Vec<u8>>, ExtractError> {
    let deadline = Instant::now() + timeout;
    match sniff::sniff_file(path, None)? {
        FileKind::Pdf => render_pdf_page(path, page, max_side, deadline),
        FileKind::Image(_) => render_image(path, page, max_side),
        _ => Ok(None),
    }
}

fn render_pdf_page(
    path: &Path,
    page: u32,
    max_side: u32,
    deadline: Instant,
) -> Result<Option<Vec<u8>>, ExtractError> {
    let started = Instant::now();
    let page_text = page.to_string();
    let side = max_side.to_string();
    let output = tool::run(
        "pdftoppm",
        [
            "-f".as_ref(),
            page_text.as_ref(),
            "-l".as_ref(),
            page_text.as_ref(),
            "-scale-to".as_ref(),
            side.as_ref(),
            "-png".as_ref(),
            "-singlefile".as_ref(),
            path.as_os_str(),
        ],
        deadline,
        64 * 1024 * 1024,
    )
    .map_err(|e| tool_error(e, deadline.saturating_duration_since(started).as_secs_f64()))?;
    if !output.status.success() || output.stdout.is_empty() || output.truncated {
        // Past the last page pdftoppm fails or prints nothing.
        return Ok(None);
    }
    Ok(Some(output.stdout))
}

fn render_image(path: &Path, page: u32, max_side: u32) -> Result<Option<Vec<u8>>, ExtractError> {
    if page != 1 {
        return Ok(None);
    }
    let mut reader = ImageReader::open(path)?
        .with_guessed_format()
        .map_err(|e| ExtractError::Corrupt(format!("image: {e}")))?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4);
    reader.limits(limits);
    let image = reader
        .decode()
        .map_err(|e| ExtractError::Corrupt(format!("image: {e}")))?;
    let image = if image.width().max(image.height()) > max_side {
        image.thumbnail(max_side, max_side)
    } else {
        image
    };
    let mut png = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| ExtractError::Corrupt(format!("image: {e}")))?;
    Ok(Some(png))
}

fn tool_error(error: tool::ToolError, timeout_seconds: f64) -> ExtractError {
    match error {
        tool::ToolError::Missing(program) => ExtractError::ToolMissing(program),
        tool::ToolError::Timeout { .. } => ExtractError::Timeout {
            seconds: timeout_seconds,
        },
        tool::ToolError::Io { source, .. } => ExtractError::Io(source),
    }
}
