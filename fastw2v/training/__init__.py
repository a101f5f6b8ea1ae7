"""Training: the trainer and what it needs (sampling tables, the Huffman tree,
the compiled kernel's front door, checkpoints, progress)."""
