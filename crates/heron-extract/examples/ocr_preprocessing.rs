//! What OCR preprocessing buys: word recall and time, with and without it,
//! on rendered pages degraded on purpose (skew, low resolution, blur,
//! noise). Ground truth: the `*_scan.txt` files beside the fixtures.
//!
//! `cargo run --release -p heron-extract --example ocr_preprocessing`
//! prints a Markdown table (numbers quoted in bench/README.md).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use heron_extract::preprocess::{PreprocessOptions, rotate};
use heron_extract::{ExtractionLimits, OcrEngine};
use image::{GrayImage, Luma};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Multiset recall of the truth's words in the OCR text.
fn word_recall(truth: &str, text: &str) -> f64 {
    let mut found: HashMap<&str, usize> = HashMap::new();
    for word in text.split_whitespace() {
        *found.entry(word).or_default() += 1;
    }
    let words: Vec<&str> = truth.split_whitespace().collect();
    let hits = words
        .iter()
        .filter(|w| match found.get_mut(*w) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        })
        .count();
    hits as f64 / words.len().max(1) as f64
}

fn scale(image: &GrayImage, factor: f32) -> GrayImage {
    let (w, h) = (
        (image.width() as f32 * factor) as u32,
        (image.height() as f32 * factor) as u32,
    );
    image::imageops::resize(image, w, h, image::imageops::FilterType::Triangle)
}

fn noise(image: &GrayImage, amount: i32) -> GrayImage {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    GrayImage::from_fn(image.width(), image.height(), |x, y| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let delta = (state % (2 * amount as u64 + 1)) as i32 - amount;
        Luma([(i32::from(image.get_pixel(x, y)[0]) + delta).clamp(0, 255) as u8])
    })
}

/// A named way of spoiling a page.
/// A phone photo of `page`: warped in perspective onto a darker desk,
/// with light falling off across the frame; `zoom` < 1 shoots from further
/// away (the page covers less of the frame, so its text is smaller).
fn phone_photo(page: &GrayImage, zoom: f32) -> GrayImage {
    photo_with_corners(
        page,
        zoom,
        [
            (260.0, 240.0),
            (1760.0, 170.0),
            (1830.0, 1080.0),
            (180.0, 1180.0),
        ],
    )
}

/// A photo taken at a steep angle: the page's far edge is much shorter
/// than its near edge, and the text lines fan out.
fn steep_photo(page: &GrayImage) -> GrayImage {
    photo_with_corners(
        page,
        1.0,
        [
            (560.0, 260.0),
            (1480.0, 200.0),
            (1940.0, 1320.0),
            (60.0, 1400.0),
        ],
    )
}

fn photo_with_corners(page: &GrayImage, zoom: f32, corners: [(f32, f32); 4]) -> GrayImage {
    let centre = (1000.0, 700.0);
    let corners = corners.map(|(x, y): (f32, f32)| {
        (
            centre.0 + (x - centre.0) * zoom,
            centre.1 + (y - centre.1) * zoom,
        )
    });
    let scene = heron_extract::page_detect::Scene {
        width: 2000,
        height: 1500,
        background: [80, 80, 80],
        falloff: 0.25,
        shadow: 0.0,
    };
    image::DynamicImage::ImageRgb8(heron_extract::page_detect::photograph(
        page, &corners, &scene,
    ))
    .to_luma8()
}

