"""Charts for the evalset phase."""

__all__: list[str] = []
