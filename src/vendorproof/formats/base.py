"""The delivery-format adapter contract (``docs/design.md``, "Delivery formats").

An adapter turns one kind of input (a directory, a package file, an archive) into the
format-neutral :class:`~vendorproof.models.delivery.Delivery`; everything after that
(``evaluate_delivery``, intake, evidence records, replay, reports) is the same for
every format. An adapter makes no trust decision: signatures it finds are handed to
the verifier as documents or detached signatures, and what it could not read becomes
a failed finding of the delivery, never an exception (the operator's own inputs and
an input that is no delivery at all are the exceptions: ``InvalidInputError``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol, TypeVar

from vendorproof._internal.memo import Memo
from vendorproof.errors import InvalidInputError
from vendorproof.limits import DEFAULT_LIMITS, Limits
from vendorproof.models.checks import CheckResult
from vendorproof.models.delivery import Delivery, FileState
from vendorproof.models.summary import DeliverySummary, Listing
from vendorproof.verify.delivery import Hasher

__all__ = [
    "CHANGED_AFTER_LOAD",
    "SIGNATURE_INPUT_PREFIX",
    "DeliveryFormat",
    "DocumentCache",
    "ProgressFactory",
    "Salvage",
    "SignatureFile",
    "check_unchanged",
    "refuse_signature_files",
]

_T = TypeVar("_T")

#: Called with the total byte count; a context giving a per-chunk callback (or None).
ProgressFactory = Callable[[int], AbstractContextManager[Callable[[int], None] | None]]


#: Evidence-input name prefix of signatures given beside a delivery.
SIGNATURE_INPUT_PREFIX = "signature:"


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureFile:
    """A signature over the delivery given as a file beside it (``--signature``).

    Vendor-supplied like the delivery itself: the adapter hands it to the verifier
    with the signatures it found inside, and stores it as the evidence input
    :attr:`input_name`, so a replay (``reload``) finds it among the inputs.

    Attributes:
        name: the file's name without its directory (unique among those given).
        data: its bytes, as read (bounded by ``Limits.max_document_bytes``).
    """

    name: str
    data: bytes = field(repr=False)

    @property
    def input_name(self) -> str:
        """``signature:<name>``: the evidence input holding the bytes."""
        return SIGNATURE_INPUT_PREFIX + self.name


#: The error :func:`check_unchanged` raises, naming the file (replay recognises the
#: ``error`` check intake records for it by this exact text).
CHANGED_AFTER_LOAD: Final = (
    "the file changed after it was loaded (its device, inode, size, modification or "
    "change time differ: replaced, written to, or its attributes or links changed): "
    "its listing and metadata may not be those of the bytes that would be measured; "
    "verify it again once nothing writes to it"
)


def check_unchanged(
    expect: FileState | None, found: FileState | None, *, file: str
) -> None:
    """Refuse to measure a delivery file that is not the one that was loaded.

    Raises:
        InvalidInputError: ``expect`` is set and ``found`` (the state of the file the
            hasher reads, by ``fstat`` of its open descriptor) differs from it.
    """
    if expect is None or found == expect:
        return
    raise InvalidInputError(CHANGED_AFTER_LOAD, file=file)


def refuse_signature_files(
    fmt: DeliveryFormat, signatures: Sequence[SignatureFile]
) -> None:
    """Refuse signature files for a format whose signatures are all inside it.

    Raises:
        InvalidInputError: ``signatures`` were given and ``fmt`` takes none (an
            operator input error: exit 3, nothing recorded).
    """
    if signatures and not fmt.signature_files:
        raise InvalidInputError(
            f"a {fmt.name} delivery carries its signatures inside it; signature "
            "files are taken for OCI image layouts only",
            path="--signature",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Salvage:
    """What could still be read of a delivery that did not load.

    Attributes:
        inputs: original artefacts that could be read (stored as evidence inputs).
        listing: what the delivery held, as far as it could be listed.
        errors: ``error`` checks, one per thing that could not be read.
    """

    inputs: Mapping[str, bytes] = field(default_factory=dict)
    listing: Listing = field(default_factory=Listing)
    errors: tuple[CheckResult, ...] = ()


class DocumentCache:
    """Parsed documents by (name, sha256 of the bytes).

    Parsing is a pure function of the bytes, so a replay over many records that
    share documents parses each once. Bounded: cleared when it holds ``size`` entries.
    """

    def __init__(self, size: int = 1024) -> None:
        self._memo: Memo[tuple[str, str], object] = Memo(size)

    def get(self, name: str, data: bytes, parse: Callable[[], _T]) -> _T:
        """``parse()`` once per (name, bytes)."""
        key = (name, hashlib.sha256(data).hexdigest())
        found = self._memo.get(key)
        if found is None:
            found = parse()
            self._memo.put(key, found)
        return found  # type: ignore[return-value]  # stored by this same key


class DeliveryFormat(Protocol):
    """One delivery format: detect, load, measure, load again from evidence."""

    #: The format's name, recorded in every report (``delivery.format``).
    name: str
    #: Whether signatures over the delivery may be given as files beside it
    #: (``load(..., signatures=)``); a format that takes none refuses them.
    signature_files: bool

    def detect(self, path: Path) -> bool:
        """Whether ``path`` is a delivery of this format (cheap: a stat, a magic)."""
        ...

    def load(
        self,
        path: Path,
        *,
        limits: Limits = DEFAULT_LIMITS,
        signatures: Sequence[SignatureFile] = (),
    ) -> Delivery:
        """Read the delivery at ``path``, with ``signatures`` given beside it.

        Malformed vendor documents become failed ``findings``; only an input that
        cannot be read as this format at all raises ``InvalidInputError``. A format
        whose signatures are all inside the delivery refuses ``signatures``
        (:func:`refuse_signature_files`); one that takes them stores each as the
        input :attr:`SignatureFile.input_name` and reads it back in ``reload``.
        """
        ...

    def measure(
        self,
        path: Path,
        progress: ProgressFactory | None = None,
        *,
        expect: FileState | None = None,
    ) -> Hasher:
        """A hasher over the component bytes of the delivery at ``path``.

        ``expect`` is the state the delivery's file had when it was loaded
        (``Delivery.source_state``): a package format's hasher measures only that
        file in that state (:func:`check_unchanged`, when it opens the file and
        after its last read), so that what ``load`` listed and read and what is
        measured are one snapshot. A directory format ignores it.
        """
        ...

    def reload(
        self,
        inputs: Mapping[str, bytes],
        summary: DeliverySummary,
        *,
        workdir: Path,
        images: Path | None,
        cache: DocumentCache | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> Delivery:
        """The delivery again, from its stored inputs and recorded summary (replay).

        ``workdir`` is an empty private directory the adapter may write inputs into;
        ``images`` is the delivery itself when the auditor has it; ``cache`` keeps
        parsed documents across the records of one replay.
        """
        ...

    def salvage(self, path: Path, *, limits: Limits = DEFAULT_LIMITS) -> Salvage:
        """Whatever can be read of a delivery whose ``load`` or verification failed."""
        ...
