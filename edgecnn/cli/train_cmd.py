"""`edgecnn train` (placeholder: filled in by its issue)."""
