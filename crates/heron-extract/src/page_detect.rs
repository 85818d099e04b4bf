//! Page detection and perspective correction for phone photos of paper:
//! find the sheet (or card) against the surface it lies on, and map its
//! four corners onto an upright rectangle.
//!
//! The background is what touches the photo's border: it is grown inward
//! from the border pixels for as long as colour stays close to the
//! border's own colour and changes smoothly. What is left, taken as one
//! connected piece, is the page; its corners are its extreme points along
//! the two diagonals. The result is used only when that piece really is a
//! quadrilateral (it fills its corner polygon) of a plausible size, so a
//! flat scan, a photo filled by the page, or a cluttered desk leaves the
//! image untouched.
//!
//! Everything is decided on a thumbnail (milliseconds); only the final
//! warp touches full-resolution pixels.

use image::{GrayImage, Luma, RgbImage};

/// Largest colour step between neighbouring background pixels
/// (per channel, on the smoothed thumbnail).
const MAX_BACKGROUND_STEP: i32 = 14;
/// Largest distance from the border's mean colour still called background.
const MAX_BACKGROUND_DISTANCE: i32 = 70;
/// The page must cover this share of the photo, at least...
const MIN_PAGE_SHARE: f32 = 0.12;
/// ...and at most this: above it the photo is already the page.
const MAX_PAGE_SHARE: f32 = 0.93;
/// The page's pixels must fill their corner polygon this well.
const MIN_QUAD_FILL: f32 = 0.88;

/// The corners of a page in full-resolution pixel coordinates: top-left,
/// top-right, bottom-right, bottom-left.
pub type Quad = [(f32, f32); 4];

/// The page's corners in a photo of `width`×`height` pixels, found on its
/// `thumbnail` (any size; about 320 px on the long side is plenty), when a
/// page lies against a distinct background.
pub fn find_page(thumbnail: &RgbImage, width: u32, height: u32) -> Option<Quad> {
    if thumbnail.width() < 24 || thumbnail.height() < 24 {
        return None;
    }
    let small = image::imageops::blur(thumbnail, 1.2);
    let background = grow_background(&small)?;
    let page = largest_component(&background, small.width(), small.height())?;
    let total = (small.width() * small.height()) as f32;
    let share = page.len() as f32 / total;
    if !(MIN_PAGE_SHARE..=MAX_PAGE_SHARE).contains(&share) {
        return None;
    }
    let corners = diagonal_extremes(&page)?;
    let area = polygon_area(&corners);
    if area <= 0.0 || !is_convex(&corners) {
        return None;
    }
    let fill = page.len() as f32 / area;
    if !(MIN_QUAD_FILL..=1.0 / MIN_QUAD_FILL).contains(&fill) {
        return None;
    }
    // Back to full resolution; pixel centres.
    let sx = width as f32 / small.width() as f32;
    let sy = height as f32 / small.height() as f32;
    Some(corners.map(|(x, y)| ((x + 0.5) * sx, (y + 0.5) * sy)))
}

/// Background mask: pixels reached from the border through smooth colour
/// close to the border's mean. `None` when the border itself is too varied
/// to be one surface.
fn grow_background(image: &RgbImage) -> Option<Vec<bool>> {
    let (width, height) = image.dimensions();
    let index = |x: u32, y: u32| (y * width + x) as usize;
    let border: Vec<(u32, u32)> = (0..width)
        .flat_map(|x| [(x, 0), (x, height - 1)])
        .chain((1..height - 1).flat_map(|y| [(0, y), (width - 1, y)]))
        .collect();
    let mut mean = [0f32; 3];
    for &(x, y) in &border {
        for (c, value) in image.get_pixel(x, y).0.iter().enumerate() {
            mean[c] += f32::from(*value);
        }
    }
    let mean = mean.map(|sum| sum / border.len() as f32);
    let spread: f32 = border
        .iter()
        .map(|&(x, y)| distance_to(image.get_pixel(x, y).0, mean))
        .sum::<f32>()
        / border.len() as f32;
    if spread > 40.0 {
        return None;
    }
    let mut background = vec![false; (width * height) as usize];
    let mut stack = Vec::new();
    for &(x, y) in &border {
        if distance_to(image.get_pixel(x, y).0, mean) <= MAX_BACKGROUND_DISTANCE as f32 {
            background[index(x, y)] = true;
            stack.push((x, y));
        }
    }
    while let Some((x, y)) = stack.pop() {
        let here = image.get_pixel(x, y).0;
        for (nx, ny) in neighbours(x, y, width, height) {
            let i = index(nx, ny);
            if background[i] {
                continue;
            }
            let there = image.get_pixel(nx, ny).0;
            let step = here
                .iter()
                .zip(there.iter())
                .map(|(a, b)| (i32::from(*a) - i32::from(*b)).abs())
                .max()
                .unwrap_or(0);
            if step <= MAX_BACKGROUND_STEP
                && distance_to(there, mean) <= MAX_BACKGROUND_DISTANCE as f32
            {
                background[i] = true;
                stack.push((nx, ny));
            }
        }
    }
    Some(background)
}

