//! Line recognition with PP-OCRv4's recogniser (CTC over a 48-pixel-high
//! line picture), and the angle classifier that turns upside-down lines.

use image::RgbImage;

/// Height of the recogniser's input.
pub const LINE_HEIGHT: u32 = 48;
/// The narrowest batch width (the reference's 320 × 48).
const MIN_WIDTH: u32 = 320;
/// Widest line picture, in multiples of the height (bounds memory on
/// pathological boxes).
const MAX_ASPECT: f32 = 40.0;
/// The angle classifier's input.
pub const ANGLE_WIDTH: u32 = 192;

/// A batch of line pictures as one 3 × 48 × W tensor each, zero-padded to
/// the widest, in the model's channel order (BGR) and scale (−1..1).
pub struct Batch {
    pub data: Vec<f32>,
    pub count: usize,
    pub width: u32,
    /// Width each line occupies before padding.
    pub used: Vec<u32>,
}

/// The recogniser's batch of `lines` (widths follow each line's aspect).
pub fn batch(lines: &[&RgbImage]) -> Batch {
    let aspect = |image: &RgbImage| image.width() as f32 / image.height().max(1) as f32;
    let widest = lines
        .iter()
        .map(|l| aspect(l))
        .fold(MIN_WIDTH as f32 / LINE_HEIGHT as f32, f32::max)
        .min(MAX_ASPECT);
    let width = (LINE_HEIGHT as f32 * widest).ceil() as u32;
    pack(lines, LINE_HEIGHT, width)
}

/// The angle classifier's batch: lines squeezed into 48 × 192.
pub fn angle_batch(lines: &[&RgbImage]) -> Batch {
    pack(lines, LINE_HEIGHT, ANGLE_WIDTH)
}

fn pack(lines: &[&RgbImage], height: u32, width: u32) -> Batch {
    let plane = (height * width) as usize;
    let mut data = vec![0f32; lines.len() * 3 * plane];
    let mut used = Vec::with_capacity(lines.len());
    for (index, line) in lines.iter().enumerate() {
        let aspect = line.width() as f32 / line.height().max(1) as f32;
        let scaled = ((height as f32 * aspect).ceil() as u32).clamp(1, width);
        let resized = image::imageops::resize(*line, scaled, height, image::imageops::Triangle);
        let base = index * 3 * plane;
        for (x, y, pixel) in resized.enumerate_pixels() {
            let at = (y * width + x) as usize;
            for (channel, value) in [pixel[2], pixel[1], pixel[0]].into_iter().enumerate() {
                data[base + channel * plane + at] = (f32::from(value) / 255.0 - 0.5) / 0.5;
            }
        }
        used.push(scaled);
    }
    Batch {
        data,
        count: lines.len(),
        width,
        used,
    }
}

/// One recognised character: the alphabet entry and the output step it
/// was read at (steps are evenly spread over the batch width).
#[derive(Debug, Clone, PartialEq)]
pub struct Glyph {
    pub text: String,
    pub step: usize,
    pub confidence: f32,
    /// The highest probability the model gave a space on the steps since
    /// the previous glyph: a space it nearly read.
    pub space_before: f32,
}

/// Greedy CTC decoding of one line's `steps` × `classes` probabilities:
/// the best class per step, repeats merged, blanks (class 0) dropped.
/// `alphabet[i]` is class `i`'s text (`alphabet[0]` the blank).
pub fn decode(probabilities: &[f32], classes: usize, alphabet: &[String]) -> Vec<Glyph> {
    let space = alphabet.iter().position(|a| a == " ");
    let mut glyphs = Vec::new();
    let mut previous = 0usize;
    let mut space_seen = 0f32;
    for (step, row) in probabilities.chunks_exact(classes).enumerate() {
        let (best, p) =
            row.iter().enumerate().fold(
                (0usize, f32::MIN),
                |(bi, bp), (i, &p)| if p > bp { (i, p) } else { (bi, bp) },
            );
        let space_here = space.and_then(|s| row.get(s)).copied().unwrap_or(0.0);
        if best != 0
            && best != previous
            && let Some(text) = alphabet.get(best)
        {
            glyphs.push(Glyph {
                text: text.clone(),
                step,
                confidence: p,
                space_before: space_seen,
            });
            space_seen = 0.0;
        } else {
            space_seen = space_seen.max(space_here);
        }
        previous = best;
    }
    glyphs
}

