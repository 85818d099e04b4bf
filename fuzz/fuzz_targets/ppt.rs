#![no_main]
//! The PowerPoint 97–2003 record walker.

use heron_extract::FileKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| heron_fuzz::extract_as(data, FileKind::Ppt));
