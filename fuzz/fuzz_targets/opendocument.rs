#![no_main]
//! The ODT/ODP extractor (ZIP container, content.xml).

use heron_extract::FileKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| heron_fuzz::extract_as(data, FileKind::Odt));
