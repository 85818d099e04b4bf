//! Content-type detection from magic bytes and container contents.

use std::io::Read;
use std::path::Path;

/// Raster image formats Tesseract reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Tiff,
    Bmp,
    Gif,
    Webp,
}

/// Spreadsheet containers calamine reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SheetFormat {
    Xlsx,
    Xlsb,
    Xls,
    Ods,
}

/// What a file is, judged from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Pdf,
    Docx,
    /// Word 97–2003.
    Doc,
    Spreadsheet(SheetFormat),
    Pptx,
    /// PowerPoint 97–2003.
    Ppt,
    /// OpenDocument text.
    Odt,
    /// OpenDocument presentation.
    Odp,
    Rtf,
    Html,
    Xml,
    Json,
    /// An e-mail message (RFC 5322 / MIME).
    Email,
    /// An Outlook message (MS-OXMSG, in an OLE compound file).
    Msg,
    Zip,
    /// Delimited text; the delimiter was detected from the first lines.
    Csv {
        delimiter: u8,
    },
    Markdown,
    Text,
    Image(ImageFormat),
    /// A password-protected Word, Excel or PowerPoint file (an OLE
    /// compound file holding the encrypted package): an `encrypted` error.
    EncryptedOffice,
    /// Recognised but not parsed (yet), or not recognised at all.
    Unknown {
        description: &'static str,
    },
}

impl FileKind {
    /// The MIME type reported for this kind.
    pub fn mime_type(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileKind::Doc => "application/msword",
            FileKind::Spreadsheet(SheetFormat::Xlsx) => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            FileKind::Spreadsheet(SheetFormat::Xlsb) => {
                "application/vnd.ms-excel.sheet.binary.macroenabled.12"
            }
            FileKind::Spreadsheet(SheetFormat::Xls) => "application/vnd.ms-excel",
            FileKind::Spreadsheet(SheetFormat::Ods) => {
                "application/vnd.oasis.opendocument.spreadsheet"
            }
            FileKind::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            FileKind::Ppt => "application/vnd.ms-powerpoint",
            FileKind::Odt => "application/vnd.oasis.opendocument.text",
            FileKind::Odp => "application/vnd.oasis.opendocument.presentation",
            FileKind::Rtf => "application/rtf",
            FileKind::Html => "text/html",
            FileKind::Xml => "application/xml",
            FileKind::Json => "application/json",
            FileKind::Email => "message/rfc822",
            FileKind::Msg => "application/vnd.ms-outlook",
            FileKind::Zip => "application/zip",
            FileKind::Csv { delimiter: b'\t' } => "text/tab-separated-values",
            FileKind::Csv { .. } => "text/csv",
            FileKind::Markdown => "text/markdown",
            FileKind::Text => "text/plain",
            FileKind::Image(ImageFormat::Png) => "image/png",
            FileKind::Image(ImageFormat::Jpeg) => "image/jpeg",
            FileKind::Image(ImageFormat::Tiff) => "image/tiff",
            FileKind::Image(ImageFormat::Bmp) => "image/bmp",
            FileKind::Image(ImageFormat::Gif) => "image/gif",
            FileKind::Image(ImageFormat::Webp) => "image/webp",
            FileKind::EncryptedOffice => "application/x-tika-ooxml-protected",
            FileKind::Unknown { .. } => "application/octet-stream",
        }
    }

    pub fn is_image(self) -> bool {
        matches!(self, FileKind::Image(_))
    }

    /// Whether a file name's extension fits this content. Unknown extensions
    /// fit nothing; text-like kinds accept each other's extensions.
    pub fn matches_extension(self, extension: &str) -> bool {
        let extension = extension.to_ascii_lowercase();
        let ext = extension.as_str();
        match self {
            FileKind::Pdf => ext == "pdf",
            FileKind::Docx => matches!(ext, "docx" | "docm" | "dotx"),
            FileKind::Doc => matches!(ext, "doc" | "dot"),
            FileKind::Spreadsheet(SheetFormat::Xlsx) => matches!(ext, "xlsx" | "xlsm" | "xltx"),
            FileKind::Spreadsheet(SheetFormat::Xlsb) => ext == "xlsb",
            FileKind::Spreadsheet(SheetFormat::Xls) => matches!(ext, "xls" | "xlt"),
            FileKind::Spreadsheet(SheetFormat::Ods) => ext == "ods",
            FileKind::Pptx => matches!(ext, "pptx" | "pptm"),
            FileKind::Ppt => ext == "ppt",
            FileKind::Odt => ext == "odt",
            FileKind::Odp => ext == "odp",
            FileKind::Rtf => ext == "rtf",
            FileKind::Html => matches!(ext, "html" | "htm" | "xhtml"),
            FileKind::Xml => ext == "xml",
            FileKind::Json => ext == "json",
            FileKind::Email => matches!(ext, "eml" | "txt"),
            FileKind::Msg => ext == "msg",
            FileKind::Zip => ext == "zip",
            FileKind::Csv { .. } | FileKind::Text | FileKind::Markdown => {
                matches!(
                    ext,
                    "csv" | "tsv" | "txt" | "text" | "md" | "markdown" | "log"
                )
            }
            FileKind::Image(ImageFormat::Png) => ext == "png",
            FileKind::Image(ImageFormat::Jpeg) => matches!(ext, "jpg" | "jpeg" | "jpe" | "jfif"),
            FileKind::Image(ImageFormat::Tiff) => matches!(ext, "tif" | "tiff"),
            FileKind::Image(ImageFormat::Bmp) => ext == "bmp",
            FileKind::Image(ImageFormat::Gif) => ext == "gif",
            FileKind::Image(ImageFormat::Webp) => ext == "webp",
            FileKind::EncryptedOffice => matches!(
                ext,
                "docx"
                    | "docm"
                    | "xlsx"
                    | "xlsm"
                    | "xlsb"
                    | "pptx"
                    | "pptm"
                    | "doc"
                    | "xls"
                    | "ppt"
            ),
            FileKind::Unknown { .. } => false,
        }
    }
}

