"""Property tests: Notation envelopes (JWS, COSE) and OCI image layout documents.

Mutants of the real notation-go envelopes go through the verifier a delivery meets
them with, and mutants of a layout's ``index.json`` and manifest through the layout
walk; the result is a check list or a project error, never another exception.
"""

from __future__ import annotations

import functools
import json
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cbor2
from hypothesis import given
from hypothesis import strategies as st

from tests.oci import ASSETS, REAL_LAYOUT, REAL_MANIFEST
from tests.property import _seeds as seeds
from tests.property._harness import parses
from tests.property._mutate import byte_mutations, json_documents, mixed
from vendorproof.formats.oci import check_blobs, close_layout, open_layout
from vendorproof.verify.notation import MEDIA_COSE, MEDIA_JWS, Target, verify_notation

_TARGET = Target(
    media_type=REAL_MANIFEST["mediaType"],
    digest=REAL_MANIFEST["digest"],
    size=REAL_MANIFEST["size"],
)


def _verify(raw: bytes, media_type: str) -> None:
    policy = seeds.policy()
    result = verify_notation(
        raw,
        media_type,
        file="sig",
        target=_TARGET,
        principals=policy.vendors,
        role="vendor",
        policy=policy,
        at=datetime(2026, 1, 1, tzinfo=UTC),
        time_source="test",
        requirements=(),
    )
    assert result.checks


@functools.cache
def _jws() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ASSETS / "jws_signature.sig").read_text())
    return data


@given(
    mixed(
        (ASSETS / "jws_signature.sig").read_bytes(),
        lambda _: json_documents(_jws(), max_edits=3),
    )
)
def test_notation_jws(raw: bytes) -> None:
    parses(_verify, raw, MEDIA_JWS, input_size=len(raw))


def _cose_mutants(seed: bytes) -> st.SearchStrategy[bytes]:
    item = cbor2.loads(seed)
    parts = list(item.value)

    def rebuild(protected: bytes) -> bytes:
        return cbor2.dumps(cbor2.CBORTag(18, [protected, *parts[1:]]))

    return st.one_of(byte_mutations(seed), byte_mutations(parts[0]).map(rebuild))


@given(mixed((ASSETS / "cose_signature.sig").read_bytes(), _cose_mutants))
def test_notation_cose(raw: bytes) -> None:
    parses(_verify, raw, MEDIA_COSE, input_size=len(raw))


def _walk(index: bytes) -> None:
    with tempfile.TemporaryDirectory() as work:
        root = Path(work) / "layout"
        shutil.copytree(REAL_LAYOUT, root)
        (root / "index.json").chmod(0o644)
        (root / "index.json").write_bytes(index)
        layout = open_layout(root)
        try:
            check_blobs(layout)
        finally:
            close_layout(layout)


@given(
    mixed(
        (REAL_LAYOUT / "index.json").read_bytes(),
        lambda seed: json_documents(json.loads(seed), max_edits=3),
    )
)
def test_layout_index(raw: bytes) -> None:
    parses(_walk, raw, input_size=len(raw))
