"""The JSON Schemas in ``vendorproof/schemas`` agree with the parsers.

Every committed fixture validates against its schema; a report of the sample delivery
validates against ``report.schema.json``; and each malformed document below is rejected
by the schema *and* by the Python parser (parity), while each unusual but valid one is
accepted by both. Cases where the parser is laxer than the documented format are
``xfail(strict=True)`` and reported as parser bugs.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import functools
import itertools
import json
import re
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Final

import pytest
import yaml
from jsonschema import Draft202012Validator

from tests.builders import REPO, SAMPLE_AT, SAMPLE_DELIVERY, SAMPLE_POLICY
from vendorproof._internal import crypto
from vendorproof._internal.jsonio import dump_json, read_document
from vendorproof.errors import InvalidInputError
from vendorproof.intake import check_delivery, load_policy
from vendorproof.limits import DEFAULT_LIMITS
from vendorproof.models._fields import b64decode, parse_time
from vendorproof.models.bundle import Bundle, BundleVersion
from vendorproof.models.certification import (
    CERTIFICATION_PREDICATE,
    KNOWN_SCHEMES,
    STATUSES,
    Certification,
)
from vendorproof.models.checks import Check
from vendorproof.models.declaration import DECLARATION_PREDICATE, TrustDeclaration
from vendorproof.models.manifest import (
    MANIFEST_PREDICATE,
    ComponentKind,
    ComponentManifest,
    Domain,
    check_relative_path,
)
from vendorproof.models.policy import (
    DIGEST_ALGORITHMS,
    IMAGE_SIGNATURE_KINDS,
    Policy,
    RevocationMode,
)
from vendorproof.models.statement import PAYLOAD_TYPE, STATEMENT_TYPE, Statement
from vendorproof.schemas import SCHEMA_BASE_URI, SCHEMA_NAMES, load_schema
from vendorproof.verify.delivery import REQUIREMENTS
from vendorproof.verify.result import Outcome

ATTESTATIONS = SAMPLE_DELIVERY / "attestations"

SCHEMA_OF_PREDICATE: Final = {
    MANIFEST_PREDICATE: "component-manifest",
    CERTIFICATION_PREDICATE: "certification",
    DECLARATION_PREDICATE: "trust-declaration",
}
#: Requirement ids of the domain brief (§2).
REQUIREMENT_IDS: Final = frozenset(
    {
        "KAT-A2-2",
        "TKG-165-4",
        "KAT-A2-3",
        "KAT-A2-4",
        "KAT-A2-8",
        "SCAS-PKG",
        "EUCC-9-2e",
        "BSI-AUDIT",
        "BSIG-41",
    }
)
#: Checks run on each signed document (``verify/signer.py`` and the k-of-n threshold):
#: they carry the requirement ids of the document's role.
SIGNER_CHECKS: Final = frozenset(
    {
        "algorithms",
        "signature",
        "timestamp",
        "certificate-chain",
        "revocation",
        "certificate-profile",
        "signer-identity",
        "signature-threshold",
    }
)
#: Signer checks of Notation and cosign signatures over OCI manifests.
OCI_SIGNER_CHECKS: Final = frozenset(
    {
        "notation-envelope",
        "cosign-bundle",
        "target-artifact",
        "signing-scheme",
        "expiry",
    }
)


def parser_bug(
    reason: str, raises: type[BaseException] = AssertionError
) -> pytest.MarkDecorator:
    """Mark a parity case the parser gets wrong (reported; flips when fixed)."""
    return pytest.mark.xfail(
        strict=True, raises=raises, reason=f"BUG (reported): {reason}"
    )


# -- helpers ---------------------------------------------------------------------------


@functools.cache
def validator(name: str) -> Draft202012Validator:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def def_validator(name: str, definition: str) -> Draft202012Validator:
    """A validator for one ``$defs`` entry (with the schema's other defs in scope)."""
    schema = load_schema(name)
    return Draft202012Validator(
        {
            "$schema": schema["$schema"],
            "$defs": schema["$defs"],
            "$ref": f"#/$defs/{definition}",
        }
    )


def schema_errors(name: str, doc: Any) -> list[str]:
    return [
        f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator(name).iter_errors(doc)
    ]


def load_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_bytes())
    return data


