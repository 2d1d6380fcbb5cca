//! The evaluation: every [`Metric`] for every [`Method`] on batches of scenes, recorded per
//! scene ([`SceneTable`]) with the time each explanation took, and the metrics' mean curves.

use std::path::{Path, PathBuf};
use std::time::Instant;

use candle_core::DType;
use charts::{LineChart, Series, Table};

use super::method::Method;
use super::metric::{Batch, Column, Metric};
use super::scene_table::{SceneRow, SceneTable};
use crate::error::{Error, Result};

/// Size of the curve figures in pixels.
const FIGURE_SIZE: (u32, u32) = (800, 520);

/// Sums of one metric's curves, per method.
#[derive(Debug, Clone)]
struct CurveSums {
    metric: usize,
    sums: Vec<Vec<f64>>,
    counts: Vec<usize>,
}

/// Runs every method on each batch, times it, and scores its maps with every metric.
#[derive(Debug)]
pub struct Suite {
    methods: Vec<Method>,
    metrics: Vec<Box<dyn Metric>>,
    table: SceneTable,
    curves: Vec<CurveSums>,
}

impl Suite {
    /// An evaluation of `methods` by `metrics`.
    pub fn new(methods: Vec<Method>, metrics: Vec<Box<dyn Metric>>) -> Self {
        let columns: Vec<Column> = metrics.iter().flat_map(|m| m.columns()).collect();
        let curves = metrics
            .iter()
            .enumerate()
            .filter_map(|(i, m)| m.curve().map(|c| (i, c.x.len())))
            .map(|(metric, points)| CurveSums {
                metric,
                sums: vec![vec![0.0; points]; methods.len()],
                counts: vec![0; methods.len()],
            })
            .collect();
        Self { methods, metrics, table: SceneTable::new(columns), curves }
    }

    /// The methods, in table order.
    pub fn methods(&self) -> &[Method] {
        &self.methods
    }

    /// The per-scene record so far.
    pub fn table(&self) -> &SceneTable {
        &self.table
    }

    /// Evaluates a batch, calling `done(method index, scenes)` after each method.
    pub fn add(&mut self, batch: &Batch, mut done: impl FnMut(usize, usize)) -> Result<()> {
        let n = batch.input.dims4()?.0;
        if batch.classes.len() != n || batch.masks.len() != n || batch.scenes.len() != n {
            return Err(Error::ShapeMismatch {
                what: "classes, masks and scenes of an evaluation batch",
                expected: format!("{n} of each (one per image)"),
                found: format!(
                    "{} classes, {} masks, {} scenes",
                    batch.classes.len(),
                    batch.masks.len(),
                    batch.scenes.len()
                ),
            });
        }
        let predicted =
            batch.model.forward(batch.input)?.argmax(1)?.to_dtype(DType::U32)?.to_vec1::<u32>()?;
        for (index, method) in self.methods.iter().enumerate() {
            let start = Instant::now();
            let maps = method.maps(batch.model, batch.input, batch.classes, batch.scenes)?;
            let seconds = start.elapsed().as_secs_f64() / n as f64;
            let mut values: Vec<Vec<Option<f64>>> = vec![Vec::new(); n];
            for (metric_index, metric) in self.metrics.iter().enumerate() {
                let scores = metric.scores(batch, method, &maps)?;
                let columns = metric.columns().len();
                if scores.values.len() != columns || scores.values.iter().any(|v| v.len() != n) {
                    return Err(Error::ShapeMismatch {
                        what: "a metric's scores",
                        expected: format!("{columns} columns of {n} scenes"),
                        found: format!("{} columns", scores.values.len()),
                    });
                }
                for column in scores.values {
                    for (scene, value) in column.into_iter().enumerate() {
                        values[scene].push(value);
                    }
                }
                if let Some(sums) = self.curves.iter_mut().find(|c| c.metric == metric_index) {
                    for curve in scores.curves.iter().flatten() {
                        for (sum, y) in sums.sums[index].iter_mut().zip(curve) {
                            *sum += y;
                        }
                        sums.counts[index] += 1;
                    }
                }
            }
            for (scene, values) in values.into_iter().enumerate() {
                self.table.rows.push(SceneRow {
                    scene: batch.scenes[scene],
                    method: method.name().to_owned(),
                    correct: predicted[scene] as usize == batch.classes[scene],
                    values,
                    seconds,
                });
            }
            done(index, n);
        }
        Ok(())
    }

