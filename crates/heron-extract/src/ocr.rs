//! OCR through the `tesseract` command and, where its models are
//! installed, PP-OCR ([`crate::ppocr`]); PDF page rendering through
//! Poppler's `pdftoppm` for pages without a text layer.

use std::path::{Path, PathBuf};
use std::time::Instant;

use heron_core::{Notice, NoticeCode};

use crate::preprocess::PreprocessOptions;
use crate::tool::{self, ToolError};
use crate::{ExtractError, Extraction, ExtractionLimits};

/// Text recognised in one image (one entry per page of a multi-page TIFF).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OcrText {
    pub pages: Vec<String>,
    /// Mean word confidence in 0..=1, `None` when no word was found.
    pub confidence: Option<f64>,
    /// Mean word confidence of each page, aligned with `pages`.
    pub page_confidences: Vec<Option<f64>>,
    pub words: usize,
    /// The Tesseract languages that produced this text.
    pub languages: String,
    /// Preprocessing applied before recognition ("deskew", "upscale").
    pub steps: Vec<String>,
    /// Word boxes, as fractions of the page as recognised (after
    /// deskewing or perspective correction).
    pub layout: Vec<crate::PageLayout>,
}

/// Handle on the OCR engine, checked once at start-up. Serializable, so
/// that extraction children can be handed the same configuration.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct OcrEngine {
    languages: String,
    /// Language packs installed, from `tesseract --list-langs`.
    installed: Vec<String>,
    /// Re-read a page in its own language when a first pass shows it is
    /// written in another installed language.
    auto_language: bool,
    /// Deskew and upscaling before recognition.
    preprocess: PreprocessOptions,
    available: bool,
    /// The PP-OCR models folder, when that engine is on (checked complete
    /// when set; loaded by the extraction child that first needs it).
    ppocr: Option<PathBuf>,
}

