//! Writing relevance as NumPy .npy files.