def payload_of(bundle: Mapping[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        base64.b64decode(bundle["dsseEnvelope"]["payload"])
    )
    return data


def fixture_bundles() -> list[Path]:
    return sorted(ATTESTATIONS.glob("*.sigstore.json"))


def fixture_statement(predicate_type: str) -> dict[str, Any]:
    for path in fixture_bundles():
        statement = payload_of(load_json(path))
        if statement["predicateType"] == predicate_type:
            return statement
    raise AssertionError(f"no fixture statement of type {predicate_type}")


def jsonify(value: Any) -> Any:
    """YAML data -> JSON data model: timestamps become their RFC 3339 text."""
    if isinstance(value, dict):
        return {k: jsonify(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonify(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


#: Marks a key for removal in :func:`edited`.
DELETE: Final = object()
Edit = tuple[Sequence[str | int], object]

#: The delivery fields a report has only with exactly one manifest.
DELIVERY_DETAIL = (
    "product",
    "version",
    "securityVersion",
    "networkFunction",
    "domain",
    "manifest",
    "components",
    "measured",
    "trustAnchors",
)


def edited(doc: Mapping[str, Any], edits: Sequence[Edit]) -> dict[str, Any]:
    """A deep copy of ``doc`` with each ``(path, value)`` set (or deleted)."""
    out: dict[str, Any] = copy.deepcopy(dict(doc))
    for path, value in edits:
        target: Any = out
        for key in path[:-1]:
            target = target[key]
        if value is DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = copy.deepcopy(value)
    return out


def parser_error(parse: Callable[[], object]) -> InvalidInputError | None:
    try:
        parse()
    except InvalidInputError as e:
        return e
    return None


def assert_parity(
    schema: str, doc: Any, parse: Callable[[], object], where: str | None
) -> None:
    """``where is None``: both accept; else both reject, the parser at ``where``."""
    errors = schema_errors(schema, doc)
    error = parser_error(parse)
    if where is None:
        assert not errors, errors
        assert error is None, str(error)
    else:
        assert errors, "the schema accepts it"
        assert error is not None, "the parser accepts it"
        assert where in (error.path or ""), f"{where!r} not in {error}"


# -- the schemas themselves ------------------------------------------------------------


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_schema_is_valid_draft_2020_12(name: str) -> None:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == f"{SCHEMA_BASE_URI}{name}.schema.json"
    assert schema["title"]
    assert schema["description"]


def test_schema_names_are_the_packaged_files() -> None:
    package = resources.files("vendorproof.schemas")
    files = {
        p.name.removesuffix(".schema.json")
        for p in package.iterdir()
        if p.name.endswith(".json")
    }
    assert files == set(SCHEMA_NAMES)


def test_load_schema_returns_a_fresh_copy_and_refuses_unknown_names() -> None:
    first = load_schema("report")
    first["title"] = "changed"
    assert load_schema("report")["title"] != "changed"
    with pytest.raises(ValueError, match="unknown schema 'nope'"):
        load_schema("nope")


def test_shared_definitions_are_identical_in_every_schema() -> None:
    seen: dict[str, tuple[str, Any]] = {}
    for name in SCHEMA_NAMES:
        for key, definition in load_schema(name)["$defs"].items():
            first = seen.setdefault(key, (name, definition))
            assert definition == first[1], f"$defs/{key}: {name} != {first[0]}"
    assert {"time", "digestSet", "relativePath", "party"} <= set(seen)


def _enum(schema: Mapping[str, Any], *path: str) -> set[Any]:
    node: Any = schema
    for key in path:
        node = node[key]
    return set(node["enum"])


def test_enums_and_limits_match_the_code() -> None:
    manifest = load_schema("component-manifest")
    mdefs = manifest["$defs"]
    mpred = manifest["properties"]["predicate"]["properties"]
    assert _enum(mpred, "domain") == {d.value for d in Domain}
    assert _enum(mdefs, "component", "properties", "kind") == {
        k.value for k in ComponentKind
    }
    cert = load_schema("certification")["properties"]["predicate"]["properties"]
    assert _enum(cert, "scheme", "properties", "name") == KNOWN_SCHEMES
    assert _enum(cert, "status", "properties", "value") == STATUSES
    for name, ptype in (
        ("component-manifest", MANIFEST_PREDICATE),
        ("certification", CERTIFICATION_PREDICATE),
        ("trust-declaration", DECLARATION_PREDICATE),
    ):
        props = load_schema(name)["properties"]
        assert props["predicateType"]["const"] == ptype
        assert props["_type"]["const"] == STATEMENT_TYPE
        assert props["subject"]["maxItems"] == DEFAULT_LIMITS.max_subjects

    policy = load_schema("policy")
    pdefs, pprops = policy["$defs"], policy["properties"]
    algs = pprops["algorithms"]["anyOf"][0]["properties"]
    assert set(algs["signatures"]["anyOf"][0]["items"]["enum"]) == set(
        crypto.SIGNATURE_ALGORITHMS
    )
    assert set(algs["digests"]["anyOf"][0]["items"]["enum"]) == DIGEST_ALGORITHMS
    assert algs["minRsaBits"]["minimum"] == crypto.MIN_RSA_BITS
    assert set(
        pdefs["certificationBody"]["properties"]["schemes"]["items"]["enum"]
    ) == (KNOWN_SCHEMES)
    image_signatures = pdefs["vendor"]["properties"]["imageSignatures"]["anyOf"][0]
    assert set(image_signatures["items"]["enum"]) == IMAGE_SIGNATURE_KINDS
    revocation = pprops["revocation"]["anyOf"][0]["properties"]
    assert _enum(revocation, "mode") == {m.value for m in RevocationMode} | {None}
    rule = pdefs["rule"]["properties"]
    assert set(rule["schemes"]["items"]["enum"]) == KNOWN_SCHEMES
    assert set(rule["domains"]["anyOf"][0]["items"]["enum"]) == {
        d.value for d in Domain
    }
    assert set(rule["kinds"]["anyOf"][0]["items"]["enum"]) == {
        k.value for k in ComponentKind
    }

    bundle = load_schema("bundle")
    assert _enum(bundle, "properties", "mediaType") == {
        v.value for v in BundleVersion
    } | {"application/vnd.dev.sigstore.bundle+json;version=0.3"}
    envelope = bundle["$defs"]["dsseEnvelope"]["properties"]
    assert envelope["signatures"]["maxItems"] == DEFAULT_LIMITS.max_signatures
    material = bundle["$defs"]["verificationMaterial"]["properties"]
    chain = material["x509CertificateChain"]["anyOf"][0]["properties"]
    assert chain["certificates"]["maxItems"] == DEFAULT_LIMITS.max_certificates

    report = load_schema("report")
    check = report["$defs"]["check"]["properties"]
    assert set(check["outcome"]["enum"]) == {o.value for o in Outcome}
    assert set(check["requirements"]["items"]["enum"]) == REQUIREMENT_IDS
    assert {r for reqs in REQUIREMENTS.values() for r in reqs} <= REQUIREMENT_IDS
    assert {r for c in Check for r in c.requirements} <= REQUIREMENT_IDS
    # The schema's check names are the Check enum, in order; signer checks carry the
    # requirement ids of their document, every other check its own.
    assert check["check"]["enum"] == [c.value for c in Check]
    assert {c.value for c in Check if c.signer} == SIGNER_CHECKS | OCI_SIGNER_CHECKS
    assert all(c.requirements for c in Check if not c.signer)


def test_formats_doc_lists_every_check_and_algorithm() -> None:
    text = (REPO / "docs" / "formats.md").read_text(encoding="utf-8")
    checks = text.split("### Checks", 1)[1].split("\n\n", 2)[1]
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", checks, re.MULTILINE))
    check = load_schema("report")["$defs"]["check"]["properties"]["check"]
    assert documented == set(check["enum"])
    table = text.split("### Signature algorithms", 1)[1].split("\n\n", 2)[1]
    algorithms = set(re.findall(r"^\| [^|]+ \| `([a-z0-9-]+)` \|", table, re.MULTILINE))
    assert algorithms == set(crypto.SIGNATURE_ALGORITHMS)


# -- fixtures and the sample report validate -------------------------------------------


@pytest.mark.parametrize("path", fixture_bundles(), ids=lambda p: p.name)
def test_fixture_bundle_validates(path: Path) -> None:
    bundle = load_json(path)
    assert schema_errors("bundle", bundle) == []
    Bundle.from_bytes(path.read_bytes())


@pytest.mark.parametrize("path", fixture_bundles(), ids=lambda p: p.name)
def test_fixture_statement_validates(path: Path) -> None:
    bundle = load_json(path)
    assert bundle["dsseEnvelope"]["payloadType"] == PAYLOAD_TYPE
    statement = payload_of(bundle)
    name = SCHEMA_OF_PREDICATE[statement["predicateType"]]
    assert schema_errors(name, statement) == []


def test_every_predicate_type_is_in_the_fixtures() -> None:
    types = {payload_of(load_json(p))["predicateType"] for p in fixture_bundles()}
    assert types == set(SCHEMA_OF_PREDICATE)


def test_fixture_policy_validates() -> None:
    data = yaml.safe_load(SAMPLE_POLICY.read_text(encoding="utf-8"))
    assert schema_errors("policy", jsonify(data)) == []


def _report(root: Path) -> dict[str, Any]:
    report = check_delivery(
        root, load_policy(SAMPLE_POLICY), at=SAMPLE_AT, time_source="--at"
    ).to_dict()
    data: dict[str, Any] = json.loads(json.dumps(report))  # what --format json prints
    return data


def test_sample_report_validates() -> None:
    report = _report(SAMPLE_DELIVERY)
    assert report["verdict"] == "PASSED"
    assert schema_errors("report", report) == []
    seen = {c["check"] for c in report["checks"]}
    assert seen >= (SIGNER_CHECKS - {"signature-threshold", "certificate-profile"}) | {
        "integrity",
        "certification-coverage",
    }
    assert report["delivery"]["measured"]
    assert report["delivery"]["principal"] == {
        "id": "acme",
        "name": "Acme Radio Systems GmbH",
    }


def test_failed_reports_validate(tmp_path: Path) -> None:
    tampered = tmp_path / "tampered"
    shutil.copytree(SAMPLE_DELIVERY, tampered)
    (tampered / "images" / "gnb-du-24.1.3.img").write_bytes(b"not the certified image")
    (tampered / "extra.bin").write_bytes(b"unlisted")
    report = _report(tampered)
    assert report["verdict"] == "FAILED"
    assert {c["outcome"] for c in report["checks"]} >= {"pass", "fail"}
    assert schema_errors("report", report) == []

    no_manifest = tmp_path / "no-manifest"
    shutil.copytree(SAMPLE_DELIVERY, no_manifest)
    (no_manifest / "attestations" / "manifest.sigstore.json").unlink()
    report = _report(no_manifest)
    assert report["verdict"] == "FAILED"
    assert set(report["delivery"]) == {"format", "root", "listing"}
    assert schema_errors("report", report) == []


@pytest.mark.parametrize(
    "edits",
    [
        pytest.param([(("extra",), 1)], id="unknown-field"),
        pytest.param([(("verdict",), "passed")], id="verdict-lowercase"),
        pytest.param([(("schemaVersion",), 2)], id="schema-version"),
        pytest.param([(("validationTime",), "2026-06-01T00:00:00+00:00")], id="not-Z"),
        pytest.param([(("checks", 0, "outcome"), "ok")], id="bad-outcome"),
        pytest.param([(("checks", 0, "check"), "vibes")], id="unknown-check"),
        pytest.param([(("checks", 0, "requirements"), ["ISO-9001"])], id="unknown-req"),
        pytest.param([(("checks", 0, "requirements"), [])], id="no-requirements"),
        pytest.param([(("checks", 0, "reason"), DELETE)], id="missing-reason"),
        pytest.param([(("inputs", "../policy.yaml"), "0" * 64)], id="input-outside"),
        pytest.param([(("inputs", "/etc/passwd"), "0" * 64)], id="input-absolute"),
        pytest.param([(("inputs", "a/../../b"), "0" * 64)], id="input-dotdot"),
        pytest.param([(("inputs", "2:../x.cms"), "0" * 64)], id="input-prefixed-up"),
        pytest.param([(("inputs", "a\\b"), "0" * 64)], id="input-backslash"),
        pytest.param([(("inputs", "a\nb"), "0" * 64)], id="input-control"),
        pytest.param([(("delivery", "product"), DELETE)], id="partial-delivery"),
        pytest.param([(("delivery", "trustAnchors"), ["sha1:abc"])], id="bad-anchor"),
        pytest.param(
            [(("delivery", "principal", "name"), DELETE)], id="principal-name"
        ),
        pytest.param([(("delivery", "principal", "role"), "vendor")], id="principal-x"),
        pytest.param(
            [(("delivery", k), DELETE) for k in ("vendor", *DELIVERY_DETAIL)],
            id="principal-without-vendor",
        ),
        pytest.param([(("policy", "digest", "sha256"), "A" * 64)], id="policy-digest"),
    ],
)
def test_report_schema_rejects(edits: list[Edit]) -> None:
    report = edited(_sample_report(), edits)
    assert schema_errors("report", report)


@functools.cache
def _cached_sample_report() -> str:
    return json.dumps(_report(SAMPLE_DELIVERY))


def _sample_report() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_cached_sample_report())
    return data


# -- statements: schema and parser agree -----------------------------------------------


def parse_statement(name: str, doc: Mapping[str, Any]) -> Callable[[], object]:
    models: dict[str, Callable[[Statement], object]] = {
        "component-manifest": ComponentManifest.from_statement,
        "certification": Certification.from_statement,
        "trust-declaration": TrustDeclaration.from_statement,
    }
    from_statement = models[name]

    def parse() -> object:
        return from_statement(Statement.from_bytes(dump_json(doc)))

    return parse


P: Final = ("predicate",)
C0: Final = ("predicate", "components", 0)
S0: Final = ("subject", 0)
SHA256_0: Final = fixture_statement(MANIFEST_PREDICATE)["subject"][0]["digest"][
    "sha256"
]


def _required(name: str, fields: Sequence[str], where: str) -> Iterator[Any]:
    for field in fields:
        yield pytest.param(
            [((*P, field), DELETE)], f"{where}{field}", id=f"{name}-missing-{field}"
        )
        yield pytest.param(
            [((*P, field), None)], f"{where}{field}", id=f"{name}-null-{field}"
        )


MANIFEST_CASES = [
    # statement level (in-toto)
    pytest.param([(("_type",), DELETE)], "_type", id="missing-_type"),
    pytest.param(
        [(("_type",), "https://in-toto.io/Statement/v0.1")], "_type", id="old-_type"
    ),
    pytest.param([(("subject",), [])], "subject", id="no-subjects"),
    pytest.param([((*S0, "digest"), DELETE)], "subject[0].digest", id="subject-digest"),
    pytest.param([((*S0, "digest"), {})], "subject[0].digest", id="empty-digest-set"),
    pytest.param([((*S0, "name"), " \t")], "subject[0].name", id="blank-subject"),
    pytest.param(
        [(("predicateType",), CERTIFICATION_PREDICATE)],
        "predicateType",
        id="other-predicate-type",
    ),
    pytest.param([(P, [])], "predicate", id="predicate-not-object"),
    # predicate
    pytest.param([((*P, "extra"), 1)], "predicate", id="unknown-field"),
    pytest.param([((*P, "vendor", "url"), "x")], "predicate.vendor", id="vendor-extra"),
    pytest.param(
        [((*P, "vendor", "id"), DELETE)], "predicate.vendor.id", id="vendor-id"
    ),
    pytest.param([((*P, "domain"), "Ran")], "predicate.domain", id="bad-domain"),
    pytest.param([((*P, "domain"), "5GC")], "predicate.domain", id="bad-domain-2"),
    pytest.param([((*P, "product"), "   ")], "predicate.product", id="blank-product"),
    pytest.param([((*P, "product"), "x" * 4097)], "predicate.product", id="long"),
    pytest.param([((*P, "version"), 24)], "predicate.version", id="version-number"),
    pytest.param(
        [((*P, "securityVersion"), -1)], "predicate.securityVersion", id="negative-sv"
    ),
    pytest.param(
        [((*P, "securityVersion"), True)], "predicate.securityVersion", id="bool-sv"
    ),
    pytest.param(
        [((*P, "securityVersion"), "7")], "predicate.securityVersion", id="string-sv"
    ),
    pytest.param(
        [((*P, "components"), [])], "predicate.components", id="no-components"
    ),
    *(
        pytest.param(
            [((*P, "releaseDate"), t)], "predicate.releaseDate", id=f"time-{i}"
        )
        for i, t in enumerate(
            [
                "2026-03-02",
                "2026-03-02T09:00:00",
                "2026-03-02 09:00:00Z",
                "2026-13-02T09:00:00Z",
                "2026-03-02T09:00:00.1234567890Z",
                "2026-03-02T09:00Z",
                "2026-03-02T09:00:00+0100",
                "2026-03-02T09:00:00Z\n",
            ]
        )
    ),
    *_required(
        "manifest",
        [
            "vendor",
            "product",
            "version",
            "securityVersion",
            "networkFunction",
            "domain",
            "releaseDate",
            "components",
        ],
        "predicate.",
    ),
    # components
    pytest.param([((*C0, "mode"), "0644")], "predicate.components[0]", id="comp-extra"),
    pytest.param([((*C0, "kind"), "binary")], "components[0].kind", id="bad-kind"),
    pytest.param([((*C0, "size"), -1)], "components[0].size", id="negative-size"),
    pytest.param([((*C0, "size"), True)], "components[0].size", id="bool-size"),
    pytest.param([((*C0, "size"), 1.5)], "components[0].size", id="float-size"),
    *(
        pytest.param([((*C0, f), DELETE)], f"components[0].{f}", id=f"comp-missing-{f}")
        for f in ("path", "kind", "size", "digests")
    ),
    pytest.param(
        [((*C0, "digests", "sha256"), SHA256_0.upper())],
        "components[0].digests.sha256",
        id="digest-uppercase",
    ),
    pytest.param(
        [((*C0, "digests", "sha256"), SHA256_0[:-1])],
        "components[0].digests.sha256",
        id="digest-short",
    ),
    pytest.param(
        [((*C0, "digests", "sha256"), SHA256_0 + "\n")],
        "components[0].digests.sha256",
        id="digest-newline",
    ),
    pytest.param(
        [((*C0, "digests", "sha512"), SHA256_0)],
        "components[0].digests.sha512",
        id="digest-sha512-length",
    ),
    pytest.param(
        [((*C0, "digests", "sha1"), "0" * 39)],
        "components[0].digests.sha1",
        id="digest-sha1-length",
    ),
    pytest.param(
        [((*C0, "digests", "sha256"), 5)],
        "components[0].digests.sha256",
        id="digest-not-string",
    ),
    pytest.param([((*C0, "digests"), {})], "components[0].digests", id="digest-empty"),
    *(
        pytest.param([((*C0, "path"), p)], "components[0].path", id=f"unsafe-path-{i}")
        for i, p in enumerate(
            [
                "",
                "../etc/passwd",
                "/etc/passwd",
                "images//du.img",
                "images/./du.img",
                "images/../du.img",
                "images/",
                ".",
                "..",
                "images\\du.img",
                "images/du\x00.img",
            ]
        )
    ),
    # accepted by both
    pytest.param([(("extra",), {"x": 1})], None, id="ok-statement-extra"),
    pytest.param([((*S0, "uri"), "https://x.example/du")], None, id="ok-subject-extra"),
    pytest.param(
        [((*S0, "digest", "gitCommit"), "zz"), ((*C0, "digests", "gitCommit"), "zz")],
        None,
        id="ok-unknown-digest-alg",
    ),
    pytest.param(
        [((*S0, "name"), ".hidden/v1..2/..."), ((*C0, "path"), ".hidden/v1..2/...")],
        None,
        id="ok-dotted-path",
    ),
    pytest.param(
        [((*P, "releaseDate"), "2026-03-02t09:00:00.123456789z")], None, id="ok-time"
    ),
    pytest.param(
        [((*P, "releaseDate"), "2026-03-02T09:00:00-05:30")], None, id="ok-offset"
    ),
    pytest.param([((*P, "securityVersion"), 0)], None, id="ok-sv-0"),
    pytest.param([((*P, "domain"), "OAM")], None, id="ok-domain"),
]


@pytest.mark.parametrize(("edits", "where"), MANIFEST_CASES)
def test_manifest_parity(edits: list[Edit], where: str | None) -> None:
    doc = edited(fixture_statement(MANIFEST_PREDICATE), edits)
    assert_parity(
        "component-manifest", doc, parse_statement("component-manifest", doc), where
    )


EUCC_ID = "EUCC-3090-2025-10-0003"  # Art. 11(3)(b) of (EU) 2024/482


CERT_CASES = [
    pytest.param([((*P, "extra"), 1)], "predicate", id="unknown-field"),
    pytest.param([((*P, "scheme", "name"), "ISO-27001")], "scheme.name", id="scheme"),
    pytest.param([((*P, "scheme", "name"), "nesas")], "scheme.name", id="scheme-case"),
    pytest.param([((*P, "scheme", "level"), "x")], "predicate.scheme", id="scheme-x"),
    pytest.param([((*P, "scheme", "version"), DELETE)], "scheme.version", id="s-ver"),
    pytest.param([((*P, "status", "value"), "revoked")], "status.value", id="status"),
    pytest.param([((*P, "status", "since"), "x")], "predicate.status", id="status-x"),
    pytest.param([((*P, "status", "publishedAt"), " ")], "publishedAt", id="pub-blank"),
    pytest.param(
        [((*P, "reports", 0, "sha256"), "A" * 64)], "reports[0].sha256", id="rep-hex"
    ),
    pytest.param(
        [((*P, "reports", 0, "sha256"), "a" * 63)], "reports[0].sha256", id="rep-len"
    ),
    pytest.param(
        [((*P, "reports", 0, "sha256"), "a" * 64 + "\n")],
        "reports[0].sha256",
        id="rep-newline",
    ),
    pytest.param([((*P, "reports", 0, "url"), "x")], "reports[0]", id="rep-extra"),
    pytest.param([((*P, "reports", 0, "id"), DELETE)], "reports[0].id", id="rep-id"),
    pytest.param([((*P, "reports"), {})], "predicate.reports", id="reports-object"),
    pytest.param([((*P, "product", "versions"), [])], "product.versions", id="no-ver"),
    pytest.param(
        [((*P, "product", "versions"), [" "])], "product.versions[0]", id="blank-ver"
    ),
    pytest.param(
        [((*P, "product", "versions"), "24.1.3")], "product.versions", id="ver-str"
    ),
    pytest.param([((*P, "product", "category"), DELETE)], "product.category", id="cat"),
    pytest.param([((*P, "product", "sku"), "x")], "predicate.product", id="product-x"),
    pytest.param([((*P, "conformance"), [""])], "conformance[0]", id="conformance"),
    pytest.param(
        [((*P, "evaluationFacility", "country"), "DE")],
        "predicate.evaluationFacility",
        id="facility-extra",
    ),
    pytest.param([((*P, "holder", "id"), 7)], "predicate.holder.id", id="holder-id"),
    pytest.param([((*P, "assuranceLevel"), "")], "assuranceLevel", id="blank-eal"),
    pytest.param([((*P, "validFrom"), "2026-01-15")], "predicate.validFrom", id="date"),
    *_required(
        "cert",
        [
            "scheme",
            "certificateId",
            "certificationBody",
            "holder",
            "product",
            "scope",
            "validFrom",
            "validUntil",
            "status",
        ],
        "predicate.",
    ),
    # accepted by both
    pytest.param([((*P, "evaluationFacility"), None)], None, id="ok-null-facility"),
    pytest.param([((*P, "evaluationFacility"), DELETE)], None, id="ok-no-facility"),
    pytest.param([((*P, "assuranceLevel"), "EAL4+ (AVA_VAN.5)")], None, id="ok-eal"),
    pytest.param([((*P, "assuranceLevel"), None)], None, id="ok-null-eal"),
    pytest.param([((*P, "conformance"), None)], None, id="ok-null-conformance"),
    pytest.param([((*P, "conformance"), DELETE)], None, id="ok-no-conformance"),
    pytest.param([((*P, "reports"), [])], None, id="ok-no-reports"),
    pytest.param([((*P, "status", "publishedAt"), None)], None, id="ok-null-pub"),
    pytest.param(
        [((*P, "scheme", "name"), "EUCC"), ((*P, "certificateId"), EUCC_ID)],
        None,
        id="ok-eucc",
    ),
    pytest.param(
        [((*P, "scheme", "name"), "EUCC"), ((*P, "certificateId"), "EUCC-3090-25-1")],
        "certificateId",
        id="eucc-id-structure",
    ),
    pytest.param(
        [
            ((*P, "scheme", "name"), "EUCC"),
            ((*P, "certificateId"), "EUCC-3090-2025-13-7"),
        ],
        "certificateId",
        id="eucc-id-month",
    ),
    # The EUCC structure is not asked of other schemes' ids.
    pytest.param([((*P, "certificateId"), "EUCC-3090-25-1")], None, id="ok-other-id"),
    pytest.param([((*P, "status", "value"), "withdrawn")], None, id="ok-withdrawn"),
    pytest.param([((*S0, "name"), "any name, not a path")], None, id="ok-subject"),
]


@pytest.mark.parametrize(("edits", "where"), CERT_CASES)
def test_certification_parity(edits: list[Edit], where: str | None) -> None:
    doc = edited(fixture_statement(CERTIFICATION_PREDICATE), edits)
    assert_parity("certification", doc, parse_statement("certification", doc), where)


DECL_CASES = [
    pytest.param([((*P, "extra"), 1)], "predicate", id="unknown-field"),
    pytest.param([((*P, "products"), [])], "predicate.products", id="no-products"),
    pytest.param([((*P, "products"), [""])], "products[0]", id="blank-product"),
    pytest.param([((*P, "products"), "AcmeRAN *")], "predicate.products", id="str"),
    pytest.param([((*P, "commitments"), [])], "predicate.commitments", id="no-commit"),
    pytest.param([((*P, "commitments"), [" "])], "commitments[0]", id="blank-commit"),
    pytest.param([((*P, "signatory", "role"), DELETE)], "signatory.role", id="role"),
    pytest.param(
        [((*P, "signatory", "email"), "x")], "predicate.signatory", id="sig-x"
    ),
    pytest.param([((*P, "vendor", "name"), "")], "predicate.vendor.name", id="vendor"),
    pytest.param([((*P, "issuedAt"), "yesterday")], "predicate.issuedAt", id="time"),
    *_required(
        "decl",
        [
            "vendor",
            "legalEntity",
            "products",
            "issuedAt",
            "validUntil",
            "signatory",
            "commitments",
            "legalBasis",
        ],
        "predicate.",
    ),
    pytest.param([((*P, "products"), ["AcmeRAN gNB", "Acme*"])], None, id="ok-globs"),
    pytest.param([((*P, "issuedAt"), "2026-01-02T01:00:00+01:00")], None, id="ok-time"),
]


@pytest.mark.parametrize(("edits", "where"), DECL_CASES)
def test_declaration_parity(edits: list[Edit], where: str | None) -> None:
    doc = edited(fixture_statement(DECLARATION_PREDICATE), edits)
    assert_parity(
        "trust-declaration", doc, parse_statement("trust-declaration", doc), where
    )


# -- bundles ---------------------------------------------------------------------------

V02: Final = "manifest.sigstore.json"  # x509CertificateChain (leaf + intermediate)
V03: Final = "certification-nesas.sigstore.json"  # certificate alone
VM: Final = ("verificationMaterial",)
SIG0: Final = ("dsseEnvelope", "signatures", 0)


def _cert(file: str = V02) -> dict[str, str]:
    material = load_json(ATTESTATIONS / file)["verificationMaterial"]
    if "certificate" in material:
        cert: dict[str, str] = material["certificate"]
        return cert
    leaf: dict[str, str] = material["x509CertificateChain"]["certificates"][0]
    return leaf


def _urlsafe(text: str, padded: bool = False) -> str:
    url_safe = text.replace("+", "-").replace("/", "_")
    return url_safe if padded else url_safe.rstrip("=")


BUNDLE_CASES = [
    pytest.param(
        V02,
        [(("mediaType",), "application/vnd.dev.sigstore.bundle+json;version=0.1")],
        "mediaType",
        id="media-type",
    ),
    pytest.param(V02, [(("mediaType",), DELETE)], "mediaType", id="no-media-type"),
    pytest.param(V02, [(VM, DELETE)], "verificationMaterial", id="no-material"),
    pytest.param(V02, [(VM, [])], "verificationMaterial", id="material-list"),
    pytest.param(
        V02,
        [((*VM, "x509CertificateChain"), DELETE)],
        "verificationMaterial",
        id="no-key-material",
    ),
    pytest.param(
        V02,
        [((*VM, "certificate"), _cert())],
        "verificationMaterial",
        id="two-materials",
    ),
    pytest.param(
        V02,
        [((*VM, "x509CertificateChain"), DELETE), ((*VM, "certificate"), _cert())],
        "verificationMaterial.certificate",
        id="v02-certificate",
    ),
    pytest.param(
        V03,
        [
            ((*VM, "certificate"), DELETE),
            ((*VM, "x509CertificateChain"), {"certificates": [_cert(V03)]}),
        ],
        "verificationMaterial.x509CertificateChain",
        id="v03-chain",
    ),
    pytest.param(
        V02,
        [((*VM, "x509CertificateChain", "certificates"), [])],
        "x509CertificateChain.certificates",
        id="empty-chain",
    ),
    pytest.param(
        V02,
        [((*VM, "x509CertificateChain", "certificates"), [_cert()] * 65)],
        "x509CertificateChain.certificates",
        id="long-chain",
    ),
    pytest.param(
        V02,
        [((*VM, "x509CertificateChain", "certificates", 0, "rawBytes"), "not base64!")],
        "rawBytes",
        id="raw-bytes",
    ),
    pytest.param(
        V02,
        [((*VM, "x509CertificateChain", "certificates", 0, "rawBytes"), "")],
        "rawBytes",
        id="raw-bytes-empty",
    ),
    pytest.param(
        V02,
        [((*VM, "x509CertificateChain", "certificates", 0), {})],
        "rawBytes",
        id="raw-bytes-missing",
    ),
    pytest.param(
        V03,
        [((*VM, "certificate", "rawBytes"), _cert(V03)["rawBytes"] + "\n")],
        "rawBytes",
        id="raw-bytes-newline",
    ),
    pytest.param(
        V02,
        [((*VM, "x509CertificateChain"), DELETE), ((*VM, "publicKey"), "abc")],
        "verificationMaterial.publicKey",
        id="public-key-string",
    ),
    pytest.param(
        V02,
        [((*VM, "tlogEntries"), ["entry"])],
        "tlogEntries[0]",
        id="tlog-entry-string",
    ),
    pytest.param(V02, [((*VM, "tlogEntries"), {})], "tlogEntries", id="tlog-object"),
    pytest.param(
        V02,
        [((*VM, "timestampVerificationData"), "x")],
        "timestampVerificationData",
        id="tvd-string",
    ),
    pytest.param(
        V02,
        [((*VM, "timestampVerificationData"), {"rfc3161Timestamps": [{}]})],
        "rfc3161Timestamps[0].signedTimestamp",
        id="timestamp-missing",
    ),
    pytest.param(
        V02,
        [
            (
                (*VM, "timestampVerificationData"),
                {"rfc3161Timestamps": [{"signedTimestamp": ""}]},
            )
        ],
        "rfc3161Timestamps[0].signedTimestamp",
        id="timestamp-empty",
    ),
    pytest.param(
        V02,
        [
            (
                (*VM, "timestampVerificationData"),
                {"rfc3161Timestamps": [{"signedTimestamp": "AAAA"}] * 17},
            )
        ],
        "rfc3161Timestamps",
        id="too-many-timestamps",
    ),
    pytest.param(V02, [(("dsseEnvelope",), DELETE)], "bundle", id="no-content"),
    pytest.param(
        V02, [(("messageSignature",), {"signature": "AAAA"})], "bundle", id="both"
    ),
    pytest.param(V02, [(("dsseEnvelope",), None)], "dsseEnvelope", id="dsse-null"),
    pytest.param(
        V02, [(("dsseEnvelope", "payloadType"), "")], "payloadType", id="payload-type"
    ),
    pytest.param(V02, [(("dsseEnvelope", "payload"), "%%%")], "payload", id="payload"),
    pytest.param(
        V02, [(("dsseEnvelope", "signatures"), [])], "signatures", id="no-signatures"
    ),
    pytest.param(V02, [((*SIG0, "sig"), "")], "signatures[0].sig", id="empty-sig"),
    pytest.param(V02, [((*SIG0, "sig"), DELETE)], "signatures[0].sig", id="no-sig"),
    pytest.param(V02, [((*SIG0, "keyid"), 5)], "signatures[0].keyid", id="keyid-int"),
    pytest.param(
        V02,
        [(("dsseEnvelope", "signatures"), [{"sig": "AAAA"}] * 17)],
        "signatures",
        id="too-many-signatures",
    ),
    # accepted by both
    pytest.param(V02, [(("extra",), {"a": 1})], None, id="ok-unknown-field"),
    pytest.param(V02, [((*VM, "extra"), 1)], None, id="ok-unknown-material-field"),
    pytest.param(V02, [((*VM, "tlogEntries"), DELETE)], None, id="ok-no-tlog"),
    pytest.param(V02, [((*VM, "tlogEntries"), None)], None, id="ok-null-tlog"),
    pytest.param(
        V02, [((*VM, "tlogEntries"), [{"logIndex": "1"}])], None, id="ok-tlog"
    ),
    pytest.param(V02, [((*VM, "certificate"), None)], None, id="ok-null-certificate"),
    pytest.param(
        V03,
        [(("mediaType",), "application/vnd.dev.sigstore.bundle+json;version=0.3")],
        None,
        id="ok-v03-alias",
    ),
    pytest.param(
        V03,
        [((*VM, "certificate"), DELETE), ((*VM, "publicKey"), {"hint": "abc"})],
        None,
        id="ok-public-key",
    ),
    pytest.param(
        V02,
        [((*VM, "x509CertificateChain"), DELETE), ((*VM, "publicKey"), {})],
        None,
        id="ok-public-key-v02-no-hint",
    ),
    pytest.param(
        V02,
        [
            (
                (*VM, "timestampVerificationData"),
                {"rfc3161Timestamps": [{"signedTimestamp": "MIIB"}]},
            )
        ],
        None,
        id="ok-timestamp",
    ),
    pytest.param(
        V02, [((*VM, "timestampVerificationData"), {})], None, id="ok-empty-tvd"
    ),
    pytest.param(
        V02,
        [
            (("dsseEnvelope",), DELETE),
            (
                ("messageSignature",),
                {"messageDigest": {"algorithm": "SHA2_256"}, "signature": "AAAA"},
            ),
        ],
        None,
        id="ok-message-signature",
    ),
    pytest.param(V02, [((*SIG0, "keyid"), DELETE)], None, id="ok-no-keyid"),
    pytest.param(V02, [((*SIG0, "keyid"), None)], None, id="ok-null-keyid"),
    pytest.param(V02, [((*SIG0, "keyid"), "")], None, id="ok-empty-keyid"),
    pytest.param(V02, [((*SIG0, "extensions"), {})], None, id="ok-sig-extra"),
]


@pytest.mark.parametrize(("file", "edits", "where"), BUNDLE_CASES)
def test_bundle_parity(file: str, edits: list[Edit], where: str | None) -> None:
    doc = edited(load_json(ATTESTATIONS / file), edits)
    assert_parity("bundle", doc, lambda: Bundle.from_bytes(dump_json(doc)), where)


@pytest.mark.parametrize(
    ("padded", "where"),
    [(True, None), (False, "verificationMaterial.certificate.rawBytes")],
    ids=["padded", "unpadded"],
)
def test_bundle_url_safe_base64_needs_its_padding(
    padded: bool, where: str | None
) -> None:
    doc = load_json(ATTESTATIONS / V03)
    doc["dsseEnvelope"]["payload"] = _urlsafe(doc["dsseEnvelope"]["payload"], padded)
    doc["dsseEnvelope"]["signatures"][0]["sig"] = _urlsafe(
        doc["dsseEnvelope"]["signatures"][0]["sig"], padded
    )
    doc["verificationMaterial"]["certificate"]["rawBytes"] = _urlsafe(
        doc["verificationMaterial"]["certificate"]["rawBytes"], padded
    )
    assert_parity("bundle", doc, lambda: Bundle.from_bytes(dump_json(doc)), where)


# -- policy ----------------------------------------------------------------------------


def parse_policy(data: Mapping[str, Any]) -> Callable[[], object]:
    base = SAMPLE_POLICY.resolve().parent
    raw = yaml.safe_dump(dict(data), sort_keys=False, allow_unicode=True).encode()

    def parse() -> object:
        return Policy.from_yaml(
            raw, file="policy.yaml", resolve=lambda ref: read_document(base / ref)
        )

    return parse


ROOT_PEM: Final = (SAMPLE_POLICY.parent / "../../keys/vendor-a/root.pem").read_text()
V0: Final = ("vendors", 0)
V1: Final = ("vendors", 1)  # borealis: anchors + identities, no public keys
CB0: Final = ("certificationBodies", 0)
R0: Final = ("certification", "requirements", 0)
D0: Final = ("denyList", 0)
T0: Final = ("timestampAuthorities", 0)
K_OF_N: Final = {"role": "vendor", "threshold": 2}
ROLLBACK: Final = {
    "vendor": "acme",
    "product": "AcmeRAN *",
    "securityVersion": 6,
    "reason": "change CHG-1 (test)",
}
NAIVE: Final = dt.datetime(2026, 1, 1)  # noqa: DTZ001 - a naive timestamp on purpose

POLICY_CASES = [
    pytest.param([(("extra",), 1)], "", id="unknown-top-key"),
    pytest.param([(("vendors",), DELETE)], "", id="no-vendors"),
    pytest.param([(("vendors",), [])], "vendors", id="empty-vendors"),
    pytest.param([(("vendors",), None)], "vendors", id="null-vendors"),
    pytest.param([(("policy",), DELETE)], "", id="no-policy"),
    pytest.param([(("policy", "id"), DELETE)], "policy", id="no-policy-id"),
    pytest.param([(("policy", "legalBasis"), DELETE)], "policy", id="no-legal-basis"),
    pytest.param([(("policy", "id"), "  ")], "policy.id", id="blank-policy-id"),
    pytest.param([(("policy", "id"), 7)], "policy.id", id="int-policy-id"),
    pytest.param([(("policy", "version"), None)], "policy.version", id="null-version"),
    pytest.param([(("policy", "version"), True)], "policy.version", id="bool-version"),
    pytest.param(
        [(("policy", "version"), 2020.2)], "policy.version", id="float-version"
    ),
    pytest.param(
        [(("policy", "version"), "")],
        "policy.version",
        id="empty-version",
    ),
    pytest.param(
        [(("policy", "description"), ["not", "text"])],
        "policy.description",
        id="list-description",
    ),
    pytest.param([(("policy", "owner"), "x")], "policy", id="policy-extra"),
    pytest.param([(("algorithms",), [])], "algorithms", id="algorithms-list"),
    pytest.param([(("certification",), "")], "certification", id="cert-str"),
    pytest.param([(("revocation",), 0)], "revocation", id="revocation-zero"),
    pytest.param(
        [(("signatureRequirements",), {"sbom": [K_OF_N]})],
        "signatureRequirements",
        id="threshold-kind",
    ),
    pytest.param(
        [(("signatureRequirements",), {"manifest": []})],
        "signatureRequirements.manifest",
        id="threshold-empty",
    ),
    pytest.param(
        [(("signatureRequirements",), {"manifest": None})],
        "signatureRequirements.manifest",
        id="threshold-null-list",
    ),
    pytest.param(
        [(("signatureRequirements",), {"manifest": [{**K_OF_N, "threshold": 0}]})],
        "signatureRequirements.manifest[0].threshold",
        id="threshold-zero",
    ),
    pytest.param(
        [(("signatureRequirements",), {"manifest": [{**K_OF_N, "threshold": True}]})],
        "signatureRequirements.manifest[0].threshold",
        id="threshold-bool",
    ),
    pytest.param(
        [(("signatureRequirements",), {"manifest": [{**K_OF_N, "role": "tsa"}]})],
        "signatureRequirements.manifest[0].role",
        id="threshold-role",
    ),
    pytest.param(
        [(("signatureRequirements",), {"manifest": [{"role": "vendor"}]})],
        "signatureRequirements.manifest[0]",
        id="threshold-missing",
    ),
    pytest.param(
        [(("signatureRequirements",), {"manifest": [{**K_OF_N, "of": 3}]})],
        "signatureRequirements.manifest[0]",
        id="threshold-extra",
    ),
    pytest.param(
        [(("signatureRequirements",), {"manifest": [{**K_OF_N, "role": None}]})],
        "signatureRequirements.manifest[0].role",
        id="threshold-null-role",
    ),
    pytest.param(
        [(("signatureRequirements",), [])],
        "signatureRequirements",
        id="threshold-list",
    ),
    pytest.param(
        [(("algorithms", "signatures"), ["rsa-pkcs1-sha256"])],
        "algorithms.signatures[0]",
        id="bad-signature-alg",
    ),
    pytest.param(
        [(("algorithms", "digests"), ["sha1"])], "algorithms.digests[0]", id="sha1"
    ),
    pytest.param(
        [(("algorithms", "digests"), "sha256")], "algorithms.digests", id="digests-str"
    ),
    pytest.param(
        [(("algorithms", "minRsaBits"), 1024)], "algorithms.minRsaBits", id="rsa-1024"
    ),
    pytest.param(
        [(("algorithms", "minRsaBits"), True)], "algorithms.minRsaBits", id="rsa-bool"
    ),
    pytest.param(
        [(("algorithms", "minRsaBits"), None)], "algorithms.minRsaBits", id="rsa-null"
    ),
    pytest.param(
        [(("algorithms", "minRsaBits"), "3072")], "algorithms.minRsaBits", id="rsa-str"
    ),
    pytest.param([(("algorithms", "hashes"), [])], "algorithms", id="algorithms-extra"),
    pytest.param([((*V0, "schemes"), ["NESAS"])], "vendors[0]", id="vendor-schemes"),
    pytest.param([((*V0, "id"), DELETE)], "vendors[0]", id="vendor-no-id"),
    pytest.param([((*V0, "name"), "")], "vendors[0].name", id="vendor-blank-name"),
    pytest.param([((*V1, "identities"), DELETE)], "vendors[1]", id="anchors-no-ids"),
    pytest.param([((*V1, "identities"), [])], "vendors[1]", id="anchors-empty-ids"),
    pytest.param([((*V1, "anchors"), DELETE)], "vendors[1]", id="no-anchors-no-keys"),
    pytest.param([((*V1, "anchors"), [])], "vendors[1]", id="empty-anchors-no-keys"),
    pytest.param([((*V0, "anchors"), [""])], "vendors[0].anchors[0]", id="blank-ref"),
    pytest.param(
        [((*V0, "anchors"), "../../keys/vendor-a/root.pem")],
        "vendors[0].anchors",
        id="anchors-string",
    ),
    pytest.param(
        [((*V0, "identities", 0), {})], "vendors[0].identities[0]", id="empty-identity"
    ),
    pytest.param(
        [((*V0, "identities", 0, "issuer"), "x")],
        "vendors[0].identities[0]",
        id="identity-extra",
    ),
    pytest.param(
        [((*V0, "identities", 0, "subject"), None)],
        "vendors[0].identities[0].subject",
        id="identity-null-subject",
    ),
    pytest.param([((*CB0, "schemes"), DELETE)], "certificationBodies[0]", id="no-sch"),
    pytest.param([((*CB0, "schemes"), [])], "certificationBodies[0]", id="empty-sch"),
    pytest.param(
        [((*CB0, "schemes"), ["ISO-27001"])],
        "certificationBodies[0].schemes[0]",
        id="bad-scheme",
    ),
    pytest.param(
        [(("certificationBodies",), {})], "certificationBodies", id="cbs-object"
    ),
    pytest.param([(("certification", "rules"), [])], "certification", id="cert-extra"),
    pytest.param([((*R0, "schemes"), DELETE)], "requirements[0]", id="rule-no-schemes"),
    pytest.param([((*R0, "schemes"), [])], "requirements[0].schemes", id="rule-empty"),
    pytest.param([((*R0, "schemes"), None)], "requirements[0].schemes", id="rule-null"),
    pytest.param([((*R0, "domains"), ["Radio"])], "domains[0]", id="rule-domain"),
    pytest.param([((*R0, "kinds"), ["binary"])], "kinds[0]", id="rule-kind"),
    pytest.param([((*R0, "networkFunctions"), [""])], "networkFunctions[0]", id="nf"),
    pytest.param([((*R0, "vendors"), ["acme"])], "requirements[0]", id="rule-extra"),
    pytest.param(
        [((*R0, "description"), {"a": 1})],
        "requirements[0].description",
        id="rule-description-object",
    ),
    pytest.param([(("trustDeclaration",), "yes")], "trustDeclaration", id="td"),
    pytest.param([(("trustDeclaration",), True)], "trustDeclaration", id="td-bool"),
    pytest.param([(("unlistedFiles",), "ignore")], "unlistedFiles", id="unlisted"),
    pytest.param([(("denyList",), {})], "denyList", id="deny-object"),
    pytest.param([((*D0, "reason"), DELETE)], "denyList[0]", id="deny-no-reason"),
    pytest.param([((*D0, "effective"), DELETE)], "denyList[0]", id="deny-no-time"),
    pytest.param([((*D0, "effective"), NAIVE)], "effective", id="deny-naive"),
    pytest.param([((*D0, "effective"), dt.date(2026, 1, 1))], "effective", id="date"),
    pytest.param([((*D0, "effective"), "2026-01-01")], "effective", id="date-str"),
    pytest.param([((*D0, "effective"), 2026)], "effective", id="deny-int"),
    pytest.param([((*D0, "product"), None)], "denyList[0].product", id="deny-null"),
    pytest.param([((*D0, "scope"), "x")], "denyList[0]", id="deny-extra"),
    pytest.param(
        [((*V0, "requireTimestamp"), "yes")], "vendors[0].requireTimestamp", id="rt"
    ),
    pytest.param(
        [((*T0, "requireTimestamp"), True)], "timestampAuthorities[0]", id="tsa-rt"
    ),
    pytest.param([((*T0, "schemes"), ["CC"])], "timestampAuthorities[0]", id="tsa-sch"),
    pytest.param([((*T0, "anchors"), [])], "timestampAuthorities[0]", id="tsa-empty"),
    pytest.param([((*T0, "id"), DELETE)], "timestampAuthorities[0]", id="tsa-no-id"),
    pytest.param([(("revocation", "mode"), "strict")], "revocation.mode", id="rev"),
    pytest.param([(("revocation", "ocsp"), True)], "revocation", id="rev-extra"),
    pytest.param([(("revocation", "crls"), [""])], "revocation.crls[0]", id="crl"),
    pytest.param(
        [(("rollbackExceptions",), [{"vendor": "acme", "product": "*"}])],
        "rollbackExceptions[0]",
        id="rollback-missing",
    ),
    pytest.param(
        [(("rollbackExceptions",), [{**ROLLBACK, "securityVersion": -1}])],
        "rollbackExceptions[0].securityVersion",
        id="rollback-negative",
    ),
    pytest.param(
        [(("rollbackExceptions",), [{**ROLLBACK, "securityVersion": True}])],
        "rollbackExceptions[0].securityVersion",
        id="rollback-bool",
    ),
    pytest.param(
        [(("rollbackExceptions",), [{**ROLLBACK, "ticket": "x"}])],
        "rollbackExceptions[0]",
        id="rollback-extra",
    ),
    # accepted by both
    pytest.param([(("policy", "description"), DELETE)], None, id="ok-no-description"),
    pytest.param([((*V0, "requireTimestamp"), True)], None, id="ok-require-ts"),
    pytest.param([((*V0, "certificateProfile"), "legacy")], None, id="ok-legacy"),
    pytest.param([((*CB0, "certificateProfile"), None)], None, id="ok-null-profile"),
    pytest.param([((*V0, "detachedSignatures"), ["*.img"])], None, id="ok-detached"),
    pytest.param([((*V0, "sol004Option2Alone"), True)], None, id="ok-option2"),
    pytest.param([((*V0, "sol004Option2Alone"), None)], None, id="ok-null-option2"),
    pytest.param(
        [((*V0, "sol004Option2Alone"), "yes")], "vendors[0].sol004Option2Alone", id="o2"
    ),
    pytest.param(
        [((*CB0, "sol004Option2Alone"), True)], "certificationBodies[0]", id="cb-o2"
    ),
    pytest.param([((*V0, "imageSignatures"), ["cosign"])], None, id="ok-image-sigs"),
    pytest.param([((*V0, "imageSignatures"), None)], None, id="ok-null-image-sigs"),
    pytest.param(
        [((*V0, "imageSignatures"), ["notation", "gpg"])],
        "vendors[0].imageSignatures[1]",
        id="image-sig-kind",
    ),
    pytest.param(
        [((*V0, "imageSignatures"), [])], "vendors[0].imageSignatures", id="no-kinds"
    ),
    pytest.param(
        [((*CB0, "imageSignatures"), ["notation"])],
        "certificationBodies[0]",
        id="cb-image-sigs",
    ),
    pytest.param(
        [((*V0, "certificateProfile"), "lax")], "vendors[0].certificateProfile", id="cp"
    ),
    pytest.param(
        [((*T0, "certificateProfile"), "legacy")],
        "timestampAuthorities[0]",
        id="tsa-cp",
    ),
    pytest.param(
        [((*CB0, "detachedSignatures"), ["*"])], "certificationBodies[0]", id="cb-ds"
    ),
    pytest.param(
        [((*V0, "detachedSignatures"), [1])],
        "vendors[0].detachedSignatures[0]",
        id="ds",
    ),
    pytest.param([((*CB0, "requireTimestamp"), None)], None, id="ok-null-require-ts"),
    pytest.param(
        [((*T0, "identities"), [{"subject": "CN=*"}])], None, id="ok-tsa-identities"
    ),
    pytest.param([(("timestampAuthorities",), None)], None, id="ok-no-tsas"),
    pytest.param([(("revocation",), DELETE)], None, id="ok-no-revocation"),
    pytest.param([(("revocation", "mode"), "off")], None, id="ok-revocation-off"),
    pytest.param([(("revocation", "crls"), None)], None, id="ok-no-crls"),
    pytest.param([(("rollbackExceptions",), [ROLLBACK])], None, id="ok-rollback"),
    pytest.param([(("policy", "version"), 2020)], None, id="ok-int-version"),
    pytest.param([(("algorithms",), DELETE)], None, id="ok-no-algorithms"),
    pytest.param([(("algorithms", "signatures"), [])], None, id="ok-all-signatures"),
    pytest.param([(("algorithms", "minRsaBits"), 2048)], None, id="ok-rsa-2048"),
    pytest.param([(("certificationBodies",), None)], None, id="ok-no-bodies"),
    pytest.param([(("certification",), {})], None, id="ok-empty-certification"),
    pytest.param([(("algorithms",), None)], None, id="ok-null-algorithms"),
    pytest.param([(("certification",), None)], None, id="ok-null-certification"),
    pytest.param([(("revocation",), None)], None, id="ok-null-revocation"),
    pytest.param([(("signatureRequirements",), None)], None, id="ok-null-thresholds"),
    pytest.param(
        [
            (
                ("signatureRequirements",),
                {
                    "manifest": [K_OF_N],
                    "certification": [{"role": "certification-body", "threshold": 1}],
                },
            )
        ],
        None,
        id="ok-thresholds",
    ),
    pytest.param(
        [(("certification", "requirements"), None)], None, id="ok-null-requirements"
    ),
    pytest.param([(("trustDeclaration",), None)], None, id="ok-null-td"),
    pytest.param([(("unlistedFiles",), "warn")], None, id="ok-warn"),
    pytest.param([(("denyList",), None)], None, id="ok-null-deny"),
    pytest.param([((*D0, "product"), DELETE)], None, id="ok-deny-no-product"),
    pytest.param(
        [((*D0, "effective"), "2026-01-01T01:00:00+01:00")], None, id="ok-deny-str"
    ),
    pytest.param(
        [((*V0, "identities", 0), {"san": "release@acme.example"})],
        None,
        id="ok-san-identity",
    ),
    pytest.param(
        [((*V0, "anchors"), DELETE), ((*V0, "identities"), DELETE)],
        None,
        id="ok-keys-only",
    ),
    pytest.param([((*V1, "anchors"), [ROOT_PEM])], None, id="ok-inline-pem"),
    pytest.param([((*R0, "description"), DELETE)], None, id="ok-rule-no-description"),
    pytest.param(
        [((*R0, "domains"), None), ((*R0, "kinds"), [])], None, id="ok-rule-filters"
    ),
]


@pytest.mark.parametrize(("edits", "where"), POLICY_CASES)
def test_policy_parity(edits: list[Edit], where: str | None) -> None:
    data = edited(yaml.safe_load(SAMPLE_POLICY.read_text(encoding="utf-8")), edits)
    assert_parity("policy", jsonify(data), parse_policy(data), where)


# -- string formats, exhaustively or by example ----------------------------------------


def _accepts(parse: Callable[[str], object], value: str) -> bool:
    return parser_error(lambda: parse(value)) is None


def test_relative_path_pattern_equals_the_parser() -> None:
    """Every string of up to 5 characters over the interesting alphabet."""
    path = def_validator("component-manifest", "relativePath")
    alphabet = ["a", ".", "/", "\\", "\x00", "\n", " "]
    for n in range(6):
        for chars in itertools.product(alphabet, repeat=n):
            value = "".join(chars)
            assert path.is_valid(value) == _accepts(check_relative_path, value), value


#: CPython's binascii accepts excess '=' after complete 4-character groups ("AAAA=");
#: the schema asks for canonical padding.
@pytest.mark.slow
def test_base64_pattern_equals_the_parser() -> None:
    """Every string of up to 6 characters over an alphabet with both variants.

    ``A`` and ``Q`` end canonical padded groups, ``a`` does not (non-zero bits).
    """
    b64 = def_validator("bundle", "base64")
    for n in range(7):
        for chars in itertools.product(
            ["a", "A", "Q", "+", "_", "=", "\n", "!"], repeat=n
        ):
            value = "".join(chars)
            accepted = _accepts(lambda v: b64decode(v, "x"), value)
            assert b64.is_valid(value) == accepted, value


TIMES = [
    "2026-06-01T00:00:00Z",
    "2026-06-01t00:00:00z",
    "2026-06-01T00:00:00.5Z",
    "2026-06-01T00:00:00.123456789+02:00",
    "2026-06-01T23:59:59-23:59",
    "2024-02-29T00:00:00Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2026-06-01T00:00:00",
    "2026-06-01",
    "2026-06-01 00:00:00Z",
    "2026-06-01T00:00:00.Z",
    "2026-06-01T00:00:00.1234567890Z",
    "2026-06-01T00:00:00+02",
    "2026-06-01T00:00:00+0200",
    "2026-06-01T00:00:00+24:00",
    "2026-06-01T24:00:00Z",
    "2026-06-01T00:60:00Z",
    "2026-06-01T00:00:60Z",
    "2026-00-01T00:00:00Z",
    "2026-06-00T00:00:00Z",
    "2026-06-32T00:00:00Z",
    "0000-06-01T00:00:00Z",
    "26-06-01T00:00:00Z",
    "2026-06-01T00:00:00Z\n",
    " 2026-06-01T00:00:00Z",
    "\u0662\u0660\u0662\u0666-06-01T00:00:00Z",
    pytest.param(
        "2026-02-29T00:00:00Z",
        marks=pytest.mark.xfail(
            strict=True,
            raises=AssertionError,
            reason="calendar validity is not expressible in the schema",
        ),
    ),
    pytest.param(
        "0001-01-01T00:00:00+01:00",
        marks=pytest.mark.xfail(
            strict=True,
            raises=AssertionError,
            reason="the UTC date range is not expressible in the schema",
        ),
    ),
    pytest.param(
        "9999-12-31T23:59:59-01:00",
        marks=pytest.mark.xfail(
            strict=True,
            raises=AssertionError,
            reason="the UTC date range is not expressible in the schema",
        ),
    ),
]


@pytest.mark.parametrize("value", TIMES)
def test_time_pattern_equals_the_parser(value: str) -> None:
    time = def_validator("component-manifest", "time")
    assert time.is_valid(value) == _accepts(lambda v: parse_time(v, "t"), value)
