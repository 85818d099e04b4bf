//! `heron generate --out DIR`: synthetic training documents of every
//! taxonomy type as real files, one folder per type id. Text-layer
//! formats are written directly; scans and photos are rendered from the
//! PDF by Poppler's `pdftoppm` and degraded (tilt, blur, noise, low
//! resolution, JPEG), and some are wrapped as image-only PDFs.

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
        "csv" => "csv",
        "text" => *rng.pick(&["txt", "html"]),
        _ => "txt",
    };
    let path = folder.join(format!("{stem}.{extension}"));
    std::fs::write(&path, render::render(&sample.text, title, extension))
        .with_context(|| format!("writing {}", path.display()))
}

/// A scan or photo: the PDF rendered at 100–200 dpi, tilted, blurred and
/// noised, saved as JPEG (or PNG).
fn write_scan(sample: &Sample, folder: &Path, stem: &str, rng: &mut Rng) -> anyhow::Result<()> {
    let scratch = tempfile_dir()?;
    let pdf = scratch.join("page.pdf");
    std::fs::write(&pdf, render::pdf(&sample.text))?;
    let dpi = rng.range(100, 200).to_string();
    let status = std::process::Command::new("pdftoppm")
        .args(["-r", &dpi, "-gray", "-png", "-singlefile"])
        .arg(&pdf)
        .arg(scratch.join("page"))
        .status()
        .context("running pdftoppm (apt-get install poppler-utils)")?;
    anyhow::ensure!(status.success(), "pdftoppm failed");
    let page = image::open(scratch.join("page.png"))?.to_luma8();
    let angle = (rng.unit() as f32 - 0.5) * 8.0;
    let mut page = heron_extract::preprocess::rotate(&page, angle);
    if rng.chance(0.5) {
        page = image::imageops::blur(&page, 0.6);
    }
    for pixel in page.pixels_mut() {
        let noise = rng.range(-25, 25) as i32;
        pixel[0] = (i32::from(pixel[0]) + noise).clamp(0, 255) as u8;
    }
    let extension = if rng.chance(0.7) { "jpg" } else { "png" };
    let path = folder.join(format!("{stem}.{extension}"));
    page.save(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
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
