"""`edgecnn models` (placeholder: filled in by its issue)."""
