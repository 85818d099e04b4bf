//! PP-OCR, the second OCR engine: PaddleOCR's v4 text detector and
//! recogniser and its v2 angle classifier, as the ONNX files the PyPI
//! package `rapidocr-onnxruntime` ships, run by ONNX Runtime (the
//! `libonnxruntime` of the PyPI package `onnxruntime`, loaded at run time
//! through `ort`'s dynamic loading). `scripts/fetch-ocr-models` puts all
//! four files in one folder, checked by SHA-256; Heron never downloads.
//!
//! Tesseract reads clean, dense pages well but loses most of the text of
//! phone photos of cards and receipts (small print on textured, unevenly
//! lit backgrounds). PP-OCR finds text lines first, whatever the
//! background, then reads each line: it reads those photos. The engine is
//! loaded lazily, once per extraction child, on the first picture it is
//! asked to read, so the API process never holds it.

pub mod detect;
mod geometry;
pub mod recognise;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use image::RgbImage;
use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::Tensor;

use crate::page_detect::Quad;
use detect::DetectOptions;

/// The files of a models folder.
pub const DETECTOR: &str = "ch_PP-OCRv4_det_infer.onnx";
pub const RECOGNISER: &str = "ch_PP-OCRv4_rec_infer.onnx";
pub const CLASSIFIER: &str = "ch_ppocr_mobile_v2.0_cls_infer.onnx";
pub const RUNTIME: &str = "libonnxruntime.so";

/// Lines read at once by the recogniser and the angle classifier.
const BATCH: usize = 8;
/// Probability the angle classifier must give "upside down" to turn a
/// line (the reference's value).
const TURN_THRESHOLD: f32 = 0.9;
/// Lines read with less mean confidence are dropped (the reference's
/// `text_score`).
const MIN_LINE_CONFIDENCE: f32 = 0.5;

/// What is missing from `dir` for it to be a models folder, if anything.
pub fn missing_files(dir: &Path) -> Vec<&'static str> {
    [DETECTOR, RECOGNISER, CLASSIFIER, RUNTIME]
        .into_iter()
        .filter(|file| !dir.join(file).is_file())
        .collect()
}

/// One line of text as read, with its place in the picture.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub text: String,
    /// Mean probability of its characters.
    pub confidence: f32,
    /// Corners in picture pixels: top-left, top-right, bottom-right,
    /// bottom-left.
    pub quad: Quad,
    /// Its words with their boxes in picture pixels (left, top, right,
    /// bottom).
    pub words: Vec<(String, [f32; 4])>,
}

/// The loaded models.
pub struct PpOcr {
    detector: Session,
    classifier: Session,
    recogniser: Session,
    /// Class index → text (index 0: the CTC blank).
    alphabet: Vec<String>,
    options: DetectOptions,
}

/// ONNX Runtime's one environment per process, made from the first
/// models folder loaded.
static ENVIRONMENT: OnceLock<Result<Environment, String>> = OnceLock::new();