fn distance_to(pixel: [u8; 3], mean: [f32; 3]) -> f32 {
    pixel
        .iter()
        .zip(mean.iter())
        .map(|(p, m)| (f32::from(*p) - m).abs())
        .fold(0.0, f32::max)
}

fn neighbours(x: u32, y: u32, width: u32, height: u32) -> impl Iterator<Item = (u32, u32)> {
    [
        (x.wrapping_sub(1), y),
        (x + 1, y),
        (x, y.wrapping_sub(1)),
        (x, y + 1),
    ]
    .into_iter()
    .filter(move |&(nx, ny)| nx < width && ny < height)
}

/// The largest 4-connected piece of non-background pixels.
fn largest_component(background: &[bool], width: u32, height: u32) -> Option<Vec<(u32, u32)>> {
    let mut seen = background.to_vec();
    let mut best: Vec<(u32, u32)> = Vec::new();
    for start in 0..seen.len() {
        if seen[start] {
            continue;
        }
        seen[start] = true;
        let first = ((start as u32) % width, (start as u32) / width);
        let mut piece = vec![first];
        let mut next = 0;
        while next < piece.len() {
            let (x, y) = piece[next];
            next += 1;
            for (nx, ny) in neighbours(x, y, width, height) {
                let i = (ny * width + nx) as usize;
                if !seen[i] {
                    seen[i] = true;
                    piece.push((nx, ny));
                }
            }
        }
        if piece.len() > best.len() {
            best = piece;
        }
    }
    (!best.is_empty()).then_some(best)
}

/// Top-left, top-right, bottom-right, bottom-left: the points with the
/// smallest x+y, largest x−y, largest x+y and smallest x−y.
fn diagonal_extremes(points: &[(u32, u32)]) -> Option<Quad> {
    let key_sum = |&&(x, y): &&(u32, u32)| x as i64 + y as i64;
    let key_diff = |&&(x, y): &&(u32, u32)| x as i64 - y as i64;
    let top_left = points.iter().min_by_key(key_sum)?;
    let bottom_right = points.iter().max_by_key(key_sum)?;
    let top_right = points.iter().max_by_key(key_diff)?;
    let bottom_left = points.iter().min_by_key(key_diff)?;
    Some([*top_left, *top_right, *bottom_right, *bottom_left].map(|(x, y)| (x as f32, y as f32)))
}

/// Area by the shoelace formula (positive for clockwise corners in image
/// coordinates, as `diagonal_extremes` orders them).
fn polygon_area(corners: &Quad) -> f32 {
    let mut twice = 0.0;
    for i in 0..4 {
        let (x1, y1) = corners[i];
        let (x2, y2) = corners[(i + 1) % 4];
        twice += x1 * y2 - x2 * y1;
    }
    twice / 2.0
}

fn is_convex(corners: &Quad) -> bool {
    (0..4).all(|i| {
        let (ax, ay) = corners[i];
        let (bx, by) = corners[(i + 1) % 4];
        let (cx, cy) = corners[(i + 2) % 4];
        (bx - ax) * (cy - by) - (by - ay) * (cx - bx) > 0.0
    })
}

