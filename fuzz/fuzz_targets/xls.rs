#![no_main]
//! The spreadsheet extractor on XLS (BIFF in CFB) input.

use heron_extract::FileKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| heron_fuzz::extract_as(
    data,
    FileKind::Spreadsheet(heron_extract::SheetFormat::Xls)
));
