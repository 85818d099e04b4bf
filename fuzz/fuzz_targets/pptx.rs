#![no_main]
//! The PPTX extractor (ZIP container, PresentationML).

use heron_extract::FileKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| heron_fuzz::extract_as(data, FileKind::Pptx));
