//! The data behind a figure, written as CSV.

use std::path::Path;

use crate::{Error, Result};

/// A rectangular table of numbers with named columns: exactly what a figure plots.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<f64>>,
    labels: Option<(String, Vec<String>)>,
}

impl Table {
    /// An empty table with the given column names.
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Self {
        Self { header: header.into_iter().map(Into::into).collect(), rows: Vec::new(), labels: None }
    }

    /// A table with a leading text column (e.g. the series name) before the numeric columns.
    pub fn with_label_column<S: Into<String>>(
        label: impl Into<String>,
        header: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            header: header.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
            labels: Some((label.into(), Vec::new())),
        }
    }

    /// The long format of several `(x, y)` series: columns `series, x_name, y_name`.
    pub fn from_series(x_name: &str, y_name: &str, series: &[(&str, &[(f64, f64)])]) -> Self {
        let mut table = Self::with_label_column("series", [x_name, y_name]);
        for (name, points) in series {
            for &(x, y) in *points {
                table.push_labelled(name, vec![x, y]);
            }
        }
        table
    }

    /// Appends a row of numbers. Rows of the wrong length are reported when writing.
    pub fn push(&mut self, row: Vec<f64>) {
        self.rows.push(row);
    }

    /// Appends a row with its label (for tables made by [`Table::with_label_column`]).
    pub fn push_labelled(&mut self, label: &str, row: Vec<f64>) {
        if let Some((_, labels)) = &mut self.labels {
            labels.push(label.to_string());
        }
        self.rows.push(row);
    }

    /// Number of data rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no data rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The CSV text (RFC 4180, written by the `csv` crate, so a label with a comma or a quote
    /// is quoted): a header line, then one line per row; numbers in Rust's shortest
    /// round-trip form, so the CSV holds exactly the `f64` values plotted.
    pub fn to_csv(&self) -> Result<String> {
        let width = self.header.len();
        let mut writer =
            csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
        let mut columns: Vec<&str> = Vec::with_capacity(width + 1);
        if let Some((label, labels)) = &self.labels {
            if labels.len() != self.rows.len() {
                return Err(Error::InvalidData("every row of a labelled table needs a label".into()));
            }
            columns.push(label);
        }
        columns.extend(self.header.iter().map(String::as_str));
        writer.write_record(&columns).map_err(Error::csv)?;
        for (i, row) in self.rows.iter().enumerate() {
            if row.len() != width {
                return Err(Error::InvalidData(format!(
                    "row {i} has {} values, the header has {width} columns",
                    row.len()
                )));
            }
            let mut cells: Vec<String> = Vec::with_capacity(width + 1);
            if let Some((_, labels)) = &self.labels {
                cells.push(labels[i].clone());
            }
            cells.extend(row.iter().map(f64::to_string));
            writer.write_record(&cells).map_err(Error::csv)?;
        }
        let bytes = writer.into_inner().map_err(|e| Error::InvalidData(e.to_string()))?;
        String::from_utf8(bytes).map_err(|e| Error::InvalidData(e.to_string()))
    }

    /// Writes [`Table::to_csv`] to `path`.
    pub fn write_csv(&self, path: &Path) -> Result<()> {
        let text = self.to_csv()?;
        std::fs::write(path, text).map_err(|source| Error::Io { path: path.to_path_buf(), source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trips_numbers_exactly() {
        let mut table = Table::new(["x", "y"]);
        table.push(vec![0.1, 1.0 / 3.0]);
        let csv = table.to_csv().unwrap();
        let line = csv.lines().nth(1).unwrap();
        let values: Vec<f64> = line.split(',').map(|v| v.parse().unwrap()).collect();
        assert_eq!(values, vec![0.1, 1.0 / 3.0]);
    }

    #[test]
    fn long_format_has_series_column() {
        let a = [(0.0, 1.0), (1.0, 2.0)];
        let table = Table::from_series("x", "y", &[("a", &a)]);
        assert_eq!(table.to_csv().unwrap(), "series,x,y\na,0,1\na,1,2\n");
    }

    #[test]
    fn labels_with_commas_and_quotes_are_quoted() {
        let mut table = Table::with_label_column("point", ["x"]);
        table.push_labelled("outlier 1: (0, -3)", vec![0.0]);
        table.push_labelled("say \"hi\"", vec![1.0]);
        let csv = table.to_csv().unwrap();
        assert_eq!(csv, "point,x\n\"outlier 1: (0, -3)\",0\n\"say \"\"hi\"\"\",1\n");
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(&rows[0][0], "outlier 1: (0, -3)");
        assert_eq!(&rows[1][0], "say \"hi\"");
        assert!(rows.iter().all(|r| r.len() == 2));
    }

    #[test]
    fn ragged_rows_are_rejected() {
        let mut table = Table::new(["x", "y"]);
        table.push(vec![1.0]);
        assert!(matches!(table.to_csv(), Err(Error::InvalidData(_))));
    }
}
