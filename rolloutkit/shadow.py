"""shadow phase (being written)."""
