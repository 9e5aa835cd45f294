"""Detached CMS signatures beside files of a directory delivery: what the adapter reads.

``<file>.cms`` / ``<file>.p7s`` beside a delivered file is a detached signature
(an input, still in the listing); anything else with those suffixes is payload.
``reload`` gives the same signatures from the stored inputs and the listing.
"""

from __future__ import annotations

from pathlib import Path

from tests.builders import DeliveryBuilder
from vendorproof.formats.directory import DirectoryFormat, signed_file
from vendorproof.limits import Limits
from vendorproof.models.checks import Outcome
from vendorproof.models.summary import DeliverySummary, Listing


def test_signed_file_names() -> None:
    assert signed_file("images/du.img.cms") == "images/du.img"
    assert signed_file("images/du.img.p7s") == "images/du.img"
    assert signed_file("du.img.P7S") is None  # suffixes are case-sensitive
    assert signed_file(".cms") is None
    assert signed_file("images/.cms") is None
    assert signed_file("attestations/x.cms") is None
    assert signed_file("in-toto/x.p7s") is None
    assert signed_file("images/du.img") is None


def test_load_and_reload_agree(tmp_path: Path) -> None:
    root = tmp_path / "d"
    DeliveryBuilder(root).standard()
    (root / "images" / "du.img.cms").write_bytes(b"pem cms")
    (root / "images" / "cu.img.p7s").write_bytes(b"der cms")
    (root / "images" / "cu.img.cms").write_bytes(b"second")
    (root / "orphan.bin.cms").write_bytes(b"signs nothing delivered")
    (root / "attestations" / "x.cms").write_bytes(b"not read")
    fmt = DirectoryFormat()
    loaded = fmt.load(root)
    assert [(s.file, s.target) for s in loaded.signatures] == [
        ("images/cu.img.cms", "images/cu.img"),
        ("images/cu.img.p7s", "images/cu.img"),
        ("images/du.img.cms", "images/du.img"),
    ]
    assert all(s.kind == "cms" for s in loaded.signatures)
    assert loaded.inputs["images/du.img.cms"] == b"pem cms"
    assert "orphan.bin.cms" not in loaded.inputs
    # Signature files stay in the listing (a manifest may list them).
    assert {"images/du.img.cms", "orphan.bin.cms"} <= loaded.payload
    assert "attestations/x.cms" in loaded.irregular
    summary = DeliverySummary(
        root=str(root),
        listing=Listing(
            payload=tuple(sorted(loaded.payload)), irregular=dict(loaded.irregular)
        ),
    )
    again = fmt.reload(loaded.inputs, summary, workdir=tmp_path / "w", images=None)
    assert again.signatures == loaded.signatures
    assert dict(again.inputs) == dict(loaded.inputs)
    assert again.payload == loaded.payload


def test_an_oversized_signature_is_a_finding(tmp_path: Path) -> None:
    root = tmp_path / "d"
    DeliveryBuilder(root).standard()
    (root / "images" / "du.img.cms").write_bytes(b"x" * 2048)
    loaded = DirectoryFormat().load(root, limits=Limits(max_document_bytes=1024))
    assert loaded.signatures == ()
    (finding,) = [f for f in loaded.findings if f.subject == "images/du.img.cms"]
    assert finding.outcome is Outcome.FAIL
    assert "malformed" in finding.reason
