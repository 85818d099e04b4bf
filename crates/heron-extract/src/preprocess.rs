//! Image preparation before OCR: page detection and perspective correction
//! (phone photos, `page_detect`), deskew and upscaling.
//!
//! Measured on degraded renders (`examples/ocr_preprocessing.rs`, numbers
//! in bench/README.md): Tesseract reads nothing from a page turned by 10°,
//! and loses words below about 100 DPI. Both are detected cheaply on a
//! thumbnail and corrected only when present, so a clean scan costs one
//! decode and no re-encode. Steps that did not help on those measurements
//! (global binarisation, denoising: Tesseract binarises itself) are not
//! applied.

use std::path::{Path, PathBuf};

use image::{GrayImage, ImageReader, Luma};

use crate::ExtractError;

/// Which corrections may be applied.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PreprocessOptions {
    /// Find the page in a phone photo and correct its perspective.
    pub page_detection: bool,
    pub deskew: bool,
    pub upscale: bool,
    /// Ask Tesseract's orientation detection about pages read badly, and
    /// read them again upright.
    pub orientation: bool,
    /// Images narrower than this are scaled up (a letter page at 300 DPI is
    /// 2550 px wide; ID-card photos are often under 1000).
    pub min_width: u32,
    /// Largest decoded image, in pixels (decompression bombs).
    pub max_pixels: u64,
    /// Pages of a multi-page TIFF prepared (and read).
    pub max_pages: usize,
}

impl Default for PreprocessOptions {
    fn default() -> Self {
        PreprocessOptions {
            page_detection: true,
            deskew: true,
            upscale: true,
            orientation: true,
            min_width: 1800,
            max_pixels: 80_000_000,
            max_pages: 20,
        }
    }
}

/// What preparation did.
#[derive(Debug, Clone, PartialEq)]
pub struct Preparation {
    /// The prepared image, or `None` when the original is best read as is.
    pub path: Option<PathBuf>,
    /// Skew found, in degrees (counter-clockwise positive).
    pub skew_degrees: f32,
    pub scale: f32,
    pub steps: Vec<&'static str>,
}

/// Text lines shorter than this (in pixels) are scaled up...
const MIN_LINE_HEIGHT: f32 = 20.0;
/// ...to about this height.
const TARGET_LINE_HEIGHT: f32 = 32.0;

/// Skew below this is left alone (Tesseract copes, rotating blurs).
const MIN_SKEW: f32 = 0.7;
/// Largest skew looked for; beyond it the page is turned, not skewed.
const MAX_SKEW: f32 = 20.0;

/// Prepare `input` for OCR, writing a corrected image into `scratch` when a
/// correction is needed. A multi-page TIFF is split into pages, each
/// prepared, and `path` is then a list file naming them (Tesseract reads
/// such a list as one multi-page document).
pub fn prepare(
    input: &Path,
    scratch: &Path,
    options: &PreprocessOptions,
) -> Result<Preparation, ExtractError> {
    let reader = open_limited(input, options)?;
    if reader.format() == Some(image::ImageFormat::Tiff) {
        return prepare_tiff(input, scratch, options);
    }
    let (width, height) = reader
        .into_dimensions()
        .map_err(|e| ExtractError::Corrupt(format!("image: {e}")))?;
    check_pixels(width, height, options)?;
    let decoded = open_limited(input, options)?
        .decode()
        .map_err(|e| ExtractError::Corrupt(format!("image: {e}")))?;
    let page = prepare_page(decoded, options);
    if page.steps.is_empty() {
        return Ok(untouched());
    }
    let output = scratch.join("prepared.png");
    save(&page.image, &output)?;
    Ok(Preparation {
        path: Some(output),
        skew_degrees: page.skew_degrees,
        scale: page.scale,
        steps: page.steps,
    })
}