/// [`FileKind`] as it crosses a process boundary (the description of an
/// unknown kind is a static string on each side, so it is not sent).
#[derive(serde::Serialize, serde::Deserialize)]
enum WireKind {
    Pdf,
    Docx,
    Doc,
    Spreadsheet(SheetFormat),
    Pptx,
    Ppt,
    Odt,
    Odp,
    Rtf,
    Html,
    Xml,
    Json,
    Email,
    Msg,
    Zip,
    Csv { delimiter: u8 },
    Markdown,
    Text,
    Image(ImageFormat),
    EncryptedOffice,
    Unknown,
}

impl From<FileKind> for WireKind {
    fn from(kind: FileKind) -> WireKind {
        match kind {
            FileKind::Pdf => WireKind::Pdf,
            FileKind::Docx => WireKind::Docx,
            FileKind::Doc => WireKind::Doc,
            FileKind::Spreadsheet(format) => WireKind::Spreadsheet(format),
            FileKind::Pptx => WireKind::Pptx,
            FileKind::Ppt => WireKind::Ppt,
            FileKind::Odt => WireKind::Odt,
            FileKind::Odp => WireKind::Odp,
            FileKind::Rtf => WireKind::Rtf,
            FileKind::Html => WireKind::Html,
            FileKind::Xml => WireKind::Xml,
            FileKind::Json => WireKind::Json,
            FileKind::Email => WireKind::Email,
            FileKind::Msg => WireKind::Msg,
            FileKind::Zip => WireKind::Zip,
            FileKind::Csv { delimiter } => WireKind::Csv { delimiter },
            FileKind::Markdown => WireKind::Markdown,
            FileKind::Text => WireKind::Text,
            FileKind::Image(format) => WireKind::Image(format),
            FileKind::EncryptedOffice => WireKind::EncryptedOffice,
            FileKind::Unknown { .. } => WireKind::Unknown,
        }
    }
}

impl serde::Serialize for FileKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&WireKind::from(*self), serializer)
    }
}

impl<'de> serde::Deserialize<'de> for FileKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<FileKind, D::Error> {
        <WireKind as serde::Deserialize>::deserialize(deserializer).map(FileKind::from)
    }
}

