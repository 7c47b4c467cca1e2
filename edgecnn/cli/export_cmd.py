"""`edgecnn export` (placeholder: filled in by its issue)."""
