//! Registering the embedded font with plotters.

#[cfg(not(target_arch = "wasm32"))]
use std::sync::OnceLock;

#[cfg(not(target_arch = "wasm32"))]
use plotters::style::{FontStyle, register_font};

use crate::{Error, Result};

/// The font family every chart in this crate uses.
pub(crate) const FAMILY: &str = "sans-serif";

/// Registers DejaVu Sans (regular and bold) as plotters' `sans-serif` family.
///
/// plotters' `ab_glyph` backend knows no font until one is registered; drawing text before
/// that fails. Safe to call many times; only the first call registers.
#[cfg(not(target_arch = "wasm32"))]
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

/// In WebAssembly (the book's demos) plotters draws text with the browser's fonts and has no
/// `register_font`; the demos draw no text with plotters, so charts with text are refused.
#[cfg(target_arch = "wasm32")]
pub fn register_fonts() -> Result<()> {
    Err(Error::Draw("charts with text are not drawn in WebAssembly".to_string()))
}
