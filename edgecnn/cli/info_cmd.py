"""`edgecnn info` (placeholder: filled in by its issue)."""
