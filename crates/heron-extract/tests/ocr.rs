//! OCR with the real Tesseract on rendered pages, our own scans and (the
//! corpus group) a photo of the original service's samples. Skipped with a
//! loud notice when Tesseract or a language pack is missing, a failure
//! under `HERON_TEST_REQUIRE=all`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use heron_extract::{ExtractionLimits, OcrEngine, OcrText};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn engine(auto_language: bool) -> Option<OcrEngine> {
    let engine = OcrEngine::detect("eng", auto_language).ok()?;
    let has = |code: &str| engine.installed_languages().iter().any(|l| l == code);
    if !engine.is_available() || !has("deu") || !has("fra") {
        heron_testkit::missing(
            "tesseract with the eng, deu and fra packs (scripts/setup-system installs them)",
        );
        return None;
    }
    Some(engine)
}

/// Recognise an image file with default limits.
fn recognise(engine: &OcrEngine, path: &Path) -> OcrText {
    let limits = ExtractionLimits::default();
    engine
        .recognise_image(path, &limits, limits.deadline_from(Instant::now()))
        .unwrap()
}

fn read(engine: &OcrEngine, name: &str) -> (String, String) {
    let text = recognise(engine, &fixture(name));
    (text.pages.join("\n"), text.languages)
}

#[test]
fn a_german_scan_is_read_again_in_german() {
    let Some(auto) = engine(true) else { return };
    let (text, languages) = read(&auto, "rechnung_scan.png");
    assert!(languages.starts_with("deu"), "{languages}");
    assert!(text.contains("12. März 2024"), "{text}");
    assert!(text.contains("Büromöbel und Zubehör"), "{text}");
    assert_eq!(
        heron_extract::language::detect(&text).map(|d| d.code),
        Some("deu")
    );

    // English-only OCR loses the umlauts: the second pass is what buys them.
    let Some(english) = engine(false) else { return };
    let (plain, languages) = read(&english, "rechnung_scan.png");
    assert_eq!(languages, "eng");
    assert!(!plain.contains("Büromöbel und Zubehör"), "{plain}");
}

#[test]
fn a_french_scan_is_read_in_french() {
    let Some(auto) = engine(true) else { return };
    let (text, languages) = read(&auto, "facture_scan.png");
    assert!(languages.starts_with("fra"), "{languages}");
    assert!(text.contains("Désignation"), "{text}");
    assert!(text.contains("Règlement à réception"), "{text}");
}

#[test]
fn corpus_an_english_photo_is_read_once() {
    let Some(auto) = engine(true) else { return };
    let Some(samples) = heron_testkit::corpus("samples") else {
        return;
    };
    let text = recognise(&auto, &samples.join("drivers_license_1.jpg"));
    assert_eq!(text.languages, "eng");
    let joined = text.pages.join("\n");
    assert!(joined.contains("DRIVER LICENSE"), "{joined}");
    assert!(text.confidence.unwrap() > 0.5);
}

#[test]
fn a_page_turned_upside_down_or_sideways_is_read_upright() {
    let Some(auto) = engine(true) else { return };
    let original = image::open(fixture("statement_scan.png"))
        .unwrap()
        .to_luma8();
    let dir = tempfile::tempdir().unwrap();
    for (name, turned) in [
        ("ccw90", image::imageops::rotate270(&original)),
        ("upside_down", image::imageops::rotate180(&original)),
    ] {
        let path = dir.path().join(format!("{name}.png"));
        turned.save(&path).unwrap();
        let limits = ExtractionLimits::default();
        let text = auto
            .recognise_image(&path, &limits, limits.deadline_from(Instant::now()))
            .unwrap();
        let joined = text.pages.join("\n");
        assert!(joined.contains("FIRST COMMUNITY BANK"), "{name}: {joined}");
        assert!(
            text.steps.iter().any(|s| s == "orientation"),
            "{name}: {:?}",
            text.steps
        );
    }
}

#[test]
fn every_page_of_a_multi_page_tiff_is_prepared_and_read() {
    let Some(engine) = engine(false) else { return };
    let text = recognise(&engine, &fixture("shipment.tiff"));
    assert_eq!(text.pages.len(), 2, "{:?}", text.pages);
    assert_eq!(text.page_confidences.len(), 2);
    assert!(
        text.page_confidences
            .iter()
            .all(|c| c.is_some_and(|c| c > 0.5)),
        "{:?}",
        text.page_confidences
    );
    assert!(text.pages[0].contains("BILL OF LADING"), "{:?}", text.pages);
    // The second page is turned by 8°: read only after deskewing.
    assert!(text.pages[1].contains("PACKING LIST"), "{:?}", text.pages);
    assert!(text.pages[1].contains("412 kg"), "{:?}", text.pages);
    assert!(text.steps.iter().any(|s| s == "deskew"), "{:?}", text.steps);
}

#[test]
fn a_bilevel_fax_tiff_is_read() {
    let Some(engine) = engine(false) else { return };
    // Group 4 fax compression, 1 bit per pixel, written by Pillow/libtiff.
    let dir = tempfile::tempdir().unwrap();
    let fax = dir.path().join("fax.tiff");
    let status = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys; from PIL import Image; im = Image.open(sys.argv[1]).convert('1'); \
             im.save(sys.argv[2], compression='group4')",
        ])
        .arg(fixture("statement_scan.png"))
        .arg(&fax)
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        heron_testkit::missing("python3 with Pillow, to write a fax TIFF");
        return;
    }
    let text = recognise(&engine, &fax);
    let joined = text.pages.join("\n");
    assert!(joined.contains("FIRST COMMUNITY BANK"), "{joined}");
    assert!(joined.contains("Closing balance"), "{joined}");
}

/// A phone photo of a page: the scan fixture warped in perspective onto a
/// desk, with light falling off across it.
fn phone_photo(page: &image::GrayImage) -> image::RgbImage {
    // Where the page's corners land in the photo.
    let corners = [
        (260.0, 240.0),
        (1760.0, 170.0),
        (1830.0, 1080.0),
        (180.0, 1180.0),
    ];
    let scene = heron_extract::page_detect::Scene {
        width: 2000,
        height: 1500,
        background: [96, 70, 48],
        falloff: 0.25,
        shadow: 0.0,
    };
    heron_extract::page_detect::photograph(page, &corners, &scene)
}

#[test]
fn a_phone_photo_of_a_page_is_found_and_flattened() {
    let Some(engine) = engine(false) else { return };
    let page = image::open(fixture("statement_scan.png"))
        .unwrap()
        .to_luma8();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("IMG_2231.jpg");
    phone_photo(&page).save(&path).unwrap();
    let text = recognise(&engine, &path);
    let joined = text.pages.join("\n");
    assert!(text.steps.iter().any(|s| s == "page"), "{:?}", text.steps);
    for phrase in ["FIRST COMMUNITY BANK", "Robert Miller", "Closing balance"] {
        assert!(joined.contains(phrase), "{phrase:?} not in {joined}");
    }
}