fn check_pixels(width: u32, height: u32, options: &PreprocessOptions) -> Result<(), ExtractError> {
    if u64::from(width) * u64::from(height) > options.max_pixels {
        return Err(ExtractError::LimitExceeded(format!(
            "image of {width}×{height} pixels is larger than {} pixels",
            options.max_pixels
        )));
    }
    Ok(())
}

fn save(image: &GrayImage, path: &Path) -> Result<(), ExtractError> {
    image
        .save(path)
        .map_err(|e| ExtractError::Io(std::io::Error::other(e)))
}

/// One page after preparation.
struct PreparedPage {
    image: GrayImage,
    skew_degrees: f32,
    scale: f32,
    steps: Vec<&'static str>,
}

/// Page detection (phone photos), deskew and upscaling of one page.
fn prepare_page(decoded: image::DynamicImage, options: &PreprocessOptions) -> PreparedPage {
    let corners = if options.page_detection {
        let thumbnail = decoded.thumbnail(320, 320).to_rgb8();
        crate::page_detect::find_page(&thumbnail, decoded.width(), decoded.height())
    } else {
        None
    };
    let mut gray = decoded.to_luma8();
    drop(decoded);
    let mut page = PreparedPage {
        image: GrayImage::new(0, 0),
        skew_degrees: 0.0,
        scale: 1.0,
        steps: Vec::new(),
    };
    if let Some(flat) =
        corners.and_then(|c| crate::page_detect::unwarp(&gray, &c, options.max_pixels))
    {
        gray = flat;
        page.steps.push("page");
    }
    if let Some(even) = even_out_light(&gray) {
        gray = even;
        page.steps.push("light");
    }
    if noise_level(&gray) > MAX_NOISE {
        gray = image::imageops::blur(&gray, 1.0);
        page.steps.push("denoise");
    }

    let analysis = analyse(&gray);
    if options.deskew {
        page.skew_degrees = analysis.skew;
        if analysis.skew.abs() >= MIN_SKEW {
            gray = rotate(&gray, -analysis.skew);
            page.steps.push("deskew");
        }
    }
    // Upscale when the text itself is small (Tesseract wants lines of
    // about 30 px); when lines cannot be measured, fall back on the width.
    let wanted = match analysis.line_height {
        Some(height) if height < MIN_LINE_HEIGHT => Some(TARGET_LINE_HEIGHT / height.max(1.0)),
        Some(_) => None,
        None if gray.width() < options.min_width => {
            Some(options.min_width as f32 / gray.width().max(1) as f32)
        }
        None => None,
    };
    if let (true, Some(scale)) = (options.upscale, wanted) {
        let scale = scale.min(3.0);
        let new_width = (gray.width() as f32 * scale).round() as u32;
        let new_height = (gray.height() as f32 * scale).round() as u32;
        if u64::from(new_width) * u64::from(new_height) <= options.max_pixels {
            gray = image::imageops::resize(
                &gray,
                new_width,
                new_height,
                image::imageops::FilterType::CatmullRom,
            );
            page.scale = scale;
            page.steps.push("upscale");
        }
    }
    page.image = gray;
    page
}

/// Pixel noise (median deviation of paper pixels from their neighbours,
/// in grey levels) above which a page is smoothed before OCR: Tesseract
/// reads speckled thin strokes as nothing at all.
const MAX_NOISE: f32 = 2.5;

