//! Every score of every method on every scene: the evaluation's raw record (`scenes.csv`), from
//! which the summary table is computed.

use std::fmt::Write as _;

use super::interval::MeanInterval;
use super::metric::Column;
use crate::error::{Error, Result};

/// Value columns per Markdown table: the book's pages are 750 pixels wide.
const COLUMNS_PER_TABLE: usize = 3;

/// One method on one scene.
#[derive(Debug, Clone, PartialEq)]
pub struct SceneRow {
    /// The scene's seed.
    pub scene: u64,
    /// The method's name.
    pub method: String,
    /// Whether the model classified the scene correctly.
    pub correct: bool,
    /// One value per column (`None`: undefined for this scene).
    pub values: Vec<Option<f64>>,
    /// Wall time to explain the scene (its batch's time over its size), in seconds.
    pub seconds: f64,
}

/// The per-scene record of an evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct SceneTable {
    /// The metrics' columns, in order.
    pub columns: Vec<Column>,
    /// The rows, in the order they were measured.
    pub rows: Vec<SceneRow>,
}

/// One cell of the summary: the interval over the scenes where the value is defined, and how
/// many were not (`interval` is `None` with fewer than two defined values).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    /// Mean and 95 % interval.
    pub interval: Option<MeanInterval>,
    /// Scenes where the value is undefined.
    pub undefined: usize,
}

/// One method's row of the summary.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    /// The method.
    pub method: String,
    /// One cell per column.
    pub cells: Vec<Cell>,
    /// Seconds per scene.
    pub seconds: Cell,
}

/// Means with 95 % intervals per method and column, computed from a [`SceneTable`].
#[derive(Debug, Clone, PartialEq)]
pub struct TableSummary {
    /// The columns.
    pub columns: Vec<Column>,
    /// Number of distinct scenes.
    pub scenes: usize,
    /// Share of the scenes the model classifies correctly.
    pub accuracy: f64,
    /// One row per method, in order of first appearance.
    pub rows: Vec<SummaryRow>,
}

impl SceneTable {
    /// An empty table with `columns`.
    pub fn new(columns: Vec<Column>) -> Self {
        Self { columns, rows: Vec::new() }
    }

