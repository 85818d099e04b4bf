//! Documents inside Office files: what Word, Excel and PowerPoint keep
//! under `embeddings/` (a workbook in a report, a PDF in a slide), and the
//! HTML or MHT parts Word imports whole (`altChunk`). Each is extracted in
//! turn like an e-mail attachment ([`crate::extract_nested`]: a nesting
//! level less, the same budgets), its pages marked with its name; one that
//! cannot be read is a warning, the host's text stands.
//!
//! Embedded files often come wrapped in an OLE compound file
//! (`oleObject1.bin`): the document is then its `Package` stream (an
//! Office Open XML file), its `CONTENTS` stream (a PDF), the file packed
//! in its `\u{1}Ole10Native` stream (any file dropped into a document), or
//! the compound file itself (a Word 97 document or Excel workbook).

use std::io::{Cursor, Read};

use crate::docx::read_member;
use crate::{Extraction, ExtractionLimits};

/// Pictures kept beside embedded objects (their previews): no text.
const PICTURES: [&str; 8] = ["emf", "wmf", "png", "jpeg", "jpg", "gif", "bmp", "tif"];
/// Parts Word imports whole through `altChunk`.
const ALT_CHUNKS: [&str; 5] = ["mht", "mhtml", "htm", "html", "xhtml"];

/// Extract every document embedded under `root` (`word/`, `xl/`, `ppt/`)
/// of `archive`, whose members are `names`, and append its pages.
pub(crate) fn append(
    archive: &mut zip::ZipArchive<std::fs::File>,
    names: &[String],
    root: &str,
    budget: &mut u64,
    limits: &ExtractionLimits,
    extraction: &mut Extraction,
) {
    let embeddings = format!("{root}embeddings/");
    for name in names {
        let extension = extension(name);
        let embedded = name.starts_with(&embeddings) && !PICTURES.contains(&extension.as_str());
        let alt_chunk = name.starts_with(root)
            && !name[root.len()..].contains('/')
            && ALT_CHUNKS.contains(&extension.as_str());
        if !embedded && !alt_chunk {
            continue;
        }
        let shown = name.rsplit('/').next().unwrap_or(name);
        let bytes = match read_member(archive, name, budget) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => continue,
            Err(e) => {
                crate::warn_nested(extraction, "embedded", shown, &e);
                continue;
            }
        };
        let (inner_name, inner) = if extension == "bin" {
            match unwrap_ole(&bytes, *budget) {
                Some(unwrapped) => unwrapped,
                None => continue,
            }
        } else {
            (shown.to_owned(), bytes)
        };
        crate::append_nested(extraction, "embedded", &inner_name, &inner, limits);
    }
}

fn extension(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

/// The document an OLE object holds, with a name whose extension tells
/// its kind; `None` for objects that hold no document (an equation, a
/// drawing) or streams longer than `budget`.
fn unwrap_ole(bytes: &[u8], budget: u64) -> Option<(String, Vec<u8>)> {
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes)).ok()?;
    let stream = |file: &mut cfb::CompoundFile<Cursor<&[u8]>>, name: &str| {
        let mut stream = file.open_stream(name).ok()?;
        if stream.len() > budget {
            return None;
        }
        let mut data = Vec::new();
        stream.read_to_end(&mut data).ok()?;
        Some(data)
    };
    if file.is_stream("/Package") {
        return Some(("package.bin".to_owned(), stream(&mut file, "/Package")?));
    }
    if file.is_stream("/CONTENTS") {
        return Some(("contents.bin".to_owned(), stream(&mut file, "/CONTENTS")?));
    }
    if file.is_stream("/\u{1}Ole10Native") {
        return ole10_native(&stream(&mut file, "/\u{1}Ole10Native")?);
    }
    let own = [
        ("/WordDocument", "object.doc"),
        ("/Workbook", "object.xls"),
        ("/Book", "object.xls"),
        ("/PowerPoint Document", "object.ppt"),
    ];
    own.iter()
        .find(|(stream, _)| file.is_stream(stream))
        .map(|(_, name)| ((*name).to_owned(), bytes.to_vec()))
}

/// The file packed in an `Ole10Native` stream: total size, flags, label,
/// original path, flags, a length-prefixed command, then the data's size
/// and the data. Its name is the original file's.
fn ole10_native(stream: &[u8]) -> Option<(String, Vec<u8>)> {
    let mut at = 4 + 2;
    let c_string = |at: &mut usize| -> Option<String> {
        let rest = stream.get(*at..)?;
        let end = rest.iter().position(|b| *b == 0)?;
        *at += end + 1;
        Some(String::from_utf8_lossy(&rest[..end]).into_owned())
    };
    let u32_at = |at: usize| -> Option<usize> {
        let bytes: [u8; 4] = stream.get(at..at + 4)?.try_into().ok()?;
        usize::try_from(u32::from_le_bytes(bytes)).ok()
    };
    let label = c_string(&mut at)?;
    let path = c_string(&mut at)?;
    at += 2 + 2;
    let command = u32_at(at)?;
    at = at.checked_add(4)?.checked_add(command)?;
    let size = u32_at(at)?;
    at += 4;
    let data = stream.get(at..at.checked_add(size)?)?;
    let name = path
        .rsplit(['\\', '/'])
        .next()
        .filter(|n| n.contains('.'))
        .map_or(label, str::to_owned);
    Some((name, data.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packed_file_comes_out_with_its_name() {
        let mut stream = vec![0u8; 4];
        stream.extend([2, 0]);
        stream.extend(b"notes.txt\0C:\\Users\\a\\notes.txt\0");
        stream.extend([0, 0, 3, 0]);
        let command = b"C:\\Temp\\notes.txt\0";
        stream.extend((command.len() as u32).to_le_bytes());
        stream.extend(command);
        stream.extend(5u32.to_le_bytes());
        stream.extend(b"hello");
        let (name, data) = ole10_native(&stream).expect("a packed file");
        assert_eq!(name, "notes.txt");
        assert_eq!(data, b"hello");
    }

    #[test]
    fn a_truncated_packed_file_is_nothing() {
        let mut stream = vec![0u8; 6];
        stream.extend(b"notes.txt\0notes.txt\0\0\0\0\0");
        stream.extend(100u32.to_le_bytes());
        assert!(ole10_native(&stream).is_none());
    }
}
