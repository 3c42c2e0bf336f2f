//! Chart drawing with plotters, to SVG and PNG from the same code.
//!
//! Every chart is 1600 × 900 pixels with fonts sized for a projector
//! (title 46 px, axis titles 32 px, ticks and legends 26 px). PNG text is
//! drawn with DejaVu Sans, shipped in `crates/reports/fonts/` and
//! registered with plotters' `ab_glyph` renderer, so a PNG looks the same on
//! every machine; SVG text is left to the viewer's `sans-serif`.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

pub mod lines;
pub mod timeline;

pub use lines::{Lines, Series};

/// Chart size in pixels.
pub const SIZE: (u32, u32) = (1600, 900);
/// Title font size (px).
pub const TITLE: u32 = 46;
/// Axis title font size (px).
pub const AXIS: u32 = 32;
/// Tick label and legend font size (px).
pub const LABEL: u32 = 26;
/// Font family every chart uses.
pub const FONT: &str = "sans-serif";

static FONT_BYTES: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

/// Registers the shipped font with plotters (once per process).
pub fn register_font() {
    REGISTER.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            // The font is shipped with the crate and known to parse (tested).
            let _ = plotters::style::register_font(FONT, style, FONT_BYTES);
        }
    });
}

/// Colours for series: Tableau 10 without its red, which marks failures.
pub const PALETTE: [RGBColor; 9] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The colour of failures.
pub const FAIL: RGBColor = RGBColor(214, 39, 40);

/// The `i`-th series colour.
#[must_use]
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Something that can be drawn on any plotters backend.
pub trait Draw {
    /// Draws on `area` (already filled white).
    ///
    /// # Errors
    /// A plotters drawing error, as text.
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Maps a plotters error to text.
pub fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Draws `chart` as `<dir>/<id>.svg` and `<dir>/<id>.png` (each written
/// atomically); returns the PNG bytes (the HTML report embeds them).
///
/// # Errors
/// Drawing or writing failed.
pub fn render(chart: &impl Draw, dir: &Path, id: &str) -> Result<Vec<u8>, String> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        chart.draw(&root)?;
        root.present().map_err(err)?;
    }
    crate::write_atomic(&dir.join(format!("{id}.svg")), svg.as_bytes())?;
    let png = render_png(chart)?;
    crate::write_atomic(&dir.join(format!("{id}.png")), &png)?;
    Ok(png)
}

/// Draws `chart` into PNG bytes.
///
/// # Errors
/// Drawing or encoding failed.
pub fn render_png(chart: &impl Draw) -> Result<Vec<u8>, String> {
    register_font();
    let (w, h) = SIZE;
    let mut buf = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        chart.draw(&root)?;
        root.present().map_err(err)?;
    }
    let img = image::RgbImage::from_raw(w, h, buf).ok_or("PNG buffer has the wrong size")?;
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageOutputFormat::Png)
        .map_err(err)?;
    Ok(out.into_inner())
}

/// A readable unit for byte rates: (divisor, unit label).
#[must_use]
pub fn byte_unit(max: f64) -> (f64, &'static str) {
    if max >= 1e9 {
        (1e9, "GB/s")
    } else if max >= 1e6 {
        (1e6, "MB/s")
    } else if max >= 1e3 {
        (1e3, "kB/s")
    } else {
        (1.0, "B/s")
    }
}

/// A y-axis upper bound a bit above `max` (at least `floor`).
#[must_use]
pub fn headroom(max: f64, floor: f64) -> f64 {
    if max.is_finite() && max > 0.0 {
        (max * 1.15).max(floor)
    } else {
        floor
    }
}
