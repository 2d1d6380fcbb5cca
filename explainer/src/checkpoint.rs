//! Where torchvision keeps ImageNet weights (VGG-16's, ResNets'), and how a user gets them.
//!
//! `torchvision.models.vgg16(weights="IMAGENET1K_V1")` downloads `vgg16-397923af.pth` into
//! `$TORCH_HOME/hub/checkpoints/` (`TORCH_HOME` defaults to `~/.cache/torch`), and the ResNets
//! their files likewise ([`crate::model::Architecture::torchvision_files`]). We read that file
//! where it is; we never download anything ourselves.

use std::path::{Path, PathBuf};

/// torchvision's cache directory: `$TORCH_HOME/hub/checkpoints`, else
/// `$HOME/.cache/torch/hub/checkpoints`.
pub fn torchvision_cache_dir(torch_home: Option<&Path>, home: Option<&Path>) -> Option<PathBuf> {
    let torch_home = match torch_home {
        Some(dir) => dir.to_path_buf(),
        None => home?.join(".cache").join("torch"),
    };
    Some(torch_home.join("hub").join("checkpoints"))
}

/// The cached weights of `arch`, if torchvision has downloaded them on this machine (looking at
/// the `TORCH_HOME` and `HOME` environment variables).
pub fn find_cached(arch: crate::model::Architecture) -> Option<PathBuf> {
    let torch_home = std::env::var_os("TORCH_HOME").map(PathBuf::from);
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let dir = torchvision_cache_dir(torch_home.as_deref(), home.as_deref())?;
    arch.torchvision_files().iter().map(|file| dir.join(file)).find(|file| file.is_file())
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