type Degradation = (&'static str, Box<dyn Fn(&GrayImage) -> GrayImage>);

fn main() {
    let limits = ExtractionLimits::default();
    let plain = OcrEngine::detect("eng", true)
        .expect("tesseract")
        .with_preprocess(PreprocessOptions {
            deskew: false,
            upscale: false,
            orientation: false,
            ..PreprocessOptions::default()
        });
    let deskew_only = plain.clone().with_preprocess(PreprocessOptions {
        upscale: false,
        orientation: false,
        ..PreprocessOptions::default()
    });
    let no_page = plain.clone().with_preprocess(PreprocessOptions {
        page_detection: false,
        ..PreprocessOptions::default()
    });
    let full = plain.clone().with_preprocess(PreprocessOptions::default());
    let degradations: Vec<Degradation> = vec![
        ("clean 300 dpi", Box::new(|i: &GrayImage| i.clone())),
        ("skew 3°", Box::new(|i: &GrayImage| rotate(i, 3.0))),
        ("skew 7°", Box::new(|i: &GrayImage| rotate(i, -7.0))),
        ("skew 12°", Box::new(|i: &GrayImage| rotate(i, 12.0))),
        ("skew 18°", Box::new(|i: &GrayImage| rotate(i, -18.0))),
        ("100 dpi", Box::new(|i: &GrayImage| scale(i, 0.33))),
        ("75 dpi", Box::new(|i: &GrayImage| scale(i, 0.25))),
        (
            "blur σ1.5",
            Box::new(|i: &GrayImage| image::imageops::blur(i, 1.5)),
        ),
        ("noise ±60", Box::new(|i: &GrayImage| noise(i, 60))),
        (
            "skew 9° + 100 dpi",
            Box::new(|i: &GrayImage| scale(&rotate(i, 9.0), 0.33)),
        ),
        (
            "phone photo: perspective on a desk",
            Box::new(|i: &GrayImage| phone_photo(i, 1.0)),
        ),
        (
            "phone photo from further away",
            Box::new(|i: &GrayImage| phone_photo(i, 0.6)),
        ),
        ("phone photo at a steep angle", Box::new(steep_photo)),
        ("turned 90° left", Box::new(image::imageops::rotate270)),
        ("upside down", Box::new(image::imageops::rotate180)),
    ];
    let pages = ["statement_scan", "rechnung_scan", "facture_scan"];
    let scratch = std::env::temp_dir().join(format!("heron-ocr-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch directory");

    println!(
        "| degradation | recall without | deskew only | deskew + upscale + orientation | + page detection (all) | time ratio (all / without) |"
    );
    println!("|---|---|---|---|---|---|");
    let mut totals = [0.0f64; 4];
    let mut time_totals = [0.0f64; 2];
    for (name, degrade) in &degradations {
        let mut recall = [0.0f64; 4];
        let mut seconds = [0.0f64; 2];
        for page in pages {
            let original = image::open(fixtures().join(format!("{page}.png")))
                .expect("fixture")
                .to_luma8();
            let truth =
                std::fs::read_to_string(fixtures().join(format!("{page}.txt"))).expect("truth");
            let degraded = degrade(&original);
            let path = scratch.join(format!("{page}.png"));
            degraded.save(&path).expect("save");
            for (i, engine) in [&plain, &deskew_only, &no_page, &full]
                .into_iter()
                .enumerate()
            {
                let started = Instant::now();
                let text = engine
                    .recognise_image(&path, &limits, limits.deadline_from(Instant::now()))
                    .map(|t| t.pages.join("\n"))
                    .unwrap_or_default();
                let elapsed = started.elapsed().as_secs_f64();
                recall[i] += word_recall(&truth, &text) / pages.len() as f64;
                match i {
                    0 => seconds[0] += elapsed,
                    3 => seconds[1] += elapsed,
                    _ => {}
                }
            }
        }
        for i in 0..4 {
            totals[i] += recall[i] / degradations.len() as f64;
        }
        time_totals[0] += seconds[0];
        time_totals[1] += seconds[1];
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            recall[0],
            recall[1],
            recall[2],
            recall[3],
            seconds[1] / seconds[0]
        );
    }
    println!(
        "| **mean** | **{:.2}** | **{:.2}** | **{:.2}** | **{:.2}** | **{:.2}** |",
        totals[0],
        totals[1],
        totals[2],
        totals[3],
        time_totals[1] / time_totals[0]
    );
    let _ = std::fs::remove_dir_all(&scratch);
}
