//! Text detection with PP-OCRv4's DB (differentiable binarisation) model:
//! the picture scaled to multiples of 32, a per-pixel text probability
//! map, and that map turned into one rotated box per line of text.

use image::RgbImage;

use super::geometry::{self, RotatedRect};
use crate::page_detect::Quad;

/// The settings PaddleOCR and RapidOCR ship with the v4 detector.
#[derive(Debug, Clone, Copy)]
pub struct DetectOptions {
    /// The picture's shorter side is brought up to at least this.
    pub min_side: u32,
    /// … and its longer side down to at most this (time and memory). The
    /// reference allows 2000; at 2000 a 12-megapixel photo needs over a
    /// gigabyte of address space in the detector and 6–14 s, at 1600 about
    /// half (`examples/ppocr_read.rs`), and dense pages, the ones that lose
    /// lines at this size, are read by Tesseract too.
    pub max_side: u32,
    /// Probability above which a pixel is text.
    pub threshold: f32,
    /// Mean probability a box must reach to be kept.
    pub box_threshold: f32,
    /// How far a region is grown back out (DB predicts shrunk regions).
    pub unclip_ratio: f32,
    /// Boxes considered at most.
    pub max_candidates: usize,
}

impl Default for DetectOptions {
    fn default() -> Self {
        DetectOptions {
            min_side: 736,
            max_side: 1600,
            threshold: 0.3,
            box_threshold: 0.5,
            unclip_ratio: 1.6,
            max_candidates: 1000,
        }
    }
}

/// The detector's input: the picture resized to multiples of 32, as a
/// 1 × 3 × H × W tensor in the model's channel order (BGR) and scale
/// (−1..1); and the factors back to the picture's pixels.
pub struct Input {
    pub data: Vec<f32>,
    pub width: usize,
    pub height: usize,
    scale_x: f32,
    scale_y: f32,
}

pub fn prepare(image: &RgbImage, options: &DetectOptions) -> Input {
    let (w, h) = (image.width() as f32, image.height() as f32);
    let mut ratio = 1.0f32;
    if w.min(h) < options.min_side as f32 {
        ratio = options.min_side as f32 / w.min(h);
    }
    if w.max(h) * ratio > options.max_side as f32 {
        ratio = options.max_side as f32 / w.max(h);
    }
    let to_32 = |v: f32| (((v * ratio) / 32.0).round() as u32).max(1) * 32;
    let (width, height) = (to_32(w), to_32(h));
    let resized = image::imageops::resize(image, width, height, image::imageops::Triangle);
    let plane = (width * height) as usize;
    let mut data = vec![0f32; 3 * plane];
    for (i, pixel) in resized.pixels().enumerate() {
        // BGR, as the model was trained on OpenCV's pictures.
        for (channel, value) in [pixel[2], pixel[1], pixel[0]].into_iter().enumerate() {
            data[channel * plane + i] = (f32::from(value) / 255.0 - 0.5) / 0.5;
        }
    }
    Input {
        data,
        width: width as usize,
        height: height as usize,
        scale_x: w / width as f32,
        scale_y: h / height as f32,
    }
}

