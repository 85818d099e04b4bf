//! Read pictures with PP-OCR alone and print the text, the time and the
//! process's peak memory (for sizing the extraction children's limit).
//!
//!   cargo run --release -p heron-extract --example ppocr_read -- MODELS_DIR MAX_SIDE PICTURE...

use std::time::Instant;

use heron_extract::ppocr::PpOcr;
use heron_extract::ppocr::detect::DetectOptions;

fn status(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_default()
        .to_owned()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let max_side: u32 = args[2].parse().expect("MAX_SIDE");
    let started = Instant::now();
    let mut engine = PpOcr::load(std::path::Path::new(&args[1]), 1)
        .expect("models")
        .with_detect_options(DetectOptions {
            max_side,
            ..DetectOptions::default()
        });
    eprintln!(
        "loaded in {:.2} s; {} {}",
        started.elapsed().as_secs_f64(),
        status("VmPeak"),
        status("VmHWM")
    );
    for path in &args[3..] {
        let picture = image::open(path).expect("a picture").to_rgb8();
        let started = Instant::now();
        let lines = engine.read(&picture).expect("reading");
        eprintln!(
            "{path}: {}×{}, {} lines in {:.2} s; {} {}",
            picture.width(),
            picture.height(),
            lines.len(),
            started.elapsed().as_secs_f64(),
            status("VmPeak"),
            status("VmHWM")
        );
        for line in &lines {
            println!("{}", line.text);
        }
    }
}