/// Map the quadrilateral `corners` of `image` onto an upright rectangle
/// whose sides are the quad's longer opposite edges. `None` when the
/// result would exceed `max_pixels`.
pub fn unwarp(image: &GrayImage, corners: &Quad, max_pixels: u64) -> Option<GrayImage> {
    let length = |a: (f32, f32), b: (f32, f32)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
    let [tl, tr, br, bl] = *corners;
    let width = length(tl, tr).max(length(bl, br)).round() as u32;
    let height = length(tl, bl).max(length(tr, br)).round() as u32;
    if width < 16 || height < 16 || u64::from(width) * u64::from(height) > max_pixels {
        return None;
    }
    let target = [
        (0.0, 0.0),
        (width as f32 - 1.0, 0.0),
        (width as f32 - 1.0, height as f32 - 1.0),
        (0.0, height as f32 - 1.0),
    ];
    let homography = Homography::between(&target, corners)?;
    let mut out = GrayImage::new(width, height);
    for (x, y, pixel) in out.enumerate_pixels_mut() {
        let (sx, sy) = homography.apply(x as f32, y as f32);
        *pixel = Luma([sample(image, sx, sy)]);
    }
    Some(out)
}

/// How a page is photographed by [`photograph`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scene {
    pub width: u32,
    pub height: u32,
    /// Colour of the surface the page lies on.
    pub background: [u8; 3],
    /// Share of the light lost from the left edge of the photo to the
    /// right (uneven light).
    pub falloff: f32,
    /// Darkness of a soft shadow across the page's lower part (0: none).
    pub shadow: f32,
}

/// The inverse of [`unwarp`]: `page` laid on a surface with its corners at
/// `corners` (top-left, top-right, bottom-right, bottom-left, in photo
/// pixels; they may fall outside the frame, cropping the page), lit
/// unevenly, the surface grained. For the training-data generator, the
/// OCR benchmarks and the tests of this module: what phone photos of
/// paper look like, with known corners.
pub fn photograph(page: &GrayImage, corners: &Quad, scene: &Scene) -> RgbImage {
    let (pw, ph) = (page.width() as f32, page.height() as f32);
    let target = [
        (0.0, 0.0),
        (pw - 1.0, 0.0),
        (pw - 1.0, ph - 1.0),
        (0.0, ph - 1.0),
    ];
    let to_page = Homography::between(corners, &target);
    let [r, g, b] = scene.background.map(f32::from);
    RgbImage::from_fn(scene.width, scene.height, |x, y| {
        let light = 1.0 - scene.falloff * (x as f32 / scene.width.max(1) as f32);
        let on_page = to_page
            .as_ref()
            .map(|h| h.apply(x as f32, y as f32))
            .filter(|&(px, py)| (0.0..pw - 1.0).contains(&px) && (0.0..ph - 1.0).contains(&py));
        match on_page {
            Some((px, py)) => {
                let shade = 1.0 - scene.shadow * ((py / ph - 0.6) * 2.5).clamp(0.0, 1.0);
                let value = f32::from(sample(page, px, py)) * 0.94 * light * shade;
                image::Rgb([value as u8, value as u8, (value * 0.97) as u8])
            }
            None => {
                let grain = ((x * 7 + y * 13) % 17) as f32;
                image::Rgb([
                    ((r + grain).min(255.0) * light) as u8,
                    ((g + grain).min(255.0) * light) as u8,
                    ((b + grain).min(255.0) * light) as u8,
                ])
            }
        }
    })
}

