"""`edgecnn service` (placeholder: filled in by its issue)."""
