//! `heron extract FILE`: what Heron reads from a file.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context;
use heron_core::Settings;

use crate::cli::ExtractArgs;
use crate::setup;

pub fn run(settings: Settings, args: &ExtractArgs) -> anyhow::Result<ExitCode> {
    setup::init_logging(&settings, "warn");
    // Extraction needs no model: nothing is trained or loaded here, and
    // the OCR engine is checked only when the file needs OCR.
    let (extractor, limits) = setup::build_extractor(&settings)?;
    let ocr = || setup::ocr_engine(&settings);
    let filename = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let extracted = heron_pipeline::extract_file(&extractor, ocr, &limits, &args.file, &filename)
        .with_context(|| format!("extracting {}", args.file.display()))?;
    let extraction = &extracted.extraction;
    if args.json {
        let value = serde_json::json!({
            "file": args.file.display().to_string(),
            "mime_type": extracted.kind.mime_type(),
            "page_count": extraction.page_count,
            "ocr_used": extraction.ocr_used,
            "ocr_confidence": extraction.ocr_confidence,
            "ocr_page_confidences": extraction.ocr_page_confidences,
            "metadata": extraction.metadata,
            "warnings": extraction.warnings,
            "pages": extraction.pages,
        });
        crate::output::print(&format!("{}\n", serde_json::to_string_pretty(&value)?))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = String::new();
    let _ = writeln!(out, "type: {}", extracted.kind.mime_type());
    if let Some(pages) = extraction.page_count {
        let _ = writeln!(out, "pages: {pages}");
    }
    if extraction.ocr_used {
        let _ = writeln!(
            out,
            "ocr: yes (mean confidence {:.2})",
            extraction.ocr_confidence.unwrap_or(0.0)
        );
    }
    for (key, value) in &extraction.metadata {
        let _ = writeln!(out, "{key}: {value}");
    }
    for warning in &extraction.warnings {
        let _ = writeln!(
            out,
            "warning: {} {}",
            warning.code.as_str(),
            warning.message
        );
    }
    for (index, page) in extraction.pages.iter().enumerate() {
        let _ = writeln!(out, "\n--- page {} ---\n{}", index + 1, page.trim_end());
    }
    crate::output::print(&out)?;
    Ok(ExitCode::SUCCESS)
}
