//! Write `tests/fixtures/invoice.msg`: an Outlook message laid out as
//! MS-OXMSG specifies (property streams in an OLE compound file written by
//! the `cfb` crate), with one recipient and a DOCX attachment. No tool on
//! Debian writes MSG files; the result is checked with an independent
//! reader, `msgconvert` (Perl's Email::Outlook::Message), which turns it
//! into an EML carrying the same subject, body and attachment.
//!
//!     cargo run -p heron-extract --example make_msg_fixture

use std::io::Write;
use std::path::Path;

type Compound = cfb::CompoundFile<std::fs::File>;

const PT_LONG: u16 = 0x0003;
const PT_UNICODE: u16 = 0x001F;
const PT_BINARY: u16 = 0x0102;

/// A property as written: fixed-size ones live in the properties stream,
/// variable-size ones in a `__substg1.0_` stream of their own.
enum Value<'a> {
    Long(u32),
    Text(&'a str),
    Bytes(&'a [u8]),
}

fn main() -> std::io::Result<()> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let attachment = std::fs::read(fixtures.join("letter.docx"))?;
    let target = fixtures.join("invoice.msg");
    let mut file = cfb::create(&target)?;

    let message = [
        (0x001A, Value::Text("IPM.Note")),
        (0x0037, Value::Text("Invoice INV-2291 for October services")),
        (0x0C1A, Value::Text("Billing Department")),
        (0x5D01, Value::Text("billing@example.com")),
        (0x0E04, Value::Text("Anna Schmidt")),
        (
            0x007D,
            Value::Text("Date: Tue, 05 Nov 2024 09:30:00 +0000\r\nSubject: Invoice INV-2291\r\n"),
        ),
        (
            0x1000,
            Value::Text(
                "Dear Anna,\r\nplease find attached invoice INV-2291 for October services.\r\n\
                 Amount due: 4,250.00 EUR, payable within 30 days.\r\nKind regards,\r\nBilling",
            ),
        ),
        (0x0E07, Value::Long(0x1 | 0x10)), // message flags: read, has attachments
    ];
    write_properties(&mut file, Path::new("/"), &message, Some((1, 1)))?;

    // Named-property map: required by the format, empty here.
    file.create_storage("/__nameid_version1.0")?;
    for stream in ["00020102", "00030102", "00040102"] {
        file.create_stream(format!("/__nameid_version1.0/__substg1.0_{stream}"))?;
    }

    let recipient = Path::new("/__recip_version1.0_#00000000");
    file.create_storage(recipient)?;
    let recipient_properties = [
        (0x3001, Value::Text("Anna Schmidt")),
        (0x39FE, Value::Text("anna.schmidt@example.org")),
        (0x0C15, Value::Long(1)), // recipient type: To
    ];
    write_properties(&mut file, recipient, &recipient_properties, None)?;

    let attach = Path::new("/__attach_version1.0_#00000000");
    file.create_storage(attach)?;
    let attachment_properties = [
        (0x3705, Value::Long(1)), // attach method: by value
        (0x3707, Value::Text("letter.docx")),
        (0x3704, Value::Text("letter.docx")),
        (0x3001, Value::Text("letter.docx")),
        (0x3701, Value::Bytes(&attachment)),
    ];
    write_properties(&mut file, attach, &attachment_properties, None)?;
    file.flush()?;
    println!("wrote {}", target.display());
    Ok(())
}

/// Write `properties` into `storage`: the `__properties_version1.0` stream
/// (a header, then 16 bytes per property) and one stream per
/// variable-size value. `counts` (recipients, attachments) marks the
/// top-level message, whose header is longer.
fn write_properties(
    file: &mut Compound,
    storage: &Path,
    properties: &[(u16, Value)],
    counts: Option<(u32, u32)>,
) -> std::io::Result<()> {
    let mut table = vec![0u8; 8];
    if let Some((recipients, attachments)) = counts {
        for value in [recipients, attachments, recipients, attachments] {
            table.extend_from_slice(&value.to_le_bytes());
        }
        table.extend_from_slice(&[0u8; 8]);
    }
    for (id, value) in properties {
        let (kind, fixed, stored): (u16, [u8; 8], Option<Vec<u8>>) = match value {
            Value::Long(v) => {
                let mut fixed = [0u8; 8];
                fixed[..4].copy_from_slice(&v.to_le_bytes());
                (PT_LONG, fixed, None)
            }
            Value::Text(text) => {
                let mut bytes: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
                bytes.extend_from_slice(&[0, 0]);
                (PT_UNICODE, size_field(bytes.len()), Some(bytes))
            }
            Value::Bytes(bytes) => (PT_BINARY, size_field(bytes.len()), Some(bytes.to_vec())),
        };
        let tag = (u32::from(*id) << 16) | u32::from(kind);
        table.extend_from_slice(&tag.to_le_bytes());
        table.extend_from_slice(&0x6u32.to_le_bytes()); // readable, writable
        table.extend_from_slice(&fixed);
        if let Some(bytes) = stored {
            let name = storage.join(format!("__substg1.0_{id:04X}{kind:04X}"));
            file.create_stream(name)?.write_all(&bytes)?;
        }
    }
    file.create_stream(storage.join("__properties_version1.0"))?
        .write_all(&table)?;
    Ok(())
}

fn size_field(size: usize) -> [u8; 8] {
    let mut fixed = [0u8; 8];
    fixed[..4].copy_from_slice(&(size as u32).to_le_bytes());
    fixed
}
