"""Tests for our predicates: component manifest, certification, trust declaration."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests import builders
from tests.unit.models._support import (
    DELETE,
    Edit,
    check_error,
    mutated,
)
from vendorproof._internal.jsonio import dump_json
from vendorproof.errors import InvalidInputError
from vendorproof.models._fields import format_time, parse_time
from vendorproof.models.certification import (
    CERTIFICATION_PREDICATE,
    Certification,
    Report,
)
from vendorproof.models.declaration import DECLARATION_PREDICATE, TrustDeclaration
from vendorproof.models.manifest import (
    MANIFEST_PREDICATE,
    Component,
    ComponentKind,
    ComponentManifest,
    Domain,
    Party,
)
from vendorproof.models.statement import Statement

MANIFEST = builders.manifest_statement(builders.FILES, kinds=builders.KINDS)
CERTIFICATION = builders.certification_statement(
    {k: v for k, v in builders.FILES.items() if k.startswith("images/")}
)
DECLARATION = builders.declaration_statement()


def _statement(doc: dict[str, Any]) -> Statement:
    return Statement.from_bytes(dump_json(doc))


def _predicate(doc: dict[str, Any], *edits: Edit) -> dict[str, Any]:
    predicate: dict[str, Any] = mutated(doc, *edits)["predicate"]
    return predicate


# ------------------------------------------------------------ component manifest


def test_manifest_parses() -> None:
    manifest = ComponentManifest.from_statement(_statement(MANIFEST))
    assert manifest.vendor == Party(name="Acme Radio Systems GmbH", id="acme")
    assert manifest.product == "AcmeRAN gNB"
    assert manifest.version == "24.1.3"
    assert manifest.security_version == 7
    assert manifest.network_function == "gNB"
    assert manifest.domain is Domain.RAN
    assert manifest.release_date == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert [c.path for c in manifest.components] == list(builders.FILES)
    assert manifest.components[0] == Component(
        path="images/du.img",
        kind=ComponentKind.FIRMWARE,
        size=len(builders.FILES["images/du.img"]),
        digests=builders.digests(builders.FILES["images/du.img"]),
    )
    assert manifest.components[2].kind is ComponentKind.CONFIG


def test_manifest_round_trips() -> None:
    manifest = ComponentManifest.from_predicate(MANIFEST["predicate"])
    assert manifest.to_predicate() == mutated(MANIFEST)["predicate"]
    statement = _statement(MANIFEST)
    assert manifest.subjects() == statement.subjects


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("a", id="single"),
        pytest.param("images/du.img", id="nested"),
        pytest.param("a/b/c/d.bin", id="deep"),
        pytest.param(".hidden/x", id="dot-file"),
        pytest.param("a/..b", id="dots-in-name"),
        pytest.param("über/ß.img", id="unicode"),
    ],
)
def test_manifest_accepts_safe_paths(path: str) -> None:
    predicate = _predicate(MANIFEST, (("predicate", "components", 0, "path"), path))
    manifest = ComponentManifest.from_predicate(predicate)
    assert manifest.components[0].path == path


def test_manifest_accepts_size_zero_and_security_version_zero() -> None:
    predicate = _predicate(
        MANIFEST,
        (("predicate", "components", 0, "size"), 0),
        (("predicate", "securityVersion"), 0),
    )
    manifest = ComponentManifest.from_predicate(predicate)
    assert manifest.components[0].size == 0
    assert manifest.security_version == 0


_P = "predicate"
_C0 = (_P, "components", 0)
_C1 = (_P, "components", 1)


@pytest.mark.parametrize(
    ("edits", "path", "message"),
    [
        pytest.param(
            [((_P, "signature"), "trust me")],
            None,
            r"^unknown field\(s\): 'signature'$",
            id="unknown-field",
        ),
        pytest.param(
            [((*_C0, "mode"), "0755")],
            "components[0]",
            r"^unknown field\(s\): 'mode'$",
            id="unknown-component-field",
        ),
        pytest.param(
            [((_P, "vendor", "country"), "DE")],
            "vendor",
            r"^unknown field\(s\): 'country'$",
            id="unknown-vendor-field",
        ),
        pytest.param(
            [((*_C1, "path"), "../x")],
            "components[1].path",
            r"^unsafe path '\.\./x': contains '', '\.' or '\.\.' components$",
            id="path-parent",
        ),
        pytest.param(
            [((*_C1, "path"), "images/../../x")],
            "components[1].path",
            r"^unsafe path .*'\.\.' components$",
            id="path-parent-inside",
        ),
        pytest.param(
            [((*_C1, "path"), "/etc/passwd")],
            "components[1].path",
            r"^unsafe path '/etc/passwd': absolute path$",
            id="path-absolute",
        ),
        pytest.param(
            [((*_C1, "path"), "a//b")],
            "components[1].path",
            r"^unsafe path 'a//b': contains '', '\.' or '\.\.' components$",
            id="path-empty-component",
        ),
        pytest.param(
            [((*_C1, "path"), "a/./b")],
            "components[1].path",
            r"^unsafe path 'a/\./b': contains '', '\.' or '\.\.' components$",
            id="path-dot-component",
        ),
        pytest.param(
            [((*_C1, "path"), "./a")],
            "components[1].path",
            r"^unsafe path '\./a'",
            id="path-leading-dot",
        ),
        pytest.param(
            [((*_C1, "path"), "a/")],
            "components[1].path",
            r"^unsafe path 'a/'",
            id="path-trailing-slash",
        ),
        pytest.param(
            [((*_C1, "path"), "..")],
            "components[1].path",
            r"^unsafe path '\.\.'",
            id="path-dotdot",
        ),
        pytest.param(
            [((*_C1, "path"), "a\\b")],
            "components[1].path",
            r"^unsafe path 'a\\\\b': contains NUL or backslash$",
            id="path-backslash",
        ),
        pytest.param(
            [((*_C1, "path"), "..\\..\\windows")],
            "components[1].path",
            r"^unsafe path .*: contains NUL or backslash$",
            id="path-windows-parent",
        ),
        pytest.param(
            [((*_C1, "path"), "")],
            "components[1].path",
            r"^unsafe path '': empty path$",
            id="path-empty",
        ),
        pytest.param(
            [((*_C1, "path"), "a\x00b")],
            "components[1].path",
            r"^unsafe path 'a\\x00b': contains NUL or backslash$",
            id="path-nul",
        ),
        pytest.param(
            [((*_C1, "path"), ["a"])],
            "components[1].path",
            r"^expected string, got array$",
            id="path-not-a-string",
        ),
        pytest.param(
            [((*_C0, "path"), DELETE)],
            "components[0].path",
            r"^required field is missing$",
            id="path-missing",
        ),
        pytest.param(
            [((*_C0, "kind"), "binary")],
            "components[0].kind",
            r"^'binary' is not one of: firmware, container-image, config, sbom, other$",
            id="bad-kind",
        ),
        pytest.param(
            [((*_C0, "kind"), "Firmware")],
            "components[0].kind",
            r"^'Firmware' is not one of",
            id="kind-case-sensitive",
        ),
        pytest.param(
            [((_P, "domain"), "Edge")],
            "domain",
            r"^'Edge' is not one of: RAN, Core, Transport, OAM$",
            id="bad-domain",
        ),
        pytest.param(
            [((_P, "domain"), "ran")],
            "domain",
            r"^'ran' is not one of",
            id="domain-case-sensitive",
        ),
        pytest.param(
            [((*_C0, "size"), -1)],
            "components[0].size",
            r"^must be >= 0$",
            id="negative-size",
        ),
        pytest.param(
            [((*_C0, "size"), True)],
            "components[0].size",
            r"^expected integer, got boolean$",
            id="bool-size",
        ),
        pytest.param(
            [((*_C0, "size"), 1.0)],
            "components[0].size",
            r"^expected integer, got number$",
            id="float-size",
        ),
        pytest.param(
            [((*_C0, "size"), "10")],
            "components[0].size",
            r"^expected integer, got string$",
            id="string-size",
        ),
        pytest.param(
            [((_P, "securityVersion"), "7")],
            "securityVersion",
            r"^expected integer, got string$",
            id="security-version-string",
        ),
        pytest.param(
            [((_P, "securityVersion"), False)],
            "securityVersion",
            r"^expected integer, got boolean$",
            id="security-version-bool",
        ),
        pytest.param(
            [((_P, "securityVersion"), -1)],
            "securityVersion",
            r"^must be >= 0$",
            id="security-version-negative",
        ),
        pytest.param(
            [((*_C1, "path"), "images/du.img")],
            "components[1]",
            r"^duplicate entry 'images/du.img'$",
            id="duplicate-paths",
        ),
        pytest.param(
            [((_P, "components"), [])],
            "components",
            r"^must not be empty$",
            id="no-components",
        ),
        pytest.param(
            [((_P, "components", 3), "images/x.img")],
            "components[3]",
            r"^expected object, got string$",
            id="component-not-an-object",
        ),
        pytest.param(
            [((*_C0, "digests"), {})],
            "components[0].digests",
            r"^must contain at least one digest$",
            id="empty-digests",
        ),
        pytest.param(
            [((*_C0, "digests", "sha256"), "A" * 64)],
            "components[0].digests.sha256",
            r"^not lowercase hexadecimal$",
            id="uppercase-digest",
        ),
        pytest.param(
            [((_P, "vendor"), DELETE)],
            "vendor",
            r"^required field is missing$",
            id="vendor-missing",
        ),
        pytest.param(
            [((_P, "vendor", "id"), "")],
            "vendor.id",
            r"^must not be empty$",
            id="vendor-id-empty",
        ),
        pytest.param(
            [((_P, "product"), " ")],
            "product",
            r"^must not be empty$",
            id="product-blank",
        ),
        pytest.param(
            [((_P, "releaseDate"), "2026-03-02")],
            "releaseDate",
            r"^not an RFC 3339 time with offset",
            id="release-date-only",
        ),
        pytest.param(
            [((_P, "releaseDate"), "2026-03-02T09:00:00")],
            "releaseDate",
            r"^not an RFC 3339 time with offset",
            id="release-date-naive",
        ),
    ],
)
def test_manifest_predicate_rejects(
    edits: list[Edit], path: str | None, message: str
) -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        ComponentManifest.from_predicate(_predicate(MANIFEST, *edits))
    check_error(excinfo.value, path=path, message=message)


def test_manifest_statement_locates_predicate_errors() -> None:
    doc = mutated(MANIFEST, ((*_C1, "path"), "../x"))
    with pytest.raises(InvalidInputError) as excinfo:
        ComponentManifest.from_statement(_statement(doc))
    check_error(
        excinfo.value, path="predicate.components[1].path", message=r"^unsafe path"
    )


def test_manifest_accepts_subjects_in_any_order() -> None:
    doc = mutated(MANIFEST)
    doc["subject"].reverse()
    manifest = ComponentManifest.from_statement(_statement(doc))
    assert [c.path for c in manifest.components] == list(builders.FILES)


@pytest.mark.parametrize(
    ("edits", "path", "message"),
    [
        pytest.param(
            [(("predicateType",), CERTIFICATION_PREDICATE)],
            "predicateType",
            rf"^expected predicate type {MANIFEST_PREDICATE}$",
            id="wrong-predicate-type",
        ),
        pytest.param(
            [(("subject", 1, "digest", "sha256"), "0" * 64)],
            "predicate.components[1]",
            r"^component 'images/cu.img' does not match a subject with equal digests$",
            id="different-digest",
        ),
        pytest.param(
            [(("subject", 0, "digest", "sha512"), DELETE)],
            "predicate.components[0]",
            r"^component 'images/du.img' does not match",
            id="subject-lacks-a-digest",
        ),
        pytest.param(
            [(("subject", 0, "digest", "sha384"), "0" * 96)],
            "predicate.components[0]",
            r"^component 'images/du.img' does not match",
            id="subject-has-extra-digest",
        ),
        pytest.param(
            [(("subject", 2, "name"), "config/other.yaml")],
            "predicate.components[2]",
            r"^component 'config/site.yaml' does not match",
            id="renamed-subject",
        ),
        pytest.param(
            [(("subject", 2), DELETE)],
            "predicate.components[2]",
            r"^component 'config/site.yaml' does not match",
            id="missing-subject",
        ),
        pytest.param(
            [(("subject", 3), {"name": "extra.bin", "digest": {"sha256": "0" * 64}})],
            "subject",
            r"^subjects list files that are not components$",
            id="extra-subject",
        ),
        pytest.param(
            [
                (
                    ("subject", 3),
                    {
                        "name": "images/du.img",
                        "digest": builders.digests(builders.FILES["images/du.img"]),
                    },
                )
            ],
            "subject",
            r"^duplicate subject names$",
            id="duplicate-subject",
        ),
        pytest.param(
            [(("predicate", "extra"), 1)],
            "predicate",
            r"^unknown field\(s\): 'extra'$",
            id="unknown-field-located",
        ),
    ],
)
def test_manifest_statement_rejects(edits: list[Edit], path: str, message: str) -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        ComponentManifest.from_statement(_statement(mutated(MANIFEST, *edits)))
    check_error(excinfo.value, path=path, message=message)


# ------------------------------------------------------------------ certification


def test_certification_parses() -> None:
    cert = Certification.from_statement(_statement(CERTIFICATION))
    assert cert.scheme == "NESAS"
    assert cert.scheme_version == "2.1"
    assert cert.certificate_id == "NESAS-TEST-0001"
    assert cert.certification_body == Party(
        name="Example Certification Body GmbH", id="example-cb"
    )
    assert cert.evaluation_facility is None
    assert cert.holder.id == "acme"
    assert cert.product == "AcmeRAN gNB"
    assert cert.category == "gNB"
    assert cert.versions == ("24.1.3",)
    assert cert.conformance == ("3GPP TS 33.511",)
    assert cert.reports == ()
    assert cert.valid_from == datetime(2026, 1, 15, tzinfo=UTC)
    assert cert.valid_until == datetime(2031, 1, 15, tzinfo=UTC)
    assert cert.status == "valid"
    assert cert.published_at is None
    assert cert.to_predicate() == CERTIFICATION["predicate"]


def test_certification_optional_fields_round_trip() -> None:
    predicate = _predicate(
        CERTIFICATION,
        (("predicate", "evaluationFacility"), {"name": "Lab GmbH", "id": "lab"}),
        (("predicate", "assuranceLevel"), "substantial"),
        (("predicate", "status", "publishedAt"), "https://cb.example/status/1"),
        (
            ("predicate", "reports"),
            [{"type": "ETR", "id": "ETR-1", "sha256": "ab" * 32}],
        ),
    )
    cert = Certification.from_predicate(predicate)
    assert cert.evaluation_facility == Party(name="Lab GmbH", id="lab")
    assert cert.assurance_level == "substantial"
    assert cert.published_at == "https://cb.example/status/1"
    assert cert.reports == (Report(type="ETR", id="ETR-1", sha256="ab" * 32),)
    assert cert.to_predicate() == predicate


_REPORT = {"type": "ETR", "id": "ETR-1", "sha256": "ab" * 32}


@pytest.mark.parametrize(
    ("edits", "path", "message"),
    [
        pytest.param(
            [((_P, "scheme", "name"), "ISO9001")],
            "scheme.name",
            r"^unknown scheme 'ISO9001' \(known: BSI-NESAS-CCS-GI, BSZ, CC, EUCC, "
            r"NESAS\)$",
            id="unknown-scheme",
        ),
        pytest.param(
            [((_P, "scheme", "name"), "nesas")],
            "scheme.name",
            r"^unknown scheme 'nesas'",
            id="scheme-case-sensitive",
        ),
        pytest.param(
            [((_P, "scheme"), "NESAS")],
            "scheme",
            r"^expected object, got string$",
            id="scheme-not-an-object",
        ),
        pytest.param(
            [((_P, "scheme", "version"), DELETE)],
            "scheme.version",
            r"^required field is missing$",
            id="scheme-version-missing",
        ),
        pytest.param(
            [((_P, "scheme", "edition"), "2")],
            "scheme",
            r"^unknown field\(s\): 'edition'$",
            id="scheme-unknown-field",
        ),
        pytest.param(
            [((_P, "validUntil"), "2026-01-15T00:00:00Z")],
            "validUntil",
            r"^must be after validFrom$",
            id="valid-until-equals-valid-from",
        ),
        pytest.param(
            [((_P, "validUntil"), "2025-01-15T00:00:00Z")],
            "validUntil",
            r"^must be after validFrom$",
            id="valid-until-before-valid-from",
        ),
        pytest.param(
            # The same instant written with another offset is still not after.
            [((_P, "validUntil"), "2026-01-15T01:00:00+01:00")],
            "validUntil",
            r"^must be after validFrom$",
            id="valid-until-same-instant-other-offset",
        ),
        pytest.param(
            [((_P, "validFrom"), "2026-01-15")],
            "validFrom",
            r"^not an RFC 3339 time with offset",
            id="valid-from-date-only",
        ),
        pytest.param(
            [((_P, "validUntil"), DELETE)],
            "validUntil",
            r"^required field is missing$",
            id="valid-until-missing",
        ),
        pytest.param(
            [((_P, "status", "value"), "revoked")],
            "status.value",
            r"^'revoked' is not one of: expired, suspended, valid, withdrawn$",
            id="bad-status",
        ),
        pytest.param(
            [((_P, "status"), "valid")],
            "status",
            r"^expected object, got string$",
            id="status-not-an-object",
        ),
        pytest.param(
            [((_P, "status", "reason"), "x")],
            "status",
            r"^unknown field\(s\): 'reason'$",
            id="status-unknown-field",
        ),
        pytest.param(
            [((_P, "product", "versions"), DELETE)],
            "product.versions",
            r"^required field is missing$",
            id="versions-missing",
        ),
        pytest.param(
            [((_P, "product", "versions"), [])],
            "product.versions",
            r"^must not be empty$",
            id="versions-empty",
        ),
        pytest.param(
            [((_P, "product", "versions"), "24.1.3")],
            "product.versions",
            r"^expected array, got string$",
            id="versions-not-a-list",
        ),
        pytest.param(
            [((_P, "product", "versions"), ["24.1.3", " "])],
            "product.versions[1]",
            r"^must not be empty$",
            id="version-blank",
        ),
        pytest.param(
            [((_P, "product", "versions"), [24])],
            "product.versions[0]",
            r"^expected string, got integer$",
            id="version-not-a-string",
        ),
        pytest.param(
            [((_P, "product", "name"), DELETE)],
            "product.name",
            r"^required field is missing$",
            id="product-name-missing",
        ),
        pytest.param(
            [((_P, "product", "vendor"), "acme")],
            "product",
            r"^unknown field\(s\): 'vendor'$",
            id="product-unknown-field",
        ),
        pytest.param(
            [((_P, "reports"), [{**_REPORT, "sha256": "AB" * 32}])],
            "reports[0].sha256",
            r"^not a lowercase sha256 hex digest$",
            id="report-uppercase-sha256",
        ),
        pytest.param(
            [((_P, "reports"), [{**_REPORT, "sha256": "ab" * 16}])],
            "reports[0].sha256",
            r"^not a lowercase sha256 hex digest$",
            id="report-short-sha256",
        ),
        pytest.param(
            [((_P, "reports"), [{**_REPORT, "sha256": "ab" * 32 + "\n"}])],
            "reports[0].sha256",
            r"^not a lowercase sha256 hex digest$",
            id="report-sha256-trailing-newline",
        ),
        pytest.param(
            [((_P, "reports"), [{**_REPORT, "sha256": 1}])],
            "reports[0].sha256",
            r"^expected string, got integer$",
            id="report-sha256-not-a-string",
        ),
        pytest.param(
            [((_P, "reports"), [{**_REPORT, "url": "https://x"}])],
            "reports[0]",
            r"^unknown field\(s\): 'url'$",
            id="report-unknown-field",
        ),
        pytest.param(
            [((_P, "reports"), ["ETR-1"])],
            "reports[0]",
            r"^expected object, got string$",
            id="report-not-an-object",
        ),
        pytest.param(
            [((_P, "validity"), "5y")],
            None,
            r"^unknown field\(s\): 'validity'$",
            id="unknown-field",
        ),
        pytest.param(
            [((_P, "certificationBody", "url"), "https://cb")],
            "certificationBody",
            r"^unknown field\(s\): 'url'$",
            id="body-unknown-field",
        ),
        pytest.param(
            [((_P, "holder"), DELETE)],
            "holder",
            r"^required field is missing$",
            id="holder-missing",
        ),
        pytest.param(
            [((_P, "evaluationFacility"), {"name": "Lab"})],
            "evaluationFacility.id",
            r"^required field is missing$",
            id="facility-incomplete",
        ),
        pytest.param(
            [((_P, "conformance"), [""])],
            "conformance[0]",
            r"^must not be empty$",
            id="conformance-empty-entry",
        ),
        pytest.param(
            [((_P, "certificateId"), "")],
            "certificateId",
            r"^must not be empty$",
            id="certificate-id-empty",
        ),
    ],
)
def test_certification_rejects(
    edits: list[Edit], path: str | None, message: str
) -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        Certification.from_predicate(_predicate(CERTIFICATION, *edits))
    check_error(excinfo.value, path=path, message=message)


def test_certification_statement_locates_errors() -> None:
    doc = mutated(CERTIFICATION, ((_P, "status", "value"), "revoked"))
    with pytest.raises(InvalidInputError) as excinfo:
        Certification.from_statement(_statement(doc))
    check_error(excinfo.value, path="predicate.status.value", message=r"'revoked'")


def test_certification_statement_checks_predicate_type() -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        Certification.from_statement(_statement(MANIFEST))
    check_error(
        excinfo.value,
        path="predicateType",
        message=rf"^expected predicate type {CERTIFICATION_PREDICATE}$",
    )


# -------------------------------------------------------------- trust declaration


def test_declaration_parses() -> None:
    declaration = TrustDeclaration.from_statement(_statement(DECLARATION))
    assert declaration.vendor == Party(name="Acme Radio Systems GmbH", id="acme")
    assert declaration.legal_entity == "Acme Radio Systems GmbH"
    assert declaration.products == ("AcmeRAN *",)
    assert declaration.issued_at == datetime(2026, 1, 2, tzinfo=UTC)
    assert declaration.valid_until == datetime(2031, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert declaration.signatory_name == "E. Mustermann"
    assert declaration.signatory_role == "CPSO"
    assert declaration.commitments == ("no sabotage",)
    assert declaration.legal_basis == "§9b BSIG (2021)"
    assert declaration.to_predicate() == DECLARATION["predicate"]
    assert declaration.covers("AcmeRAN gNB")
    assert not declaration.covers("Other gNB")
    subject = declaration.subject()
    assert subject.name == "trust-declaration:acme"
    assert len(subject.digest["sha256"]) == 64


@pytest.mark.parametrize(
    ("edits", "path", "message"),
    [
        pytest.param(
            [((_P, "validUntil"), "2025-12-31T00:00:00Z")],
            "validUntil",
            r"^must be after issuedAt$",
            id="valid-until-before-issued-at",
        ),
        pytest.param(
            [((_P, "validUntil"), "2026-01-02T00:00:00Z")],
            "validUntil",
            r"^must be after issuedAt$",
            id="valid-until-equals-issued-at",
        ),
        pytest.param(
            [((_P, "issuedAt"), "2026-01-02T00:00:00")],
            "issuedAt",
            r"^not an RFC 3339 time with offset",
            id="issued-at-naive",
        ),
        pytest.param(
            [((_P, "products"), [])],
            "products",
            r"^must not be empty$",
            id="products-empty",
        ),
        pytest.param(
            [((_P, "products"), DELETE)],
            "products",
            r"^required field is missing$",
            id="products-missing",
        ),
        pytest.param(
            [((_P, "products"), ["AcmeRAN *", ""])],
            "products[1]",
            r"^must not be empty$",
            id="product-empty",
        ),
        pytest.param(
            [((_P, "commitments"), [])],
            "commitments",
            r"^must not be empty$",
            id="commitments-empty",
        ),
        pytest.param(
            [((_P, "commitments"), ["  "])],
            "commitments[0]",
            r"^must not be empty$",
            id="commitment-blank",
        ),
        pytest.param(
            [((_P, "commitments"), [True])],
            "commitments[0]",
            r"^expected string, got boolean$",
            id="commitment-not-a-string",
        ),
        pytest.param(
            [((_P, "guarantee"), "yes")],
            None,
            r"^unknown field\(s\): 'guarantee'$",
            id="unknown-field",
        ),
        pytest.param(
            [((_P, "signatory", "email"), "x@example.com")],
            "signatory",
            r"^unknown field\(s\): 'email'$",
            id="signatory-unknown-field",
        ),
        pytest.param(
            [((_P, "signatory", "role"), DELETE)],
            "signatory.role",
            r"^required field is missing$",
            id="signatory-role-missing",
        ),
        pytest.param(
            [((_P, "vendor", "id"), DELETE)],
            "vendor.id",
            r"^required field is missing$",
            id="vendor-id-missing",
        ),
        pytest.param(
            [((_P, "legalBasis"), "")],
            "legalBasis",
            r"^must not be empty$",
            id="legal-basis-empty",
        ),
    ],
)
def test_declaration_rejects(edits: list[Edit], path: str | None, message: str) -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        TrustDeclaration.from_predicate(_predicate(DECLARATION, *edits))
    check_error(excinfo.value, path=path, message=message)


def test_declaration_statement_locates_errors_and_checks_type() -> None:
    doc = mutated(DECLARATION, ((_P, "products"), []))
    with pytest.raises(InvalidInputError) as excinfo:
        TrustDeclaration.from_statement(_statement(doc))
    check_error(excinfo.value, path="predicate.products", message=r"^must not be")
    with pytest.raises(InvalidInputError) as excinfo:
        TrustDeclaration.from_statement(_statement(CERTIFICATION))
    check_error(
        excinfo.value,
        path="predicateType",
        message=rf"^expected predicate type {DECLARATION_PREDICATE}$",
    )


# ---------------------------------------------------------------------- parse_time


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "2026-06-01T00:00:00Z", datetime(2026, 6, 1, tzinfo=UTC), id="utc-z"
        ),
        pytest.param(
            "2026-06-01t00:00:00z", datetime(2026, 6, 1, tzinfo=UTC), id="lowercase"
        ),
        pytest.param(
            "2026-06-01T02:00:00+02:00",
            datetime(2026, 6, 1, tzinfo=UTC),
            id="plus-offset",
        ),
        pytest.param(
            "2026-05-31T19:30:00-04:30",
            datetime(2026, 6, 1, tzinfo=UTC),
            id="minus-offset",
        ),
        pytest.param(
            "2026-06-01T00:00:00+00:00",
            datetime(2026, 6, 1, tzinfo=UTC),
            id="zero-offset",
        ),
        pytest.param(
            "2026-06-01T00:00:00.5Z",
            datetime(2026, 6, 1, 0, 0, 0, 500000, tzinfo=UTC),
            id="one-fractional-digit",
        ),
        pytest.param(
            "2026-06-01T00:00:00.123456789Z",
            datetime(2026, 6, 1, 0, 0, 0, 123456, tzinfo=UTC),
            id="nine-fractional-digits",
        ),
        pytest.param(
            "2026-06-01T02:00:00.999999999+02:00",
            datetime(2026, 6, 1, 0, 0, 0, 999999, tzinfo=UTC),
            id="nine-fractional-digits-with-offset",
        ),
    ],
)
def test_parse_time_accepts(text: str, expected: datetime) -> None:
    parsed = parse_time(text, "at")
    assert parsed == expected
    assert parsed.tzinfo is UTC


# Caught by the RFC 3339 pattern or by datetime; either way the time is refused.
_REJECTED = r"^(not an RFC 3339|invalid) time"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("2026-06-01T00:00:00", r"^not an RFC 3339 time", id="naive"),
        pytest.param("2026-06-01", r"^not an RFC 3339 time", id="date-only"),
        pytest.param("garbage", r"^not an RFC 3339 time", id="garbage"),
        pytest.param("", r"^not an RFC 3339 time", id="empty"),
        pytest.param(
            "2026-06-01 00:00:00Z", r"^not an RFC 3339 time", id="space-separator"
        ),
        pytest.param("2026-06-01T00:00Z", r"^not an RFC 3339 time", id="no-seconds"),
        pytest.param(
            "2026-06-01T00:00:00+0200", r"^not an RFC 3339 time", id="offset-no-colon"
        ),
        pytest.param(
            "2026-06-01T00:00:00+02", r"^not an RFC 3339 time", id="offset-hours-only"
        ),
        pytest.param(
            "2026-06-01T00:00:00.Z", r"^not an RFC 3339 time", id="empty-fraction"
        ),
        pytest.param(
            "2026-06-01T00:00:00.1234567890Z",
            r"^not an RFC 3339 time",
            id="ten-fractional-digits",
        ),
        pytest.param(
            "20260601T000000Z", r"^not an RFC 3339 time", id="basic-iso-format"
        ),
        pytest.param("2026-13-01T00:00:00Z", r"^invalid time", id="month-13"),
        pytest.param("2026-02-30T00:00:00Z", r"^invalid time", id="february-30"),
        pytest.param("2026-06-01T24:00:00Z", r"^invalid time", id="hour-24"),
        pytest.param("2026-06-01T00:00:00Z\n", _REJECTED, id="trailing-newline"),
        # RFC 3339 digits are ASCII: refused by the pattern, not left to datetime
        pytest.param(
            "\uff12\uff10\uff12\uff16-06-01T00:00:00Z",
            r"^not an RFC 3339 time",
            id="fullwidth-digits",
        ),
        pytest.param(
            "\u0662\u0660\u0662\u0666-06-01T00:00:00Z",
            r"^not an RFC 3339 time",
            id="arabic-indic-digits",
        ),
    ],
)
def test_parse_time_rejects(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        parse_time(text, "validFrom")
    check_error(excinfo.value, path="validFrom", message=message)
    assert repr(text) in excinfo.value.message


def test_parse_time_shortens_a_long_value_in_its_message() -> None:
    with pytest.raises(InvalidInputError) as excinfo:
        parse_time("2026-06-01T00:00:00Z" + "x" * 100_000, "at")
    message = excinfo.value.message
    assert message.startswith("not an RFC 3339 time with offset")
    assert len(message) < 200
    assert message.endswith("...'")


def test_format_time_round_trips() -> None:
    t = parse_time("2026-06-01T02:00:00.250+02:00", "at")
    assert format_time(t) == "2026-06-01T00:00:00.250000Z"
    assert parse_time(format_time(t), "at") == t
    with pytest.raises(ValueError, match="naive"):
        format_time(datetime(2026, 6, 1))  # noqa: DTZ001 - the point of the test
