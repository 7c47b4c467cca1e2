"""`edgecnn run` (placeholder: filled in by its issue)."""
