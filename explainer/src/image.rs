//! Loading and normalising images the torchvision way.
