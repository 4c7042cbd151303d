"""Charts for the supervision phase."""

__all__: list[str] = []
