"""Charts for the summary page."""

__all__: list[str] = []
