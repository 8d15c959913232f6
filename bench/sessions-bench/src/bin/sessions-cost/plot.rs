//! docs/cost.svg, drawn like docs/benchmark.svg (plotters, SVG): left, a month's cost by
//! service against monthly active users (both axes log scale); right, at 100 000 users, each
//! call of the profile and the stored sessions, stacked by service.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use sessions_bench::pricing::Breakdown;

use crate::report::Months;

/// One colour per service, in [`Breakdown::parts`]' order.
const COLOURS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(23, 190, 207),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
];

type Panel<'a> = DrawingArea<SVGBackend<'a>, Shift>;
type Error = Box<dyn std::error::Error>;

/// Writes the figure: `months` on the left, `lines` (a call's name and its month) on the right.
pub fn write(path: &Path, months: &Months, lines: &[(String, Breakdown)], users: f64) -> Result<(), Error> {
    let root = SVGBackend::new(path, (1200, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, 2));
    by_users(&panels[0], months)?;
    by_call(&panels[1], lines, users)?;
    root.present()?;
    Ok(())
}

fn by_users(panel: &Panel, months: &Months) -> Result<(), Error> {
    let xs: Vec<f64> = months.iter().map(|m| m.0).collect();
    let (x_lo, x_hi) =
        (xs.iter().copied().fold(f64::INFINITY, f64::min) / 1.5, xs.iter().copied().fold(1.0, f64::max) * 1.5);
    let values: Vec<f64> =
        months.iter().flat_map(|(_, b)| b.parts().map(|p| p.1).into_iter().chain([b.total()])).collect();
    let y_hi = values.iter().copied().fold(1.0, f64::max) * 2.0;
    let y_lo = values.iter().copied().filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min).min(y_hi / 10.0) / 2.0;
    let mut chart = ChartBuilder::on(panel)
        .caption("a month, by service", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d((x_lo..x_hi).log_scale(), (y_lo..y_hi).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("monthly active users")
        .y_desc("USD a month")
        .x_label_formatter(&|x| crate::report::thousands(x.round() as u64))
        .draw()?;
    let total: Vec<(f64, f64)> = months.iter().map(|(u, b)| (*u, b.total())).collect();
    chart
        .draw_series(LineSeries::new(total, BLACK.stroke_width(3)).point_size(4))?
        .label("total")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.stroke_width(3)));
    for (i, colour) in COLOURS.iter().enumerate() {
        let points: Vec<(f64, f64)> = months.iter().map(|(u, b)| (*u, b.parts()[i].1)).filter(|p| p.1 > 0.0).collect();
        if points.is_empty() {
            continue;
        }
        let colour = *colour;
        chart
            .draw_series(LineSeries::new(points, colour.stroke_width(2)).point_size(3))?
            .label(Breakdown::default().parts()[i].0)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()?;
    Ok(())
}

fn by_call(panel: &Panel, lines: &[(String, Breakdown)], users: f64) -> Result<(), Error> {
    let x_hi = lines.iter().map(|l| l.1.total()).fold(0.01, f64::max) * 1.15;
    let names: Vec<String> = lines.iter().map(|l| l.0.clone()).collect();
    let mut chart = ChartBuilder::on(panel)
        .caption(format!("a month at {} users, by call", crate::report::thousands(users as u64)), ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(150)
        .build_cartesian_2d(0f64..x_hi, (0..lines.len().saturating_sub(1)).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc("USD a month")
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => names.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .draw()?;
    for (s, colour) in COLOURS.iter().enumerate() {
        let bars = lines.iter().enumerate().map(|(i, (_, b))| {
            let parts = b.parts();
            let start: f64 = parts[..s].iter().map(|p| p.1).sum();
            let mut bar = Rectangle::new(
                [(start, SegmentValue::Exact(i)), (start + parts[s].1, SegmentValue::Exact(i + 1))],
                colour.filled(),
            );
            bar.set_margin(4, 4, 0, 0);
            bar
        });
        let colour = *colour;
        chart
            .draw_series(bars)?
            .label(Breakdown::default().parts()[s].0)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()?;
    Ok(())
}
