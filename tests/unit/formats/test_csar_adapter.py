"""The SOL 004 adapter: detection, load, and reload from the stored inputs.

``reload`` (replay) must give the same delivery as ``load`` on the same bytes; the
adapter reads only the metadata members, never the artefacts.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from vendorproof import formats, intake
from vendorproof.errors import InvalidInputError
from vendorproof.formats import sol004
from vendorproof.formats.csar import CsarFormat
from vendorproof.formats.ziparchive import SafeZip
from vendorproof.limits import Limits
from vendorproof.models.checks import Outcome
from vendorproof.models.delivery import Delivery
from vendorproof.models.summary import DeliverySummary, Listing
from vendorproof.verify.cms import MAX_CMS_BYTES

ONAP = Path(__file__).resolve().parents[2] / "assets" / "onap-sol004"
PACKAGES = sorted(p.name for p in ONAP.iterdir() if p.suffix in {".csar", ".zip"})


@pytest.mark.parametrize("name", PACKAGES)
def test_reload_agrees_with_load(name: str, tmp_path: Path) -> None:
    adapter = CsarFormat()
    path = ONAP / name
    assert formats.detect(path) is formats.by_name("sol004")
    loaded = adapter.load(path)
    summary = DeliverySummary(
        format="sol004",
        root=str(path),
        listing=Listing(payload=tuple(sorted(loaded.payload))),
    )
    again = adapter.reload(loaded.inputs, summary, workdir=tmp_path, images=None)
    assert again.payload == loaded.payload
    assert again.findings == loaded.findings
    assert again.package_manifest == loaded.package_manifest
    assert again.signatures == loaded.signatures
    assert again.inputs == loaded.inputs
    # Only metadata is read: no artefact is an input unless it is a signature,
    # certificate, manifest or TOSCA.meta.
    assert all(
        n.endswith((".mf", ".cms", ".p7s", ".cert", "TOSCA.meta"))
        for n in loaded.inputs
    )


def test_what_the_adapter_finds() -> None:
    adapter = CsarFormat()
    valid = adapter.load(ONAP / "csar-cert-in-cms-valid.csar")
    # ONAP lists TOSCA.meta without a digest: a warning that nothing protects it.
    (unprotected,) = valid.findings
    assert unprotected.outcome is Outcome.WARN
    assert unprotected.subject == "TOSCA-Metadata/TOSCA.meta"
    assert "no digest protects TOSCA.meta" in unprotected.reason
    assert "TOSCA-Metadata/TOSCA.meta" not in valid.payload
    assert valid.package_manifest is not None
    m = valid.package_manifest.manifest
    assert (m.vendor.id, m.product, m.version) == ("Acme", "myPnf", "1.0")
    assert valid.package_manifest.signature is not None
    assert valid.package_manifest.signature.kind == "cms"
    both = adapter.load(ONAP / "csar-cert-in-cms-and-tosca.csar")
    assert [f.outcome for f in both.findings] == [Outcome.FAIL]
    assert "exactly one place" in both.findings[0].reason
    individual = adapter.load(
        ONAP / "csar-cert-in-cms-valid-with-signature-of-individual-artifact.csar"
    )
    (sig,) = individual.signatures
    assert sig.target == "Files/pnf-sw-information/pnf-sw-information.yaml"
    assert len(sig.certificates) == 1
    option2 = adapter.load(ONAP / "signature-and-certificate.zip")
    assert [f.outcome for f in option2.findings] == [Outcome.PASS]
    assert "security option 2" in option2.findings[0].reason
    assert option2.package_manifest is not None
    outer = option2.package_manifest.package_signature
    assert outer is not None
    assert (outer.file, outer.target, outer.algorithms) == (
        "2:signature-and-certificate.cms",
        "2:valid.csar",
        ("sha256",),
    )
    assert outer.certificates == ()  # the certificate is in the CMS
    assert {"2:README", "2:valid.csar", "Definitions/MainServiceTemplate.yaml"} <= (
        option2.payload
    )
    broken = adapter.load(ONAP / "broken.zip")
    assert "no signature (.cms)" in broken.findings[0].reason
    assert broken.package_manifest is not None
    assert broken.package_manifest.package_signature is None


def test_detect_and_salvage(tmp_path: Path) -> None:
    adapter = CsarFormat()
    assert not adapter.detect(tmp_path)
    text = tmp_path / "notes.csar"
    text.write_text("not a zip", encoding="utf-8")
    assert not adapter.detect(text)
    assert not adapter.detect(tmp_path / "missing.csar")
    other = tmp_path / "x.tar"
    other.write_bytes(b"PK\x03\x04")
    assert not adapter.detect(other)
    broken = tmp_path / "broken.csar"
    broken.write_bytes(b"PK\x03\x04 truncated")
    assert adapter.detect(broken)
    with pytest.raises(InvalidInputError, match="not a readable ZIP"):
        adapter.load(broken)
    salvage = adapter.salvage(broken)
    assert [e.outcome for e in salvage.errors] == [Outcome.ERROR]
    good = adapter.salvage(ONAP / "csar-cert-in-cms-valid.csar")
    assert "pnf_main_descriptor.mf" in good.inputs
    assert "Files/Scripts/my_script.sh" in good.listing.payload


def test_malformed_manifest_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "bad.csar"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("main.mf", "metadata:\n  vnf_provider_id: x\nbogus line\n")
        z.writestr("main.yaml", "tosca_definitions_version: x\n")
    delivery = CsarFormat().load(path)
    assert delivery.package_manifest is None
    assert delivery.findings[0].outcome is Outcome.FAIL
    assert "malformed" in delivery.findings[0].reason
    two = tmp_path / "two.csar"
    with zipfile.ZipFile(two, "w") as z:
        z.writestr("a.mf", "x")
        z.writestr("b.mf", "y")
    assert "exactly one" in CsarFormat().load(two).findings[0].reason


META = (
    "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: t\n"
    "Entry-Definitions: main.yaml\nETSI-Entry-Manifest: main.mf\n"
    "ETSI-Entry-Change-Log: log.txt\n"
)
MF = (
    "metadata:\n  vnf_provider_id: v\n  vnf_product_name: p\n"
    "  vnf_release_date_time: {when}\n  vnf_package_version: 1\n"
    "\nSource: a.bin\nAlgorithm: SHA-256\nHash: {digest}\n{more}"
)
DIGEST = "00" * 32


def _reasons(inputs: dict[str, bytes], members: tuple[str, ...], tmp: Path) -> str:
    summary = DeliverySummary(
        format="sol004", root=str(tmp / "p.csar"), listing=Listing(payload=members)
    )
    delivery = CsarFormat().reload(inputs, summary, workdir=tmp, images=None)
    return " | ".join(f"{f.outcome.value}: {f.reason}" for f in delivery.findings)


def _mf(when: str = "2026-01-01T00:00:00+00:00", more: str = "") -> bytes:
    return MF.format(when=when, digest=DIGEST, more=more).encode()


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"TOSCA-Metadata/TOSCA.meta": b"garbage"}, "fail: malformed"),
        (
            {"TOSCA-Metadata/TOSCA.meta": META.encode()},
            "ETSI-Entry-Manifest: 'main.mf' is not in the package",
        ),
        (
            {"TOSCA-Metadata/TOSCA.meta": META.encode(), "main.mf": b"bogus\n"},
            "fail: malformed",
        ),
        (
            {
                "TOSCA-Metadata/TOSCA.meta": META.encode(),
                "main.mf": _mf() + b"-----BEGIN CMS-----\n!!\n-----END CMS-----\n",
            },
            "malformed CMS",
        ),
        (
            {
                "TOSCA-Metadata/TOSCA.meta": (
                    META + "ETSI-Entry-Certificate: c.cert\n"
                ).encode(),
                "main.mf": _mf(),
            },
            "ETSI-Entry-Certificate: 'c.cert' is not in the package",
        ),
        (
            {"main.mf": _mf(more="Signature: a.sig.cms\n")},
            "signature of a.bin is not in the package",
        ),
        (
            {
                "main.mf": _mf(more="Signature: a.sig.cms\nCertificate: a.cert\n"),
                "a.sig.cms": b"x",
            },
            "certificate of a.bin is not in the package",
        ),
        ({"main.mf": _mf(when="yesterday")}, "is not ISO 8601"),
        ({"main.mf": _mf(when="2026-01-01T00:00:00")}, "has no offset"),
        (
            {"main.mf": _mf(more="\nSource: https://example.com/x.img\n")},
            "warn: external artefact",
        ),
        ({"main.mf": _mf(more="\nSource: b.bin\n")}, "listed without Algorithm"),
    ],
)
def test_findings_from_inputs(
    tmp_path: Path, inputs: dict[str, bytes], expected: str
) -> None:
    members = ("a.bin", "b.bin", "main.yaml", "log.txt")
    assert expected in _reasons(inputs, members, tmp_path)


def test_member_limit(tmp_path: Path) -> None:
    path = tmp_path / "many.csar"
    with zipfile.ZipFile(path, "w") as z:
        for i in range(3):
            z.writestr(f"f{i}", b"x")
    with pytest.raises(InvalidInputError, match="more than 2 entries"):
        CsarFormat().load(path, limits=Limits(max_files=2))


def test_signatures_declare_the_digest_to_measure_with(tmp_path: Path) -> None:
    """A per-artefact or beside signature may use another digest than the manifest:
    the adapter records the one it declares (the evaluation measures with both)."""
    from tests import pki
    from tests.cms_support import openssl_cms_sign

    root = pki.make_root("Digest Root", org="t")
    leaf = pki.make_leaf("Digest Signer", root, org="t", key_kind="rsa-2048")
    cert, key = tmp_path / "s.pem", tmp_path / "s.key"
    pki.write_pem(cert, leaf.cert_pem())
    pki.write_pem(key, leaf.key_pem())
    inputs = {
        "TOSCA-Metadata/TOSCA.meta": META.encode(),
        "main.mf": _mf(
            more="Signature: a.sig.cms\n\nSource: log.txt\nAlgorithm: SHA-256\n"
            f"Hash: {DIGEST}\n\nSource: b.bin\nAlgorithm: SHA-256\nHash: {DIGEST}\n"
        ),
        "a.sig.cms": openssl_cms_sign(tmp_path, b"a", cert, key, "-md", "sha512"),
        "log.txt.p7s": openssl_cms_sign(tmp_path, b"l", cert, key, "-md", "sha384"),
        "b.bin.cms": b"not a CMS",
    }
    summary = DeliverySummary(
        format="sol004",
        root=str(tmp_path / "p.csar"),
        listing=Listing(payload=("a.bin", "b.bin", "main.yaml", "log.txt")),
    )
    delivery = CsarFormat().reload(inputs, summary, workdir=tmp_path, images=None)
    assert {(s.file, s.target, s.algorithms) for s in delivery.signatures} == {
        ("a.sig.cms", "a.bin", ("sha512",)),
        ("log.txt.p7s", "log.txt", ("sha384",)),
        ("b.bin.cms", "b.bin", ()),  # malformed: the verifier says why
    }


def _package(tmp: Path, members: dict[str, bytes], name: str = "p.csar") -> Path:
    path = tmp / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for member, data in members.items():
            z.writestr(member, data)
    return path


def _listing(*names: str, unhashed: tuple[str, ...] = ()) -> str:
    return "".join(
        f"\nSource: {n}\nAlgorithm: SHA-256\nHash: {DIGEST}\n" for n in names
    ) + "".join(f"\nSource: {n}\n" for n in unhashed)


BASE = {
    "TOSCA-Metadata/TOSCA.meta": META.encode(),
    "a.bin": b"a",
    "main.yaml": b"y",
    "log.txt": b"l",
}


def _fails(delivery: Delivery) -> dict[str, str]:
    return {f.subject: f.reason for f in delivery.findings if f.outcome is Outcome.FAIL}


def test_tosca_meta_is_payload_the_manifest_must_list(tmp_path: Path) -> None:
    """TOSCA.meta is no signature or certificate: unlisted, it is an unlisted file;
    listed with a digest, a component measured like any file; listed without one
    (as ONAP's packages list it), a warning that nothing protects its entries."""
    meta = "TOSCA-Metadata/TOSCA.meta"
    adapter = CsarFormat()
    unlisted = adapter.load(
        _package(
            tmp_path, {**BASE, "main.mf": _mf(more=_listing("main.yaml", "log.txt"))}
        )
    )
    assert meta in unlisted.payload
    assert unlisted.package_manifest is not None
    assert meta not in {c.path for c in unlisted.package_manifest.manifest.components}
    assert unlisted.findings == ()
    hashed = adapter.load(
        _package(
            tmp_path,
            {**BASE, "main.mf": _mf(more=_listing("main.yaml", "log.txt", meta))},
        )
    )
    assert meta in hashed.payload
    assert hashed.package_manifest is not None
    assert meta in {c.path for c in hashed.package_manifest.manifest.components}
    assert meta in hashed.inputs  # also read for the structure
    bare = adapter.load(
        _package(
            tmp_path,
            {
                **BASE,
                "main.mf": _mf(more=_listing("main.yaml", "log.txt", unhashed=(meta,))),
            },
        )
    )
    assert meta not in bare.payload
    ((subject, outcome, reason),) = [
        (f.subject, f.outcome, f.reason) for f in bare.findings
    ]
    assert (subject, outcome) == (meta, Outcome.WARN)
    assert "no digest protects TOSCA.meta" in reason
    # Any other file listed without a digest still fails.
    other = adapter.load(
        _package(
            tmp_path,
            {**BASE, "main.mf": _mf(more=_listing(meta, unhashed=("main.yaml",)))},
        )
    )
    assert "listed without Algorithm and Hash" in _fails(other)["main.yaml"]


@pytest.mark.parametrize(
    ("members", "subject", "needle"),
    [
        (
            {
                **BASE,
                "main.mf": _mf(),
                "TOSCA-Metadata/TOSCA.meta": META.replace(
                    "main.yaml", "Definitions/gone.yaml"
                ).encode(),
            },
            "TOSCA-Metadata/TOSCA.meta",
            "Entry-Definitions: 'Definitions/gone.yaml' is not in the package",
        ),
        (
            {**{k: v for k, v in BASE.items() if k != "log.txt"}, "main.mf": _mf()},
            "TOSCA-Metadata/TOSCA.meta",
            "ETSI-Entry-Change-Log: 'log.txt' is not in the package",
        ),
        (
            {"main.mf": _mf(), "a.bin": b"a"},
            "sol004",
            "exactly one service template (.yaml/.yml), found 0",
        ),
        (
            {"main.mf": _mf(), "a.yaml": b"a", "b.yml": b"b"},
            "sol004",
            "exactly one service template (.yaml/.yml), found 2",
        ),
        (
            {"a.mf": b"", "b.mf": b"", "a.yaml": b"a"},
            "sol004",
            "exactly one manifest (.mf), found 2",
        ),
    ],
)
def test_structure_rules_of_read_package(
    tmp_path: Path, members: dict[str, bytes], subject: str, needle: str
) -> None:
    """The entries TOSCA.meta names exist; without it, one manifest and one service
    template at the root (SOL 004 §4.1.2, §4.1.3): as ``sol004.read_package``."""
    path = _package(tmp_path, members)
    delivery = CsarFormat().load(path)
    assert needle in _fails(delivery)[subject]
    with SafeZip(path, file="p.csar") as z, pytest.raises(InvalidInputError):
        sol004.read_package(z)
    again = _reload(tmp_path, delivery)
    assert again.findings == delivery.findings


def _reload(tmp: Path, loaded: Delivery) -> Delivery:
    summary = DeliverySummary(
        format="sol004",
        root=str(loaded.root),
        listing=Listing(
            payload=tuple(sorted(loaded.payload)), irregular=dict(loaded.irregular)
        ),
    )
    return CsarFormat().reload(loaded.inputs, summary, workdir=tmp, images=None)


def test_only_members_the_structure_names_are_read(tmp_path: Path) -> None:
    """Signature and certificate files elsewhere are payload, never read; those the
    structure names are read, each and all together bounded."""
    more = _listing("main.yaml", "log.txt") + "Signature: sig/a.sig.cms\n"
    members = {
        **BASE,
        "main.mf": _mf(more=more),
        "sig/a.sig.cms": b"s",
        "log.txt.p7s": b"p",
        "root.cert": b"c",
        "stray/x.cms": bytes(200_000),
        "stray/y.cert": bytes(200_000),
        "stray/z.mf": bytes(200_000),
        "unlisted.txt": b"u",
        "unlisted.txt.cms": b"u",
    }
    loaded = CsarFormat().load(_package(tmp_path, members))
    assert set(loaded.inputs) == {
        "TOSCA-Metadata/TOSCA.meta",
        "main.mf",
        "sig/a.sig.cms",
        "log.txt.p7s",
        "root.cert",
    }
    assert {
        "stray/x.cms",
        "stray/y.cert",
        "stray/z.mf",
        "unlisted.txt.cms",
    } <= loaded.payload
    assert {s.file for s in loaded.signatures} == {"sig/a.sig.cms", "log.txt.p7s"}
    assert _reload(tmp_path, loaded).signatures == loaded.signatures
    salvage = CsarFormat().salvage(_package(tmp_path, members, "s.csar"))
    assert set(salvage.inputs) == set(loaded.inputs)


def test_metadata_members_are_bounded(tmp_path: Path) -> None:
    too_big = {
        **BASE,
        "main.mf": _mf(more=_listing("log.txt")),
        "log.txt.cms": os.urandom(MAX_CMS_BYTES + 1),
    }
    loaded = CsarFormat().load(_package(tmp_path, too_big))
    assert f"larger than {MAX_CMS_BYTES} bytes" in _fails(loaded)["log.txt.cms"]
    assert "log.txt.cms" not in loaded.inputs
    assert "log.txt.cms" in loaded.irregular
    assert _reload(tmp_path, loaded).findings == loaded.findings
    # A per-artefact signature over the bound: one finding, not also "missing".
    declared = {
        **BASE,
        "main.mf": _mf(more="Signature: a.sig.cms\n"),
        "a.sig.cms": os.urandom(MAX_CMS_BYTES + 1),
    }
    loaded = CsarFormat().load(_package(tmp_path, declared))
    reasons = [f.reason for f in loaded.findings if f.subject == "a.sig.cms"]
    assert reasons == [f"unread: larger than {MAX_CMS_BYTES} bytes"]
    # TOSCA.meta itself over the total: nothing else is read.
    loaded = CsarFormat().load(
        _package(tmp_path, declared), limits=Limits(max_input_bytes=10)
    )
    assert "max_input_bytes" in _fails(loaded)["TOSCA-Metadata/TOSCA.meta"]
    assert loaded.inputs == {}
    assert loaded.package_manifest is None
    # All together: TOSCA.meta and the manifest fit, the certificate does not.
    fits = {**BASE, "main.mf": _mf(), "root.cert": bytes(1000)}
    meta_and_manifest = len(META) + len(_mf())
    limits = Limits(max_input_bytes=meta_and_manifest + 999)
    loaded = CsarFormat().load(_package(tmp_path, fits), limits=limits)
    assert "(Limits.max_input_bytes)" in _fails(loaded)["root.cert"]
    assert set(loaded.inputs) == {"TOSCA-Metadata/TOSCA.meta", "main.mf"}
    loaded = CsarFormat().load(
        _package(tmp_path, fits),
        limits=Limits(max_input_bytes=meta_and_manifest + 1000),
    )
    assert "root.cert" in loaded.inputs


def test_load_parses_the_manifest_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``load`` walks the package twice (over the archive, then over what it read,
    as ``reload`` does) but parses the manifest once."""
    from vendorproof.formats import sol004

    calls: list[str] = []
    original = sol004.parse_manifest

    def counting(data: bytes, *, file: str) -> sol004.Manifest:
        calls.append(file)
        return original(data, file=file)

    monkeypatch.setattr(sol004, "parse_manifest", counting)
    loaded = CsarFormat().load(ONAP / "csar-cert-in-cms-valid.csar")
    assert loaded.package_manifest is not None
    assert len(calls) == 1, calls


def test_the_package_is_measured_in_the_state_it_was_loaded_in(tmp_path: Path) -> None:
    """``intake.measure`` with the loaded delivery's ``source_state``: the same file
    is measured; the file rewritten with the same bytes (another inode) is not."""
    mf = "metadata:\n  vnf_provider_id: acme\n" + _listing("a.bin")
    path = _package(tmp_path, {**BASE, "main.mf": mf.encode()})
    loaded = CsarFormat().load(path)
    state = loaded.source_state
    assert state is not None
    assert (state.inode, state.size) == (path.stat().st_ino, path.stat().st_size)
    (digest,) = intake.measure(path, expect=state)(["a.bin"], ["sha256"])
    assert digest.size == 1
    copy = tmp_path / "copy.csar"
    copy.write_bytes(path.read_bytes())
    copy.replace(path)
    with pytest.raises(InvalidInputError, match="changed after it was loaded") as e:
        intake.measure(path, expect=state)(["a.bin"], ["sha256"])
    assert e.value.file == "p.csar"
    # Without the state (a caller that did not load it): measured as it is now.
    (digest,) = intake.measure(path)(["a.bin"], ["sha256"])
    assert digest.size == 1
