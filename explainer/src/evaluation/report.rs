//! The evaluation's results: a table of means with 95 % intervals and the mean pixel-flipping
//! curves, written as Markdown, CSV and a figure (PNG beside the CSV of exactly its data).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use charts::{LineChart, Series, Table};

use super::interval::MeanInterval;
use crate::error::{Error, Result};

/// Size of the flipping figure in pixels.
const FIGURE_SIZE: (u32, u32) = (800, 520);

/// One method's results over all scenes.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodSummary {
    /// The method's name.
    pub method: String,
    /// Relevance mass accuracy (over the scenes where it is defined).
    pub mass_accuracy: MeanInterval,
    /// Scenes without positive relevance, left out of the mass accuracy.
    pub mass_undefined: usize,
    /// Relevance rank accuracy.
    pub rank_accuracy: MeanInterval,
    /// Pointing-game hit rate.
    pub pointing_game: MeanInterval,
    /// AOPC of the most-relevant-first flipping curve.
    pub aopc: MeanInterval,
    /// AOPC minus the AOPC of a random pixel order on the same scene (paired).
    pub aopc_minus_random: MeanInterval,
    /// Spearman's ρ of |R| between the trained and the randomised model.
    pub randomisation: MeanInterval,
    /// Scenes with a constant |R| for either model, left out of ρ.
    pub randomisation_undefined: usize,
    /// Mean flipping curve: (share of pixels removed, mean explained logit).
    pub curve: Vec<(f64, f64)>,
}

/// Everything an evaluation reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// How the numbers were made (e.g. the command line and seeds), printed above the table;
    /// empty unless the caller sets it.
    pub setup: String,
    /// Number of scenes.
    pub scenes: usize,
    /// Share of scenes the model classifies correctly.
    pub accuracy: f64,
    /// Pixel-flipping steps.
    pub steps: usize,
    /// One row per method.
    pub rows: Vec<MethodSummary>,
    /// AOPC of a random pixel order.
    pub random_order_aopc: MeanInterval,
    /// Mean flipping curve of a random pixel order.
    pub random_order_curve: Vec<(f64, f64)>,
}

impl Summary {
    /// The row of the method called `name`.
    pub fn row(&self, name: &str) -> Option<&MethodSummary> {
        self.rows.iter().find(|r| r.method == name)
    }

