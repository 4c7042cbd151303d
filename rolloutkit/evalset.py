"""evalset phase (being written)."""
