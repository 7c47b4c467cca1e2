"""export (training side)."""