impl OcrEngine {
    /// Check that `tesseract` runs and knows every requested language.
    pub fn detect(languages: &str, auto_language: bool) -> Result<OcrEngine, ExtractError> {
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        let output = match tool::run("tesseract", ["--list-langs"], deadline, 64 * 1024) {
            Ok(output) => output,
            Err(ToolError::Missing(_)) => {
                return Ok(OcrEngine {
                    languages: languages.to_owned(),
                    installed: Vec::new(),
                    auto_language,
                    preprocess: PreprocessOptions::default(),
                    available: false,
                    ppocr: None,
                });
            }
            Err(e) => return Err(ExtractError::Crashed(e.to_string())),
        };
        let listed = String::from_utf8_lossy(&output.stdout);
        let installed: Vec<String> = listed
            .lines()
            .skip(1)
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty() && l != "osd")
            .collect();
        if let Some(missing) = languages
            .split('+')
            .find(|l| !installed.iter().any(|i| i == l))
        {
            return Err(ExtractError::ToolMissing(format!(
                "Tesseract language pack {missing:?} (install tesseract-ocr-{missing})"
            )));
        }
        Ok(OcrEngine {
            languages: languages.to_owned(),
            installed,
            auto_language,
            preprocess: PreprocessOptions::default(),
            available: true,
            ppocr: None,
        })
    }

    /// The same engine reading pictures with PP-OCR too, from the models
    /// in `dir` (see [`crate::ppocr`]).
    pub fn with_ppocr(mut self, dir: &Path) -> OcrEngine {
        self.ppocr = Some(dir.to_path_buf());
        self
    }

    /// Whether PP-OCR is on.
    pub fn has_ppocr(&self) -> bool {
        self.ppocr.is_some()
    }

    /// The engines on, for readiness and logs: `tesseract (eng)`,
    /// `ppocr`, or both joined by ` + `.
    pub fn engines(&self) -> String {
        let mut engines = Vec::new();
        if self.available {
            engines.push(format!("tesseract ({})", self.languages));
        }
        if self.ppocr.is_some() {
            engines.push("ppocr".to_owned());
        }
        engines.join(" + ")
    }

    /// The same engine with other preprocessing options.
    pub fn with_preprocess(mut self, options: PreprocessOptions) -> OcrEngine {
        self.preprocess = options;
        self
    }

    /// Installed language packs (ISO 639-3 codes).
    pub fn installed_languages(&self) -> &[String] {
        &self.installed
    }

    /// Whether any engine can read pictures.
    pub fn is_available(&self) -> bool {
        self.available || self.ppocr.is_some()
    }

    pub fn languages(&self) -> &str {
        &self.languages
    }

    /// Recognise the text of an image file (every page of a multi-page
    /// TIFF) with the configured languages; with automatic language choice,
    /// a text that reads as another installed language is read again in
    /// that language and the more confident reading is kept.
    ///
    /// With PP-OCR on, a picture is read by PP-OCR first; Tesseract reads
    /// it too only when [`tesseract_may_do_better`] says so, and the
    /// reading with more trustworthy words is kept ([`better_reading`]).
    pub fn recognise_image(
        &self,
        path: &Path,
        limits: &ExtractionLimits,
        deadline: Instant,
    ) -> Result<OcrText, ExtractError> {
        let Some(models) = &self.ppocr else {
            return self.recognise_with_tesseract(path, limits, deadline);
        };
        let ppocr = match self.recognise_with_ppocr(path, models, limits) {
            Ok(reading) => reading,
            Err(e @ ExtractError::LimitExceeded(_)) => return Err(e),
            Err(e) if self.available => {
                tracing::warn!(error = %e, "PP-OCR failed on a picture; reading it with Tesseract");
                return self.recognise_with_tesseract(path, limits, deadline);
            }
            Err(e) => return Err(e),
        };
        if !self.available || !tesseract_may_do_better(&ppocr) {
            return Ok(ppocr);
        }
        let tesseract = self.recognise_with_tesseract(path, limits, deadline)?;
        Ok(better_reading(ppocr, tesseract))
    }

    /// Read a picture with PP-OCR (the engine of this process, loaded on
    /// first use).
    pub fn recognise_with_ppocr(
        &self,
        path: &Path,
        models: &Path,
        limits: &ExtractionLimits,
    ) -> Result<OcrText, ExtractError> {
        let options = PreprocessOptions {
            max_pages: limits.max_ocr_pages.max(1) as usize,
            ..self.preprocess.clone()
        };
        let picture = crate::preprocess::decode_upright(path, &options)?;
        let engine = crate::ppocr::shared(models).map_err(ExtractError::ToolMissing)?;
        let mut engine = engine
            .lock()
            .map_err(|_| ExtractError::Crashed("the PP-OCR engine was poisoned".to_owned()))?;
        let lines = engine.read(&picture).map_err(ExtractError::Crashed)?;
        Ok(ppocr_text(&lines, picture.width(), picture.height()))
    }

    /// Read a picture with Tesseract (deskewed, upscaled, turned upright
    /// and re-read in its own language as needed).
    pub fn recognise_with_tesseract(
        &self,
        path: &Path,
        limits: &ExtractionLimits,
        deadline: Instant,
    ) -> Result<OcrText, ExtractError> {
        let scratch = ScratchDir::new()?;
        let (mut target, mut steps) = self.prepare(path, scratch.path(), limits)?;
        let mut first = self.run_tesseract(&target, &self.languages, limits, deadline)?;
        let multi_page = target.extension().is_some_and(|e| e == "txt");
        if self.preprocess.orientation
            && !multi_page
            && looks_misread(&first)
            && let Some(turned) = self.turn_upright(&target, scratch.path(), deadline)
        {
            let again = self.run_tesseract(&turned, &self.languages, limits, deadline)?;
            if weight(&again) > weight(&first) {
                first = again;
                target = turned;
                steps.push("orientation".to_owned());
            }
        }
        let chosen = match self.better_languages(&first) {
            None => first,
            Some(languages) => {
                let second = self.run_tesseract(&target, &languages, limits, deadline)?;
                if second.confidence.unwrap_or(0.0) > first.confidence.unwrap_or(0.0) {
                    second
                } else {
                    first
                }
            }
        };
        Ok(OcrText { steps, ..chosen })
    }

    /// The image to read: the original, or a deskewed/upscaled copy in
    /// `scratch`. An image our decoder cannot read is given to Tesseract
    /// as it is (its own decoders may manage); one over the pixel limit
    /// is refused.
    fn prepare(
        &self,
        path: &Path,
        scratch: &Path,
        limits: &ExtractionLimits,
    ) -> Result<(PathBuf, Vec<String>), ExtractError> {
        let options = PreprocessOptions {
            max_pages: limits.max_ocr_pages.max(1) as usize,
            ..self.preprocess.clone()
        };
        match crate::preprocess::prepare(path, scratch, &options) {
            Ok(prepared) => Ok((
                prepared.path.unwrap_or_else(|| path.to_path_buf()),
                prepared.steps.iter().map(|s| (*s).to_owned()).collect(),
            )),
            Err(e @ ExtractError::LimitExceeded(_)) => Err(e),
            Err(_) => Ok((path.to_path_buf(), Vec::new())),
        }
    }

    /// An upright copy of `image` when Tesseract's orientation detection
    /// is confident that it is turned by 90°, 180° or 270°.
    fn turn_upright(&self, image: &Path, scratch: &Path, deadline: Instant) -> Option<PathBuf> {
        let output = tool::run(
            "tesseract",
            [
                image.as_os_str(),
                "stdout".as_ref(),
                "--psm".as_ref(),
                "0".as_ref(),
            ],
            deadline,
            16 * 1024,
        )
        .ok()?;
        let report = String::from_utf8_lossy(&output.stdout);
        let field = |name: &str| {
            report
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
                .and_then(|v| v.parse::<f64>().ok())
        };
        let rotate = field("Rotate:")? as u32;
        let confidence = field("Orientation confidence:")?;
        if rotate == 0 || confidence < ORIENTATION_CONFIDENCE {
            return None;
        }
        crate::preprocess::turn(image, scratch, rotate, &self.preprocess).ok()
    }

    /// The language set to read `text` again with, if it looks written in
    /// an installed language other than the configured first one.
    fn better_languages(&self, text: &OcrText) -> Option<String> {
        if !self.auto_language {
            return None;
        }
        let joined = text.pages.join("\n");
        // Short or garbled readings (ID cards, stamps) give unreliable
        // guesses, and a second pass costs a whole recognition: ask for
        // enough letters and a guess whatlang itself calls reliable.
        if joined.chars().filter(|c| c.is_alphabetic()).count() < MIN_LETTERS_FOR_LANGUAGE {
            return None;
        }
        let detected = crate::language::detect(&joined)?;
        let primary = self.languages.split('+').next().unwrap_or("");
        let installed = self.installed.iter().any(|l| l == detected.code);
        if detected.code == primary || !installed || !detected.reliable || detected.confidence < 0.5
        {
            return None;
        }
        // Keep the configured languages as a fallback for mixed pages.
        Some(format!("{}+{}", detected.code, self.languages))
    }

    fn run_tesseract(
        &self,
        path: &Path,
        languages: &str,
        limits: &ExtractionLimits,
        deadline: Instant,
    ) -> Result<OcrText, ExtractError> {
        if !self.available {
            return Err(ExtractError::ToolMissing("tesseract".to_owned()));
        }
        let output = tool::run(
            "tesseract",
            [
                path.as_os_str(),
                "stdout".as_ref(),
                "-l".as_ref(),
                languages.as_ref(),
                "tsv".as_ref(),
            ],
            deadline,
            limits.max_text_bytes * 4,
        )
        .map_err(|e| ExtractError::from_tool(e, limits))?;
        if !output.status.success() {
            return Err(match output.status.code() {
                None => ExtractError::Crashed("tesseract was killed by a signal".to_owned()),
                Some(_) => {
                    ExtractError::Corrupt(last_line(&output.stderr, "the image could not be read"))
                }
            });
        }
        let mut text = parse_tsv(
            &String::from_utf8_lossy(&output.stdout),
            limits.max_ocr_pages,
        );
        text.languages = languages.to_owned();
        Ok(text)
    }

    /// OCR the given 1-based pages of a PDF, rendering each with `pdftoppm`,
    /// and put their text into `extraction` in place of the empty text layer.
    pub fn recognise_pdf_pages(
        &self,
        path: &Path,
        pages: &[u32],
        extraction: &mut Extraction,
        limits: &ExtractionLimits,
        deadline: Instant,
    ) -> Result<(), ExtractError> {
        if !self.is_available() {
            return Err(ExtractError::ToolMissing("tesseract".to_owned()));
        }
        let scratch = ScratchDir::new()?;
        let mut confidences = Vec::new();
        let budget = limits.max_ocr_pages as usize;
        if pages.len() > budget {
            extraction.warnings.push(Notice::new(
                NoticeCode::LimitExceeded,
                format!(
                    "OCR limited to the first {budget} of {} pages without text",
                    pages.len()
                ),
            ));
        }
        // The first page read decides the languages of the others.
        let mut languages: Option<String> = None;
        for &page in pages.iter().take(budget) {
            let image = render_page(path, page, scratch.path(), limits, deadline)?;
            let text = match &languages {
                _ if self.ppocr.is_some() => self.recognise_image(&image, limits, deadline)?,
                Some(chosen) => {
                    let page_scratch = ScratchDir::new()?;
                    let (target, _) = self.prepare(&image, page_scratch.path(), limits)?;
                    self.run_tesseract(&target, chosen, limits, deadline)?
                }
                None => self.recognise_image(&image, limits, deadline)?,
            };
            languages.get_or_insert_with(|| text.languages.clone());
            if let Some(confidence) = text.confidence {
                confidences.push((confidence, text.words));
            }
            let index = page as usize - 1;
            if index < extraction.pages.len() {
                extraction.pages[index] = text.pages.join("\n");
                if extraction.ocr_page_confidences.len() < extraction.pages.len() {
                    extraction
                        .ocr_page_confidences
                        .resize(extraction.pages.len(), None);
                }
                extraction.ocr_page_confidences[index] = text.confidence;
                extraction.layout.retain(|l| l.page != page);
                if let Some(mut layout) = text.layout.into_iter().next() {
                    layout.page = page;
                    extraction.layout.push(layout);
                    extraction.layout.sort_by_key(|l| l.page);
                }
            }
        }
        extraction.ocr_used = true;
        extraction.ocr_confidence = weighted_mean(&confidences);
        Ok(())
    }
}