/// Probability of a space, on the steps between two glyphs, from which
/// the model is taken to have seen one. The recogniser, trained mostly on
/// Chinese, runs Latin words together ("DRIVERLICENSE") while giving the
/// space class 0.03–0.2 at the boundary and under 0.001 inside words
/// (measured on the licence samples).
const SPACE_LIKELY: f32 = 0.01;

/// A line's words: the glyphs split at spaces the model read, at spaces
/// it nearly read ([`SPACE_LIKELY`]) and at gaps twice the line's usual
/// spacing between letters. Each word with its first and last step.
pub fn words(glyphs: &[Glyph]) -> Vec<(String, usize, usize)> {
    let mut gaps: Vec<usize> = glyphs
        .windows(2)
        .filter(|w| !w[0].text.trim().is_empty() && !w[1].text.trim().is_empty())
        .map(|w| w[1].step - w[0].step)
        .collect();
    gaps.sort_unstable();
    let usual = gaps.get(gaps.len() / 2).copied().unwrap_or(2).max(2);
    let wide = 2 * usual;
    let mut words: Vec<(String, usize, usize)> = Vec::new();
    let mut current: Option<(String, usize, usize)> = None;
    let mut last_step = None;
    for glyph in glyphs {
        if glyph.text.trim().is_empty() {
            words.extend(current.take());
            last_step = None;
            continue;
        }
        let split = glyph.space_before >= SPACE_LIKELY
            || last_step.is_some_and(|last| glyph.step - last >= wide);
        if split {
            words.extend(current.take());
        }
        match &mut current {
            Some((text, _, end)) => {
                text.push_str(&glyph.text);
                *end = glyph.step;
            }
            None => current = Some((glyph.text.clone(), glyph.step, glyph.step)),
        }
        last_step = Some(glyph.step);
    }
    words.extend(current);
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alphabet() -> Vec<String> {
        ["blank", "a", "b", "c", " "].map(str::to_owned).to_vec()
    }

    #[test]
    fn ctc_merges_repeats_and_drops_blanks() {
        // Steps: a a blank a b b c
        let classes = 5;
        let best = [1usize, 1, 0, 1, 2, 2, 3];
        let mut probabilities = vec![0.0f32; best.len() * classes];
        for (step, class) in best.iter().enumerate() {
            probabilities[step * classes + class] = 0.9;
        }
        let glyphs = decode(&probabilities, classes, &alphabet());
        let text: String = glyphs.iter().map(|g| g.text.as_str()).collect();
        assert_eq!(text, "aabc");
        assert_eq!(glyphs[0].step, 0);
        assert_eq!(glyphs[2].step, 4);
    }

    #[test]
    fn wide_gaps_and_read_spaces_split_words() {
        let glyph = |text: &str, step| Glyph {
            text: text.to_owned(),
            step,
            confidence: 0.9,
            space_before: 0.0,
        };
        // "ab" then a gap of 6 steps where letters are 2 apart, then "cab",
        // then a space the model read, then "a", then a space it nearly
        // read, then "b".
        let mut nearly = glyph("b", 17);
        nearly.space_before = 0.05;
        let glyphs = [
            glyph("a", 0),
            glyph("b", 2),
            glyph("c", 8),
            glyph("a", 10),
            glyph("b", 12),
            glyph(" ", 13),
            glyph("a", 15),
            nearly,
        ];
        let words: Vec<String> = words(&glyphs).into_iter().map(|w| w.0).collect();
        assert_eq!(words, ["ab", "cab", "a", "b"]);
    }

    #[test]
    fn batches_pad_to_the_widest_line() {
        let short = RgbImage::from_pixel(40, 20, image::Rgb([255, 255, 255]));
        let long = RgbImage::from_pixel(800, 20, image::Rgb([0, 0, 0]));
        let batch = batch(&[&short, &long]);
        assert_eq!(batch.width, 48 * 40);
        assert_eq!(batch.used, [96, 48 * 40]);
        assert_eq!(batch.data.len(), 2 * 3 * 48 * batch.width as usize);
        // White scales to 1, padding stays 0.
        assert_eq!(batch.data[0], 1.0);
        assert_eq!(batch.data[200], 0.0);
    }
}
