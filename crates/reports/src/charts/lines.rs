//! Line (and bar) charts in one or more stacked panels sharing an x axis,
//! with optional vertical marks (a failure injected, a VRRP takeover).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{AXIS, Draw, FONT, LABEL, TITLE, err, headroom};

/// One line (or set of bars) with a legend entry.
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Points (x, y), x ascending.
    pub points: Vec<(f64, f64)>,
    /// Colour.
    pub color: RGBColor,
    /// Dashed line.
    pub dashed: bool,
    /// Draw a dot at each point.
    pub markers: bool,
    /// Draw bars instead of a line (x are category indices).
    pub bars: bool,
}

impl Series {
    /// A solid line.
    #[must_use]
    pub fn line(name: impl Into<String>, points: Vec<(f64, f64)>, color: RGBColor) -> Series {
        Series {
            name: name.into(),
            points,
            color,
            dashed: false,
            markers: false,
            bars: false,
        }
    }
}

/// One panel: a y axis and its series.
#[derive(Clone, Debug, Default)]
pub struct Panel {
    /// Y axis title with unit.
    pub y_label: String,
    /// Series.
    pub series: Vec<Series>,
    /// Fixed y maximum (default: the data's, with headroom).
    pub y_max: Option<f64>,
    /// Whole numbers only on the y axis (counts).
    pub integer: bool,
}

/// A chart of stacked panels.
#[derive(Clone, Debug, Default)]
pub struct Lines {
    /// Title at the top.
    pub title: String,
    /// X axis title with unit.
    pub x_label: String,
    /// Panels, top to bottom.
    pub panels: Vec<Panel>,
    /// X range (default: the data's).
    pub x_range: Option<(f64, f64)>,
    /// Category names when x values are indices 0, 1, 2, …
    pub categories: Option<Vec<String>>,
    /// Vertical marks: (x, short label).
    pub marks: Vec<(f64, String)>,
    /// Legend in the lower right corner (default: upper right).
    pub legend_low: bool,
    /// Legend in the upper left corner (curves that rise to the right).
    pub legend_left: bool,
}

impl Lines {
    fn x_range(&self) -> (f64, f64) {
        if let Some(r) = self.x_range {
            return r;
        }
        if let Some(c) = &self.categories {
            return (-0.5, c.len() as f64 - 0.5);
        }
        let xs = self
            .panels
            .iter()
            .flat_map(|p| p.series.iter())
            .flat_map(|s| s.points.iter().map(|p| p.0));
        let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
        if lo.is_finite() && hi > lo {
            (lo.min(0.0), hi)
        } else {
            (0.0, 1.0)
        }
    }
}

impl Draw for Lines {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let body = root
            .margin(14, 0, 0, 0)
            .titled(&self.title, (FONT, TITLE).into_font())
            .map_err(err)?;
        let n = self.panels.len().max(1);
        let areas = body.split_evenly((n, 1));
        for (i, (panel, area)) in self.panels.iter().zip(areas.iter()).enumerate() {
            self.draw_panel(panel, area, i == 0, i + 1 == n)?;
        }
        Ok(())
    }
}