impl From<WireKind> for FileKind {
    fn from(kind: WireKind) -> FileKind {
        match kind {
            WireKind::Pdf => FileKind::Pdf,
            WireKind::Docx => FileKind::Docx,
            WireKind::Doc => FileKind::Doc,
            WireKind::Spreadsheet(format) => FileKind::Spreadsheet(format),
            WireKind::Pptx => FileKind::Pptx,
            WireKind::Ppt => FileKind::Ppt,
            WireKind::Odt => FileKind::Odt,
            WireKind::Odp => FileKind::Odp,
            WireKind::Rtf => FileKind::Rtf,
            WireKind::Html => FileKind::Html,
            WireKind::Xml => FileKind::Xml,
            WireKind::Json => FileKind::Json,
            WireKind::Email => FileKind::Email,
            WireKind::Msg => FileKind::Msg,
            WireKind::Zip => FileKind::Zip,
            WireKind::Csv { delimiter } => FileKind::Csv { delimiter },
            WireKind::Markdown => FileKind::Markdown,
            WireKind::Text => FileKind::Text,
            WireKind::Image(format) => FileKind::Image(format),
            WireKind::EncryptedOffice => FileKind::EncryptedOffice,
            WireKind::Unknown => FileKind::Unknown {
                description: "unrecognised content",
            },
        }
    }
}

/// How many leading bytes [`sniff_file`] reads for text heuristics.
const SNIFF_BYTES: usize = 64 * 1024;

/// Sniff a file on disk. ZIP containers are opened to look at their members.
pub fn sniff_file(path: &Path, extension: Option<&str>) -> std::io::Result<FileKind> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    std::fs::File::open(path)?
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)?;
    if head.starts_with(b"PK\x03\x04") {
        return Ok(sniff_zip(path));
    }
    if head.starts_with(&CFB_MAGIC) {
        return Ok(sniff_cfb(path));
    }
    Ok(sniff(&head, extension))
}

/// Sniff from the first bytes of a file. The extension only breaks ties
/// between text kinds (`.md`, `.csv`); it never overrides binary magic.
pub fn sniff(head: &[u8], extension: Option<&str>) -> FileKind {
    if let Some(kind) = sniff_magic(head) {
        return kind;
    }
    if looks_like_text(head) {
        return sniff_text(head, extension);
    }
    FileKind::Unknown {
        description: "unrecognised binary data",
    }
}

fn sniff_magic(head: &[u8]) -> Option<FileKind> {
    // PDF readers accept the header anywhere in the first KiB.
    let pdf_window = &head[..head.len().min(1024)];
    if pdf_window.windows(5).any(|w| w == b"%PDF-") {
        return Some(FileKind::Pdf);
    }
    let image = |format| Some(FileKind::Image(format));
    match head {
        [0x89, b'P', b'N', b'G', ..] => image(ImageFormat::Png),
        [0xFF, 0xD8, 0xFF, ..] => image(ImageFormat::Jpeg),
        [b'I', b'I', 0x2A, 0x00, ..] | [b'M', b'M', 0x00, 0x2A, ..] => image(ImageFormat::Tiff),
        [b'G', b'I', b'F', b'8', ..] => image(ImageFormat::Gif),
        [
            b'R',
            b'I',
            b'F',
            b'F',
            _,
            _,
            _,
            _,
            b'W',
            b'E',
            b'B',
            b'P',
            ..,
        ] => image(ImageFormat::Webp),
        [b'B', b'M', ..] if head.len() > 26 => image(ImageFormat::Bmp),
        [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, ..] => Some(FileKind::Unknown {
            description: "legacy Microsoft Office (OLE/CFB) file",
        }),
        [b'P', b'K', 0x03, 0x04, ..] => Some(FileKind::Zip),
        [b'{', b'\\', b'r', b't', b'f', ..] => Some(FileKind::Rtf),
        [0x1F, 0x8B, ..] => Some(FileKind::Unknown {
            description: "gzip data",
        }),
        _ => None,
    }
}

