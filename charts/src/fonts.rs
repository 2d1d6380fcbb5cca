//! Registering the embedded font with plotters.

use std::sync::OnceLock;

use plotters::style::{FontStyle, register_font};

use crate::{Error, Result};

/// The font family every chart in this crate uses.
pub(crate) const FAMILY: &str = "sans-serif";

/// Registers DejaVu Sans (regular and bold) as plotters' `sans-serif` family.
///
/// plotters' `ab_glyph` backend knows no font until one is registered; drawing text before
/// that fails. Safe to call many times; only the first call registers.
pub fn register_fonts() -> Result<()> {
    static REGISTERED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            register_font(FAMILY, FontStyle::Normal, dejavu::sans::regular())
                .map_err(|_| "DejaVu Sans regular is not a valid font".to_string())?;
            register_font(FAMILY, FontStyle::Bold, dejavu::sans::bold())
                .map_err(|_| "DejaVu Sans bold is not a valid font".to_string())
        })
        .clone()
        .map_err(Error::Draw)
}
