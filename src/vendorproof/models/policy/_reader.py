"""The reading primitives of the policy parser (``parser.py``).

Every field is read with the accessors of ``models/_fields.py`` and every error located
the same way as in the predicates (a field path), plus the YAML line (``YamlDoc``).
Certificate and key files are referenced relative to the policy file (or given inline
as PEM) and their bytes are kept for evidence (``Reader.referenced``). The section
parsers (``_trust.py``, ``_certification.py``, ``_supply_chain.py``) build on
``Reader``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any, TypeVar

from cryptography import x509

from vendorproof._internal import crypto
from vendorproof._internal.pem import load_certificates, load_crl
from vendorproof._internal.yamlio import YamlDoc, check_keys
from vendorproof.errors import InvalidInputError
from vendorproof.limits import Limits
from vendorproof.models import _fields as f
from vendorproof.models._fields import Path
from vendorproof.models.policy.parts import Resolver

__all__ = ["Reader"]

_T = TypeVar("_T")

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _encodable(text: str) -> bool:
    """Whether ``text`` is valid Unicode (no lone surrogates), so a path can use it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _or_empty(value: Any) -> Any:
    """An absent or null section means its defaults; anything else is parsed as is."""
    return {} if value is None else value


class Reader:
    """Typed, located access to the fields of one policy document."""

    def __init__(self, doc: YamlDoc, resolve: Resolver, limits: Limits) -> None:
        self.doc = doc
        self.resolve = resolve
        self.limits = limits
        self.referenced: dict[str, bytes] = {}

    # -- typed access: the accessors of models/_fields.py, located in the document --
    def fail(self, message: str, at: Path) -> InvalidInputError:
        return self.doc.locate(f.error(message, at), at)

    def located(self, e: InvalidInputError, at: Path) -> InvalidInputError:
        """``e``, raised by an accessor on the value at ``at``, located there."""
        return self.doc.locate(f.relocate(e, at), at)

    def check(self, at: Path, read: Callable[[], _T]) -> _T:
        """Run a ``_fields`` accessor on the value at ``at``; locate its error there."""
        try:
            return read()
        except InvalidInputError as e:
            raise self.located(e, at) from e

    def mapping(
        self,
        value: Any,
        at: Path,
        *,
        known: frozenset[str],
        required: frozenset[str] = frozenset(),
    ) -> Mapping[str, Any]:
        mapping: dict[str, Any] = self.check(at, lambda: f.check_type(value, dict, ""))
        check_keys(self.doc, mapping, at=at, known=known, required=required)
        return mapping

    def string(self, value: Any, at: Path) -> str:
        return self.check(at, lambda: f.check_text(value))

    def strings(
        self, value: Any, at: Path, *, allowed: frozenset[str] | None = None
    ) -> frozenset[str]:
        out = set()
        for i, item in enumerate(self.items(value, at)):
            s = self.string(item, (*at, i))
            if allowed is not None:
                self.choice(s, (*at, i), tuple(sorted(allowed)))
            out.add(s)
        return frozenset(out)

    def entries(
        self,
        value: Any,
        at: Path,
        *,
        known: frozenset[str],
        required: frozenset[str] = frozenset(),
    ) -> Iterator[tuple[Path, Mapping[str, Any]]]:
        """The mappings of a list section, each checked for its keys, with its path."""
        for i, item in enumerate(self.items(value, at)):
            where = (*at, i)
            yield where, self.mapping(item, where, known=known, required=required)

    def items(self, value: Any, at: Path) -> list[Any]:
        if value is None:
            return []
        return self.check(at, lambda: f.check_type(value, list, ""))

    def time(self, value: Any, at: Path) -> datetime:
        return self.check(at, lambda: f.check_time(value))

    def integer(self, value: Any, at: Path, *, minimum: int) -> int:
        return self.check(at, lambda: f.check_int(value, "", minimum=minimum))

    def choice(self, value: Any, at: Path, allowed: tuple[str, ...]) -> str:
        return self.check(at, lambda: f.check_choice(value, allowed))

    # -- referenced material ----------------------------------------------------
    def material(self, ref: Any, at: Path) -> tuple[str, bytes]:
        text = self.string(ref, at)
        if text.lstrip().startswith("-----BEGIN"):
            data = text.encode("ascii", "replace")
            name = "inline:" + hashlib.sha256(data).hexdigest()[:16]
        else:
            if _CONTROL.search(text) or not _encodable(text):
                # NUL cannot be in a path, a lone surrogate cannot be encoded for the
                # OS, and control characters have no place in a file name we print.
                raise self.fail(f"not a usable file reference: {text!r}", at)
            try:
                data = self.resolve(text)
            except InvalidInputError as e:
                raise self.fail(f"cannot load {text!r}: {e}", at) from e
            name = text
        self.referenced[name] = data
        return name, data

    def certs(self, value: Any, at: Path) -> tuple[x509.Certificate, ...]:
        out: list[x509.Certificate] = []
        for i, ref in enumerate(self.items(value, at)):
            name, data = self.material(ref, (*at, i))
            try:
                out.extend(load_certificates(data, file=name, limits=self.limits))
            except InvalidInputError as e:
                raise self.fail(str(e), (*at, i)) from e
        return tuple(out)

    def keys(self, value: Any, at: Path) -> Mapping[str, crypto.PublicKey]:
        out: dict[str, crypto.PublicKey] = {}
        for i, ref in enumerate(self.items(value, at)):
            name, data = self.material(ref, (*at, i))
            try:
                key = crypto.load_public_key(data, file=name)
            except InvalidInputError as e:
                raise self.fail(str(e), (*at, i)) from e
            out[crypto.key_id(key)] = key
        return MappingProxyType(out)

    def crl_list(
        self, value: Any, at: Path
    ) -> tuple[x509.CertificateRevocationList, ...]:
        out = []
        for i, ref in enumerate(self.items(value, at)):
            name, data = self.material(ref, (*at, i))
            try:
                out.append(load_crl(data, file=name))
            except InvalidInputError as e:
                raise self.fail(str(e), (*at, i)) from e
        return tuple(out)

    # -- optional values and defaults -------------------------------------------
    def optional_text(self, value: Any, at: Path) -> str:
        if value is None:
            return ""
        return self.check(at, lambda: f.check_type(value, str, ""))

    def flag(self, value: Any, at: Path) -> bool:
        if value is None:
            return False
        return self.check(at, lambda: f.check_type(value, bool, ""))

    def enum_value(
        self, value: Any, at: Path, allowed: tuple[str, ...], default: str
    ) -> str:
        if value is None:
            return default
        return self.choice(value, at, allowed)