    /// The CSV text: `scene,method,correct,<column keys>,seconds`, numbers in Rust's shortest
    /// round-trip form (so parsing gives the same `f64`s), an undefined value as an empty field.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("scene,method,correct");
        for c in &self.columns {
            let _ = write!(out, ",{}", c.key);
        }
        out.push_str(",seconds\n");
        for row in &self.rows {
            let _ = write!(out, "{},{},{}", row.scene, row.method, u8::from(row.correct));
            for v in &row.values {
                match v {
                    Some(v) => {
                        let _ = write!(out, ",{v}");
                    }
                    None => out.push(','),
                }
            }
            let _ = writeln!(out, ",{}", row.seconds);
        }
        out
    }

    /// Parses [`SceneTable::to_csv`]'s text, whose header must name exactly `columns`.
    pub fn parse(text: &str, columns: Vec<Column>) -> Result<Self> {
        let bad = |line: usize, why: String| Error::InvalidParameter {
            name: "scene table",
            value: format!("line {line}"),
            why,
        };
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default();
        let expected = Self::new(columns.clone()).to_csv();
        if Some(header) != expected.lines().next() {
            return Err(bad(1, format!("header {header:?}, expected {:?}", expected.lines().next())));
        }
        let mut rows = Vec::new();
        for (i, line) in lines.enumerate() {
            let fields: Vec<&str> = line.split(',').collect();
            if fields.len() != columns.len() + 4 {
                return Err(bad(i + 2, format!("{} fields, expected {}", fields.len(), columns.len() + 4)));
            }
            let number = |text: &str| text.parse::<f64>().map_err(|e| bad(i + 2, format!("{text:?}: {e}")));
            let values = fields[3..3 + columns.len()]
                .iter()
                .map(|f| if f.is_empty() { Ok(None) } else { number(f).map(Some) })
                .collect::<Result<Vec<_>>>()?;
            rows.push(SceneRow {
                scene: fields[0].parse().map_err(|e| bad(i + 2, format!("scene: {e}")))?,
                method: fields[1].to_owned(),
                correct: fields[2] == "1",
                values,
                seconds: number(fields[columns.len() + 3])?,
            });
        }
        Ok(Self { columns, rows })
    }

    /// Means with 95 % normal-approximation intervals ([`MeanInterval::normal_95`]) per
    /// method and column, over the scenes where each value is defined.
    pub fn summary(&self) -> Result<TableSummary> {
        let mut methods: Vec<&str> = Vec::new();
        for row in &self.rows {
            if !methods.contains(&row.method.as_str()) {
                methods.push(&row.method);
            }
        }
        let cell = |values: Vec<Option<f64>>| -> Result<Cell> {
            let defined: Vec<f64> = values.iter().flatten().copied().collect();
            let interval = if defined.len() >= 2 { Some(MeanInterval::normal_95(&defined)?) } else { None };
            Ok(Cell { interval, undefined: values.len() - defined.len() })
        };
        let rows = methods
            .iter()
            .map(|&method| {
                let mine: Vec<&SceneRow> = self.rows.iter().filter(|r| r.method == method).collect();
                let cells = (0..self.columns.len())
                    .map(|c| cell(mine.iter().map(|r| r.values[c]).collect()))
                    .collect::<Result<Vec<_>>>()?;
                Ok(SummaryRow {
                    method: method.to_owned(),
                    cells,
                    seconds: cell(mine.iter().map(|r| Some(r.seconds)).collect())?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut scenes: Vec<(u64, bool)> = self.rows.iter().map(|r| (r.scene, r.correct)).collect();
        scenes.sort_unstable();
        scenes.dedup_by_key(|s| s.0);
        let correct = scenes.iter().filter(|s| s.1).count();
        Ok(TableSummary {
            columns: self.columns.clone(),
            scenes: scenes.len(),
            accuracy: correct as f64 / scenes.len().max(1) as f64,
            rows,
        })
    }
}

impl TableSummary {
    /// The table as Markdown, `mean ± half-width`, milliseconds per scene last, split into
    /// tables of three value columns.
    pub fn to_markdown(&self, setup: &str) -> String {
        let mut out = String::new();
        if !setup.is_empty() {
            let _ = writeln!(out, "{setup}\n");
        }
        let _ = writeln!(
            out,
            "{} scenes, model accuracy {:.3}; mean ± 1.96·sd/√n (95 % normal-approximation interval) over the \
             scenes where a value is defined (the count of the others in parentheses); time: wall time to \
             explain one scene with the trained model, in milliseconds (batched, 2 threads).\n",
            self.scenes, self.accuracy
        );
        // Every value column, the time last, in tables of COLUMNS_PER_TABLE (one wide table
        // does not fit a page).
        let mut cells: Vec<(&str, Vec<String>)> = self
            .columns
            .iter()
            .enumerate()
            .map(|(c, column)| {
                let values = self
                    .rows
                    .iter()
                    .map(|row| {
                        let cell = &row.cells[c];
                        let value = cell.interval.map_or_else(|| "—".to_string(), |i| format!("{i:.3}"));
                        match cell.undefined {
                            0 => value,
                            n => format!("{value} ({n} undefined)"),
                        }
                    })
                    .collect();
                (column.heading, values)
            })
            .collect();
        // Every scene of a batch gets the batch's mean time: only the mean is shown.
        let times = self
            .rows
            .iter()
            .map(|row| format!("{:.1}", row.seconds.interval.map_or(f64::NAN, |i| 1000.0 * i.mean)))
            .collect();
        cells.push(("ms per scene", times));
        for (part, chunk) in cells.chunks(COLUMNS_PER_TABLE).enumerate() {
            if part > 0 {
                out.push('\n');
            }
            out.push_str("| method |");
            for (heading, _) in chunk {
                let _ = write!(out, " {heading} |");
            }
            out.push_str("\n|---|");
            out.push_str(&"---|".repeat(chunk.len()));
            out.push('\n');
            for (r, row) in self.rows.iter().enumerate() {
                let _ = write!(out, "| {} |", row.method);
                for (_, values) in chunk {
                    let _ = write!(out, " {} |", values[r]);
                }
                out.push('\n');
            }
        }
        out
    }

    /// The table as numbers: per method and column, `n`, mean and the interval's ends.
    pub fn to_csv(&self) -> String {
        let mut out = String::from("method_metric,n,undefined,mean,ci_low,ci_high\n");
        for row in &self.rows {
            let keys = self.columns.iter().map(|c| c.key).chain(std::iter::once("seconds"));
            for (key, cell) in keys.zip(row.cells.iter().chain(std::iter::once(&row.seconds))) {
                match cell.interval {
                    Some(i) => {
                        let _ = writeln!(
                            out,
                            "{}:{key},{},{},{},{},{}",
                            row.method,
                            i.n,
                            cell.undefined,
                            i.mean,
                            i.low(),
                            i.high()
                        );
                    }
                    None => {
                        let _ = writeln!(out, "{}:{key},0,{},,,", row.method, cell.undefined);
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: [Column; 2] = [Column { key: "a", heading: "A" }, Column { key: "b", heading: "B" }];

    fn table() -> SceneTable {
        let row = |scene, method: &str, a, b: Option<f64>| SceneRow {
            scene,
            method: method.into(),
            correct: scene != 2,
            values: vec![Some(a), b],
            seconds: 0.001 * scene as f64,
        };
        SceneTable {
            columns: COLUMNS.to_vec(),
            rows: vec![
                row(1, "m", 1.0, Some(0.1)),
                row(2, "m", 2.0, None),
                row(3, "m", 3.0, Some(0.3)),
                row(1, "n", 0.5, Some(1.0 / 3.0)),
                row(2, "n", 0.25, None),
                row(3, "n", 0.125, None),
            ],
        }
    }

    #[test]
    fn csv_round_trips_exactly() {
        let t = table();
        let text = t.to_csv();
        assert!(
            text.starts_with("scene,method,correct,a,b,seconds\n1,m,1,1,0.1,0.001\n2,m,0,2,,0.002\n"),
            "{text}"
        );
        assert_eq!(SceneTable::parse(&text, COLUMNS.to_vec()).unwrap(), t);
        assert!(SceneTable::parse(&text, COLUMNS[..1].to_vec()).is_err());
        assert!(
            SceneTable::parse("scene,method,correct,a,b,seconds\n1,m,1,x,,0\n", COLUMNS.to_vec()).is_err()
        );
    }

    #[test]
    fn summary_counts_undefined_values_and_scenes() {
        let s = table().summary().unwrap();
        assert_eq!((s.scenes, s.rows.len()), (3, 2));
        assert!((s.accuracy - 2.0 / 3.0).abs() < 1e-15);
        let m = &s.rows[0];
        assert_eq!(m.cells[0].interval.unwrap().mean, 2.0);
        assert_eq!((m.cells[1].interval.unwrap().n, m.cells[1].undefined), (2, 1));
        // One defined value: no interval.
        assert_eq!((s.rows[1].cells[1].interval, s.rows[1].cells[1].undefined), (None, 2));
        let md = s.to_markdown("setup");
        // m: a = (1, 2, 3), mean 2, s = 1, half-width 1.96/√3 = 1.132; b = (0.1, 0.3), mean 0.2,
        // s = √0.02, half-width 1.96·0.1 = 0.196; times 1, 2, 3 ms, mean 2.
        assert!(md.contains("| m | 2.000 ± 1.132 | 0.200 ± 0.196 (1 undefined) | 2.0 |\n"), "{md}");
        // n: a = (0.5, 0.25, 0.125), mean 0.2917, s = 0.1909, half-width 0.216.
        assert!(md.contains("| n | 0.292 ± 0.216 | — (2 undefined) | 2.0 |\n"), "{md}");
        // Three columns (a, b, time) fit one table.
        assert_eq!(md.matches("| method |").count(), 1, "{md}");
        let csv = s.to_csv();
        assert!(csv.contains("m:a,3,0,2,") && csv.contains("n:b,0,2,,,"), "{csv}");
    }
}
