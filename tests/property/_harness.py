"""The contract every parser property test checks, and the Hypothesis profiles.

Contract: any input yields a result or a :class:`vendorproof.errors.Error`, never
another exception, within the profile's deadline and a generous memory bound.
:func:`parses` enforces it. It catches ``BaseException`` so that a pyo3
``PanicException`` (a ``BaseException``, not an ``Exception``) raised by a Rust
extension is reported as a failure Hypothesis can shrink, rather than ending the run.

Profiles (chosen with the environment variable ``VENDORPROOF_HYPOTHESIS_PROFILE``):

``ci``
    the default, used by ``scripts/test``: a few dozen examples per target,
    derandomized (the same inputs on every run, so the suite never flakes).
``fuzz``
    used by ``scripts/fuzz`` (Hypothesis engine): random inputs, thousands of examples per call,
    larger inputs, failures kept in ``.fuzz/examples`` (git-ignored) and replayed
    first on the next run.
``atheris``
    used by ``scripts/fuzz --engine atheris``: as ``fuzz``, but libFuzzer chooses
    the inputs and bounds their time (``-timeout``) instead of a deadline.
"""

from __future__ import annotations

import os
import tracemalloc
import warnings
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from hypothesis import HealthCheck, Phase, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from vendorproof.errors import Error

REPO = Path(__file__).resolve().parents[2]
FUZZ_DIR = REPO / ".fuzz"

_T = TypeVar("_T")

#: Peak Python heap allowed for one parse: a fixed allowance plus a multiple of the
#: input size (generous; it catches blow-ups, not constant factors).
MEMORY_BASE = 64 * 1024 * 1024
MEMORY_PER_INPUT_BYTE = 64

_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile(
    "ci",
    max_examples=25,
    derandomize=True,
    deadline=timedelta(seconds=5),
    database=None,
    print_blob=True,
    suppress_health_check=_SLOW_OK,
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("VENDORPROOF_FUZZ_EXAMPLES", "2000")),
    deadline=timedelta(seconds=10),
    database=DirectoryBasedExampleDatabase(FUZZ_DIR / "examples"),
    # Known crashes carried as explicit examples would stop every call at once.
    phases=[Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    print_blob=True,
    suppress_health_check=_SLOW_OK,
)
settings.register_profile(
    "atheris",
    parent=settings.get_profile("fuzz"),
    max_examples=1_000_000,  # unused: libFuzzer decides how many inputs to run
    deadline=None,  # libFuzzer's -timeout bounds each input instead
)
settings.load_profile(os.environ.get("VENDORPROOF_HYPOTHESIS_PROFILE", "ci"))


def fuzzing() -> bool:
    """Whether the long-budget profile is active (larger inputs are drawn then)."""
    return settings().max_examples > 100


def size(ci: int, fuzz: int) -> int:
    """An input size bound: ``ci`` under the small profile, ``fuzz`` otherwise."""
    return fuzz if fuzzing() else ci


class UnexpectedError(AssertionError):
    """A parser raised something other than a vendorproof error."""


def parses(
    fn: Callable[..., _T], *args: object, input_size: int = 0, **kwargs: object
) -> _T | Error:
    """Run ``fn`` and return its result or the project error it raised.

    Raises:
        UnexpectedError: ``fn`` raised anything else (including a ``BaseException``
            such as a Rust panic), or its peak Python heap exceeded the bound.
    """
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        with warnings.catch_warnings():
            # A library warning about odd input is not a failure (outside pytest it
            # is one line on stderr); everything raised is judged below.
            warnings.simplefilter("ignore")
            result: _T | Error = fn(*args, **kwargs)
    except Error as e:
        result = e
    except (KeyboardInterrupt, UnexpectedError):
        raise
    except BaseException as e:
        msg = f"{type(e).__module__}.{type(e).__qualname__} escaped: {e}"
        raise UnexpectedError(msg) from e
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        if started:
            tracemalloc.stop()
    bound = MEMORY_BASE + MEMORY_PER_INPUT_BYTE * input_size
    if peak > bound:
        msg = f"peak Python heap {peak} bytes for a {input_size}-byte input"
        raise UnexpectedError(msg)
    return result