/// The picture of a PDF page to OCR: the page's one image itself when the
/// page is a scan (one image, as scanner apps write them), else the page
/// rendered by `pdftoppm`. Taking the scan as it is keeps its own
/// resolution and costs milliseconds, where rendering a large JPEG at the
/// OCR resolution took Poppler over ten seconds.
fn render_page(
    pdf: &Path,
    page: u32,
    scratch: &Path,
    limits: &ExtractionLimits,
    deadline: Instant,
) -> Result<PathBuf, ExtractError> {
    if let Some(image) = scanned_image(pdf, page, scratch, deadline) {
        return Ok(image);
    }
    rasterise_page(pdf, page, scratch, limits, deadline)
}

/// Smallest resolution (pixels per inch) of a scan worth taking as it is;
/// below it the page is rendered instead.
const MIN_SCAN_PPI: f64 = 70.0;

/// The single image making up page `page`, extracted with `pdfimages`
/// (lossless PNG), when the page holds exactly one image of at least
/// [`MIN_SCAN_PPI`]; `None` in every other case (several images, none,
/// masks, a tool failure), which falls back on rendering.
/// Whether page `page` of `pdf` draws any image (`pdfimages -list`); true
/// when that cannot be told, so that nothing is skipped by mistake.
pub(crate) fn page_has_images(pdf: &Path, page: u32, deadline: Instant) -> bool {
    let page_text = page.to_string();
    let listing = tool::run(
        "pdfimages",
        [
            "-f".as_ref(),
            page_text.as_ref(),
            "-l".as_ref(),
            page_text.as_ref(),
            "-list".as_ref(),
            pdf.as_os_str(),
        ],
        deadline,
        64 * 1024,
    );
    match listing {
        Ok(output) if output.status.success() => String::from_utf8_lossy(&output.stdout)
            .lines()
            .skip(2)
            .any(|line| !line.trim().is_empty()),
        _ => true,
    }
}

