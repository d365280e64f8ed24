"""producer: an AI hip-hop music producer built on Ray."""
