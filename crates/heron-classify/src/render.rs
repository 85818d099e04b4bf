//! Generated texts as the files users would send: PDF with a text layer,
//! DOCX, XLSX, HTML, EML, CSV and plain text, and image-only PDFs around a
//! scan. Pure: bytes in, bytes out. (Scans and photos are made from the
//! PDF by `heron generate`, which renders and degrades pages.)

use std::io::Write;

/// File formats the generator writes, by extension.
pub const FORMATS: &[&str] = &["pdf", "docx", "xlsx", "html", "eml", "csv", "txt"];

/// `text` as a file of `extension` (one of [`FORMATS`]).
pub fn render(text: &str, title: &str, extension: &str) -> Vec<u8> {
    match extension {
        "pdf" => pdf(text),
        "docx" => docx(text).unwrap_or_else(|_| text.as_bytes().to_vec()),
        "html" => html(text, title).into_bytes(),
        "eml" => eml(text, title).into_bytes(),
        "csv" => csv(text).into_bytes(),
        "xlsx" => xlsx(text).unwrap_or_else(|_| text.as_bytes().to_vec()),
        _ => text.as_bytes().to_vec(),
    }
}

/// A PDF with one text line per line of `text`, Helvetica 10 pt, 64 lines a
/// page, WinAnsi-encoded (characters outside Windows-1252 become `?`).
pub fn pdf(text: &str) -> Vec<u8> {
    const LINES_PER_PAGE: usize = 64;
    let lines: Vec<&str> = text.lines().collect();
    let pages: Vec<String> = lines
        .chunks(LINES_PER_PAGE)
        .map(|page| page.join("\n"))
        .collect();
    let pages: Vec<&str> = pages.iter().map(String::as_str).collect();
    pdf_pages(&pages)
}

/// A PDF with one page per entry of `pages` (at least one, blank if none),
/// each line of a page's text on its own line.
pub fn pdf_pages(pages: &[&str]) -> Vec<u8> {
    let pages: Vec<Vec<&str>> = if pages.is_empty() {
        vec![Vec::new()]
    } else {
        pages.iter().map(|p| p.lines().collect()).collect()
    };
    let mut objects: Vec<Vec<u8>> = Vec::new();
    // 1: catalog, 2: pages, 3: font, then (page, contents) pairs.
    let page_ids: Vec<usize> = (0..pages.len()).map(|i| 4 + 2 * i).collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    let kids: Vec<String> = page_ids.iter().map(|id| format!("{id} 0 R")).collect();
    objects.push(
        format!(
            "<< /Type /Pages /Kids [{}] /Count {} >>",
            kids.join(" "),
            pages.len()
        )
        .into_bytes(),
    );
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    for (page, id) in pages.iter().zip(&page_ids) {
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {} 0 R /Resources << /Font << /F1 3 0 R >> >> >>",
                id + 1
            )
            .into_bytes(),
        );
        let mut content = b"BT /F1 10 Tf 12 TL 50 750 Td\n".to_vec();
        for line in page.iter() {
            content.push(b'(');
            content.extend(pdf_string(line));
            content.extend_from_slice(b") '\n");
        }
        content.extend_from_slice(b"ET");
        let mut stream = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
        stream.extend(content);
        stream.extend_from_slice(b"\nendstream");
        objects.push(stream);
    }
    assemble_pdf(&objects)
}

/// An image-only PDF: one page showing a JPEG scan of `width`×`height`
/// pixels (grey when `grey`, else RGB) at `dpi`, as scanners and phone
/// apps write them — no text layer, so readers need OCR.
pub fn image_pdf(jpeg: &[u8], width: u32, height: u32, grey: bool, dpi: u32) -> Vec<u8> {
    let points = |pixels: u32| f64::from(pixels) * 72.0 / f64::from(dpi.max(1));
    let (page_width, page_height) = (points(width), points(height));
    let mut image = format!(
        "<< /Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace /{} /BitsPerComponent 8 /Filter /DCTDecode /Length {} >>\nstream\n",
        if grey { "DeviceGray" } else { "DeviceRGB" },
        jpeg.len()
    )
    .into_bytes();
    image.extend_from_slice(jpeg);
    image.extend_from_slice(b"\nendstream");
    let content = format!("q {page_width:.2} 0 0 {page_height:.2} 0 0 cm /Im1 Do Q");
    let mut contents = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
    contents.extend(content.into_bytes());
    contents.extend_from_slice(b"\nendstream");
    let objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {page_width:.2} {page_height:.2}] /Contents 4 0 R /Resources << /XObject << /Im1 5 0 R >> >> >>"
        )
        .into_bytes(),
        contents,
        image,
    ];
    assemble_pdf(&objects)
}

