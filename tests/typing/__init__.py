# ruff: noqa: A005 - imported as tests.typing only (the repository root is on sys.path)
"""Static typing of the public API (mypy --strict) and the lazy export tables."""
