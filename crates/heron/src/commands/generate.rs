//! `heron generate --out DIR`: synthetic training documents of every
//! taxonomy type as real files, one folder per type id. Text-layer
//! formats are written directly (PDF, DOCX, XLSX, CSV, HTML, EML, TXT);
//! documents that arrive on paper are rendered from the PDF by Poppler's
//! `pdftoppm` and become flat scans (tilt, blur, noise, low resolution,
//! JPEG artefacts) or phone photos (perspective, a surface around the
//! page, uneven light, a shadow, sometimes a cropped edge), and a share of
//! both is wrapped as image-only PDFs, as scanner apps send them.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use heron_classify::render;
use heron_classify::rng::Rng;
use heron_classify::synth::Sample;
use heron_core::Settings;

use crate::cli::GenerateArgs;
use crate::setup;

pub fn run(settings: Settings, args: &GenerateArgs) -> anyhow::Result<ExitCode> {
    setup::init_logging(&settings, "warn");
    let taxonomy = setup::load_taxonomy(&settings)?;
    let samples = heron_classify::train::synthetic_samples(&taxonomy, args.per_type, args.seed);
    let mut rng = Rng::new(args.seed ^ 0x6E6E);
    let mut written = 0usize;
    let mut types = 0usize;
    for (label, documents) in interleaved_by_type(samples) {
        let folder = args.out.join(&label);
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("creating {}", folder.display()))?;
        types += 1;
        for sample in documents.iter().take(args.per_type) {
            // Useless names, as real uploads have.
            let stem = format!("doc_{:05}", rng.below(100_000));
            write_sample(sample, &folder, &stem, args.images, &mut rng)?;
            written += 1;
        }
    }
    eprintln!(
        "wrote {written} documents of {types} types to {}",
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Samples grouped by type, template-composed and hand-written ones (the
/// original seven types have both) taken in turn, so any `--per-type`
/// gets both kinds.
fn interleaved_by_type(samples: Vec<Sample>) -> std::collections::BTreeMap<String, Vec<Sample>> {
    let mut composed: std::collections::BTreeMap<String, Vec<Sample>> = Default::default();
    let mut hand_written: std::collections::BTreeMap<String, Vec<Sample>> = Default::default();
    for sample in samples {
        // Composed templates are named type/layout/language.
        let target = if sample.template.matches('/').count() == 2 {
            &mut composed
        } else {
            &mut hand_written
        };
        target.entry(sample.label.clone()).or_default().push(sample);
    }
    let mut grouped = std::collections::BTreeMap::new();
    for (label, first) in composed {
        let second = hand_written.remove(&label).unwrap_or_default();
        let mut merged = Vec::with_capacity(first.len() + second.len());
        let mut first = first.into_iter();
        let mut second = second.into_iter();
        loop {
            match (first.next(), second.next()) {
                (None, None) => break,
                (a, b) => merged.extend(a.into_iter().chain(b)),
            }
        }
        grouped.insert(label, merged);
    }
    for (label, rest) in hand_written {
        grouped.insert(label, rest);
    }
    grouped
}

fn write_sample(
    sample: &Sample,
    folder: &Path,
    stem: &str,
    images: bool,
    rng: &mut Rng,
) -> anyhow::Result<()> {
    let title = sample.text.lines().next().unwrap_or("document");
    let extension = match sample.format {
        "image" if images => return write_scan(sample, folder, stem, rng),
        "image" | "pdf" => "pdf",
        "docx" => "docx",
        "email" => "eml",
        // Statement exports come as CSV or as a workbook.
        "csv" => *rng.pick(&["csv", "csv", "xlsx"]),
        "text" => *rng.pick(&["txt", "html"]),
        _ => "txt",
    };
    let path = folder.join(format!("{stem}.{extension}"));
    std::fs::write(&path, render::render(&sample.text, title, extension))
        .with_context(|| format!("writing {}", path.display()))
}

/// A document on paper: the PDF rendered at 100–200 dpi, then a flat scan
/// or a phone photo of it, saved as JPEG or PNG, or as an image-only PDF.
fn write_scan(sample: &Sample, folder: &Path, stem: &str, rng: &mut Rng) -> anyhow::Result<()> {
    let (extension, bytes) = scan_file(&sample.text, rng)?;
    let path = folder.join(format!("{stem}.{extension}"));
    std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))
}

/// `text` on paper, as a scanned file: its extension and bytes.
pub(crate) fn scan_file(text: &str, rng: &mut Rng) -> anyhow::Result<(&'static str, Vec<u8>)> {
    let picture = scan_picture(text, rng)?;
    let quality = rng.range(55, 92) as u8;
    Ok(match rng.below(10) {
        0..=5 => ("jpg", jpeg(&picture, quality)?),
        6..=7 => ("pdf", image_pdf(&picture, quality)?),
        _ => {
            let mut bytes = std::io::Cursor::new(Vec::new());
            picture.write_to(&mut bytes, image::ImageFormat::Png)?;
            ("png", bytes.into_inner())
        }
    })
}

