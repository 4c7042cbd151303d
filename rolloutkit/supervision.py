"""supervision phase (being written)."""