impl Lines {
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "category index from an x tick"
    )]
    fn draw_panel<DB: DrawingBackend>(
        &self,
        panel: &Panel,
        area: &DrawingArea<DB, Shift>,
        top: bool,
        bottom: bool,
    ) -> Result<(), String> {
        let (x0, x1) = self.x_range();
        let ymax = panel.y_max.unwrap_or_else(|| {
            let m = panel
                .series
                .iter()
                .flat_map(|s| s.points.iter().map(|p| p.1))
                .fold(0.0, f64::max);
            let room = if top && !self.marks.is_empty() {
                1.45
            } else {
                1.0
            };
            headroom(m, 1.0) * room
        });
        let mut chart = ChartBuilder::on(area)
            .margin_left(20)
            .margin_right(50)
            .margin_top(if top { 10 } else { 20 })
            .x_label_area_size(if bottom { 95 } else { 45 })
            .y_label_area_size(150)
            .build_cartesian_2d(x0..x1, 0.0..ymax)
            .map_err(err)?;
        let cats = self.categories.clone();
        let fmt_x = move |x: &f64| match &cats {
            Some(c) => {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 {
                    c.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            }
            None => trim_num(*x),
        };
        let integer = panel.integer;
        let fmt_y = move |y: &f64| {
            if integer && (y - y.round()).abs() > 1e-9 {
                String::new()
            } else {
                trim_num(*y)
            }
        };
        let mut mesh = chart.configure_mesh();
        mesh.y_desc(&panel.y_label)
            .axis_desc_style((FONT, AXIS))
            .label_style((FONT, LABEL))
            .light_line_style(RGBColor(235, 235, 235))
            .bold_line_style(RGBColor(210, 210, 210))
            .x_label_formatter(&fmt_x)
            .y_label_formatter(&fmt_y);
        if let Some(c) = &self.categories {
            mesh.x_labels(c.len() * 2 + 1);
        }
        if bottom {
            mesh.x_desc(&self.x_label);
        }
        mesh.draw().map_err(err)?;
        for (j, (x, label)) in self.marks.iter().enumerate() {
            let style = ShapeStyle::from(&RGBColor(90, 90, 90)).stroke_width(2);
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(*x, 0.0), (*x, ymax)],
                    10,
                    8,
                    style,
                ))
                .map_err(err)?;
            if top {
                // Three staggered rows so that labels of close marks do not overlap.
                let y = ymax * (0.97 - 0.075 * (j % 3) as f64);
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!(" {label}"),
                        (*x, y),
                        (FONT, LABEL - 4).into_font().color(&RGBColor(60, 60, 60)),
                    )))
                    .map_err(err)?;
            }
        }
        let nbars = panel.series.iter().filter(|s| s.bars).count().max(1);
        let mut bar_i = 0;
        for s in &panel.series {
            let c = s.color;
            let style = ShapeStyle::from(&c).stroke_width(4);
            if s.bars {
                let w = 0.7 / nbars as f64;
                let off = -0.35 + w * bar_i as f64;
                bar_i += 1;
                chart
                    .draw_series(s.points.iter().map(|&(x, y)| {
                        Rectangle::new([(x + off, 0.0), (x + off + w * 0.92, y)], c.filled())
                    }))
                    .map_err(err)?
                    .label(&s.name)
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 10), (x + 30, y + 10)], c.filled())
                    });
                continue;
            }
            let ann = if s.dashed {
                chart
                    .draw_series(DashedLineSeries::new(s.points.clone(), 14, 8, style))
                    .map_err(err)?
            } else {
                chart
                    .draw_series(LineSeries::new(s.points.clone(), style))
                    .map_err(err)?
            };
            let dashed = s.dashed;
            ann.label(&s.name).legend(move |(x, y)| {
                let st = ShapeStyle::from(&c).stroke_width(4);
                if dashed {
                    PathElement::new(vec![(x, y), (x + 12, y)], st)
                } else {
                    PathElement::new(vec![(x, y), (x + 34, y)], st)
                }
            });
            if s.markers {
                chart
                    .draw_series(s.points.iter().map(|&p| Circle::new(p, 7, c.filled())))
                    .map_err(err)?;
            }
        }
        if !panel.series.is_empty() {
            chart
                .configure_series_labels()
                .position(if self.legend_low {
                    SeriesLabelPosition::LowerRight
                } else if self.legend_left {
                    SeriesLabelPosition::UpperLeft
                } else {
                    SeriesLabelPosition::UpperRight
                })
                .label_font((FONT, LABEL))
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(120, 120, 120))
                .margin(12)
                .legend_area_size(45)
                .draw()
                .map_err(err)?;
        }
        Ok(())
    }
}

/// A number as a tick label: no trailing zeros, at most 3 decimals.
#[must_use]
pub fn trim_num(x: f64) -> String {
    if x.abs() >= 1e6 {
        return format!("{:.1}M", x / 1e6).replace(".0M", "M");
    }
    if x.abs() >= 1e4 {
        return format!("{:.0}k", x / 1e3);
    }
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

#[cfg(test)]
mod tests {
    use super::trim_num;

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(trim_num(2.5), "2.5");
        assert_eq!(trim_num(10.0), "10");
        assert_eq!(trim_num(0.125), "0.125");
        assert_eq!(trim_num(25_000.0), "25k");
        assert_eq!(trim_num(3_000_000.0), "3M");
        assert_eq!(trim_num(-0.0), "0");
    }
}
