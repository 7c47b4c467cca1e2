"""data (training side)."""