fn sniff_zip(path: &Path) -> FileKind {
    let Ok(file) = std::fs::File::open(path) else {
        return FileKind::Unknown {
            description: "unreadable ZIP archive",
        };
    };
    let Ok(mut archive) = zip::ZipArchive::new(file) else {
        return FileKind::Unknown {
            description: "corrupt ZIP archive",
        };
    };
    let has = |archive: &zip::ZipArchive<std::fs::File>, name: &str| {
        archive
            .file_names()
            .filter_map(Result::ok)
            .any(|n| n == name)
    };
    if has(&archive, "word/document.xml") {
        return FileKind::Docx;
    }
    if has(&archive, "xl/workbook.xml") {
        return FileKind::Spreadsheet(SheetFormat::Xlsx);
    }
    if has(&archive, "xl/workbook.bin") {
        return FileKind::Spreadsheet(SheetFormat::Xlsb);
    }
    if has(&archive, "ppt/presentation.xml") {
        return FileKind::Pptx;
    }
    // OpenDocument: the first member, `mimetype`, names the type.
    let mut mimetype = String::new();
    if let Ok(member) = archive.by_name("mimetype") {
        let _ = member.take(200).read_to_string(&mut mimetype);
    }
    match mimetype.trim() {
        "application/vnd.oasis.opendocument.text" => FileKind::Odt,
        "application/vnd.oasis.opendocument.presentation" => FileKind::Odp,
        "application/vnd.oasis.opendocument.spreadsheet" => FileKind::Spreadsheet(SheetFormat::Ods),
        _ => FileKind::Zip,
    }
}

const CFB_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// OLE compound files: the root storage's streams tell Word, Excel,
/// PowerPoint and Outlook apart.
fn sniff_cfb(path: &Path) -> FileKind {
    let Ok(file) = cfb::open(path) else {
        return FileKind::Unknown {
            description: "corrupt OLE compound file",
        };
    };
    let names: Vec<String> = file
        .read_root_storage()
        .map(|entry| entry.name().to_owned())
        .collect();
    let has = |name: &str| names.iter().any(|n| n == name);
    if has("EncryptedPackage") {
        FileKind::EncryptedOffice
    } else if has("WordDocument") {
        FileKind::Doc
    } else if has("Workbook") || has("Book") {
        FileKind::Spreadsheet(SheetFormat::Xls)
    } else if has("PowerPoint Document") {
        FileKind::Ppt
    } else if names.iter().any(|n| n.starts_with("__substg1.0_")) {
        FileKind::Msg
    } else {
        FileKind::Unknown {
            description: "OLE compound file of an unknown application",
        }
    }
}

/// Markdown when at least two kinds of its markup show in the first lines:
/// ATX headings, table rules, emphasis, links, fenced code, list items.
fn looks_like_markdown(start: &str) -> bool {
    let mut heading = false;
    let mut table = false;
    let mut emphasis = false;
    let mut link = false;
    let mut fence = false;
    let mut list = false;
    for line in start.lines().take(60) {
        let trimmed = line.trim_start();
        let hashes = trimmed.bytes().take_while(|&b| b == b'#').count();
        heading |= (1..=6).contains(&hashes) && trimmed[hashes..].starts_with(' ');
        table |= trimmed.starts_with('|') && trimmed.contains("---");
        emphasis |= trimmed.contains("**") || trimmed.contains("__");
        link |= trimmed.contains("](");
        fence |= trimmed.starts_with("```");
        list |= trimmed.starts_with("- ") || trimmed.starts_with("* ");
    }
    [heading, table, emphasis, link, fence, list]
        .iter()
        .filter(|&&found| found)
        .count()
        >= 2
}

/// Text if it has a BOM, or no NUL bytes and mostly printable characters.
fn looks_like_text(head: &[u8]) -> bool {
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    if head.is_empty() || head.contains(&0) {
        return false;
    }
    let control = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0C))
        .count();
    control * 100 <= head.len()
}

