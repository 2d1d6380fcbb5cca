//! Writing one figure: a PNG drawn by a closure, and the CSV of its data beside it.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::{Error, Result, Table, register_fonts};

/// The drawing area a figure's closure draws on (split it for several panels).
pub type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// The two files a figure consists of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureFiles {
    /// The image.
    pub png: PathBuf,
    /// Exactly the data plotted in [`FigureFiles::png`].
    pub csv: PathBuf,
}

/// Draws a `width × height` PNG `dir/stem.png` with `draw` and writes `data` to `dir/stem.csv`.
///
/// Creates `dir` if needed. The background is white; fonts are registered first.
pub fn write_figure(
    dir: &Path,
    stem: &str,
    data: &Table,
    (width, height): (u32, u32),
    draw: impl FnOnce(&Area) -> Result<()>,
) -> Result<FigureFiles> {
    register_fonts()?;
    std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
    let files = FigureFiles { png: dir.join(format!("{stem}.png")), csv: dir.join(format!("{stem}.csv")) };

    let mut pixels = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(Error::draw)?;
        draw(&root)?;
        root.present().map_err(Error::draw)?;
    }
    image::save_buffer(&files.png, &pixels, width, height, image::ExtendedColorType::Rgb8)
        .map_err(|source| Error::Encode { path: files.png.clone(), source })?;
    data.write_csv(&files.csv)?;
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_png_and_csv_with_same_stem() {
        let dir = tempfile::tempdir().unwrap();
        let mut table = Table::new(["x"]);
        table.push(vec![1.0]);
        let files = write_figure(dir.path(), "blank", &table, (32, 16), |area| {
            area.fill(&BLACK).map_err(Error::draw)
        })
        .unwrap();
        let png = image::open(&files.png).unwrap().to_rgb8();
        assert_eq!(png.dimensions(), (32, 16));
        assert_eq!(png.get_pixel(5, 5).0, [0, 0, 0]);
        assert_eq!(std::fs::read_to_string(&files.csv).unwrap(), "x\n1\n");
    }
}
