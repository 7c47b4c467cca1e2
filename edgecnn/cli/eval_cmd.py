"""`edgecnn eval` (placeholder: filled in by its issue)."""
