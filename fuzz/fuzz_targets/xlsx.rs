#![no_main]
//! The spreadsheet extractor on XLSX input.

use heron_extract::FileKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: heron_fuzz::allow_contained_panics(),
    |data: &[u8]| heron_fuzz::extract_as(
    data,
    FileKind::Spreadsheet(heron_extract::SheetFormat::Xlsx)
));
