//! The plane geometry of text detection: regions of a probability map,
//! their smallest enclosing rotated rectangles, and crops of those
//! rectangles out of the picture.

use image::RgbImage;

use crate::page_detect::{Homography, Quad};

/// Connected regions (8-neighbourhood) of the set pixels of a `width` ×
/// `height` mask, as the pixels on each region's border; at most
/// `max_regions`, largest first among those found. Regions smaller than
/// `min_pixels` are dropped.
pub fn regions(
    mask: &[bool],
    width: usize,
    height: usize,
    min_pixels: usize,
    max_regions: usize,
) -> Vec<Vec<(u32, u32)>> {
    let mut label = vec![0u32; mask.len()];
    let mut found: Vec<(usize, Vec<(u32, u32)>)> = Vec::new();
    let mut stack = Vec::new();
    let mut next = 0u32;
    for start in 0..mask.len() {
        if !mask[start] || label[start] != 0 {
            continue;
        }
        next += 1;
        label[start] = next;
        stack.push(start);
        let (mut size, mut border) = (0usize, Vec::new());
        while let Some(index) = stack.pop() {
            size += 1;
            let (x, y) = (index % width, index / width);
            let mut on_border = x == 0 || y == 0 || x + 1 == width || y + 1 == height;
            for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    if dx == 0 && dy == 0 {
                        continue;
                    }
                    let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                    if nx < 0 || ny < 0 || nx >= width as i64 || ny >= height as i64 {
                        continue;
                    }
                    let neighbour = ny as usize * width + nx as usize;
                    if !mask[neighbour] {
                        on_border |= dx == 0 || dy == 0;
                        continue;
                    }
                    if label[neighbour] == 0 {
                        label[neighbour] = next;
                        stack.push(neighbour);
                    }
                }
            }
            if on_border {
                border.push((x as u32, y as u32));
            }
        }
        if size >= min_pixels {
            found.push((size, border));
        }
    }
    if found.len() > max_regions {
        found.sort_by_key(|region| std::cmp::Reverse(region.0));
        found.truncate(max_regions);
    }
    found.into_iter().map(|(_, border)| border).collect()
}

/// The convex hull of `points` (Andrew's monotone chain), counter-clockwise
/// in image coordinates' orientation, without repeated points.
pub fn convex_hull(points: &[(f32, f32)]) -> Vec<(f32, f32)> {
    let mut sorted = points.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    sorted.dedup();
    if sorted.len() < 3 {
        return sorted;
    }
    let cross = |o: (f32, f32), a: (f32, f32), b: (f32, f32)| {
        (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
    };
    let mut hull: Vec<(f32, f32)> = Vec::with_capacity(sorted.len() * 2);
    for pass in 0..2 {
        let start = hull.len();
        let points: Box<dyn Iterator<Item = &(f32, f32)>> = if pass == 0 {
            Box::new(sorted.iter())
        } else {
            Box::new(sorted.iter().rev())
        };
        for &point in points {
            while hull.len() >= start + 2
                && cross(hull[hull.len() - 2], hull[hull.len() - 1], point) <= 0.0
            {
                hull.pop();
            }
            hull.push(point);
        }
        hull.pop();
    }
    hull
}

/// A rotated rectangle: centre, the length of its side along `angle`
/// (radians), the other side's length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RotatedRect {
    pub centre: (f32, f32),
    pub width: f32,
    pub height: f32,
    pub angle: f32,
}

impl RotatedRect {
    /// The rectangle grown by `distance` on every side.
    pub fn grown(self, distance: f32) -> RotatedRect {
        RotatedRect {
            width: self.width + 2.0 * distance,
            height: self.height + 2.0 * distance,
            ..self
        }
    }

    pub fn shorter_side(&self) -> f32 {
        self.width.min(self.height)
    }

    /// The corners as top-left, top-right, bottom-right, bottom-left: the
    /// two leftmost points are the left side (upper first), the two others
    /// the right side.
    pub fn corners(&self) -> Quad {
        let (cos, sin) = (self.angle.cos(), self.angle.sin());
        let (hw, hh) = (self.width / 2.0, self.height / 2.0);
        let mut points = [(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)].map(|(x, y)| {
            (
                self.centre.0 + x * cos - y * sin,
                self.centre.1 + x * sin + y * cos,
            )
        });
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        let (left, right) = points.split_at(2);
        let (tl, bl) = if left[0].1 <= left[1].1 {
            (left[0], left[1])
        } else {
            (left[1], left[0])
        };
        let (tr, br) = if right[0].1 <= right[1].1 {
            (right[0], right[1])
        } else {
            (right[1], right[0])
        };
        [tl, tr, br, bl]
    }
}

