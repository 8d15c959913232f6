//! docs/benchmark.svg: items read and median latency of list.all (default sort, offset 0)
//! against the number of sessions, ours and the baseline, both axes log scale.

use std::path::Path;

use plotters::prelude::*;

use crate::{Row, median_of};

/// One line of a chart: (sessions, value) points.
pub struct Series {
    pub name: &'static str,
    pub items: Vec<(f64, f64)>,
    pub latency: Vec<(f64, f64)>,
}

/// Ours and the baseline, from the list.all rows with the login-order sort, newest first, offset 0.
pub fn series(rows: &[Row]) -> Vec<Series> {
    let wanted: Vec<&Row> = rows.iter().filter(|r| r.name == "list.all sort loginAt -1, offset 0").collect();
    let mut ours = Series { name: "ours", items: Vec::new(), latency: Vec::new() };
    let mut base = Series { name: "baseline (read all, sort in memory)", items: Vec::new(), latency: Vec::new() };
    for r in wanted {
        let x = r.size as f64;
        ours.items.push((x, median_of(&r.samples, |s| s.items as f64).max(1.0)));
        ours.latency.push((x, median_of(&r.samples, |s| s.latency_ms).max(0.01)));
        if let Some(b) = &r.baseline {
            base.items.push((x, median_of(b, |s| s.items as f64).max(1.0)));
            base.latency.push((x, median_of(b, |s| s.latency_ms).max(0.01)));
        }
    }
    vec![ours, base]
}

fn range(series: &[Series], pick: impl Fn(&Series) -> &Vec<(f64, f64)>) -> (f64, f64) {
    let values: Vec<f64> = series.iter().flat_map(|s| pick(s).iter().map(|p| p.1)).collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(0.0, f64::max);
    if values.is_empty() { (1.0, 10.0) } else { (lo / 2.0, hi * 2.0) }
}

/// Which points of a series a chart draws.
type Pick = fn(&Series) -> &Vec<(f64, f64)>;

pub fn write(path: &Path, series: &[Series]) -> Result<(), Box<dyn std::error::Error>> {
    let xs: Vec<f64> = series.iter().flat_map(|s| s.items.iter().map(|p| p.0)).collect();
    let (x_lo, x_hi) =
        (xs.iter().copied().fold(f64::INFINITY, f64::min).min(1e3) / 1.5, xs.iter().copied().fold(1.0, f64::max) * 1.5);
    let root = SVGBackend::new(path, (1100, 450)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, 2));
    let charts: [(&str, &str, Pick); 2] = [
        ("list.all items read (default sort, offset 0, count 50)", "items read", |s| &s.items),
        ("list.all median latency", "ms", |s| &s.latency),
    ];
    for (panel, (title, y_label, pick)) in panels.iter().zip(charts) {
        let (y_lo, y_hi) = range(series, pick);
        let mut chart = ChartBuilder::on(panel)
            .caption(title, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d((x_lo..x_hi).log_scale(), (y_lo..y_hi).log_scale())?;
        chart.configure_mesh().x_desc("sessions").y_desc(y_label).draw()?;
        for (i, s) in series.iter().enumerate() {
            let color = if i == 0 { BLUE } else { RED };
            chart
                .draw_series(LineSeries::new(pick(s).clone(), color.stroke_width(2)).point_size(4))?
                .label(s.name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        }
        chart.configure_series_labels().border_style(BLACK).background_style(WHITE).draw()?;
    }
    root.present()?;
    Ok(())
}
