#![no_main]
//! Image decoding and OCR preprocessing (page detection, deskew, upscaling)
//! without Tesseract: the part of OCR that is our code.

use std::io::Write;

use heron_extract::preprocess::{PreprocessOptions, prepare};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(scratch) = tempfile::tempdir() else {
        return;
    };
    let input = scratch.path().join("input");
    let Ok(mut file) = std::fs::File::create(&input) else {
        return;
    };
    if file.write_all(data).is_err() {
        return;
    }
    let options = PreprocessOptions {
        max_pixels: 4_000_000,
        ..PreprocessOptions::default()
    };
    let _ = prepare(&input, scratch.path(), &options);
});