    /// The table as Markdown: `mean ± half-width` of the 95 % normal-approximation interval.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        if !self.setup.is_empty() {
            let _ = writeln!(out, "{}\n", self.setup);
        }
        let _ = writeln!(
            out,
            "{} scenes, model accuracy {:.3}; mean ± 1.96·sd/√n (95 % normal-approximation interval); \
             pixel flipping in {} steps; random pixel order AOPC {}.\n",
            self.scenes, self.accuracy, self.steps, self.random_order_aopc
        );
        out.push_str(
            "| method | mass accuracy | rank accuracy | pointing game | AOPC | AOPC − random order | randomisation ρ |\n",
        );
        out.push_str("|---|---|---|---|---|---|---|\n");
        for r in &self.rows {
            let undefined =
                |count: usize| if count > 0 { format!(" ({count} undefined)") } else { String::new() };
            let _ = writeln!(
                out,
                "| {} | {}{} | {} | {} | {} | {} | {}{} |",
                r.method,
                r.mass_accuracy,
                undefined(r.mass_undefined),
                r.rank_accuracy,
                r.pointing_game,
                r.aopc,
                r.aopc_minus_random,
                r.randomisation,
                undefined(r.randomisation_undefined)
            );
        }
        out
    }

    /// The table as numbers: per method and metric, `n`, mean and the interval's ends.
    pub fn metrics_table(&self) -> Table {
        let mut table = Table::with_label_column("method_metric", ["n", "mean", "ci_low", "ci_high"]);
        let mut push = |label: String, i: &MeanInterval| {
            table.push_labelled(&label, vec![i.n as f64, i.mean, i.low(), i.high()])
        };
        for r in &self.rows {
            for (metric, interval) in [
                ("mass_accuracy", &r.mass_accuracy),
                ("rank_accuracy", &r.rank_accuracy),
                ("pointing_game", &r.pointing_game),
                ("aopc", &r.aopc),
                ("aopc_minus_random", &r.aopc_minus_random),
                ("randomisation_spearman", &r.randomisation),
            ] {
                push(format!("{}:{metric}", r.method), interval);
            }
        }
        push("random order:aopc".into(), &self.random_order_aopc);
        table
    }

    /// The mean flipping curves, one series per method and the random order.
    fn curve_series(&self) -> Vec<(String, Vec<(f64, f64)>)> {
        let mut series: Vec<(String, Vec<(f64, f64)>)> =
            self.rows.iter().map(|r| (r.method.clone(), r.curve.clone())).collect();
        series.push(("random order".into(), self.random_order_curve.clone()));
        series
    }

    /// Writes `evaluation.md`, `evaluation.csv` and the figure `pixel_flipping.png` with
    /// `pixel_flipping.csv` (exactly its data) into `dir`; returns the paths.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
        let markdown = dir.join("evaluation.md");
        std::fs::write(&markdown, self.to_markdown())
            .map_err(|source| Error::Io { path: markdown.clone(), source })?;
        let csv = dir.join("evaluation.csv");
        self.metrics_table().write_csv(&csv)?;

        let series = self.curve_series();
        let borrowed: Vec<(&str, &[(f64, f64)])> =
            series.iter().map(|(n, p)| (n.as_str(), p.as_slice())).collect();
        let data = Table::from_series("fraction_removed", "mean_logit", &borrowed);
        let mut chart = LineChart::new(
            format!("Pixel flipping, most relevant first ({} scenes)", self.scenes),
            "share of pixels removed",
            "mean logit of the true class",
        );
        for (name, points) in series {
            chart = chart.with_series(if name == "random order" {
                Series::dashed(name, points)
            } else {
                Series::line(name, points)
            });
        }
        let files = charts::write_figure(dir, "pixel_flipping", &data, FIGURE_SIZE, |area| chart.draw(area))?;
        Ok(vec![markdown, csv, files.png, files.csv])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(mean: f64) -> MeanInterval {
        MeanInterval { mean, half_width: 0.01, n: 10 }
    }

    fn summary() -> Summary {
        let row = MethodSummary {
            method: "LRP".into(),
            mass_accuracy: interval(0.8),
            mass_undefined: 0,
            rank_accuracy: interval(0.6),
            pointing_game: interval(0.9),
            aopc: interval(3.0),
            aopc_minus_random: interval(2.0),
            randomisation: interval(0.1),
            randomisation_undefined: 1,
            curve: vec![(0.0, 5.0), (0.5, 1.0)],
        };
        Summary {
            setup: "`evaluate --scenes 10`".into(),
            scenes: 10,
            accuracy: 1.0,
            steps: 1,
            rows: vec![row],
            random_order_aopc: interval(1.0),
            random_order_curve: vec![(0.0, 5.0), (0.5, 4.0)],
        }
    }

    #[test]
    fn markdown_and_csv_hold_every_metric() {
        let s = summary();
        let md = s.to_markdown();
        assert!(md.starts_with("`evaluate --scenes 10`\n\n10 scenes"), "{md}");
        assert!(md.contains("| LRP | 0.800 ± 0.010 | 0.600 ± 0.010 | 0.900 ± 0.010 | 3.000 ± 0.010"), "{md}");
        assert!(md.contains("(1 undefined)"), "{md}");
        let csv = s.metrics_table().to_csv().unwrap();
        assert!(csv.contains("LRP:mass_accuracy,10,0.8,0.79,0.81"), "{csv}");
        assert!(csv.contains("random order:aopc,10,1,"), "{csv}");
        assert!(s.row("LRP").is_some() && s.row("nope").is_none());
    }

    #[test]
    fn writes_table_and_figure() {
        let dir = tempfile::tempdir().unwrap();
        let files = summary().write(dir.path()).unwrap();
        assert_eq!(files.len(), 4);
        let csv = std::fs::read_to_string(dir.path().join("pixel_flipping.csv")).unwrap();
        assert_eq!(
            csv,
            "series,fraction_removed,mean_logit\nLRP,0,5\nLRP,0.5,1\nrandom order,0,5\nrandom order,0.5,4\n"
        );
        assert!(files.iter().all(|f| f.exists()));
    }
}
