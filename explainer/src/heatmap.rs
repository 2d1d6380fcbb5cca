//! Heatmaps of relevance with the sheet's colour law.