/// The smallest-area rectangle holding a convex polygon (rotating
/// calipers: one side of the best rectangle lies on a hull edge).
pub fn min_area_rect(hull: &[(f32, f32)]) -> Option<RotatedRect> {
    match hull.len() {
        0 => return None,
        1 => {
            return Some(RotatedRect {
                centre: hull[0],
                width: 1.0,
                height: 1.0,
                angle: 0.0,
            });
        }
        _ => {}
    }
    let mut best: Option<(f32, RotatedRect)> = None;
    for i in 0..hull.len() {
        let (a, b) = (hull[i], hull[(i + 1) % hull.len()]);
        let length = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        if length < 1e-6 {
            continue;
        }
        let (ux, uy) = ((b.0 - a.0) / length, (b.1 - a.1) / length);
        let (mut min_u, mut max_u, mut min_v, mut max_v) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        for p in hull {
            let (dx, dy) = (p.0 - a.0, p.1 - a.1);
            let (u, v) = (dx * ux + dy * uy, -dx * uy + dy * ux);
            min_u = min_u.min(u);
            max_u = max_u.max(u);
            min_v = min_v.min(v);
            max_v = max_v.max(v);
        }
        let area = (max_u - min_u) * (max_v - min_v);
        if best.as_ref().is_none_or(|(a, _)| area < *a) {
            let (cu, cv) = ((min_u + max_u) / 2.0, (min_v + max_v) / 2.0);
            let centre = (a.0 + cu * ux - cv * uy, a.1 + cu * uy + cv * ux);
            best = Some((
                area,
                RotatedRect {
                    centre,
                    width: max_u - min_u,
                    height: max_v - min_v,
                    angle: uy.atan2(ux),
                },
            ));
        }
    }
    best.map(|(_, rect)| rect)
}

/// Mean of `map` (row-major, `width` wide) over the pixels inside the
/// convex quadrilateral `quad`.
pub fn mean_inside(map: &[f32], width: usize, height: usize, quad: &Quad) -> f32 {
    let xs = quad.map(|p| p.0);
    let ys = quad.map(|p| p.1);
    let clampx = |v: f32| (v.max(0.0) as usize).min(width.saturating_sub(1));
    let clampy = |v: f32| (v.max(0.0) as usize).min(height.saturating_sub(1));
    let (x0, x1) = (
        clampx(xs.iter().copied().fold(f32::MAX, f32::min).floor()),
        clampx(xs.iter().copied().fold(f32::MIN, f32::max).ceil()),
    );
    let (y0, y1) = (
        clampy(ys.iter().copied().fold(f32::MAX, f32::min).floor()),
        clampy(ys.iter().copied().fold(f32::MIN, f32::max).ceil()),
    );
    let (mut sum, mut count) = (0f64, 0usize);
    for y in y0..=y1 {
        for x in x0..=x1 {
            if inside_convex(quad, (x as f32, y as f32)) {
                sum += f64::from(map[y * width + x]);
                count += 1;
            }
        }
    }
    if count == 0 {
        0.0
    } else {
        (sum / count as f64) as f32
    }
}

fn inside_convex(quad: &Quad, point: (f32, f32)) -> bool {
    let mut sign = 0.0f32;
    for i in 0..4 {
        let (a, b) = (quad[i], quad[(i + 1) % 4]);
        let cross = (b.0 - a.0) * (point.1 - a.1) - (b.1 - a.1) * (point.0 - a.0);
        if cross.abs() < 1e-6 {
            continue;
        }
        if sign == 0.0 {
            sign = cross.signum();
        } else if cross.signum() != sign {
            return false;
        }
    }
    true
}

