"""The mixing layer: the mix critic (what an engineer checks), the targets it checks against,
the words that move them, and the mixing teacher that searches the writer language for a mix
the critic passes (`teacher.teach`)."""
