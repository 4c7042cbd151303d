"""Charts for the canary phase."""

__all__: list[str] = []