/// How noisy a page's paper is: over a sample of pixels brighter than the
/// page's Otsu threshold (paper, not ink), the median absolute difference
/// between a pixel and the mean of its four neighbours.
fn noise_level(image: &GrayImage) -> f32 {
    let (width, height) = image.dimensions();
    if width < 8 || height < 8 {
        return 0.0;
    }
    let threshold = otsu(image);
    let step = ((u64::from(width) * u64::from(height) / 40_000).max(1) as f64).sqrt() as u32;
    let mut deviations = Vec::new();
    for y in (1..height - 1).step_by(step.max(1) as usize) {
        for x in (1..width - 1).step_by(step.max(1) as usize) {
            let at = |x: u32, y: u32| f32::from(image.get_pixel(x, y)[0]);
            let centre = at(x, y);
            let neighbours = [at(x - 1, y), at(x + 1, y), at(x, y - 1), at(x, y + 1)];
            if neighbours
                .iter()
                .chain([&centre])
                .all(|&v| v > f32::from(threshold))
            {
                deviations.push((centre - neighbours.iter().sum::<f32>() / 4.0).abs());
            }
        }
    }
    if deviations.len() < 100 {
        return 0.0;
    }
    let middle = deviations.len() / 2;
    *deviations.select_nth_unstable_by(middle, f32::total_cmp).1
}

/// Paper brightness varying more than this across a page (grey levels)
/// means uneven light worth correcting.
const MAX_LIGHT_SPREAD: u8 = 40;
/// Paper darker than this everywhere is grey, not white.
const MIN_PAPER_LEVEL: u8 = 235;

/// Divide out uneven light (a shadow, light falling off across a phone
/// photo), so that paper is white everywhere and ink is told apart by one
/// threshold — the skew search's and Tesseract's. The paper's brightness
/// is taken as the brightest pixels of each block of a coarse grid
/// (smoothed), which ink cannot darken; `None` when the light is even.
fn even_out_light(image: &GrayImage) -> Option<GrayImage> {
    let paper = PaperLevels::measure(image)?;
    let uneven = paper.spread() >= f32::from(MAX_LIGHT_SPREAD);
    // Grey paper (a photo in room light) is whitened too: Tesseract's
    // global threshold would otherwise split white margins added by a
    // rotation from the grey page, and read the whole page as ink.
    let dim = paper.brightest() < f32::from(MIN_PAPER_LEVEL);
    (uneven || dim).then(|| paper.divide(image))
}

/// The brightness of the paper across a page: per block of a coarse grid,
/// the 95th percentile of its pixels (ink cannot darken it, sensor noise
/// cannot brighten it much), smoothed over neighbouring blocks.
struct PaperLevels {
    block: u32,
    columns: u32,
    rows: u32,
    levels: Vec<f32>,
}

impl PaperLevels {
    /// `None` for images too small for a grid of at least 3×3 blocks.
    fn measure(image: &GrayImage) -> Option<PaperLevels> {
        let (width, height) = image.dimensions();
        let block = (width.min(height) / 24).max(16);
        let (columns, rows) = (width.div_ceil(block), height.div_ceil(block));
        if columns < 3 || rows < 3 {
            return None;
        }
        let mut grid = vec![0f32; (columns * rows) as usize];
        for row in 0..rows {
            for column in 0..columns {
                let mut histogram = [0u32; 256];
                let (x0, y0) = (column * block, row * block);
                let mut count = 0u32;
                for y in y0..(y0 + block).min(height) {
                    for x in x0..(x0 + block).min(width) {
                        histogram[image.get_pixel(x, y)[0] as usize] += 1;
                        count += 1;
                    }
                }
                let wanted = count - count / 20;
                let mut seen = 0u32;
                let level = histogram
                    .iter()
                    .position(|&n| {
                        seen += n;
                        seen >= wanted
                    })
                    .unwrap_or(255);
                grid[(row * columns + column) as usize] = level as f32;
            }
        }
        let at = |r: i64, c: i64| -> Option<f32> {
            (r >= 0 && c >= 0 && r < i64::from(rows) && c < i64::from(columns))
                .then(|| grid[(r as u32 * columns + c as u32) as usize])
        };
        let levels = (0..i64::from(rows))
            .flat_map(|row| (0..i64::from(columns)).map(move |column| (row, column)))
            .map(|(row, column)| {
                let neighbours: Vec<f32> = (-1..=1)
                    .flat_map(|dy| (-1..=1).map(move |dx| (dy, dx)))
                    .filter_map(|(dy, dx)| at(row + dy, column + dx))
                    .collect();
                neighbours.iter().sum::<f32>() / neighbours.len() as f32
            })
            .collect();
        Some(PaperLevels {
            block,
            columns,
            rows,
            levels,
        })
    }