/// The first page of `text` rendered at 100–200 dpi, then scanned flat
/// or photographed.
pub(crate) fn scan_picture(text: &str, rng: &mut Rng) -> anyhow::Result<image::DynamicImage> {
    let scratch = tempfile_dir()?;
    let pdf = scratch.join("page.pdf");
    std::fs::write(&pdf, render::pdf(text))?;
    let dpi = rng.range(100, 200);
    let status = std::process::Command::new("pdftoppm")
        .args(["-r", &dpi.to_string(), "-gray", "-png", "-singlefile"])
        .args(["-f", "1", "-l", "1"])
        .arg(&pdf)
        .arg(scratch.join("page"))
        .status()
        .context("running pdftoppm (apt-get install poppler-utils)")?;
    anyhow::ensure!(status.success(), "pdftoppm failed");
    let page = image::open(scratch.join("page.png"))?.to_luma8();
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(if rng.chance(0.45) {
        image::DynamicImage::ImageRgb8(phone_photo(&page, rng))
    } else {
        image::DynamicImage::ImageLuma8(flat_scan(page, rng))
    })
}

fn jpeg(picture: &image::DynamicImage, quality: u8) -> anyhow::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality)
        .encode_image(picture)?;
    Ok(bytes)
}

/// `picture` as an image-only PDF page, as scanner apps write them.
pub(crate) fn image_pdf(picture: &image::DynamicImage, quality: u8) -> anyhow::Result<Vec<u8>> {
    let grey = matches!(picture, image::DynamicImage::ImageLuma8(_));
    // Scanner apps size the page like paper, whatever the picture's
    // resolution: about 8.5 inches wide.
    let page_dpi = (f64::from(picture.width()) / 8.5).round().max(1.0) as u32;
    Ok(render::image_pdf(
        &jpeg(picture, quality)?,
        picture.width(),
        picture.height(),
        grey,
        page_dpi,
    ))
}

/// A flatbed scan: slightly tilted, sometimes blurred, with sensor noise.
fn flat_scan(page: image::GrayImage, rng: &mut Rng) -> image::GrayImage {
    let angle = (rng.unit() as f32 - 0.5) * 8.0;
    let mut page = heron_extract::preprocess::rotate(&page, angle);
    if rng.chance(0.5) {
        page = image::imageops::blur(&page, 0.6);
    }
    add_noise(&mut page, 25, rng);
    page
}

/// A phone photo of the page lying on a desk or table: seen at an angle
/// (each corner moved independently), with the surface around it, light
/// falling off across the frame, a soft shadow, and one time in six an
/// edge of the page outside the frame.
fn phone_photo(page: &image::GrayImage, rng: &mut Rng) -> image::RgbImage {
    use heron_extract::page_detect::{Scene, photograph};
    let (pw, ph) = (page.width() as f32, page.height() as f32);
    let margin = 0.12 + 0.2 * rng.unit() as f32;
    let (width, height) = (
        (pw * (1.0 + 2.0 * margin)) as u32,
        (ph * (1.0 + 2.0 * margin)) as u32,
    );
    let jitter = |rng: &mut Rng, size: f32| (rng.unit() as f32 - 0.5) * 0.14 * size;
    let (left, top) = (pw * margin, ph * margin);
    let mut corners = [
        (left, top),
        (left + pw, top),
        (left + pw, top + ph),
        (left, top + ph),
    ];
    for corner in &mut corners {
        corner.0 += jitter(rng, pw);
        corner.1 += jitter(rng, ph);
    }
    if rng.chance(1.0 / 6.0) {
        // The bottom edge runs out of the frame.
        corners[2].1 = height as f32 + 0.04 * ph;
        corners[3].1 = height as f32 + 0.04 * ph;
    }
    let tone = rng.range(60, 170) as u8;
    let scene = Scene {
        width,
        height,
        background: [
            tone,
            tone.saturating_sub(rng.range(0, 30) as u8),
            tone.saturating_sub(rng.range(0, 60) as u8),
        ],
        falloff: 0.1 + 0.25 * rng.unit() as f32,
        shadow: 0.3 * rng.unit() as f32,
    };
    let mut photo = photograph(page, &corners, &scene);
    if rng.chance(0.6) {
        photo = image::imageops::blur(&photo, 0.7);
    }
    photo
}

fn add_noise(image: &mut image::GrayImage, amount: i64, rng: &mut Rng) {
    for pixel in image.pixels_mut() {
        let noise = rng.range(-amount, amount) as i32;
        pixel[0] = (i32::from(pixel[0]) + noise).clamp(0, 255) as u8;
    }
}

pub(crate) fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "heron-generate-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
