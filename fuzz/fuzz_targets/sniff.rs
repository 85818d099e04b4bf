#![no_main]
//! Content sniffing: any bytes, with or without a claimed extension.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let kind = heron_extract::sniff(data, None);
    let _ = kind.mime_type();
    let _ = heron_extract::sniff(data, Some("pdf"));
});