fn scanned_image(pdf: &Path, page: u32, scratch: &Path, deadline: Instant) -> Option<PathBuf> {
    let page_text = page.to_string();
    let page_range = [
        "-f".as_ref(),
        page_text.as_ref(),
        "-l".as_ref(),
        page_text.as_ref(),
    ];
    let listing = tool::run(
        "pdfimages",
        page_range
            .iter()
            .copied()
            .chain(["-list".as_ref(), pdf.as_os_str()]),
        deadline,
        64 * 1024,
    )
    .ok()
    .filter(|o| o.status.success())?;
    let listing = String::from_utf8_lossy(&listing.stdout);
    let rows: Vec<Vec<&str>> = listing
        .lines()
        .skip(2)
        .map(|line| line.split_whitespace().collect())
        .filter(|fields: &Vec<&str>| fields.len() >= 14)
        .collect();
    let [row] = rows.as_slice() else {
        return None;
    };
    let ppi: f64 = row.get(12)?.parse().ok()?;
    if row.get(2) != Some(&"image") || ppi < MIN_SCAN_PPI {
        return None;
    }
    let prefix = scratch.join(format!("scan-{page}"));
    let output = tool::run(
        "pdfimages",
        page_range
            .iter()
            .copied()
            .chain(["-png".as_ref(), pdf.as_os_str(), prefix.as_os_str()]),
        deadline,
        64 * 1024,
    )
    .ok()?;
    let image = scratch.join(format!("scan-{page}-000.png"));
    (output.status.success() && image.exists()).then_some(image)
}

