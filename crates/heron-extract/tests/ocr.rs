//! OCR with the real Tesseract on rendered pages and the shared scans.
//! Skipped with a loud notice when Tesseract or a language pack is missing.

use std::path::{Path, PathBuf};
use std::time::Instant;

use heron_extract::{ExtractionLimits, OcrEngine};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn engine(auto_language: bool) -> Option<OcrEngine> {
    let engine = OcrEngine::detect("eng", auto_language).ok()?;
    let has = |code: &str| engine.installed_languages().iter().any(|l| l == code);
    if !engine.is_available() || !has("deu") || !has("fra") {
        eprintln!(
            "\n!!! SKIPPED: tesseract with eng, deu and fra packs is not installed (run scripts/setup-system) !!!\n"
        );
        return None;
    }
    Some(engine)
}

fn read(engine: &OcrEngine, name: &str) -> (String, String) {
    let limits = ExtractionLimits::default();
    let text = engine
        .recognise_image(
            &fixture(name),
            &limits,
            limits.deadline_from(Instant::now()),
        )
        .unwrap();
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
fn an_english_scan_is_read_once() {
    let Some(auto) = engine(true) else { return };
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/samples");
    let limits = ExtractionLimits::default();
    let text = auto
        .recognise_image(
            &samples.join("drivers_license_1.jpg"),
            &limits,
            limits.deadline_from(Instant::now()),
        )
        .unwrap();
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
