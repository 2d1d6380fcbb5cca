//! Where torchvision keeps VGG-16's ImageNet weights, and how a user gets them.
//!
//! `torchvision.models.vgg16(weights="IMAGENET1K_V1")` downloads `vgg16-397923af.pth` into
//! `$TORCH_HOME/hub/checkpoints/` (`TORCH_HOME` defaults to `~/.cache/torch`). We read that
//! file where it is; we never download anything ourselves.

use std::path::{Path, PathBuf};

/// The file name of torchvision's VGG-16 ImageNet weights.
pub const TORCHVISION_VGG16_FILE: &str = "vgg16-397923af.pth";

// ANCHOR: how_to_get_weights
/// How to obtain VGG-16's weights, for error messages.
pub const HOW_TO_GET_WEIGHTS: &str = "\
Get VGG-16's ImageNet weights in one of these ways, then run again (or pass --weights FILE):
  * with PyTorch installed (downloads 528 MB into torchvision's cache, which we find):
      python3 -c 'import torchvision; torchvision.models.vgg16(weights=\"IMAGENET1K_V1\")'
  * or download timm's safetensors version of the same weights and pass it with --weights:
      https://huggingface.co/timm/vgg16.tv_in1k/resolve/main/model.safetensors";
// ANCHOR_END: how_to_get_weights

/// torchvision's cache directory: `$TORCH_HOME/hub/checkpoints`, else
/// `$HOME/.cache/torch/hub/checkpoints`.
pub fn torchvision_cache_dir(torch_home: Option<&Path>, home: Option<&Path>) -> Option<PathBuf> {
    let torch_home = match torch_home {
        Some(dir) => dir.to_path_buf(),
        None => home?.join(".cache").join("torch"),
    };
    Some(torch_home.join("hub").join("checkpoints"))
}

/// The cached VGG-16 weights file, if torchvision has downloaded it on this machine
/// (looking at the `TORCH_HOME` and `HOME` environment variables).
pub fn find_cached_vgg16() -> Option<PathBuf> {
    let torch_home = std::env::var_os("TORCH_HOME").map(PathBuf::from);
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let file = torchvision_cache_dir(torch_home.as_deref(), home.as_deref())?.join(TORCHVISION_VGG16_FILE);
    file.is_file().then_some(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torch_home_wins_over_home() {
        let dir = torchvision_cache_dir(Some(Path::new("/t")), Some(Path::new("/h"))).unwrap();
        assert_eq!(dir, Path::new("/t/hub/checkpoints"));
        let dir = torchvision_cache_dir(None, Some(Path::new("/h"))).unwrap();
        assert_eq!(dir, Path::new("/h/.cache/torch/hub/checkpoints"));
        assert_eq!(torchvision_cache_dir(None, None), None);
    }
}
