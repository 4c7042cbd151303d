"""Charts for the timeline phase."""

__all__: list[str] = []