fn sniff_text(head: &[u8], extension: Option<&str>) -> FileKind {
    let extension = extension.map(str::to_ascii_lowercase);
    let text = String::from_utf8_lossy(&head[..head.len().min(4096)]);
    let start = text.trim_start_matches('\u{feff}').trim_start();
    let lower: String = start
        .chars()
        .take(512)
        .collect::<String>()
        .to_ascii_lowercase();
    if lower.starts_with("<!doctype html")
        || lower.starts_with("<html")
        || (lower.starts_with('<') && (lower.contains("<body") || lower.contains("<head")))
    {
        return FileKind::Html;
    }
    if lower.starts_with("<?xml") || (lower.starts_with('<') && extension.as_deref() == Some("xml"))
    {
        return FileKind::Xml;
    }
    if (start.starts_with('{') || start.starts_with('['))
        && (extension.as_deref() == Some("json")
            || serde_json::from_slice::<serde_json::Value>(head).is_ok())
    {
        return FileKind::Json;
    }
    if looks_like_email(start) {
        return FileKind::Email;
    }
    if looks_like_markdown(start) {
        return FileKind::Markdown;
    }
    match extension.as_deref() {
        Some("md" | "markdown") => return FileKind::Markdown,
        Some("tsv") => return FileKind::Csv { delimiter: b'\t' },
        _ => {}
    }
    match detect_delimiter(head) {
        Some(delimiter) => FileKind::Csv { delimiter },
        None if extension.as_deref() == Some("csv") => FileKind::Csv { delimiter: b',' },
        None => FileKind::Text,
    }
}

/// An e-mail starts with header lines (`Name: value`, folded lines
/// indented) and has at least two of the headers every message carries.
fn looks_like_email(text: &str) -> bool {
    const KNOWN: &[&str] = &[
        "from",
        "to",
        "subject",
        "date",
        "received",
        "message-id",
        "mime-version",
        "return-path",
        "delivered-to",
        "content-type",
        "reply-to",
        "cc",
    ];
    let mut known = std::collections::BTreeSet::new();
    for line in text.lines().take(60) {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((name, _)) = line.split_once(':') else {
            return false;
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return false;
        }
        let name = name.to_ascii_lowercase();
        if KNOWN.contains(&name.as_str()) {
            known.insert(name);
        }
    }
    known.len() >= 2 && (known.contains("from") || known.contains("received"))
}

/// A delimiter is one that appears the same number of times (at least once)
/// on each of the first lines, with at least three lines.
fn detect_delimiter(head: &[u8]) -> Option<u8> {
    let text = String::from_utf8_lossy(head);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .collect();
    // The last line of a cut-off head may be partial.
    let lines = if lines.len() > 3 {
        &lines[..lines.len() - 1]
    } else {
        &lines[..]
    };
    if lines.len() < 3 {
        return None;
    }
    [b',', b'\t', b';', b'|'].into_iter().find(|&delimiter| {
        let count = |line: &str| line.bytes().filter(|&b| b == delimiter).count();
        let first = count(lines[0]);
        first >= 1 && lines.iter().all(|line| count(line) == first)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes_win_over_names() {
        assert_eq!(sniff(b"%PDF-1.7\n", Some("jpg")), FileKind::Pdf);
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0], Some("pdf")),
            FileKind::Image(ImageFormat::Jpeg)
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n", None),
            FileKind::Image(ImageFormat::Png)
        );
    }

    #[test]
    fn text_kinds() {
        assert_eq!(
            sniff(b"a,b,c\n1,2,3\n4,5,6\n", None),
            FileKind::Csv { delimiter: b',' }
        );
        assert_eq!(
            sniff(b"a\tb\n1\t2\n4\t5\n", None),
            FileKind::Csv { delimiter: b'\t' }
        );
        assert_eq!(
            sniff(b"Dear Sir,\nplease find attached.\n", None),
            FileKind::Text
        );
        assert_eq!(sniff(b"# Title\n\ntext", Some("md")), FileKind::Markdown);
        assert_eq!(
            sniff(b"# Title\n\n- one **bold** item\n", None),
            FileKind::Markdown
        );
        assert_eq!(sniff(b"Dear Sir,\n- one item\n", None), FileKind::Text);
        assert!(matches!(
            sniff(b"\x00\x01\x02binary", None),
            FileKind::Unknown { .. }
        ));
        assert!(matches!(sniff(b"", None), FileKind::Unknown { .. }));
    }

    #[test]
    fn extension_agreement() {
        assert!(FileKind::Pdf.matches_extension("PDF"));
        assert!(!FileKind::Pdf.matches_extension("jpg"));
        assert!(FileKind::Csv { delimiter: b',' }.matches_extension("txt"));
    }
}
