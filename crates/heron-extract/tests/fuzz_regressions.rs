//! Inputs that `cargo fuzz` found to crash a parser (scripts/fuzz), kept
//! under `fuzz-regressions/<target>/`: each must now give a result or an
//! error, never a panic.

use std::path::Path;

use heron_extract::{ExtractionLimits, FileKind, SheetFormat, extract_in_process};

fn kind_of_target(target: &str) -> Option<FileKind> {
    Some(match target {
        "xls" => FileKind::Spreadsheet(SheetFormat::Xls),
        "xlsx" => FileKind::Spreadsheet(SheetFormat::Xlsx),
        "xlsb" => FileKind::Spreadsheet(SheetFormat::Xlsb),
        "ods" => FileKind::Spreadsheet(SheetFormat::Ods),
        "docx" => FileKind::Docx,
        "pptx" => FileKind::Pptx,
        "opendocument" => FileKind::Odt,
        "rtf" => FileKind::Rtf,
        "html" => FileKind::Html,
        "xml" => FileKind::Xml,
        "json" => FileKind::Json,
        "email" => FileKind::Email,
        "msg" => FileKind::Msg,
        "ppt" => FileKind::Ppt,
        "zip" => FileKind::Zip,
        "text" => FileKind::Text,
        _ => return None,
    })
}

#[test]
fn crashing_inputs_found_by_fuzzing_now_fail_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut checked = 0;
    for target in std::fs::read_dir(&root).unwrap() {
        let target = target.unwrap().path();
        let name = target.file_name().unwrap().to_string_lossy().into_owned();
        let kind = kind_of_target(&name).unwrap_or_else(|| panic!("unknown fuzz target {name}"));
        for input in std::fs::read_dir(&target).unwrap() {
            let input = input.unwrap().path();
            let result = extract_in_process(&input, kind, &ExtractionLimits::default());
            assert!(result.is_err(), "{}: {result:?}", input.display());
            checked += 1;
        }
    }
    assert!(
        checked > 0,
        "no regression inputs found under {}",
        root.display()
    );
}