    fn brightest(&self) -> f32 {
        self.levels.iter().copied().fold(0.0, f32::max)
    }

    /// Brightest minus darkest paper level.
    fn spread(&self) -> f32 {
        let darkest = self.levels.iter().copied().fold(255.0, f32::min);
        self.brightest() - darkest
    }

    /// The paper level at a pixel, interpolated between block centres.
    fn at(&self, x: u32, y: u32) -> f32 {
        let (columns, rows) = (self.columns, self.rows);
        let gx = ((x as f32 + 0.5) / self.block as f32 - 0.5).clamp(0.0, (columns - 1) as f32);
        let gy = ((y as f32 + 0.5) / self.block as f32 - 0.5).clamp(0.0, (rows - 1) as f32);
        let (c0, r0) = (gx.floor() as u32, gy.floor() as u32);
        let (c1, r1) = ((c0 + 1).min(columns - 1), (r0 + 1).min(rows - 1));
        let (fx, fy) = (gx - c0 as f32, gy - r0 as f32);
        let level = |c: u32, r: u32| self.levels[(r * columns + c) as usize];
        let top = level(c0, r0) * (1.0 - fx) + level(c1, r0) * fx;
        let bottom = level(c0, r1) * (1.0 - fx) + level(c1, r1) * fx;
        top * (1.0 - fy) + bottom * fy
    }

    /// `image` with the paper made white everywhere.
    fn divide(&self, image: &GrayImage) -> GrayImage {
        GrayImage::from_fn(image.width(), image.height(), |x, y| {
            let level = f32::from(image.get_pixel(x, y)[0]);
            Luma([(level * 255.0 / self.at(x, y).max(1.0)).round().min(255.0) as u8])
        })
    }
}

/// Split a TIFF into its pages and prepare each. A single-page TIFF is
/// prepared like any image; pages the decoder cannot turn into pixels
/// (unusual bit depths) leave the file to Tesseract as it is.
fn prepare_tiff(
    input: &Path,
    scratch: &Path,
    options: &PreprocessOptions,
) -> Result<Preparation, ExtractError> {
    let pages = match tiff_pages(input, options) {
        Ok(pages) => pages,
        Err(e @ ExtractError::LimitExceeded(_)) => return Err(e),
        Err(_) => return Ok(untouched()),
    };
    let mut preparation = untouched();
    let mut list = String::new();
    for (index, decoded) in pages.into_iter().enumerate() {
        let page = prepare_page(decoded, options);
        let output = scratch.join(format!("page-{:04}.png", index + 1));
        save(&page.image, &output)?;
        list.push_str(&output.to_string_lossy());
        list.push('\n');
        for step in page.steps {
            if !preparation.steps.contains(&step) {
                preparation.steps.push(step);
            }
        }
    }
    let list_path = scratch.join("pages.txt");
    std::fs::write(&list_path, list)?;
    preparation.path = Some(list_path);
    Ok(preparation)
}

