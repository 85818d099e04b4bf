//! Provenance on PDFs that Heron gives back: a footer line on every page
//! and a `/HeronProvenance` entry in the document information.
//!
//! The work is qpdf's (Debian package `qpdf`), run as a child process
//! under a deadline like every other tool that reads user files: the
//! footer is a one-page PDF we write ourselves, overlaid on every page
//! (`--overlay --repeat=1`), and the information dictionary is updated
//! through qpdf's JSON (`--update-from-json`). Encrypted or broken PDFs
//! that qpdf cannot rewrite give an error; the caller decides what to do.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::tool::{self, ToolError};

/// Longest a stamp may take.
const DEADLINE: Duration = Duration::from_secs(20);
/// qpdf's JSON of the trailer and one object is small.
const JSON_CAP: usize = 1024 * 1024;

/// Why a PDF could not be stamped.
#[derive(Debug, thiserror::Error)]
pub enum StampError {
    #[error(transparent)]
    Tool(#[from] ToolError),
    #[error("qpdf could not rewrite the PDF: {0}")]
    Rejected(String),
    #[error("writing the stamp: {0}")]
    Io(#[from] std::io::Error),
}

/// Write `input` with `line` stamped on it to `output`.
pub fn stamp_pdf(input: &Path, output: &Path, line: &str) -> Result<(), StampError> {
    let deadline = Instant::now() + DEADLINE;
    let work = tempfile::tempdir()?;
    let overlay = work.path().join("footer.pdf");
    std::fs::write(&overlay, footer_pdf(line))?;
    let update = work.path().join("update.json");
    std::fs::write(
        &update,
        information_update(input, line, deadline)?.to_string(),
    )?;
    let mut update_arg = std::ffi::OsString::from("--update-from-json=");
    update_arg.push(&update);
    let args: Vec<&std::ffi::OsStr> = vec![
        input.as_os_str(),
        update_arg.as_os_str(),
        "--overlay".as_ref(),
        overlay.as_os_str(),
        "--repeat=1".as_ref(),
        "--".as_ref(),
        output.as_os_str(),
    ];
    let done = tool::run("qpdf", args, deadline, JSON_CAP)?;
    // qpdf exits 3 when it succeeded with warnings (a damaged file it
    // repaired): the output is written.
    if !matches!(done.status.code(), Some(0 | 3)) {
        return Err(StampError::Rejected(done.stderr));
    }
    Ok(())
}

/// The JSON update that adds `/HeronProvenance` to the information
/// dictionary, creating one when the file has none.
fn information_update(input: &Path, line: &str, deadline: Instant) -> Result<Value, StampError> {
    let trailer = qpdf_json(input, "trailer", deadline)?;
    let header = trailer["qpdf"][0].clone();
    let provenance = format!("u:{line}");
    match trailer["qpdf"][1]["trailer"]["value"]["/Info"].as_str() {
        Some(reference) => {
            let number = reference.split(' ').next().unwrap_or("");
            let object = qpdf_json(input, number, deadline)?;
            let key = format!("obj:{reference}");
            let mut info = object["qpdf"][1][&key]["value"].clone();
            if !info.is_object() {
                info = json!({});
            }
            info["/HeronProvenance"] = Value::String(provenance);
            Ok(json!({ "qpdf": [header, { key: { "value": info } }] }))
        }
        None => {
            let next = header["maxobjectid"].as_u64().unwrap_or(0) + 1;
            let reference = format!("{next} 0 R");
            let mut value = trailer["qpdf"][1]["trailer"]["value"].clone();
            value["/Info"] = Value::String(reference.clone());
            Ok(json!({ "qpdf": [header, {
                format!("obj:{reference}"): { "value": { "/HeronProvenance": provenance } },
                "trailer": { "value": value },
            }] }))
        }
    }
}

fn qpdf_json(input: &Path, object: &str, deadline: Instant) -> Result<Value, StampError> {
    let object_arg = format!("--json-object={object}");
    let args: Vec<&std::ffi::OsStr> = vec![
        "--json-output=2".as_ref(),
        "--json-key=qpdf".as_ref(),
        object_arg.as_ref(),
        input.as_os_str(),
    ];
    let done = tool::run("qpdf", args, deadline, JSON_CAP)?;
    if !matches!(done.status.code(), Some(0 | 3)) || done.truncated {
        return Err(StampError::Rejected(done.stderr));
    }
    serde_json::from_slice(&done.stdout).map_err(|e| StampError::Rejected(e.to_string()))
}

/// A letter-size page with `line` in small grey Helvetica at its foot
/// (qpdf scales it onto pages of other sizes).
fn footer_pdf(line: &str) -> Vec<u8> {
    let text: String = line
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .collect::<String>()
        .replace('\\', "\\\\")
        .replace('(', "\\(")
        .replace(')', "\\)");
    let content = format!("BT /F1 7 Tf 0.35 0.35 0.35 rg 36 14 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] \
         /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
            .to_owned(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
        format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ),
    ];
    let mut pdf = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (number, object) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend(format!("{} 0 obj\n{object}\nendobj\n", number + 1).into_bytes());
    }
    let xref = pdf.len();
    pdf.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).into_bytes());
    for offset in offsets {
        pdf.extend(format!("{offset:010} 00000 n \n").into_bytes());
    }
    pdf.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .into_bytes(),
    );
    pdf
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(pdf: &Path) -> String {
        let out = std::process::Command::new("pdftotext")
            .arg(pdf)
            .arg("-")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn info_of(pdf: &Path) -> String {
        let out = std::process::Command::new("pdfinfo")
            .arg("-custom")
            .arg(pdf)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    #[test]
    fn pdfs_with_and_without_an_information_dictionary_are_stamped() {
        if !tool::is_available("qpdf")
            || !tool::is_available("pdftotext")
            || !tool::is_available("pdftocairo")
        {
            heron_testkit::missing("qpdf/poppler-utils (scripts/setup-system installs them)");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let line = "exported by Heron for key:abc (tenant acme) at 2026-11-29";
        // Our own footer page has no information dictionary (its text
        // sits where the stamp goes, so only the metadata is checked).
        let bare = dir.path().join("bare.pdf");
        std::fs::write(&bare, footer_pdf("original text")).unwrap();
        // An invoice as another program writes it: Cairo adds an
        // information dictionary and its own object layout.
        let plain = dir.path().join("plain.pdf");
        std::fs::write(
            &plain,
            heron_classify::render::pdf("INVOICE\nInvoice number INV-0042\nTotal due 1,250.00"),
        )
        .unwrap();
        let written = dir.path().join("invoice.pdf");
        let status = std::process::Command::new("pdftocairo")
            .arg("-pdf")
            .args([&plain, &written])
            .status()
            .unwrap();
        assert!(status.success());
        assert!(info_of(&written).contains("Producer"));
        for (input, check_text) in [(bare, false), (written, true)] {
            let output = dir.path().join("out.pdf");
            stamp_pdf(&input, &output, line).unwrap();
            if check_text {
                let text = text_of(&output);
                assert!(
                    text.contains(line) && text.contains("Invoice number INV-0042"),
                    "{text}"
                );
            }
            assert!(
                info_of(&output).contains(&format!("HeronProvenance: {line}")),
                "{}",
                info_of(&output)
            );
        }
        // Not a PDF: a clear error, no output.
        let junk = dir.path().join("junk.pdf");
        std::fs::write(&junk, b"not a pdf at all").unwrap();
        assert!(stamp_pdf(&junk, &dir.path().join("none.pdf"), line).is_err());
    }
}