/// Boxes of text lines in picture pixels, in reading order (top to bottom,
/// then left to right on a line), from the probability map of `input`.
pub fn boxes(map: &[f32], input: &Input, options: &DetectOptions) -> Vec<Quad> {
    let (width, height) = (input.width, input.height);
    if map.len() < width * height {
        return Vec::new();
    }
    // Threshold, then dilate by one pixel to the left and up, as the
    // reference post-processing does with its 2 × 2 kernel.
    let raw: Vec<bool> = map.iter().map(|p| *p > options.threshold).collect();
    let mut mask = raw.clone();
    for y in 0..height {
        for x in 0..width {
            let i = y * width + x;
            if !raw[i]
                && ((x + 1 < width && raw[i + 1])
                    || (y + 1 < height && raw[i + width])
                    || (x + 1 < width && y + 1 < height && raw[i + width + 1]))
            {
                mask[i] = true;
            }
        }
    }
    let mut found: Vec<Quad> = Vec::new();
    for border in geometry::regions(&mask, width, height, 4, options.max_candidates) {
        let points: Vec<(f32, f32)> = border.iter().map(|&(x, y)| (x as f32, y as f32)).collect();
        let Some(rect) = geometry::min_area_rect(&geometry::convex_hull(&points)) else {
            continue;
        };
        // Pixel centres to pixel edges.
        let rect = rect.grown(0.5);
        if rect.shorter_side() < 3.0 {
            continue;
        }
        if geometry::mean_inside(map, width, height, &rect.corners()) < options.box_threshold {
            continue;
        }
        let grown = unclip(rect, options.unclip_ratio);
        if grown.shorter_side() < 5.0 {
            continue;
        }
        let quad = grown.corners().map(|(x, y)| {
            (
                (x * input.scale_x).clamp(0.0, width as f32 * input.scale_x),
                (y * input.scale_y).clamp(0.0, height as f32 * input.scale_y),
            )
        });
        let side =
            |a: (f32, f32), b: (f32, f32)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
        if side(quad[0], quad[1]) <= 3.0 || side(quad[0], quad[3]) <= 3.0 {
            continue;
        }
        found.push(quad);
    }
    reading_order(&mut found);
    found
}

/// DB's regions are the text shrunk by `area × (1 − r²) / perimeter`; the
/// reference grows them back by `area × ratio / perimeter`.
fn unclip(rect: RotatedRect, ratio: f32) -> RotatedRect {
    let area = rect.width * rect.height;
    let perimeter = 2.0 * (rect.width + rect.height);
    if perimeter <= 0.0 {
        return rect;
    }
    rect.grown(area * ratio / perimeter)
}

/// Top to bottom by the top-left corner; boxes whose tops are within 10
/// pixels count as one line and go left to right.
fn reading_order(boxes: &mut [Quad]) {
    boxes.sort_by(|a, b| a[0].1.total_cmp(&b[0].1).then(a[0].0.total_cmp(&b[0].0)));
    for i in 0..boxes.len() {
        let mut j = i;
        while j > 0
            && (boxes[j][0].1 - boxes[j - 1][0].1).abs() < 10.0
            && boxes[j][0].0 < boxes[j - 1][0].0
        {
            boxes.swap(j, j - 1);
            j -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_are_scaled_to_multiples_of_32_within_the_limits() {
        let options = DetectOptions::default();
        let small = prepare(&RgbImage::new(300, 200), &options);
        assert_eq!((small.width % 32, small.height % 32), (0, 0));
        assert!(
            small.height >= 704 && small.height <= 768,
            "{}",
            small.height
        );
        let large = prepare(&RgbImage::new(4000, 3000), &options);
        assert!(large.width <= 1600, "{}", large.width);
        assert_eq!(large.data.len(), 3 * large.width * large.height);
    }

    #[test]
    fn a_probability_map_with_two_lines_gives_two_boxes_in_order() {
        let options = DetectOptions::default();
        let input = prepare(&RgbImage::new(200, 100), &options);
        let (w, h) = (input.width, input.height);
        let mut map = vec![0f32; w * h];
        // Two text lines, the lower one first in memory order of x.
        for (top, left, right) in [(100usize, 300usize, 900usize), (40, 100, 600)] {
            for y in top..top + 20 {
                for x in left..right {
                    map[y * w + x] = 0.9;
                }
            }
        }
        let found = boxes(&map, &input, &options);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0][0].1 < found[1][0].1, "reading order: {found:?}");
        // Grown back out beyond the probability region, in picture pixels.
        let scale = 200.0 / w as f32;
        assert!(found[0][0].0 < 100.0 * scale);
        assert!(found[0][1].0 > 600.0 * scale);
    }
}