fn environment(runtime: &Path) -> Result<&'static Environment, String> {
    ENVIRONMENT
        .get_or_init(|| {
            ort::init_from(runtime)
                .map_err(|e| format!("loading {}: {e}", runtime.display()))?
                .with_name("heron-ppocr")
                .with_telemetry(false)
                .build()
                .map_err(|e| format!("starting ONNX Runtime: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

impl PpOcr {
    /// Load the three models of `dir` with ONNX Runtime's library from
    /// the same folder; `threads` per model run.
    pub fn load(dir: &Path, threads: usize) -> Result<PpOcr, String> {
        let missing = missing_files(dir);
        if !missing.is_empty() {
            return Err(format!("{} lacks {}", dir.display(), missing.join(", ")));
        }
        let environment = environment(&dir.join(RUNTIME))?;
        let session = |file: &str| -> Result<Session, String> {
            let path = dir.join(file);
            let error = |e: &dyn std::fmt::Display| format!("loading {}: {e}", path.display());
            Session::builder(environment)
                .map_err(|e| error(&e))?
                .with_optimization_level(GraphOptimizationLevel::All)
                .map_err(|e| error(&e))?
                .with_intra_threads(threads.max(1))
                .map_err(|e| error(&e))?
                .with_inter_threads(1)
                .map_err(|e| error(&e))?
                // No arena and no pre-planned memory: tensors are freed as
                // soon as they are used, so the peak stays within the
                // extraction child's address-space limit on large photos.
                .with_memory_pattern(false)
                .map_err(|e| error(&e))?
                .with_execution_providers([ort::ep::CPU::default()
                    .with_arena_allocator(false)
                    .build()])
                .map_err(|e| error(&e))?
                .commit_from_file(&path)
                .map_err(|e| error(&e))
        };
        let recogniser = session(RECOGNISER)?;
        let characters = recogniser
            .metadata()
            .ok()
            .and_then(|m| m.custom("character"))
            .ok_or_else(|| format!("{RECOGNISER} carries no character list"))?;
        // The model's classes: the blank, the listed characters, a space.
        let mut alphabet = vec![String::new()];
        alphabet.extend(characters.lines().map(str::to_owned));
        alphabet.push(" ".to_owned());
        Ok(PpOcr {
            detector: session(DETECTOR)?,
            classifier: session(CLASSIFIER)?,
            recogniser,
            alphabet,
            options: DetectOptions::default(),
        })
    }

    /// The same engine with other detection settings.
    pub fn with_detect_options(mut self, options: DetectOptions) -> PpOcr {
        self.options = options;
        self
    }

    /// Every line of text in `image`, in reading order.
    pub fn read(&mut self, image: &RgbImage) -> Result<Vec<Line>, String> {
        let quads = self.detect(image)?;
        let mut crops: Vec<(Quad, RgbImage, bool)> = Vec::with_capacity(quads.len());
        for quad in quads {
            let Some(mut crop) = geometry::crop(image, &quad) else {
                continue;
            };
            // Tall boxes are vertical lines: read them turned.
            let turned = crop.height() as f32 >= crop.width() as f32 * 1.5;
            if turned {
                crop = image::imageops::rotate270(&crop);
            }
            crops.push((quad, crop, turned));
        }
        self.turn_upside_down_lines(&mut crops)?;
        // Similar widths together: less padding per batch.
        let mut order: Vec<usize> = (0..crops.len()).collect();
        order.sort_by(|&a, &b| {
            let ratio = |i: usize| crops[i].1.width() as f32 / crops[i].1.height().max(1) as f32;
            ratio(a).total_cmp(&ratio(b))
        });
        let mut lines: Vec<Option<Line>> = vec![None; crops.len()];
        for chunk in order.chunks(BATCH) {
            let pictures: Vec<&RgbImage> = chunk.iter().map(|&i| &crops[i].1).collect();
            let mut batch = recognise::batch(&pictures);
            let shape = [
                batch.count,
                3,
                recognise::LINE_HEIGHT as usize,
                batch.width as usize,
            ];
            let data = std::mem::take(&mut batch.data);
            let alphabet = &self.alphabet;
            let read = run(
                &mut self.recogniser,
                shape,
                data,
                "recognition",
                |shape, probabilities| {
                    let (steps, classes) = match shape {
                        [_, steps, classes] if *steps > 0 && *classes > 0 => {
                            (*steps as usize, *classes as usize)
                        }
                        _ => return Err(format!("unexpected recognition output shape {shape:?}")),
                    };
                    let mut read = Vec::with_capacity(chunk.len());
                    for (slot, &index) in chunk.iter().enumerate() {
                        let start = slot * steps * classes;
                        let Some(rows) = probabilities.get(start..start + steps * classes) else {
                            continue;
                        };
                        let glyphs = recognise::decode(rows, classes, alphabet);
                        let step_width =
                            batch.width as f32 / steps as f32 / batch.used[slot].max(1) as f32;
                        read.push((index, glyphs, step_width));
                    }
                    Ok(read)
                },
            )??;
            for (index, glyphs, step_width) in read {
                let (quad, _, turned) = &crops[index];
                lines[index] = line(&glyphs, quad, *turned, step_width);
            }
        }
        Ok(lines.into_iter().flatten().collect())
    }

    fn detect(&mut self, image: &RgbImage) -> Result<Vec<Quad>, String> {
        let mut input = detect::prepare(image, &self.options);
        let shape = [1, 3, input.height, input.width];
        let data = std::mem::take(&mut input.data);
        let options = self.options;
        run(&mut self.detector, shape, data, "detection", |_, map| {
            detect::boxes(map, &input, &options)
        })
    }

    /// Turn the lines the angle classifier is sure are upside down.
    fn turn_upside_down_lines(
        &mut self,
        crops: &mut [(Quad, RgbImage, bool)],
    ) -> Result<(), String> {
        for start in (0..crops.len()).step_by(BATCH) {
            let end = (start + BATCH).min(crops.len());
            let pictures: Vec<&RgbImage> = crops[start..end].iter().map(|c| &c.1).collect();
            let batch = recognise::angle_batch(&pictures);
            let shape = [
                batch.count,
                3,
                recognise::LINE_HEIGHT as usize,
                batch.width as usize,
            ];
            let upside_down: Vec<bool> = run(
                &mut self.classifier,
                shape,
                batch.data,
                "angle classification",
                |_, scores| {
                    scores
                        .chunks_exact(2)
                        .map(|pair| pair[1] > pair[0] && pair[1] > TURN_THRESHOLD)
                        .collect()
                },
            )?;
            for (offset, turn) in upside_down.into_iter().enumerate() {
                if turn {
                    let crop = &mut crops[start + offset];
                    crop.1 = image::imageops::rotate180(&crop.1);
                    // Word positions no longer run left to right.
                    crop.2 = true;
                }
            }
        }
        Ok(())
    }
}

/// Run one model on one input tensor of `shape` and read its first output
/// (shape, values) with `read`, without copying it. `what` names the step
/// in errors.
fn run<R>(
    session: &mut Session,
    shape: [usize; 4],
    data: Vec<f32>,
    what: &str,
    read: impl FnOnce(&[i64], &[f32]) -> R,
) -> Result<R, String> {
    let input = Tensor::from_array((shape, data)).map_err(|e| format!("{what} input: {e}"))?;
    let outputs = session
        .run(ort::inputs![input])
        .map_err(|e| format!("{what}: {e}"))?;
    let (shape, values) = outputs[0]
        .try_extract_tensor::<f32>()
        .map_err(|e| format!("{what} output: {e}"))?;
    Ok(read(shape, values))
}

/// A recognised line with its words placed along its box; `None` when
/// nothing or too little was read. `step_width` is one output step as a
/// share of the line's width; `whole_box` puts every word on the whole
/// line's box (lines read turned).
fn line(
    glyphs: &[recognise::Glyph],
    quad: &Quad,
    whole_box: bool,
    step_width: f32,
) -> Option<Line> {
    let letters: Vec<&recognise::Glyph> = glyphs
        .iter()
        .filter(|g| !g.text.trim().is_empty())
        .collect();
    if letters.is_empty() {
        return None;
    }
    let confidence = letters.iter().map(|g| g.confidence).sum::<f32>() / letters.len() as f32;
    if confidence < MIN_LINE_CONFIDENCE {
        return None;
    }
    let bounds = |points: &[(f32, f32)]| {
        let xs = points.iter().map(|p| p.0);
        let ys = points.iter().map(|p| p.1);
        [
            xs.clone().fold(f32::MAX, f32::min),
            ys.clone().fold(f32::MAX, f32::min),
            xs.fold(f32::MIN, f32::max),
            ys.fold(f32::MIN, f32::max),
        ]
    };
    let [tl, tr, br, bl] = *quad;
    let along =
        |a: (f32, f32), b: (f32, f32), t: f32| (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
    let words: Vec<(String, [f32; 4])> = recognise::words(glyphs)
        .into_iter()
        .map(|(text, first, last)| {
            if whole_box {
                return (text, bounds(quad));
            }
            let from = (first as f32 * step_width).clamp(0.0, 1.0);
            let to = ((last + 1) as f32 * step_width).clamp(from, 1.0);
            let corners = [
                along(tl, tr, from),
                along(tl, tr, to),
                along(bl, br, to),
                along(bl, br, from),
            ];
            (text, bounds(&corners))
        })
        .collect();
    if words.is_empty() {
        return None;
    }
    let text = words
        .iter()
        .map(|(w, _)| w.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    Some(Line {
        text,
        confidence,
        quad: *quad,
        words,
    })
}

/// Lines gathered into rows: boxes whose vertical middles fall within
/// half a line's height of a row's are on that row, left to right. The
/// detector cuts a row at wide gaps ("Date of birth" … "01.02.1980"), and
/// field extraction needs a label and its value on one line of text.
pub fn rows(lines: &[Line]) -> Vec<Vec<&Line>> {
    let middle = |l: &Line| (l.quad[0].1 + l.quad[1].1 + l.quad[2].1 + l.quad[3].1) / 4.0;
    let height = |l: &Line| ((l.quad[3].1 - l.quad[0].1) + (l.quad[2].1 - l.quad[1].1)) / 2.0;
    let mut sorted: Vec<&Line> = lines.iter().collect();
    sorted.sort_by(|a, b| middle(a).total_cmp(&middle(b)));
    let mut rows: Vec<Vec<&Line>> = Vec::new();
    for line in sorted {
        let joins = rows.last().is_some_and(|row| {
            let row_middle = row.iter().map(|l| middle(l)).sum::<f32>() / row.len() as f32;
            let row_height = row.iter().map(|l| height(l)).sum::<f32>() / row.len() as f32;
            (middle(line) - row_middle).abs() <= row_height.min(height(line)) / 2.0
        });
        match rows.last_mut() {
            Some(row) if joins => row.push(line),
            _ => rows.push(vec![line]),
        }
    }
    for row in &mut rows {
        row.sort_by(|a, b| a.quad[0].0.total_cmp(&b.quad[0].0));
    }
    rows
}

/// The process's engine, loaded on first use from `dir` (later calls with
/// another folder get the first one: a child serves one configuration).
pub fn shared(dir: &Path) -> Result<&'static Mutex<PpOcr>, String> {
    static ENGINE: OnceLock<Result<Mutex<PpOcr>, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| PpOcr::load(dir, 1).map(Mutex::new))
        .as_ref()
        .map_err(Clone::clone)
}

/// The models folder named by `HERON_OCR_MODELS` style settings, if it
/// holds every file.
pub fn usable_dir(dir: Option<&Path>) -> Option<PathBuf> {
    let dir = dir?;
    missing_files(dir).is_empty().then(|| dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_at(text: &str, left: f32, top: f32, right: f32, bottom: f32) -> Line {
        Line {
            text: text.to_owned(),
            confidence: 0.9,
            quad: [(left, top), (right, top), (right, bottom), (left, bottom)],
            words: Vec::new(),
        }
    }

    #[test]
    fn boxes_on_one_row_are_read_left_to_right() {
        let lines = [
            line_at("01.02.1980", 300.0, 102.0, 400.0, 122.0),
            line_at("DRIVER LICENCE", 10.0, 20.0, 300.0, 50.0),
            line_at("Date of birth", 10.0, 100.0, 120.0, 120.0),
        ];
        let rows: Vec<Vec<&str>> = rows(&lines)
            .iter()
            .map(|r| r.iter().map(|l| l.text.as_str()).collect())
            .collect();
        assert_eq!(
            rows,
            vec![vec!["DRIVER LICENCE"], vec!["Date of birth", "01.02.1980"]]
        );
    }

    #[test]
    fn words_are_placed_along_their_line() {
        let glyph = |text: &str, step| recognise::Glyph {
            text: text.to_owned(),
            step,
            confidence: 0.95,
            space_before: 0.0,
        };
        let glyphs = [
            glyph("A", 0),
            glyph("B", 2),
            glyph(" ", 4),
            glyph("C", 6),
            glyph("D", 8),
        ];
        let quad = [(100.0, 10.0), (200.0, 10.0), (200.0, 30.0), (100.0, 30.0)];
        let read = line(&glyphs, &quad, false, 0.1).unwrap();
        assert_eq!(read.text, "AB CD");
        assert_eq!(read.words[0].1, [100.0, 10.0, 130.0, 30.0]);
        assert_eq!(read.words[1].1, [160.0, 10.0, 190.0, 30.0]);
        assert!(line(&[], &quad, false, 0.1).is_none());
    }
}
