"""Audio input/output, loudness, mastering and the quality meter."""