fn rasterise_page(
    pdf: &Path,
    page: u32,
    scratch: &Path,
    limits: &ExtractionLimits,
    deadline: Instant,
) -> Result<PathBuf, ExtractError> {
    let prefix = scratch.join(format!("page-{page}"));
    let page_text = page.to_string();
    let dpi = limits.ocr_dpi.to_string();
    let output = tool::run(
        "pdftoppm",
        [
            "-f".as_ref(),
            page_text.as_ref(),
            "-l".as_ref(),
            page_text.as_ref(),
            "-r".as_ref(),
            dpi.as_ref(),
            "-gray".as_ref(),
            "-png".as_ref(),
            "-singlefile".as_ref(),
            pdf.as_os_str(),
            prefix.as_os_str(),
        ],
        deadline,
        64 * 1024,
    )
    .map_err(|e| ExtractError::from_tool(e, limits))?;
    let image = prefix.with_extension("png");
    if !output.status.success() || !image.exists() {
        return Err(ExtractError::Corrupt(last_line(
            &output.stderr,
            &format!("page {page} could not be rendered"),
        )));
    }
    Ok(image)
}

fn last_line(stderr: &str, fallback: &str) -> String {
    stderr
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or(fallback)
        .to_owned()
}

/// PP-OCR's lines as an [`OcrText`]: boxes on one row joined by a space,
/// rows on lines of their own, word boxes as fractions of the picture.
fn ppocr_text(lines: &[crate::ppocr::Line], width: u32, height: u32) -> OcrText {
    let (w, h) = (width.max(1) as f32, height.max(1) as f32);
    let mut text = String::new();
    let mut words = Vec::new();
    let (mut sum, mut count) = (0f64, 0usize);
    for row in crate::ppocr::rows(lines) {
        if !text.is_empty() {
            text.push('\n');
        }
        let joined: Vec<&str> = row.iter().map(|l| l.text.as_str()).collect();
        text.push_str(&joined.join(" "));
        for line in row {
            for (word, [left, top, right, bottom]) in &line.words {
                sum += f64::from(line.confidence);
                count += 1;
                if words.len() < crate::MAX_LAYOUT_WORDS_PER_PAGE {
                    words.push(crate::Word {
                        text: word.clone(),
                        bbox: [left / w, top / h, right / w, bottom / h],
                    });
                }
            }
        }
    }
    let confidence = (count > 0).then(|| sum / count as f64);
    OcrText {
        pages: vec![text],
        confidence,
        page_confidences: vec![confidence],
        words: count,
        languages: "ppocr".to_owned(),
        steps: vec!["ppocr".to_owned()],
        layout: vec![crate::PageLayout { page: 1, words }],
    }
}

