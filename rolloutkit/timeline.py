"""timeline phase (being written)."""
