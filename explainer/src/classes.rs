//! ImageNet-1k class names and class selection by index or name.