/// Words above which a picture is a dense page (a scanned letter or
/// statement) rather than a card, receipt or form photo.
const DENSE_PAGE_WORDS: usize = 120;

/// Whether the PP-OCR reading is in a language whose letters its
/// recogniser partly lacks (ö, ß, ç, ñ, õ, €: it reads a Chinese and
/// English alphabet), judged on its own text: Tesseract's language packs
/// keep them.
fn written_with_accents(ppocr: &OcrText) -> bool {
    crate::language::detect(&ppocr.pages.join("\n")).is_some_and(|d| {
        d.reliable && matches!(d.code, "deu" | "fra" | "spa" | "ita" | "por" | "nld")
    })
}

/// Whether Tesseract is worth a second reading of a picture PP-OCR read:
/// a dense page, where Tesseract's page layout analysis can win; a page in
/// a language with letters PP-OCR lacks; or a picture where PP-OCR found
/// next to nothing.
fn tesseract_may_do_better(ppocr: &OcrText) -> bool {
    ppocr.words >= DENSE_PAGE_WORDS || ppocr.words < 3 || written_with_accents(ppocr)
}

/// Share of PP-OCR's trustworthy words Tesseract must reach for its
/// reading to be kept on a page written with accents (its letters are
/// right where PP-OCR's are not).
const ACCENTED_SHARE: f64 = 0.8;

/// The reading with more trustworthy words: words of two or more letters
/// weighted by the engine's confidence in them (both engines give the
/// probability of the characters read, close enough to compare). On a
/// page written with accents Tesseract is kept when it comes close.
fn better_reading(ppocr: OcrText, tesseract: OcrText) -> OcrText {
    let score = |reading: &OcrText| {
        let words = reading
            .pages
            .iter()
            .flat_map(|p| p.split_whitespace())
            .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 2)
            .count();
        words as f64 * reading.confidence.unwrap_or(0.0)
    };
    let (p, t) = (score(&ppocr), score(&tesseract));
    let share = if written_with_accents(&ppocr) {
        ACCENTED_SHARE
    } else {
        1.0
    };
    if t >= p * share { tesseract } else { ppocr }
}

/// Letters a first OCR pass must hold before its language is trusted.
const MIN_LETTERS_FOR_LANGUAGE: usize = 60;

/// Tesseract's orientation confidence above which a page is turned.
const ORIENTATION_CONFIDENCE: f64 = 2.0;

/// A reading that suggests the page was not upright: few words, or words
/// read with low confidence. Only then is orientation detection paid for.
fn looks_misread(text: &OcrText) -> bool {
    text.words < 8 || text.confidence.unwrap_or(0.0) < 0.7
}

/// How much trustworthy text a reading holds: words × mean confidence.
fn weight(text: &OcrText) -> f64 {
    text.words as f64 * text.confidence.unwrap_or(0.0)
}

fn weighted_mean(values: &[(f64, usize)]) -> Option<f64> {
    let total: usize = values.iter().map(|(_, n)| n).sum();
    (total > 0).then(|| values.iter().map(|(c, n)| c * *n as f64).sum::<f64>() / total as f64)
}