/// A PDF file of numbered `objects` (object 1 the catalog), with its
/// cross-reference table.
fn assemble_pdf(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n", i + 1).into_bytes());
        out.extend(object);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).into_bytes());
    for offset in offsets {
        out.extend(format!("{offset:010} 00000 n \n").into_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .into_bytes(),
    );
    out
}

/// The cells of a generated text's lines: split on ` | ` (the generator's
/// column separator) or on runs of two or more spaces.
fn cells(line: &str) -> Vec<String> {
    if line.contains(" | ") {
        return line.split(" | ").map(|c| c.trim().to_owned()).collect();
    }
    line.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Comma-separated values, quoted where a cell needs it (RFC 4180).
fn csv(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let row: Vec<String> = cells(line)
            .into_iter()
            .map(|cell| {
                if cell.contains([',', '"', '\n']) {
                    format!("\"{}\"", cell.replace('"', "\"\""))
                } else {
                    cell
                }
            })
            .collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// A minimal SpreadsheetML workbook: one sheet, a row per line, a cell per
/// column (inline strings; amounts as numbers where they parse).
pub fn xlsx(text: &str) -> zip::result::ZipResult<Vec<u8>> {
    let mut rows = String::new();
    for (r, line) in text.lines().enumerate() {
        rows.push_str(&format!("<row r=\"{}\">", r + 1));
        for (c, cell) in cells(line).iter().enumerate() {
            let reference = format!("{}{}", column_name(c), r + 1);
            match number(cell) {
                Some(value) => {
                    rows.push_str(&format!("<c r=\"{reference}\"><v>{value}</v></c>"));
                }
                None => rows.push_str(&format!(
                    "<c r=\"{reference}\" t=\"inlineStr\"><is><t xml:space=\"preserve\">{}</t></is></c>",
                    xml_escape(cell)
                )),
            }
        }
        rows.push_str("</row>");
    }
    let sheet = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>{rows}</sheetData></worksheet>"
    );
    let workbook = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
        <workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">\
        <sheets><sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>";
    let workbook_relationships = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
        <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
        <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet1.xml\"/>\
        </Relationships>";
    package(
        &[
            (
                "xl/workbook.xml",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            ),
            (
                "xl/worksheets/sheet1.xml",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml",
            ),
        ],
        &[
            ("xl/workbook.xml", workbook),
            ("xl/_rels/workbook.xml.rels", workbook_relationships),
            ("xl/worksheets/sheet1.xml", sheet.as_str()),
        ],
    )
}

/// A cell that is a plain amount (`-1,234.50`, `808.82`) as a number;
/// dates, ids and words stay text.
fn number(cell: &str) -> Option<f64> {
    let digits = cell.strip_prefix('-').unwrap_or(cell);
    let plain = digits.starts_with(|c: char| c.is_ascii_digit())
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
        && digits.matches('.').count() <= 1;
    if !plain {
        return None;
    }
    cell.replace(',', "").parse().ok()
}

/// Spreadsheet column letters: 0 → A, 25 → Z, 26 → AA.
fn column_name(index: usize) -> String {
    let mut name = String::new();
    let mut n = index + 1;
    while n > 0 {
        let rest = (n - 1) % 26;
        name.insert(0, char::from(b'A' + rest as u8));
        n = (n - 1) / 26;
    }
    name
}

/// An Office Open XML package: `[Content_Types].xml` naming the `typed`
/// parts' content types, the package relationship to the first of them
/// (the main part), and the named `parts`, deflated, in a ZIP.
fn package(typed: &[(&str, &str)], parts: &[(&str, &str)]) -> zip::result::ZipResult<Vec<u8>> {
    let overrides: String = typed
        .iter()
        .map(|(name, content_type)| {
            format!("<Override PartName=\"/{name}\" ContentType=\"{content_type}\"/>")
        })
        .collect();
    let content_types = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
         <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>{overrides}</Types>"
    );
    let main = typed.first().map_or("", |(name, _)| *name);
    let relationships = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
         <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"{main}\"/>\
         </Relationships>"
    );
    let mut buffer = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buffer);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let fixed = [
            ("[Content_Types].xml", content_types.as_str()),
            ("_rels/.rels", relationships.as_str()),
        ];
        for (name, data) in fixed.iter().chain(parts) {
            zip.start_file(*name, options)?;
            zip.write_all(data.as_bytes())?;
        }
        zip.finish()?;
    }
    Ok(buffer.into_inner())
}

