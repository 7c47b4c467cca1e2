"""`edgecnn inspect` (placeholder: filled in by its issue)."""
