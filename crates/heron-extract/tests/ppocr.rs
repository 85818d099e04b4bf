//! PP-OCR through ONNX Runtime with the real models (`scripts/test` fetches
//! them and names the folder in `HERON_TEST_OCR_MODELS`). Without them the
//! tests say so loudly and pass, except under `HERON_TEST_REQUIRE=all`
//! (CI), where a missing model is a failure (`heron_testkit::missing`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use heron_extract::ppocr::PpOcr;
use heron_extract::{ExtractionLimits, OcrEngine};

fn models() -> Option<PathBuf> {
    match std::env::var("HERON_TEST_OCR_MODELS") {
        Ok(dir) if heron_extract::ppocr::missing_files(Path::new(&dir)).is_empty() => {
            Some(PathBuf::from(dir))
        }
        _ => {
            heron_testkit::missing(
                "HERON_TEST_OCR_MODELS names no PP-OCR models folder (scripts/fetch-ocr-models DIR)",
            );
            None
        }
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn sample(name: &str) -> Option<PathBuf> {
    Some(heron_testkit::corpus("samples")?.join(name))
}

/// Share of the words of `expected` (two letters or more) found in `read`.
fn word_recall(expected: &str, read: &str) -> f64 {
    let words = |text: &str| -> Vec<String> {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 2)
            .map(str::to_lowercase)
            .collect()
    };
    let found: std::collections::HashSet<String> = words(read).into_iter().collect();
    let wanted = words(expected);
    wanted.iter().filter(|w| found.contains(*w)).count() as f64 / wanted.len().max(1) as f64
}

#[test]
fn corpus_a_licence_photo_yields_its_number_and_its_words_apart() {
    let Some(models) = models() else { return };
    let Some(photo) = sample("drivers_license_1.jpg") else {
        return;
    };
    let engine = OcrEngine::detect("eng", true)
        .expect("tesseract")
        .with_ppocr(&models);
    let limits = ExtractionLimits::default();
    let text = engine
        .recognise_with_ppocr(&photo, &models, &limits)
        .expect("PP-OCR reads the photo");
    let joined = text.pages.join("\n");
    assert!(joined.contains("P99999999"), "{joined}");
    // The recogniser runs Latin words together; the spaces it nearly read
    // are put back.
    assert!(joined.contains("DRIVER LICENSE"), "{joined}");
    assert!(joined.contains("JOE A SAMPLE"), "{joined}");
    assert_eq!(text.languages, "ppocr");
    // Word boxes for the understanding stage, inside the page.
    let layout = &text.layout[0];
    let number = layout
        .words
        .iter()
        .find(|w| w.text.contains("P99999999"))
        .expect("a box for the licence number");
    assert!(number.bbox.iter().all(|v| (0.0..=1.0).contains(v)));
    assert!(number.bbox[0] < number.bbox[2] && number.bbox[1] < number.bbox[3]);
    // Through the combined engine the photo is PP-OCR's to read.
    let combined = engine
        .recognise_image(&photo, &limits, limits.deadline_from(Instant::now()))
        .expect("reading");
    assert_eq!(combined.languages, "ppocr");
}

#[test]
fn scans_with_known_text_are_read_and_accents_come_from_tesseract() {
    let Some(models) = models() else { return };
    let engine = OcrEngine::detect("eng", true)
        .expect("tesseract")
        .with_ppocr(&models);
    let limits = ExtractionLimits::default();
    for (scan, accented) in [
        ("statement_scan", None),
        ("rechnung_scan", Some("Büromöbel und Zubehör")),
        ("facture_scan", Some("Règlement à réception")),
    ] {
        let expected =
            std::fs::read_to_string(fixture(&format!("{scan}.txt"))).expect("known text");
        let picture = fixture(&format!("{scan}.png"));
        let alone = engine
            .recognise_with_ppocr(&picture, &models, &limits)
            .expect("PP-OCR");
        let recall = word_recall(&expected, &alone.pages.join("\n"));
        assert!(recall > 0.8, "{scan}: PP-OCR alone recalls {recall:.2}");
        let combined = engine
            .recognise_image(&picture, &limits, limits.deadline_from(Instant::now()))
            .expect("reading");
        let text = combined.pages.join("\n");
        if let Some(phrase) = accented {
            assert!(
                text.contains(phrase),
                "{scan} ({}): {text}",
                combined.languages
            );
        }
        assert!(word_recall(&expected, &text) > 0.8, "{scan}: {text}");
    }
}

#[test]
fn an_incomplete_models_folder_is_refused_by_name() {
    let empty = std::env::temp_dir().join(format!("heron-no-models-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let error = PpOcr::load(&empty, 1).err().expect("refused");
    assert!(error.contains("ch_PP-OCRv4_det_infer.onnx"), "{error}");
    assert!(error.contains("libonnxruntime.so"), "{error}");
    std::fs::remove_dir_all(empty).unwrap();
}
