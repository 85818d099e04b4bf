//! Generated texts as the files users would send: PDF with a text layer,
//! DOCX, HTML, EML, CSV and plain text. Pure: text in, bytes out. (Scans
//! and photos are made from the PDF by `heron generate`, which renders and
//! degrades pages.)

use std::io::Write;

/// File formats the generator writes, by extension.
pub const FORMATS: &[&str] = &["pdf", "docx", "html", "eml", "csv", "txt"];

/// `text` as a file of `extension` (one of [`FORMATS`]).
pub fn render(text: &str, title: &str, extension: &str) -> Vec<u8> {
    match extension {
        "pdf" => pdf(text),
        "docx" => docx(text).unwrap_or_else(|_| text.as_bytes().to_vec()),
        "html" => html(text, title).into_bytes(),
        "eml" => eml(text, title).into_bytes(),
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
    let content_types = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
        <Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
        <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
        <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
        <Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>\
        </Types>";
    let relationships = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
        <Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
        <Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml\"/>\
        </Relationships>";
    let mut buffer = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buffer);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in [
            ("[Content_Types].xml", content_types),
            ("_rels/.rels", relationships),
            ("word/document.xml", document.as_str()),
        ] {
            zip.start_file(name, options)?;
            zip.write_all(data.as_bytes())?;
        }
        zip.finish()?;
    }
    Ok(buffer.into_inner())
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