/// Bilinear sample; white outside the image (paper colour).
fn sample(image: &GrayImage, x: f32, y: f32) -> u8 {
    let (width, height) = image.dimensions();
    if !(x >= 0.0 && y >= 0.0 && x <= (width - 1) as f32 && y <= (height - 1) as f32) {
        return 255;
    }
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(width - 1), (y0 + 1).min(height - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let at = |x, y| f32::from(image.get_pixel(x, y)[0]);
    let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
    let bottom = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
    (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8
}

/// A plane projective transform, `h[8]` fixed to 1.
pub(crate) struct Homography([f64; 9]);

impl Homography {
    /// The transform taking each `from[i]` to `to[i]`: eight equations in
    /// eight unknowns, solved by Gaussian elimination with partial pivoting.
    pub(crate) fn between(from: &Quad, to: &Quad) -> Option<Homography> {
        let mut system = [[0f64; 9]; 8];
        for i in 0..4 {
            let (x, y) = (f64::from(from[i].0), f64::from(from[i].1));
            let (u, v) = (f64::from(to[i].0), f64::from(to[i].1));
            system[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
            system[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
        }
        for column in 0..8 {
            let pivot = (column..8)
                .max_by(|&a, &b| system[a][column].abs().total_cmp(&system[b][column].abs()))?;
            if system[pivot][column].abs() < 1e-9 {
                return None;
            }
            system.swap(column, pivot);
            let pivot_row = system[column];
            for (index, row) in system.iter_mut().enumerate() {
                if index != column {
                    let factor = row[column] / pivot_row[column];
                    for (value, pivot_value) in row[column..].iter_mut().zip(&pivot_row[column..]) {
                        *value -= factor * pivot_value;
                    }
                }
            }
        }
        let mut h = [0f64; 9];
        for (i, row) in system.iter().enumerate() {
            h[i] = row[8] / row[i];
        }
        h[8] = 1.0;
        Some(Homography(h))
    }

    pub(crate) fn apply(&self, x: f32, y: f32) -> (f32, f32) {
        let h = &self.0;
        let (x, y) = (f64::from(x), f64::from(y));
        let w = h[6] * x + h[7] * y + h[8];
        (
            ((h[0] * x + h[1] * y + h[2]) / w) as f32,
            ((h[3] * x + h[4] * y + h[5]) / w) as f32,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A white page with dark text bars, warped onto a brown desk.
    fn photo(corners: Quad) -> RgbImage {
        let mut page = GrayImage::from_pixel(400, 520, Luma([245]));
        for line in 0..10 {
            for y in 40 + line * 45..52 + line * 45 {
                for x in 40..360 {
                    page.put_pixel(x, y, Luma([30]));
                }
            }
        }
        let scene = Scene {
            width: 900,
            height: 700,
            background: [110, 80, 50],
            falloff: 0.0,
            shadow: 0.0,
        };
        photograph(&page, &corners, &scene)
    }

    #[test]
    fn finds_the_corners_of_a_page_photographed_at_an_angle() {
        let corners = [(180.0, 90.0), (640.0, 60.0), (700.0, 640.0), (150.0, 610.0)];
        let photo = photo(corners);
        let thumbnail = image::imageops::thumbnail(&photo, 320, 249);
        let found = find_page(&thumbnail, photo.width(), photo.height()).expect("a page");
        for (f, c) in found.iter().zip(corners.iter()) {
            assert!(
                (f.0 - c.0).abs() < 12.0 && (f.1 - c.1).abs() < 12.0,
                "found {found:?}, drawn {corners:?}"
            );
        }
    }

    #[test]
    fn a_flat_scan_is_left_alone() {
        let scan = RgbImage::from_fn(600, 800, |x, y| {
            if y % 40 < 8 && (40..560).contains(&x) {
                image::Rgb([20, 20, 20])
            } else {
                image::Rgb([250, 250, 250])
            }
        });
        let thumbnail = image::imageops::thumbnail(&scan, 240, 320);
        assert_eq!(find_page(&thumbnail, 600, 800), None);
    }

    #[test]
    fn unwarping_restores_an_upright_rectangle() {
        let corners = [(180.0, 90.0), (640.0, 60.0), (700.0, 640.0), (150.0, 610.0)];
        let gray = image::DynamicImage::ImageRgb8(photo(corners)).to_luma8();
        let flat = unwarp(&gray, &corners, 10_000_000).unwrap();
        // The first text bar runs level across the page: dark in the
        // middle of its rows, light just above it.
        let scale_y = flat.height() as f32 / 520.0;
        let scale_x = flat.width() as f32 / 400.0;
        let bar = (46.0 * scale_y) as u32;
        let gap = (30.0 * scale_y) as u32;
        for x in [60.0, 200.0, 340.0] {
            let x = (x * scale_x) as u32;
            assert!(flat.get_pixel(x, bar)[0] < 90, "bar at x={x}");
            assert!(flat.get_pixel(x, gap)[0] > 200, "gap at x={x}");
        }
    }
}