    /// Writes `scenes.csv` (every value), `evaluation.md` and `evaluation.csv` (computed from
    /// it) and one figure per curve metric (PNG, with the CSV of exactly its data) into `dir`,
    /// `setup` heading the Markdown table; returns the paths.
    pub fn write(&self, dir: &Path, setup: &str) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
        let write = |name: &str, text: String| -> Result<PathBuf> {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|source| Error::Io { path: path.clone(), source })?;
            Ok(path)
        };
        let summary = self.table.summary()?;
        let mut paths = vec![
            write("scenes.csv", self.table.to_csv())?,
            write("evaluation.md", summary.to_markdown(setup))?,
            write("evaluation.csv", summary.to_csv())?,
        ];
        for sums in &self.curves {
            let Some(spec) = self.metrics[sums.metric].curve() else { continue };
            let series: Vec<(String, Vec<(f64, f64)>)> = self
                .methods
                .iter()
                .enumerate()
                .filter(|(i, _)| sums.counts[*i] > 0)
                .map(|(i, method)| {
                    let scale = 1.0 / sums.counts[i] as f64;
                    let points = spec.x.iter().zip(&sums.sums[i]).map(|(&x, &s)| (x, s * scale)).collect();
                    (method.name().to_owned(), points)
                })
                .collect();
            let borrowed: Vec<(&str, &[(f64, f64)])> =
                series.iter().map(|(n, p)| (n.as_str(), p.as_slice())).collect();
            let data = Table::from_series(spec.axes.0, spec.axes.1, &borrowed);
            let mut chart = LineChart::new(
                format!("{} ({} scenes)", spec.title, summary.scenes),
                spec.axes.0,
                spec.axes.1,
            );
            for (name, points) in series {
                chart = chart.with_series(if name == "random" {
                    Series::dashed(name, points)
                } else {
                    Series::line(name, points)
                });
            }
            let files = charts::write_figure(dir, spec.file, &data, FIGURE_SIZE, |area| chart.draw(area))?;
            paths.extend([files.png, files.csv]);
        }
        Ok(paths)
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor};

    use super::*;
    use crate::evaluation::mask::Mask;
    use crate::evaluation::pixel_flipping::{PixelFlipping, Replacement};
    use crate::evaluation::random_baseline::RandomRelevance;
    use crate::evaluation::standard::{MetricSettings, standard_metrics};
    use crate::model::{Vgg, VggConfig};

    #[test]
    fn records_every_column_of_every_method_and_writes_the_table_from_the_record() {
        let config = VggConfig::from_cfg("small", &[4, 0, 8, 0], 2, vec![16], 3);
        let model = Vgg::random(&config, 3, &Device::Cpu, DType::F64).unwrap();
        let x = Tensor::randn(0f64, 1.0, (4, 3, 8, 8), &Device::Cpu).unwrap();
        let masks: Vec<Mask> = (0..4)
            .map(|i| {
                Mask::new(8, 8, (0..64).map(|p| p % 8 / 3 == i % 2 && p / 8 / 3 == i / 2).collect()).unwrap()
            })
            .collect();
        let settings = MetricSettings {
            flipping: PixelFlipping::new(4, 0.5).unwrap(),
            replacement: Replacement::BackgroundMean,
            random_seed: 1,
            shift: 0.5,
        };
        let metrics = standard_metrics(&model, &settings).unwrap();
        let methods =
            vec![Method::Gradient, Method::GradientTimesInput, Method::Random(RandomRelevance { seed: 2 })];
        let mut suite = Suite::new(methods, metrics);
        let mut done = Vec::new();
        let batch =
            Batch { model: &model, input: &x, classes: &[0, 1, 2, 0], masks: &masks, scenes: &[1, 2, 3, 4] };
        suite.add(&batch, |method, n| done.push((method, n))).unwrap();
        assert_eq!(done, vec![(0, 4), (1, 4), (2, 4)]);
        let table = suite.table();
        // One column per metric column, in list order: what a new metric adds appears here.
        let keys: Vec<&str> = table.columns.iter().map(|c| c.key).collect();
        let listed: Vec<&str> = suite.metrics.iter().flat_map(|m| m.columns()).map(|c| c.key).collect();
        assert_eq!(keys, listed);
        for key in ["mass_accuracy", "aopc", "aopc_minus_random", "randomisation_spearman", "shift_change"] {
            assert!(keys.contains(&key), "{key}: {keys:?}");
        }
        assert_eq!(table.rows.len(), 12);
        let column = |key: &str| keys.iter().position(|k| *k == key).unwrap();
        for row in table.rows.iter().filter(|r| r.method == "random") {
            // Noise ignores model and input: identical under randomisation and shift.
            assert_eq!(row.values[column("randomisation_spearman")], Some(1.0));
            assert_eq!(row.values[column("shift_change")], Some(0.0));
        }
        for row in table.rows.iter().filter(|r| r.method == "Gradient") {
            assert!(row.values[column("randomisation_spearman")].unwrap() < 1.0);
        }
        let dir = tempfile::tempdir().unwrap();
        let files = suite.write(dir.path(), "setup").unwrap();
        assert_eq!(files.len(), 7);
        let written = std::fs::read_to_string(dir.path().join("scenes.csv")).unwrap();
        let parsed = SceneTable::parse(&written, table.columns.clone()).unwrap();
        assert_eq!(&parsed, table);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("evaluation.md")).unwrap(),
            parsed.summary().unwrap().to_markdown("setup")
        );
        let curve = std::fs::read_to_string(dir.path().join("cascading_randomisation.csv")).unwrap();
        // Four layers with parameters: four points per method.
        assert_eq!(curve.lines().filter(|l| l.starts_with("Gradient,")).count(), 4, "{curve}");
    }
}