/// Decode every page of a TIFF (up to `options.max_pages`) within the
/// pixel limit.
fn tiff_pages(
    input: &Path,
    options: &PreprocessOptions,
) -> Result<Vec<image::DynamicImage>, ExtractError> {
    use tiff::ColorType;
    use tiff::decoder::{Decoder, DecodingResult, Limits};
    let corrupt = |e: tiff::TiffError| ExtractError::Corrupt(format!("TIFF: {e}"));
    let file = std::io::BufReader::new(std::fs::File::open(input)?);
    let mut limits = Limits::default();
    limits.decoding_buffer_size = usize::try_from(options.max_pixels * 4).unwrap_or(usize::MAX);
    let mut decoder = Decoder::new(file).map_err(corrupt)?.with_limits(limits);
    let mut pages = Vec::new();
    loop {
        let (width, height) = decoder.dimensions().map_err(corrupt)?;
        check_pixels(width, height, options)?;
        let color = decoder.colortype().map_err(corrupt)?;
        let DecodingResult::U8(data) = decoder.read_image().map_err(corrupt)? else {
            return Err(ExtractError::Corrupt("TIFF sample format".to_owned()));
        };
        let page = match color {
            ColorType::Gray(8) => GrayImage::from_raw(width, height, data).map(Into::into),
            ColorType::RGB(8) => image::RgbImage::from_raw(width, height, data).map(Into::into),
            ColorType::RGBA(8) => image::RgbaImage::from_raw(width, height, data).map(Into::into),
            ColorType::Gray(1) => unpack_bilevel(&data, width, height).map(Into::into),
            _ => None,
        };
        pages.push(
            page.ok_or_else(|| ExtractError::Corrupt(format!("TIFF colour type {color:?}")))?,
        );
        if pages.len() >= options.max_pages || !decoder.more_images() {
            break;
        }
        decoder.next_image().map_err(corrupt)?;
    }
    Ok(pages)
}

/// 1-bit pages (fax, bilevel scans) as 8-bit gray. The decoder has
/// already mapped WhiteIsZero, so a set bit is white.
fn unpack_bilevel(data: &[u8], width: u32, height: u32) -> Option<GrayImage> {
    let row_bytes = (width as usize).div_ceil(8);
    if data.len() < row_bytes * height as usize {
        return None;
    }
    Some(GrayImage::from_fn(width, height, |x, y| {
        let byte = data[y as usize * row_bytes + x as usize / 8];
        let bit = (byte >> (7 - (x % 8))) & 1;
        Luma([if bit == 1 { 255 } else { 0 }])
    }))
}

/// Turn an image by a multiple of 90° clockwise (what Tesseract's
/// orientation detection asks for), writing the result into `scratch`.
pub fn turn(
    input: &Path,
    scratch: &Path,
    clockwise_degrees: u32,
    options: &PreprocessOptions,
) -> Result<PathBuf, ExtractError> {
    let gray = open_limited(input, options)?
        .decode()
        .map_err(|e| ExtractError::Corrupt(format!("image: {e}")))?
        .to_luma8();
    let turned = match clockwise_degrees % 360 {
        90 => image::imageops::rotate90(&gray),
        180 => image::imageops::rotate180(&gray),
        270 => image::imageops::rotate270(&gray),
        _ => gray,
    };
    let output = scratch.join(format!("turned-{clockwise_degrees}.png"));
    turned
        .save(&output)
        .map_err(|e| ExtractError::Io(std::io::Error::other(e)))?;
    Ok(output)
}

/// A picture decoded in colour under the pixel limit and turned as its
/// EXIF orientation says (phone cameras store portrait photos sideways and
/// say so there).
pub fn decode_upright(
    input: &Path,
    options: &PreprocessOptions,
) -> Result<image::RgbImage, ExtractError> {
    use image::ImageDecoder as _;
    let reader = open_limited(input, options)?;
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| ExtractError::Corrupt(format!("image: {e}")))?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, options)?;
    let mut picture = image::DynamicImage::from_decoder(decoder)
        .map_err(|e| ExtractError::Corrupt(format!("image: {e}")))?;
    picture.apply_orientation(orientation);
    Ok(picture.to_rgb8())
}

/// An image reader whose decoder may allocate no more than the pixel limit
/// allows (decompression bombs fail instead of exhausting memory).
fn open_limited(
    input: &Path,
    options: &PreprocessOptions,
) -> Result<ImageReader<std::io::BufReader<std::fs::File>>, ExtractError> {
    let mut reader = ImageReader::open(input)?
        .with_guessed_format()
        .map_err(|e| ExtractError::Corrupt(format!("image: {e}")))?;
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(options.max_pixels * 4);
    reader.limits(limits);
    Ok(reader)
}

