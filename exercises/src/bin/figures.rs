//! Draws every figure of the book's exercise chapters, each with the CSV of its data.
//!
//! ```text
//! cargo run --release -p exercises --bin figures               # into book/src/figures/
//! cargo run --release -p exercises --bin figures -- --out DIR
//! ```

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Parser;

/// Regenerate the exercise figures (PNG + CSV of the plotted data, same file stem).
#[derive(Debug, Parser)]
#[command(version, about, long_about = None)]
struct Args {
    /// Directory the figures are written to (created if missing).
    #[arg(long, default_value_os_t = default_out_dir())]
    out: PathBuf,
}

/// `book/src/figures` of this workspace, wherever the command is run from.
fn default_out_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../book/src/figures")
}

fn main() -> Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let mut written: Vec<charts::FigureFiles> = Vec::new();
    written.extend(activation_maximization::figures::write_all(&args.out).context("exercise 1 figures")?);
    written.extend(lrp_min_networks::figures::write_all(&args.out).context("exercise 2 figures")?);
    written.extend(neuralization::figures::write_all(&args.out).context("exercise 3 figures")?);
    for files in &written {
        println!("{}  {}", files.png.display(), files.csv.display());
    }
    println!("{} figures written to {}", written.len(), args.out.display());
    Ok(())
}
