"""Charts for the shadow phase."""

__all__: list[str] = []
