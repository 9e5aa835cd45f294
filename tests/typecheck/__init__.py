"""Static typing of the public API (mypy --strict) and the lazy export tables."""