/// The quadrilateral `quad` of `image` as an upright picture (its sides the
/// quad's longer opposite edges), sampled bilinearly; edges repeat past
/// the picture's border. `None` for a degenerate quad.
pub fn crop(image: &RgbImage, quad: &Quad) -> Option<RgbImage> {
    let length = |a: (f32, f32), b: (f32, f32)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
    let [tl, tr, br, bl] = *quad;
    let width = length(tl, tr).max(length(bl, br)).round().max(1.0) as u32;
    let height = length(tl, bl).max(length(tr, br)).round().max(1.0) as u32;
    if width < 2 || height < 2 {
        return None;
    }
    let target = [
        (0.0, 0.0),
        (width as f32, 0.0),
        (width as f32, height as f32),
        (0.0, height as f32),
    ];
    let homography = Homography::between(&target, quad)?;
    let (iw, ih) = (image.width() as f32, image.height() as f32);
    Some(RgbImage::from_fn(width, height, |x, y| {
        let (sx, sy) = homography.apply(x as f32 + 0.5, y as f32 + 0.5);
        let (sx, sy) = (
            (sx - 0.5).clamp(0.0, iw - 1.0),
            (sy - 0.5).clamp(0.0, ih - 1.0),
        );
        let (x0, y0) = (sx.floor() as u32, sy.floor() as u32);
        let (x1, y1) = (
            (x0 + 1).min(image.width() - 1),
            (y0 + 1).min(image.height() - 1),
        );
        let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
        let mut out = [0u8; 3];
        for (channel, value) in out.iter_mut().enumerate() {
            let at = |x, y| f32::from(image.get_pixel(x, y)[channel]);
            let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
            let bottom = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
            *value = (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8;
        }
        image::Rgb(out)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tilted_bar_gives_its_rotated_rectangle() {
        // A 60 × 10 bar turned by 20°.
        let (width, height) = (120usize, 80usize);
        let angle = 20f32.to_radians();
        let mut mask = vec![false; width * height];
        for y in 0..height {
            for x in 0..width {
                let (dx, dy) = (x as f32 - 60.0, y as f32 - 40.0);
                let u = dx * angle.cos() + dy * angle.sin();
                let v = -dx * angle.sin() + dy * angle.cos();
                mask[y * width + x] = u.abs() <= 30.0 && v.abs() <= 5.0;
            }
        }
        let found = regions(&mask, width, height, 3, 10);
        assert_eq!(found.len(), 1);
        let points: Vec<(f32, f32)> = found[0]
            .iter()
            .map(|&(x, y)| (x as f32, y as f32))
            .collect();
        let rect = min_area_rect(&convex_hull(&points)).unwrap();
        let (long, short) = (rect.width.max(rect.height), rect.width.min(rect.height));
        assert!((long - 60.0).abs() < 3.0, "{rect:?}");
        assert!((short - 10.0).abs() < 3.0, "{rect:?}");
        assert!((rect.centre.0 - 60.0).abs() < 1.5 && (rect.centre.1 - 40.0).abs() < 1.5);
        let [tl, tr, br, bl] = rect.corners();
        assert!(
            tl.0 < tr.0 && bl.0 < br.0 && tl.1 < bl.1,
            "{:?}",
            rect.corners()
        );
    }

    #[test]
    fn separate_regions_are_found_apart_and_tiny_ones_dropped() {
        let (width, height) = (20usize, 10usize);
        let mut mask = vec![false; width * height];
        for x in 1..6 {
            mask[2 * width + x] = true;
        }
        for x in 10..18 {
            mask[6 * width + x] = true;
            mask[7 * width + x] = true;
        }
        mask[9 * width] = true;
        let found = regions(&mask, width, height, 2, 10);
        assert_eq!(found.len(), 2);
    }

    #[test]
    fn a_crop_of_an_axis_aligned_box_is_that_box() {
        let image = RgbImage::from_fn(50, 40, |x, y| image::Rgb([x as u8 * 5, y as u8 * 5, 0]));
        let quad = [(10.0, 5.0), (30.0, 5.0), (30.0, 15.0), (10.0, 15.0)];
        let cropped = crop(&image, &quad).unwrap();
        assert_eq!(cropped.dimensions(), (20, 10));
        assert_eq!(cropped.get_pixel(0, 0)[0], 50);
        assert_eq!(cropped.get_pixel(0, 0)[1], 25);
        assert_eq!(cropped.get_pixel(19, 9)[0], 145);
    }
}
