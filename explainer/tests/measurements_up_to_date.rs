//! The committed measurements of the book (`book/src/measurements/`, written by `evaluate` at its
//! defaults) are what `evaluate` computes now, checked in two parts that together take about a
//! minute (the whole evaluation takes several):
//!
//! 1. the table (`evaluation.md`, `evaluation.csv`) is exactly what the committed per-scene
//!    record `scenes.csv` gives: every mean and interval is recomputed from it;
//! 2. `scenes.csv` holds what `evaluate` measures now: its first batch of scenes is measured
//!    again for a few methods (the fast ones and one of each kind) and every value must be
//!    the committed one, bit for bit (only the wall times differ).

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use candle_core::{DType, Device};
use explainer::evaluation::{
    Column, MetricSettings, PixelFlipping, Replacement, SceneRow, SceneTable, standard_metrics,
};
use explainer::shipped::shapes_model;

/// Scenes per batch at `evaluate`'s defaults: the recomputed batch is the committed first one.
const BATCH: &str = "10";
/// The methods measured again.
const METHODS: &str = "Gradient,Integrated Gradients,Occlusion,LRP sheet,random";

fn committed(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../book/src/measurements").join(name)
}

fn columns() -> Vec<Column> {
    let model = shapes_model(&Device::Cpu, DType::F32).unwrap();
    let settings = MetricSettings {
        flipping: PixelFlipping::new(20, 0.2).unwrap(),
        replacement: Replacement::BackgroundMean,
        random_seed: 1,
        shift: 0.5,
    };
    standard_metrics(&model, &settings).unwrap().iter().flat_map(|m| m.columns()).collect()
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_books_table_is_computed_from_the_committed_scene_record() {
    let table = SceneTable::parse(&read(committed("scenes.csv")), columns()).unwrap();
    let summary = table.summary().unwrap();
    assert_eq!(
        summary.to_csv(),
        read(committed("evaluation.csv")),
        "evaluation.csv is not scenes.csv's summary"
    );
    let markdown = read(committed("evaluation.md"));
    let setup = markdown.lines().next().unwrap();
    assert_eq!(summary.to_markdown(setup), markdown, "evaluation.md is not scenes.csv's summary");
    assert!(summary.scenes >= 100, "the book's table covers {} scenes", summary.scenes);
}

#[test]
fn the_committed_scene_record_is_what_evaluate_measures_now() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_evaluate"))
        .args(["--scenes", BATCH, "--batch", BATCH, "--methods", METHODS, "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let columns = columns();
    let now = SceneTable::parse(&read(dir.path().join("scenes.csv")), columns.clone()).unwrap();
    let then = SceneTable::parse(&read(committed("scenes.csv")), columns).unwrap();
    let by_key: HashMap<(u64, &str), &SceneRow> =
        then.rows.iter().map(|r| ((r.scene, r.method.as_str()), r)).collect();
    assert_eq!(now.rows.len(), 10 * METHODS.split(',').count());
    for row in &now.rows {
        let committed = by_key
            .get(&(row.scene, row.method.as_str()))
            .unwrap_or_else(|| panic!("scenes.csv has no row for {} on scene {}", row.method, row.scene));
        assert_eq!(
            (row.correct, &row.values),
            (committed.correct, &committed.values),
            "{} on scene {}: scenes.csv is stale, run `evaluate` and commit",
            row.method,
            row.scene
        );
    }
}
