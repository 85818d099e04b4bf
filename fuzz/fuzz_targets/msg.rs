#![no_main]
//! The Outlook MSG reader (CFB property streams, attachments).

use heron_extract::FileKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| heron_fuzz::extract_as(data, FileKind::Msg));
