r"""Signed checkpoints: C2SP ``tlog-checkpoint`` in C2SP ``signed-note`` envelopes.

A checkpoint (c2sp.org/tlog-checkpoint) is the note text::

    <origin>\n
    <tree size, ASCII decimal, no leading zeroes>\n
    <base64 of the RFC 6962 root hash>\n
    [<extension line>\n ...]

and a signed note (c2sp.org/signed-note) is that text, a blank line, and one or more
signature lines ``— <key name> <base64(key ID || signature)>\n`` (U+2014, spaces).
Ed25519 signatures (type 0x01) are RFC 8032 signatures over the note text, with
``key ID = SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]``. The log's
key name is its origin.

Verifiers follow the signed-note rules: signatures by unknown keys (name and key ID
not both matching a trusted key) are ignored; a signature by a known key that fails
to verify rejects the whole note; a note without a verified signature by a known key
is rejected. Nothing in the text is used before that.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from vendorproof.errors import InvalidInputError, SignatureError, VerificationError
from vendorproof.evidence import tlog
from vendorproof.models._fields import b64decode, b64encode

__all__ = [
    "MAX_NOTE_BYTES",
    "MAX_SIGNATURES",
    "Checkpoint",
    "Cosigner",
    "NoteSigner",
    "NoteVerifier",
    "Signature",
    "Witness",
    "cosignatures",
    "cosigned_message",
    "open_note",
    "parse_signed_note",
    "sign_note",
]

#: Largest signed note accepted (a checkpoint is a few hundred bytes).
MAX_NOTE_BYTES = 1 << 16
#: Most signature lines accepted (the spec asks for at least 16).
MAX_SIGNATURES = 64
_ED25519 = 0x01
_DASH = "\u2014"
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_MAX_SIZE = 2**63 - 1


#: A key name: non-empty, no Unicode whitespace (``str.isspace``), no "+".
_NAME = re.compile(r"[^\s+]+")
#: A control character other than newline.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


def _check_name(name: str, what: str = "key name") -> None:
    try:
        name.encode("utf-8")  # a command-line argument may hold surrogate escapes
    except UnicodeEncodeError:
        msg = f"a {what} must be UTF-8, not {name!r}"
        raise InvalidInputError(msg) from None
    if not _NAME.fullmatch(name):
        msg = f"a {what} must be non-empty, without spaces or '+', not {name!r}"
        raise InvalidInputError(msg)


def _std_b64(value: str, path: str) -> bytes:
    """Canonical standard base64 (RFC 4648 §4) only."""
    if "-" in value or "_" in value:
        raise InvalidInputError("invalid base64: not the standard alphabet", path=path)
    return b64decode(value, path)


def ed25519_key_id(name: str, public: ed25519.Ed25519PublicKey) -> int:
    """The signed-note key ID of an Ed25519 key (big-endian uint32)."""
    raw = public.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([_ED25519]) + raw).digest()
    return int.from_bytes(digest[:4], "big")


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """A trusted Ed25519 note key: its name and public key."""

    name: str
    public: ed25519.Ed25519PublicKey

    def __post_init__(self) -> None:
        _check_name(self.name)

    @property
    def key_id(self) -> int:
        """The key ID signatures by this key carry."""
        return ed25519_key_id(self.name, self.public)

    def vkey(self) -> str:
        """The key as a verifier key line (``name+hex id+base64(0x01 || key)``)."""
        raw = self.public.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return f"{self.name}+{self.key_id:08x}+{b64encode(bytes([_ED25519]) + raw)}"

    @classmethod
    def from_vkey(cls, text: str, *, file: str | None = None) -> NoteVerifier:
        """Parse a verifier key line ``name+hex id+base64(0x01 || 32-byte key)``.

        Raises:
            InvalidInputError: malformed, not Ed25519, or a key ID that does not match.
        """
        try:
            name, hex_id, material = text.strip().split("+", 2)
            raw = _std_b64(material, "key")
            if len(hex_id) != 8 or not re.fullmatch(r"[0-9a-f]{8}", hex_id):
                msg = f"the key ID must be 8 lowercase hex digits, not {hex_id!r}"
                raise InvalidInputError(msg)
            if len(raw) != 33 or raw[0] != _ED25519:
                msg = "only Ed25519 verifier keys (type 0x01, 32 bytes) are supported"
                raise InvalidInputError(msg)
            key = cls(name, ed25519.Ed25519PublicKey.from_public_bytes(raw[1:]))
        except ValueError as exc:
            if isinstance(exc, InvalidInputError):
                raise exc.in_file(file or "") from None
            msg = "a verifier key is name+keyid+base64key"
            raise InvalidInputError(msg, file=file) from exc
        if key.key_id != int(hex_id, 16):
            msg = f"the key ID {hex_id} does not match the key (it is {key.key_id:08x})"
            raise InvalidInputError(msg, file=file)
        return key


@dataclass(frozen=True, slots=True)
class NoteSigner:
    """An Ed25519 note signing key and the name it signs under."""

    name: str
    private: ed25519.Ed25519PrivateKey
    #: The key ID, computed once (a signer signs a checkpoint at every append).
    _key_id: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        key_id = ed25519_key_id(self.name, self.private.public_key())
        object.__setattr__(self, "_key_id", key_id)

    @property
    def verifier(self) -> NoteVerifier:
        """The matching verifier."""
        return NoteVerifier(self.name, self.private.public_key())

    def line(self, text: str) -> str:
        """The signature line for ``text``."""
        sig = self.private.sign(text.encode())
        blob = self._key_id.to_bytes(4, "big") + sig
        return f"{_DASH} {self.name} {b64encode(blob)}\n"


@dataclass(frozen=True, slots=True)
class Signature:
    """One signature line of a note (not verified)."""

    name: str
    key_id: int
    signature: bytes
    line: str


def _check_text(text: str, file: str | None) -> None:
    if not text.endswith("\n"):
        raise InvalidInputError("the note text must end with a newline", file=file)
    bad = _CONTROL.search(text)
    if bad is not None:
        raise InvalidInputError(
            f"a note must not contain the control character {bad.group()!r}",
            file=file,
        )


def sign_note(text: str, signers: Sequence[NoteSigner], *, extra: str = "") -> bytes:
    """``text``, a blank line, the signature lines (then ``extra`` lines as given)."""
    _check_text(text, None)
    if "\n\n" in text:
        msg = "a checkpoint text has no empty line"
        raise InvalidInputError(msg)
    return (text + "\n" + "".join(s.line(text) for s in signers) + extra).encode()


def parse_signed_note(
    data: bytes, *, file: str | None = None
) -> tuple[str, list[Signature]]:
    """Split a signed note into its text and signature lines (nothing verified).

    Raises:
        InvalidInputError: not a signed note (encoding, control characters, no
            blank line, a malformed signature line, too large or too many lines).
    """
    if len(data) > MAX_NOTE_BYTES:
        raise InvalidInputError(
            f"the note is {len(data)} bytes, more than {MAX_NOTE_BYTES}", file=file
        )
    try:
        note = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError("the note is not valid UTF-8", file=file) from exc
    _check_text(note, file)
    split = note.rfind("\n\n")
    if split < 0:
        raise InvalidInputError(
            "not a signed note: no blank line before the signatures", file=file
        )
    text, block = note[: split + 1], note[split + 2 :]
    lines = block.split("\n")[:-1]
    if not lines:
        raise InvalidInputError("the note has no signature line", file=file)
    if len(lines) > MAX_SIGNATURES:
        raise InvalidInputError(
            f"the note has {len(lines)} signature lines, more than {MAX_SIGNATURES}",
            file=file,
        )
    sigs: list[Signature] = []
    for n, line in enumerate(lines, 1):
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != _DASH:
            raise InvalidInputError(
                "a signature line is '\u2014 <key name> <base64 signature>'",
                path=f"signature line {n}",
                file=file,
            )
        name = parts[1]
        try:
            _check_name(name)
            blob = _std_b64(parts[2], f"signature line {n}")
        except InvalidInputError as exc:
            raise InvalidInputError(
                exc.message, path=f"signature line {n}", file=file
            ) from None
        if len(blob) < 5:
            raise InvalidInputError(
                "a signature is a 4-byte key ID and at least one byte",
                path=f"signature line {n}",
                file=file,
            )
        sigs.append(
            Signature(name, int.from_bytes(blob[:4], "big"), blob[4:], line + "\n")
        )
    return text, sigs


def open_note(
    data: bytes, verifiers: Iterable[NoteVerifier], *, file: str | None = None
) -> tuple[str, list[NoteVerifier], list[Signature]]:
    """Verify a signed note: its text, the trusted keys that signed it, all lines.

    Raises:
        InvalidInputError: not a signed note.
        SignatureError: a signature by a trusted key does not verify, or no trusted
            key signed the note (the message names the keys that did sign).
    """
    text, sigs = parse_signed_note(data, file=file)
    known = {(v.name, v.key_id): v for v in verifiers}
    verified: list[NoteVerifier] = []
    for sig in sigs:
        key = known.get((sig.name, sig.key_id))
        if key is None:
            continue  # signed-note: ignore signatures by unknown keys
        try:
            key.public.verify(sig.signature, text.encode())
        except InvalidSignature:
            where = f"{file}: " if file else ""
            msg = (
                f"{where}the signature by {sig.name} (key ID {sig.key_id:08x}) does "
                "not verify: the note was altered or signed with another key"
            )
            raise SignatureError(msg) from None
        if key not in verified:
            verified.append(key)
    if not verified:
        where = f"{file}: " if file else ""
        seen = ", ".join(f"{s.name} (key ID {s.key_id:08x})" for s in sigs)
        trusted = ", ".join(f"{n} (key ID {i:08x})" for n, i in known) or "none"
        msg = (
            f"{where}no signature by a trusted key: signed by {seen}; trusted: "
            f"{trusted}"
        )
        raise SignatureError(msg)
    return text, verified, sigs


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log's tree head: origin, tree size, root hash (and extension lines)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        """The checkpoint note text (c2sp.org/tlog-checkpoint)."""
        lines = [self.origin, str(self.size), b64encode(self.root), *self.extensions]
        return "".join(f"{line}\n" for line in lines)

    @classmethod
    def parse(cls, text: str, *, file: str | None = None) -> Checkpoint:
        """Parse checkpoint note text (already verified).

        Raises:
            InvalidInputError: not three or more non-empty lines, a tree size that is
                not canonical decimal or above 2^63-1, a root hash that is not base64
                of 32 bytes, or a size 0 whose root is not the empty tree's.
        """
        lines = text.split("\n")
        if lines[-1] != "" or len(lines) < 4 or any(not x for x in lines[:-1]):
            raise InvalidInputError(
                "a checkpoint is at least three non-empty lines (origin, tree size, "
                "root hash), each ending with a newline",
                file=file,
            )
        origin, size_text, root_text, *ext = lines[:-1]
        if not _DECIMAL.fullmatch(size_text):
            raise InvalidInputError(
                f"the tree size must be decimal without leading zeroes, not "
                f"{size_text[:40]!r}",
                path="tree size",
                file=file,
            )
        if len(size_text) > len(str(_MAX_SIZE)) or int(size_text) > _MAX_SIZE:
            raise InvalidInputError(
                f"the tree size {size_text[:40]} is larger than 2^63-1",
                path="tree size",
                file=file,
            )
        root = _std_b64(root_text, "root hash") if root_text else b""
        if len(root) != 32:
            raise InvalidInputError(
                f"the root hash is {len(root)} bytes, not 32",
                path="root hash",
                file=file,
            )
        if size_text == "0" and root != tlog.EMPTY_ROOT:
            # RFC 9162 §2.1.1: the hash of an empty list is SHA-256 of "".
            raise InvalidInputError(
                'a tree of size 0 has the root SHA-256("") (RFC 9162 §2.1.1), '
                "not this one",
                path="root hash",
                file=file,
            )
        return cls(origin, int(size_text), root, tuple(ext))

    def sign(self, signers: Sequence[NoteSigner]) -> bytes:
        """The signed note."""
        return sign_note(self.text(), signers)

    @classmethod
    def open(
        cls,
        data: bytes,
        verifiers: Iterable[NoteVerifier],
        *,
        origin: str | None = None,
        file: str | None = None,
    ) -> tuple[Checkpoint, list[NoteVerifier], list[Signature]]:
        """Verify a signed checkpoint, then parse it.

        With ``origin``, the checkpoint must be of that log. The log's key signs
        under the origin's name: a verifier named otherwise does not count for it.

        Raises:
            InvalidInputError: not a signed note or not a checkpoint.
            SignatureError: see :func:`open_note`.
            VerificationError: the checkpoint names another origin.
        """
        text, verified, sigs = open_note(data, verifiers, file=file)
        cp = cls.parse(text, file=file)
        where = f"{file}: " if file else ""
        if origin is not None and cp.origin != origin:
            msg = (
                f"{where}the checkpoint is of the log {cp.origin!r}, not of "
                f"{origin!r} (wrong origin)"
            )
            raise VerificationError(msg)
        return cp, verified, sigs


# --- witness cosignatures (c2sp.org/tlog-cosignature, Ed25519, type 0x04) ------------

_COSIGNATURE = 0x04
_MAX_TIME = 2**63 - 1


def _raw(public: ed25519.Ed25519PublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def cosigned_message(text: str, timestamp: int) -> bytes:
    """What an Ed25519 cosignature v1 signs: header, time line, checkpoint text."""
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


@dataclass(frozen=True, slots=True)
class Witness:
    """A trusted witness: its name and Ed25519 cosigning public key."""

    name: str
    public: ed25519.Ed25519PublicKey

    def __post_init__(self) -> None:
        _check_name(self.name)

    @property
    def key_id(self) -> int:
        """``SHA-256(name || 0x0A || 0x04 || key)[:4]``."""
        data = self.name.encode() + b"\n" + bytes([_COSIGNATURE]) + _raw(self.public)
        return int.from_bytes(hashlib.sha256(data).digest()[:4], "big")

    def vkey(self) -> str:
        """The witness key as a verifier key line (type 0x04)."""
        material = b64encode(bytes([_COSIGNATURE]) + _raw(self.public))
        return f"{self.name}+{self.key_id:08x}+{material}"

    @classmethod
    def from_vkey(cls, text: str, *, file: str | None = None) -> Witness:
        """Parse ``name+hex id+base64(0x04 || 32-byte key)``.

        Raises:
            InvalidInputError: malformed, another type, or a key ID that does not match.
        """
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            msg = "a witness key is name+keyid+base64key"
            raise InvalidInputError(msg, file=file)
        name, hex_id, material = parts
        try:
            raw = _std_b64(material, "key")
        except InvalidInputError as exc:
            raise exc.in_file(file or "") from None
        if len(raw) != 33 or raw[0] != _COSIGNATURE:
            msg = "a witness key is an Ed25519 cosignature key (type 0x04, 32 bytes)"
            raise InvalidInputError(msg, file=file)
        try:
            key = cls(name, ed25519.Ed25519PublicKey.from_public_bytes(raw[1:]))
        except ValueError as exc:
            raise InvalidInputError(str(exc), file=file) from None
        if f"{key.key_id:08x}" != hex_id:
            msg = f"the key ID {hex_id} does not match the key (it is {key.key_id:08x})"
            raise InvalidInputError(msg, file=file)
        return key


@dataclass(frozen=True, slots=True)
class Cosigner:
    """A witness's signing key and name."""

    name: str
    private: ed25519.Ed25519PrivateKey

    @property
    def witness(self) -> Witness:
        """The matching public witness key."""
        return Witness(self.name, self.private.public_key())

    def line(self, text: str, timestamp: int) -> str:
        """The cosignature line for checkpoint ``text`` at ``timestamp``."""
        if not 0 <= timestamp <= _MAX_TIME:
            msg = f"a cosignature time must be 0..2**63-1, not {timestamp}"
            raise ValueError(msg)
        sig = self.private.sign(cosigned_message(text, timestamp))
        blob = self.witness.key_id.to_bytes(4, "big") + timestamp.to_bytes(8, "big")
        return f"{_DASH} {self.name} {b64encode(blob + sig)}\n"


def cosignatures(
    note: bytes, witnesses: Iterable[Witness], *, file: str | None = None
) -> dict[str, int]:
    """The trusted witnesses that cosigned ``note``: name -> POSIX time.

    Lines by unknown keys are ignored (signed-note); a line by a known witness that
    does not verify rejects the note.

    Raises:
        InvalidInputError: not a signed note.
        SignatureError: a known witness's cosignature does not verify.
    """
    text, sigs = parse_signed_note(note, file=file)
    known = {(w.name, w.key_id): w for w in witnesses}
    found: dict[str, int] = {}
    where = f"{file}: " if file else ""
    for sig in sigs:
        w = known.get((sig.name, sig.key_id))
        if w is None:
            continue
        body = sig.signature
        stamp = int.from_bytes(body[:8], "big")
        try:
            if len(body) != 72 or stamp > _MAX_TIME:
                raise InvalidSignature
            w.public.verify(body[8:], cosigned_message(text, stamp))
        except InvalidSignature:
            msg = (
                f"{where}the cosignature by witness {w.name} (key ID {w.key_id:08x}) "
                "does not verify"
            )
            raise SignatureError(msg) from None
        found[w.name] = stamp
    return found