fn untouched() -> Preparation {
    Preparation {
        path: None,
        skew_degrees: 0.0,
        scale: 1.0,
        steps: Vec::new(),
    }
}

/// Otsu's threshold of a grayscale image.
fn otsu(image: &GrayImage) -> u8 {
    let mut histogram = [0u64; 256];
    for pixel in image.pixels() {
        histogram[pixel[0] as usize] += 1;
    }
    let total: u64 = histogram.iter().sum();
    let sum_all: f64 = histogram
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * c as f64)
        .sum();
    let (mut weight_background, mut sum_background) = (0u64, 0f64);
    let (mut best, mut best_variance) = (127u8, -1f64);
    for (level, &count) in histogram.iter().enumerate() {
        weight_background += count;
        if weight_background == 0 {
            continue;
        }
        let weight_foreground = total - weight_background;
        if weight_foreground == 0 {
            break;
        }
        sum_background += level as f64 * count as f64;
        let mean_background = sum_background / weight_background as f64;
        let mean_foreground = (sum_all - sum_background) / weight_foreground as f64;
        let variance = weight_background as f64
            * weight_foreground as f64
            * (mean_background - mean_foreground).powi(2);
        if variance > best_variance {
            best_variance = variance;
            best = level as u8;
        }
    }
    best
}

/// The skew of text lines, in degrees, in the sense of [`rotate`]: an image
/// made by `rotate(straight, a)` has skew `a`, and `rotate(image, -skew)`
/// straightens it. Found as the angle whose counter-rotation makes the row
/// profile of dark pixels peakiest (text lines align with rows).
/// Worked out on a thumbnail, so it costs milliseconds.
pub fn estimate_skew(image: &GrayImage) -> f32 {
    analyse(image).skew
}

/// What a page's ink says about it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Analysis {
    /// Skew in degrees, as [`estimate_skew`].
    pub skew: f32,
    /// Median height of text lines in pixels of the full image, when lines
    /// could be told apart.
    pub line_height: Option<f32>,
}

/// Skew and text-line height of a page, from the row profile of its dark
/// pixels on a thumbnail.
pub fn analyse(image: &GrayImage) -> Analysis {
    let scale = (800.0 / image.width().max(1) as f32).min(1.0);
    let thumbnail = if scale < 1.0 {
        image::imageops::resize(
            image,
            (image.width() as f32 * scale).max(1.0) as u32,
            (image.height() as f32 * scale).max(1.0) as u32,
            image::imageops::FilterType::Triangle,
        )
    } else {
        image.clone()
    };
    // Ink is what is dark against the paper around it: with the paper
    // levelled first, a shadow or a light gradient is not taken for ink.
    let thumbnail = match PaperLevels::measure(&thumbnail) {
        Some(paper) => paper.divide(&thumbnail),
        None => thumbnail,
    };
    let threshold = otsu(&thumbnail);
    let dark: Vec<(f32, f32)> = thumbnail
        .enumerate_pixels()
        .filter(|(_, _, p)| p[0] < threshold)
        .map(|(x, y, _)| (x as f32, y as f32))
        .collect();
    // Too little ink, or mostly ink (a photo): nothing to measure.
    let area = (thumbnail.width() * thumbnail.height()) as usize;
    if dark.len() < 200 || dark.len() > area / 2 {
        return Analysis {
            skew: 0.0,
            line_height: None,
        };
    }
    let height = thumbnail.height() as f32;
    let width = thumbnail.width() as f32;
    let profile = |degrees: f32| -> Vec<u32> {
        let (sin, cos) = degrees.to_radians().sin_cos();
        let offset = width * sin.abs();
        let bins = (height + offset * 2.0) as usize + 2;
        let mut rows = vec![0u32; bins];
        for &(x, y) in &dark {
            let row = y * cos - x * sin + offset;
            if row >= 0.0 && (row as usize) < bins {
                rows[row as usize] += 1;
            }
        }
        rows
    };
    let score = |degrees: f32| -> f64 {
        profile(degrees)
            .iter()
            .map(|&r| f64::from(r) * f64::from(r))
            .sum()
    };
    let search = |from: f32, to: f32, step: f32| -> (f32, f64) {
        let steps = ((to - from) / step).round() as i32;
        (0..=steps)
            .map(|i| from + i as f32 * step)
            .map(|a| (a, score(a)))
            .fold(
                (0.0, f64::MIN),
                |best, c| if c.1 > best.1 { c } else { best },
            )
    };
    let (coarse, _) = search(-MAX_SKEW, MAX_SKEW, 1.0);
    let (fine, best) = search(coarse - 1.0, coarse + 1.0, 0.1);
    // A flat profile (no lines of text) gives no real optimum.
    let angle = if best < score(0.0) * 1.02 { 0.0 } else { fine };
    Analysis {
        // The profile peaks when the points are turned back by the skew.
        skew: -angle,
        line_height: median_line_height(&profile(angle)).map(|h| h / scale),
    }
}

