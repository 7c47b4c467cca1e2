"""`edgecnn sweep` (placeholder: filled in by its issue)."""
