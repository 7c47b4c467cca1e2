"""sweep (training side)."""
