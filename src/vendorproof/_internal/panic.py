"""Recognising a Rust panic surfaced through pyo3 by a compiled dependency."""

from __future__ import annotations

__all__ = ["is_panic"]


def is_panic(exc: BaseException) -> bool:
    """Whether ``exc`` is pyo3's ``pyo3_runtime.PanicException``.

    ``rfc3161-client`` (and ``cryptography``) are written in Rust; a panic in them
    reaches Python as this exception, which derives from ``BaseException`` so that
    ``except Exception`` does not stop it. pyo3 creates the type at run time and it
    cannot be imported, hence the check by name. Callers catch ``BaseException`` at
    the one edge where they hand untrusted bytes to such a library, convert a panic
    into the project's error and re-raise anything else.
    """
    kind = type(exc)
    return kind.__name__ == "PanicException" and kind.__module__ == "pyo3_runtime"
