"""canary phase (being written)."""