/// Rebuild text from Tesseract's TSV: words joined on their line, lines and
/// paragraphs on new lines, one string per page. Confidence is the mean of
/// the words' confidences.
fn parse_tsv(tsv: &str, max_pages: u32) -> OcrText {
    let mut pages: Vec<String> = Vec::new();
    let mut page_sums: Vec<(f64, usize)> = Vec::new();
    let mut confidence_sum = 0.0;
    let mut words = 0usize;
    let mut last_line_key = None;
    let mut last_paragraph_key = None;
    let mut layout: Vec<crate::PageLayout> = Vec::new();
    let mut page_sizes: Vec<(f32, f32)> = Vec::new();
    for row in tsv.lines().skip(1) {
        let columns: Vec<&str> = row.split('\t').collect();
        if columns.len() < 12 {
            continue;
        }
        let number = |i: usize| columns[i].parse::<i64>().unwrap_or(0);
        if columns[0] == "1" {
            page_sizes.push((number(8).max(1) as f32, number(9).max(1) as f32));
            continue;
        }
        if columns[0] != "5" {
            continue;
        }
        let page = number(1).max(1) as usize;
        if page > max_pages.max(1) as usize {
            break;
        }
        let text = columns[11].trim();
        let confidence: f64 = columns[10].parse().unwrap_or(-1.0);
        if text.is_empty() || confidence < 0.0 {
            continue;
        }
        while pages.len() < page {
            pages.push(String::new());
            page_sums.push((0.0, 0));
            last_line_key = None;
            last_paragraph_key = None;
        }
        let current = &mut pages[page - 1];
        let paragraph_key = (number(2), number(3));
        let line_key = (paragraph_key, number(4));
        if last_line_key == Some(line_key) {
            current.push(' ');
        } else if !current.is_empty() {
            current.push('\n');
            if last_paragraph_key != Some(paragraph_key) {
                current.push('\n');
            }
        }
        current.push_str(text);
        let (width, height) = page_sizes.get(page - 1).copied().unwrap_or((1.0, 1.0));
        while layout.len() < page {
            layout.push(crate::PageLayout {
                page: layout.len() as u32 + 1,
                words: Vec::new(),
            });
        }
        if layout[page - 1].words.len() < crate::MAX_LAYOUT_WORDS_PER_PAGE {
            let (left, top) = (number(6) as f32, number(7) as f32);
            let (w, h) = (number(8) as f32, number(9) as f32);
            layout[page - 1].words.push(crate::Word {
                text: text.to_owned(),
                bbox: [
                    left / width,
                    top / height,
                    (left + w) / width,
                    (top + h) / height,
                ],
            });
        }
        last_line_key = Some(line_key);
        last_paragraph_key = Some(paragraph_key);
        confidence_sum += confidence / 100.0;
        words += 1;
        page_sums[page - 1].0 += confidence / 100.0;
        page_sums[page - 1].1 += 1;
    }
    OcrText {
        pages,
        confidence: (words > 0).then(|| confidence_sum / words as f64),
        page_confidences: page_sums
            .into_iter()
            .map(|(sum, n)| (n > 0).then(|| sum / n as f64))
            .collect(),
        words,
        languages: String::new(),
        steps: Vec::new(),
        layout,
    }
}

/// A private temporary directory removed when dropped.
pub(crate) struct ScratchDir(PathBuf);

impl ScratchDir {
    pub(crate) fn new() -> std::io::Result<Self> {
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let unique = format!(
            "heron-ocr-{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        let path = std::env::temp_dir().join(unique);
        std::fs::create_dir(&path)?;
        Ok(ScratchDir(path))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_is_rebuilt_into_lines_and_pages() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
                   1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t\n\
                   5\t1\t1\t1\t1\t1\t0\t0\t1\t1\t90\tDRIVER\n\
                   5\t1\t1\t1\t1\t2\t0\t0\t1\t1\t80\tLICENSE\n\
                   5\t1\t1\t1\t2\t1\t0\t0\t1\t1\t70\tDOB\n\
                   5\t2\t1\t1\t1\t1\t0\t0\t1\t1\t60\tpage2\n";
        let text = parse_tsv(tsv, 10);
        assert_eq!(
            text.pages,
            vec!["DRIVER LICENSE\nDOB".to_owned(), "page2".to_owned()]
        );
        assert_eq!(text.words, 4);
        assert!((text.confidence.unwrap() - 0.75).abs() < 1e-9);
        assert_eq!(parse_tsv(tsv, 1).pages.len(), 1);
        assert_eq!(text.layout.len(), 2);
        assert_eq!(text.layout[0].words[1].text, "LICENSE");
        assert_eq!(text.layout[0].words[0].bbox, [0.0, 0.0, 0.01, 0.01]);
    }
}
