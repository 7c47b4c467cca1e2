"""zoo (training side)."""