/// Median length of the runs of inked rows in a row profile: the height of
/// a line of text. Rows with little ink (under a sixth of the mean inked
/// row) count as gaps. `None` with fewer than three lines.
fn median_line_height(rows: &[u32]) -> Option<f32> {
    let inked: Vec<u32> = rows.iter().copied().filter(|&r| r > 0).collect();
    let mean = inked.iter().map(|&r| f64::from(r)).sum::<f64>() / inked.len().max(1) as f64;
    let threshold = (mean / 6.0).max(1.0);
    let mut runs = Vec::new();
    let mut current = 0u32;
    for &row in rows {
        if f64::from(row) >= threshold {
            current += 1;
        } else if current > 0 {
            runs.push(current);
            current = 0;
        }
    }
    if current > 0 {
        runs.push(current);
    }
    if runs.len() < 3 {
        return None;
    }
    runs.sort_unstable();
    Some(runs[runs.len() / 2] as f32)
}

/// Rotate by `degrees` (counter-clockwise positive) about the centre, with
/// bilinear sampling, on a canvas large enough for the whole page, filling
/// with white.
pub fn rotate(image: &GrayImage, degrees: f32) -> GrayImage {
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (width, height) = (image.width() as f32, image.height() as f32);
    let new_width = (width * cos.abs() + height * sin.abs()).ceil() as u32;
    let new_height = (width * sin.abs() + height * cos.abs()).ceil() as u32;
    let (cx, cy) = (width / 2.0, height / 2.0);
    let (ncx, ncy) = (new_width as f32 / 2.0, new_height as f32 / 2.0);
    let sample = |x: f32, y: f32| -> f32 {
        if x < 0.0 || y < 0.0 || x > width - 1.0 || y > height - 1.0 {
            return 255.0;
        }
        let (x0, y0) = (x.floor() as u32, y.floor() as u32);
        let (x1, y1) = (
            (x0 + 1).min(image.width() - 1),
            (y0 + 1).min(image.height() - 1),
        );
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let p = |x, y| f32::from(image.get_pixel(x, y)[0]);
        let top = p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx;
        let bottom = p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx;
        top * (1.0 - fy) + bottom * fy
    };
    GrayImage::from_fn(new_width, new_height, |x, y| {
        // Map each output pixel back into the source (inverse rotation).
        let (dx, dy) = (x as f32 - ncx, y as f32 - ncy);
        let source_x = dx * cos - dy * sin + cx;
        let source_y = dx * sin + dy * cos + cy;
        Luma([sample(source_x, source_y).round().clamp(0.0, 255.0) as u8])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Horizontal "text lines" of dark bars.
    fn lines_image() -> GrayImage {
        GrayImage::from_fn(900, 600, |x, y| {
            let on_line = (y / 12) % 4 == 1 && x > 80 && x < 820 && (x / 9) % 5 != 0;
            Luma([if on_line { 10 } else { 245 }])
        })
    }

    #[test]
    fn skew_is_found_and_undone() {
        let straight = lines_image();
        assert!(estimate_skew(&straight).abs() < 0.3);
        for angle in [-12.0f32, -4.0, 3.0, 9.0] {
            let skewed = rotate(&straight, angle);
            let found = estimate_skew(&skewed);
            // Rotating by +angle turns the lines so that -found undoes it.
            assert!(
                (found + angle).abs() < 0.6 || (found - angle).abs() < 0.6,
                "rotated {angle}, found {found}"
            );
            let fixed = rotate(&skewed, -found);
            assert!(
                estimate_skew(&fixed).abs() < 0.6,
                "still skewed after correction by {found}"
            );
        }
    }

    #[test]
    fn line_height_is_measured() {
        // Bars 12 px high every 48 px.
        let height = analyse(&lines_image()).line_height.unwrap();
        assert!((10.0..=14.0).contains(&height), "{height}");
        let small = image::imageops::resize(
            &lines_image(),
            450,
            300,
            image::imageops::FilterType::Triangle,
        );
        let height = analyse(&small).line_height.unwrap();
        assert!((5.0..=7.5).contains(&height), "{height}");
    }

    #[test]
    fn uneven_light_is_evened_out_and_even_light_left_alone() {
        // Paper from 250 on the left to 120 on the right, ink at 40 % of
        // the paper's brightness.
        let shaded = GrayImage::from_fn(600, 400, |x, y| {
            let paper = 250.0 - 130.0 * x as f32 / 600.0;
            let ink = y % 40 < 6 && (50..550).contains(&x);
            Luma([(if ink { paper * 0.4 } else { paper }) as u8])
        });
        let even = even_out_light(&shaded).expect("uneven light is corrected");
        for x in [20, 300, 580] {
            assert!(even.get_pixel(x, 20)[0] >= 245, "paper at {x}");
            assert!(even.get_pixel(x.clamp(60, 540), 2)[0] < 130, "ink at {x}");
        }
        let flat = GrayImage::from_fn(600, 400, |_, y| Luma([if y % 40 < 6 { 30 } else { 245 }]));
        assert!(even_out_light(&flat).is_none());
        // Evenly lit but grey paper is whitened.
        let grey = GrayImage::from_fn(600, 400, |_, y| Luma([if y % 40 < 6 { 30 } else { 200 }]));
        let whitened = even_out_light(&grey).expect("grey paper is whitened");
        assert!(whitened.get_pixel(10, 20)[0] >= 250);
    }

    #[test]
    fn speckled_paper_is_noisy_and_clean_paper_is_not() {
        let mut state = 7u32;
        let mut next = move || {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (state >> 16) % 51
        };
        let speckled = GrayImage::from_fn(400, 300, |_, y| {
            let base = if y % 30 < 4 { 120 } else { 235 };
            Luma([(base + next() as i32 - 25).clamp(0, 255) as u8])
        });
        assert!(
            noise_level(&speckled) > MAX_NOISE,
            "{}",
            noise_level(&speckled)
        );
        let clean = GrayImage::from_fn(400, 300, |_, y| Luma([if y % 30 < 4 { 20 } else { 250 }]));
        assert!(noise_level(&clean) < 1.0);
    }

    #[test]
    fn blank_and_photo_like_images_have_no_skew() {
        assert_eq!(
            estimate_skew(&GrayImage::from_pixel(400, 300, Luma([255]))),
            0.0
        );
        assert_eq!(
            estimate_skew(&GrayImage::from_pixel(400, 300, Luma([0]))),
            0.0
        );
    }
}
