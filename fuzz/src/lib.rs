//! Shared harness of the fuzz targets: run one extractor on arbitrary bytes
//! under small limits. Any `Err` is a fine answer; a panic, a hang or an
//! allocation storm is the bug being looked for.

use std::io::Write;
use std::time::Duration;

use heron_extract::{ExtractionLimits, FileKind};

/// Limits small enough that a run explores inputs rather than large ones.
pub fn limits() -> ExtractionLimits {
    ExtractionLimits {
        max_bytes: 1024 * 1024,
        max_pages: 20,
        max_ocr_pages: 0,
        max_decompressed_bytes: 8 * 1024 * 1024,
        max_depth: 2,
        max_text_bytes: 256 * 1024,
        timeout: Duration::from_secs(5),
        ..ExtractionLimits::default()
    }
}

/// Extract `data` as if the sniffer had called it `kind`. Path-based
/// extractors read a file, so the bytes go to a private temporary file.
pub fn extract_as(data: &[u8], kind: FileKind) {
    let Ok(mut file) = tempfile::NamedTempFile::new() else {
        return;
    };
    if file.write_all(data).is_err() {
        return;
    }
    let _ = heron_extract::extract_in_process(file.path(), kind, &limits());
}

/// Let panics that the extractor itself contains (`catch_unwind` around
/// calamine) unwind as they do in production: libfuzzer-sys otherwise
/// aborts at the first panic, caught or not. A panic that escapes the
/// extractor still aborts the run (libfuzzer-sys catches it at the top).
pub fn allow_contained_panics() {
    let _ = std::panic::take_hook();
}
