"""Ray Data / Ray Train entry points."""