/// A PDF literal string's bytes: Windows-1252, with `(`, `)` and `\` escaped.
fn pdf_string(line: &str) -> Vec<u8> {
    let (encoded, _, _) = encoding_rs::WINDOWS_1252.encode(line);
    let mut out = Vec::with_capacity(encoded.len());
    for &b in encoded.iter() {
        if matches!(b, b'(' | b')' | b'\\') {
            out.push(b'\\');
        }
        // encoding_rs writes unmappable characters as "&#...;" in HTML
        // style; keep them, they are still readable.
        out.push(b);
    }
    out
}

/// A minimal WordprocessingML document: one paragraph per line.
pub fn docx(text: &str) -> zip::result::ZipResult<Vec<u8>> {
    let mut body = String::new();
    for line in text.lines() {
        body.push_str("<w:p><w:r><w:t xml:space=\"preserve\">");
        body.push_str(&xml_escape(line));
        body.push_str("</w:t></w:r></w:p>");
    }
    let document = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\
         <w:body>{body}</w:body></w:document>"
    );
    package(
        &[(
            "word/document.xml",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        )],
        &[("word/document.xml", document.as_str())],
    )
}

fn html(text: &str, title: &str) -> String {
    let mut out = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{}</title></head><body>",
        xml_escape(title)
    );
    for line in text.lines() {
        out.push_str("<p>");
        out.push_str(&xml_escape(line));
        out.push_str("</p>");
    }
    out.push_str("</body></html>");
    out
}

fn eml(text: &str, title: &str) -> String {
    format!(
        "From: Documents <documents@example.com>\r\nTo: Records <records@example.org>\r\n\
         Subject: {}\r\nDate: Mon, 04 Mar 2024 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n",
        title.replace(['\r', '\n'], " "),
        text.replace('\n', "\r\n")
    )
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pdf_has_a_page_per_64_lines_and_a_valid_xref() {
        let text: String = (0..100).map(|i| format!("line {i} (x)\n")).collect();
        let bytes = pdf(&text);
        let source = String::from_utf8_lossy(&bytes);
        assert!(source.starts_with("%PDF-1.4"));
        assert!(source.contains("/Count 2"));
        assert!(source.contains("(line 5 \\(x\\)) '"));
        let xref: usize = source
            .rsplit("startxref\n")
            .next()
            .and_then(|s| s.lines().next())
            .and_then(|s| s.parse().ok())
            .unwrap();
        assert!(bytes[xref..].starts_with(b"xref"));
    }

    #[test]
    fn spreadsheets_split_cells_and_keep_amounts_as_numbers() {
        let text = "Date | Description | Amount\n2025-01-13 | Rent, March | -1,200.50";
        assert_eq!(
            csv(text),
            "Date,Description,Amount\r\n2025-01-13,\"Rent, March\",\"-1,200.50\"\r\n"
        );
        assert_eq!(number("-1,200.50"), Some(-1200.5));
        assert_eq!(number("2025-01-13"), None);
        assert_eq!(number("INV-0042"), None);
        assert_eq!(column_name(0), "A");
        assert_eq!(column_name(27), "AB");
        let workbook = xlsx(text).unwrap();
        assert_eq!(&workbook[..2], b"PK");
    }

    #[test]
    fn an_image_pdf_wraps_the_jpeg() {
        let pdf = image_pdf(b"\xFF\xD8fakejpeg\xFF\xD9", 850, 1100, true, 100);
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/Filter /DCTDecode /Length 12"));
        assert!(text.contains("/MediaBox [0 0 612.00 792.00]"));
        assert!(text.ends_with("%%EOF\n"));
    }

    #[test]
    fn a_docx_is_a_zip_with_the_document_part() {
        let bytes = docx("Hello & <world>").unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut document = String::new();
        std::io::Read::read_to_string(
            &mut archive.by_name("word/document.xml").unwrap(),
            &mut document,
        )
        .unwrap();
        assert!(document.contains("Hello &amp; &lt;world&gt;"));
    }
}
