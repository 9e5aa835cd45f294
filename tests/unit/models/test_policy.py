"""Tests for the operator policy (our YAML schema: strict, errors with file/path/line)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from tests import builders
from tests.unit.models._support import check_error
from vendorproof._internal import crypto
from vendorproof.errors import InvalidInputError
from vendorproof.limits import Limits
from vendorproof.models.policy import (
    CertificateProfile,
    DenyEntry,
    Identity,
    Policy,
    RevocationMode,
    RollbackAllowance,
    UnlistedFiles,
)

POLICY_DIR = builders.SAMPLE_POLICY.parent
SAMPLE = builders.SAMPLE_POLICY.read_text(encoding="utf-8")
FILE = "policies/intake.yaml"

VENDOR_A_ROOT = builders.KEYS / "vendor-a" / "root.pem"
RELEASE_PUB = builders.KEYS / "vendor-a" / "release.pub"

ACME_ANCHORS = "anchors: [../../keys/vendor-a/root.pem]"
BOREALIS_IDENTITIES = (
    "    identities:\n"
    '      - subject: "CN=Borealis Networks Release Signing *,'
    'O=Borealis Networks Oy,C=FI"\n'
)
BOREALIS_ANCHORS = "    anchors: [../../keys/vendor-b/root.pem]\n"
BODY_SCHEMES = 'C=DE"\n    schemes: [NESAS, BSI-NESAS-CCS-GI, CC]\n'
RULE0_SCHEMES = "      schemes: [NESAS, BSI-NESAS-CCS-GI]\n"
LEGAL_BASIS = (
    '  legalBasis: "Katalog von Sicherheitsanforderungen v2.0 (2020) Anlage 2, '
    '§167 TKG; §165(4) TKG; BSI TR-03163"\n'
)
EFFECTIVE = "effective: 2026-01-01T00:00:00Z"
SIGNATURES = (
    "signatures: [ecdsa-p256-sha256, ecdsa-p384-sha384, rsa-pss-sha256, ed25519]"
)


class RecordingResolver:
    """Reads referenced files relative to the sample policy, recording each ref."""

    def __init__(self, base: Path = POLICY_DIR) -> None:
        self.base = base
        self.calls: list[str] = []

    def __call__(self, ref: str) -> bytes:
        self.calls.append(ref)
        path = self.base / ref
        try:
            return path.read_bytes()
        except OSError as e:
            raise InvalidInputError(f"cannot read: {e.strerror}", file=str(path)) from e


def _parse(text: str | bytes, *, limits: Limits | None = None) -> Policy:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    if limits is None:
        return Policy.from_yaml(raw, file=FILE, resolve=RecordingResolver())
    return Policy.from_yaml(raw, file=FILE, resolve=RecordingResolver(), limits=limits)


def _edit(*replacements: tuple[str, str]) -> str:
    text = SAMPLE
    for old, new in replacements:
        assert text.count(old) == 1, f"sample policy changed: {old!r}"
        text = text.replace(old, new)
    return text


def _line(text: str, pattern: str) -> int:
    match = re.search(pattern, text, re.MULTILINE)
    assert match is not None, pattern
    return text.count("\n", 0, match.start()) + 1


def _error(text: str | bytes, *, limits: Limits | None = None) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as excinfo:
        _parse(text, limits=limits)
    return excinfo.value


# ------------------------------------------------------------------------ accepted


def test_sample_policy_parses() -> None:
    resolver = RecordingResolver()
    raw = builders.SAMPLE_POLICY.read_bytes()
    policy = Policy.from_yaml(raw, file=FILE, resolve=resolver)

    assert policy.id == "de-5g-intake-2020"
    assert policy.version == "2020.2"
    assert policy.legal_basis.startswith("Katalog von Sicherheitsanforderungen v2.0")
    assert policy.description == "Intake of RAN and core software from trusted vendors."
    assert policy.signature_algorithms == crypto.SIGNATURE_ALGORITHMS
    assert policy.digest_algorithms == {"sha256", "sha512"}
    assert policy.min_rsa_bits == 3072

    acme, borealis = policy.vendors
    assert (acme.role, acme.id, acme.name) == (
        "vendor",
        "acme",
        "Acme Radio Systems GmbH",
    )
    assert acme.anchors == (builders.issued("vendor-a", "root").cert,)
    assert acme.intermediates == ()
    assert acme.identities == (
        Identity(
            subject="CN=Acme Radio Systems Release Signing *,"
            "O=Acme Radio Systems GmbH,C=DE",
            san=None,
        ),
    )
    release = crypto.load_public_key(RELEASE_PUB.read_bytes(), file="release.pub")
    assert list(acme.public_keys) == [crypto.key_id(release)]
    assert acme.schemes == frozenset()
    assert borealis.id == "borealis"
    assert borealis.anchors == (builders.issued("vendor-b", "root").cert,)
    assert dict(borealis.public_keys) == {}
    assert policy.vendor("borealis") is borealis
    assert policy.vendor("nobody") is None

    (body,) = policy.certification_bodies
    assert (body.role, body.id) == ("certification-body", "example-cb")
    assert body.schemes == {"NESAS", "BSI-NESAS-CCS-GI", "CC"}
    assert body.intermediates == (builders.issued("certbody", "intermediate").cert,)

    ran, core = policy.certification_rules
    assert ran.domains == {"RAN"}
    assert ran.network_functions == {"gNB", "eNB"}
    assert ran.kinds == {"firmware", "container-image"}
    assert ran.schemes == {"NESAS", "BSI-NESAS-CCS-GI"}
    assert ran.matches(domain="RAN", network_function="gNB", kind="firmware")
    assert not ran.matches(domain="RAN", network_function="gNB", kind="config")
    assert core.schemes == {"NESAS", "BSI-NESAS-CCS-GI", "CC"}
    assert "UPF" in core.network_functions

    assert policy.trust_declaration_required is True
    assert policy.unlisted_files is UnlistedFiles.FAIL
    assert policy.deny_list == (
        DenyEntry(
            vendor="prohibited-vendor*",
            product="*",
            effective=datetime(2026, 1, 1, tzinfo=UTC),
            reason="example prohibition order under §41 BSIG (test entry)",
        ),
    )
    (deny,) = policy.deny_list
    assert deny.matches(
        vendor_id="prohibited-vendor-x", vendor_name="X", product="p", at=builders.AT
    )
    assert not deny.matches(
        vendor_id="acme", vendor_name="Acme", product="p", at=builders.AT
    )

    assert policy.raw == raw
    assert policy.digest == hashlib.sha256(raw).hexdigest()
    assert policy.summary() == {
        "id": "de-5g-intake-2020",
        "version": "2020.2",
        "legalBasis": policy.legal_basis,
        "digest": {"sha256": policy.digest},
    }
    (tsa,) = policy.timestamp_authorities
    assert (tsa.role, tsa.id) == ("timestamp-authority", "example-tsa")
    assert tsa.anchors == (builders.issued("tsa", "root").cert,)
    assert tsa.identities == ()
    assert policy.revocation_mode is RevocationMode.REQUIRE
    crl_refs = [r for r in resolver.calls if r.endswith(".crl.pem")]
    assert len(crl_refs) == len(policy.crls) == 6
    assert [c.public_bytes(Encoding.PEM) for c in policy.crls] == [
        (POLICY_DIR / r).read_bytes() for r in crl_refs
    ]

    # Every referenced file is read once, through the resolver, and kept as evidence.
    assert {
        "../../keys/vendor-a/root.pem",
        "../../keys/vendor-a/release.pub",
        "../../keys/vendor-b/root.pem",
        "../../keys/certbody/root.pem",
        "../../keys/certbody/intermediate.pem",
        "../../keys/tsa/root.pem",
    } <= set(resolver.calls)
    assert len(resolver.calls) == len(set(resolver.calls))
    assert dict(policy.referenced) == {
        r: (POLICY_DIR / r).read_bytes() for r in resolver.calls
    }


def test_policy_with_absolute_paths_parses(policy_file: Path) -> None:
    policy = Policy.from_yaml(
        policy_file.read_bytes(),
        file=str(policy_file),
        resolve=RecordingResolver(policy_file.parent),
    )
    assert [v.id for v in policy.vendors] == ["acme", "borealis"]


def test_inline_pem_anchors_and_keys_are_accepted() -> None:
    root_pem = VENDOR_A_ROOT.read_text(encoding="ascii").strip()
    key_pem = RELEASE_PUB.read_text(encoding="ascii").strip()

    def block(pem: str) -> str:
        return "\n".join("          " + line for line in pem.splitlines())

    text = _edit(
        (ACME_ANCHORS, f"anchors:\n      - |\n{block(root_pem)}"),
        (
            "publicKeys: [../../keys/vendor-a/release.pub]",
            f"publicKeys:\n      - |\n{block(key_pem)}",
        ),
    )
    resolver = RecordingResolver()
    policy = Policy.from_yaml(text.encode(), file=FILE, resolve=resolver)
    acme = policy.vendors[0]
    assert acme.anchors == (builders.issued("vendor-a", "root").cert,)
    assert len(acme.public_keys) == 1
    assert "../../keys/vendor-a/root.pem" not in resolver.calls
    assert "../../keys/vendor-a/release.pub" not in resolver.calls
    inline = [name for name in policy.referenced if name.startswith("inline:")]
    assert len(inline) == 2
    assert all(re.fullmatch(r"inline:[0-9a-f]{16}", name) for name in inline)


def test_minimal_policy_gets_safe_defaults() -> None:
    text = (
        "policy: {id: p, version: 1, legalBasis: test}\n"
        "vendors:\n"
        "  - id: acme\n"
        "    name: Acme\n"
        "    publicKeys: [../../keys/vendor-a/release.pub]\n"
    )
    policy = _parse(text)
    assert policy.version == "1"
    assert policy.description == ""
    assert policy.signature_algorithms == crypto.SIGNATURE_ALGORITHMS
    assert policy.digest_algorithms == {"sha256", "sha512"}
    assert policy.min_rsa_bits == crypto.MIN_RSA_BITS
    assert policy.certification_bodies == ()
    assert policy.certification_rules == ()
    assert policy.trust_declaration_required is False
    assert policy.unlisted_files is UnlistedFiles.FAIL
    assert policy.deny_list == ()
    assert policy.rollback_exceptions == ()
    assert policy.timestamp_authorities == ()
    assert policy.revocation_mode is RevocationMode.IF_AVAILABLE
    assert policy.crls == ()
    assert policy.vendors[0].anchors == ()
    assert policy.vendors[0].require_timestamp is False


def test_options_and_offsets() -> None:
    text = _edit(
        ("unlistedFiles: fail", "unlistedFiles: warn"),
        ("trustDeclaration: required", "trustDeclaration: optional"),
        (EFFECTIVE, 'effective: "2026-01-01T02:00:00+02:00"'),
        ('    product: "*"\n', ""),
        ("minRsaBits: 3072", "minRsaBits: 2048"),
        ("digests: [sha256, sha512]", "digests: [sha384]"),
    )
    policy = _parse(text)
    assert policy.unlisted_files is UnlistedFiles.WARN
    assert policy.trust_declaration_required is False
    assert policy.min_rsa_bits == 2048
    assert policy.digest_algorithms == {"sha384"}
    (deny,) = policy.deny_list
    assert deny.effective == datetime(2026, 1, 1, tzinfo=UTC)
    assert deny.product == "*"


def test_certificate_profile_and_detached_signatures() -> None:
    text = _edit(
        (
            "    name: Borealis Networks Oy\n",
            (
                "    name: Borealis Networks Oy\n    certificateProfile: legacy\n"
                "    detachedSignatures: ['*.img', 'fw/*.bin']\n"
                "    sol004Option2Alone: true\n"
            ),
        ),
    )
    policy = _parse(text)
    assert policy.vendors[0].certificate_profile is CertificateProfile.STRICT
    assert policy.vendors[0].detached_signatures == ()
    assert policy.vendors[0].sol004_option2_alone is False
    assert policy.vendors[1].sol004_option2_alone is True
    assert policy.vendors[1].certificate_profile is CertificateProfile.LEGACY
    assert policy.vendors[1].detached_signatures == ("*.img", "fw/*.bin")


def test_rollback_exceptions_and_require_timestamp() -> None:
    text = _edit(
        (
            "    name: Borealis Networks Oy\n",
            "    name: Borealis Networks Oy\n    requireTimestamp: true\n",
        ),
        (
            "trustDeclaration: required\n",
            (
                "trustDeclaration: required\n"
                "rollbackExceptions:\n"
                "  - vendor: acme\n"
                "    product: AcmeRAN *\n"
                "    securityVersion: 6\n"
                "    reason: field fix approved in change CHG-1\n"
            ),
        ),
        ("  mode: require\n", '  mode: "off"\n'),
    )
    policy = _parse(text)
    assert policy.vendors[0].require_timestamp is False
    assert policy.vendors[1].require_timestamp is True
    assert policy.revocation_mode is RevocationMode.OFF
    assert policy.rollback_exceptions == (
        RollbackAllowance(
            vendor="acme",
            product="AcmeRAN *",
            security_version=6,
            reason="field fix approved in change CHG-1",
        ),
    )
    (exception,) = policy.rollback_exceptions
    assert exception.matches(
        vendor_id="acme", product="AcmeRAN gNB", security_version=6
    )
    assert not exception.matches(
        vendor_id="acme", product="AcmeRAN gNB", security_version=5
    )


def test_identity_with_san_only() -> None:
    text = _edit(
        (
            BOREALIS_IDENTITIES.split("\n", 1)[1],
            "      - san: release@borealis.example\n",
        )
    )
    (identity,) = _parse(text).vendors[1].identities
    assert identity == Identity(subject=None, san="release@borealis.example")
    assert identity.describe() == "san=release@borealis.example"


# ------------------------------------------------------------------------ rejected

_Replacement = tuple[str, str]


@pytest.mark.parametrize(
    ("replacements", "path", "message", "line_at"),
    [
        pytest.param(
            [("\nvendors:\n", "\nvendor:\n")],
            None,
            r"^unknown key 'vendor'",
            r"^vendor:",
            id="unknown-top-level-key",
        ),
        pytest.param(
            [("denyList:", "denylist:")],
            None,
            r"^unknown key 'denylist'",
            r"^denylist:",
            id="top-level-key-wrong-case",
        ),
        pytest.param(
            [
                (
                    "    name: Acme Radio Systems GmbH\n",
                    "    name: Acme Radio Systems GmbH\n    colour: red\n",
                )
            ],
            "vendors[0]",
            r"^unknown key 'colour'",
            r"^    colour:",
            id="unknown-vendor-key",
        ),
        pytest.param(
            [
                (
                    BOREALIS_IDENTITIES,
                    BOREALIS_IDENTITIES.replace("identities", "identity"),
                )
            ],
            "vendors[1]",
            r"^unknown key 'identity'",
            r"^    identity:",
            id="vendor-key-typo",
        ),
        pytest.param(
            [
                (
                    "    name: Acme Radio Systems GmbH\n",
                    "    name: Acme Radio Systems GmbH\n    schemes: [NESAS]\n",
                )
            ],
            "vendors[0]",
            r"^unknown key 'schemes'",
            r"^    schemes: \[NESAS\]",
            id="vendor-with-schemes",
        ),
        pytest.param(
            [("  minRsaBits: 3072\n", "  minRsaBits: 3072\n  minEcBits: 256\n")],
            "algorithms",
            r"^unknown key 'minEcBits'",
            r"^  minEcBits:",
            id="unknown-algorithms-key",
        ),
        pytest.param(
            [("  id: de-5g-intake-2020\n", "")],
            "policy",
            r"^missing required key 'id'",
            r"^policy:",
            id="missing-policy-id",
        ),
        pytest.param(
            [(LEGAL_BASIS, "")],
            "policy",
            r"^missing required key 'legalBasis'",
            r"^policy:",
            id="missing-legal-basis",
        ),
        pytest.param(
            [("  id: de-5g-intake-2020\n", '  id: ""\n')],
            "policy.id",
            r"^must not be empty",
            r"^  id: \"\"",
            id="empty-policy-id",
        ),
        pytest.param(
            [('  version: "2020.2"', "  version: true")],
            "policy.version",
            r"^expected a non-empty version string",
            r"^  version: true",
            id="version-bool",
        ),
        pytest.param(
            [('  version: "2020.2"', "  version: 2020.2")],
            "policy.version",
            r"^expected a non-empty version string or an integer; quote a version "
            r"such as '2020.2'",
            r"^  version: 2020.2",
            id="version-float",
        ),
        pytest.param(
            [('  version: "2020.2"', "  version: .nan")],
            "policy.version",
            r"^number is not finite: '.nan'",
            r"^  version: .nan",
            id="version-nan",
        ),
        pytest.param(
            [('  version: "2020.2"', "  version: -.inf")],
            "policy.version",
            r"^number is not finite: '-.inf'",
            r"^  version: -.inf",
            id="version-infinity",
        ),
        pytest.param(
            [('  version: "2020.2"', "  version: [1]")],
            "policy.version",
            r"^expected a non-empty version string or an integer \(line",
            r"^  version: \[1\]",
            id="version-list",
        ),
        pytest.param(
            [(ACME_ANCHORS, "anchors: [../../keys/vendor-a/release.pub]")],
            "vendors[0].anchors[0]",
            r"^\.\./\.\./keys/vendor-a/release\.pub: no PEM or DER certificate found",
            r"^    anchors: \[\.\./\.\./keys/vendor-a/release\.pub\]",
            id="anchor-not-a-certificate",
        ),
        pytest.param(
            [(ACME_ANCHORS, "anchors: [../../keys/vendor-a/root.key]")],
            "vendors[0].anchors[0]",
            r"no PEM or DER certificate found",
            r"^    anchors: \[\.\./\.\./keys/vendor-a/root\.key\]",
            id="anchor-is-a-private-key",
        ),
        pytest.param(
            [(ACME_ANCHORS, "anchors: [../../keys/vendor-a/missing.pem]")],
            "vendors[0].anchors[0]",
            r"^cannot load '\.\./\.\./keys/vendor-a/missing\.pem': "
            r".*missing\.pem: cannot read: No such file or directory",
            r"^    anchors: \[\.\./\.\./keys/vendor-a/missing\.pem\]",
            id="anchor-file-missing",
        ),
        pytest.param(
            [(ACME_ANCHORS, "anchors: ../../keys/vendor-a/root.pem")],
            "vendors[0].anchors",
            r"^expected array, got string",
            r"^    anchors:",
            id="anchors-not-a-list",
        ),
        pytest.param(
            [(ACME_ANCHORS, "anchors: [{file: root.pem}]")],
            "vendors[0].anchors[0]",
            r"^expected string, got object",
            r"^    anchors:",
            id="anchor-not-a-string",
        ),
        pytest.param(
            [
                (
                    "intermediates: [../../keys/certbody/intermediate.pem]",
                    "intermediates: [../../keys/certbody/intermediate.key]",
                )
            ],
            "certificationBodies[0].intermediates[0]",
            r"no PEM or DER certificate found",
            r"^    intermediates:",
            id="intermediate-not-a-certificate",
        ),
        pytest.param(
            [
                (
                    "publicKeys: [../../keys/vendor-a/release.pub]",
                    "publicKeys: [../../keys/vendor-a/root.pem]",
                )
            ],
            "vendors[0].publicKeys[0]",
            r"^\.\./\.\./keys/vendor-a/root\.pem: not a PEM public key",
            r"^    publicKeys:",
            id="public-key-is-a-certificate",
        ),
        pytest.param(
            [(BOREALIS_IDENTITIES, "")],
            "vendors[1]",
            r"^anchors need at least one allowed signer identity \(identities\)",
            r"^  - id: borealis",
            id="anchors-without-identities",
        ),
        pytest.param(
            [(BOREALIS_ANCHORS + BOREALIS_IDENTITIES, "")],
            "vendors[1]",
            r"^needs trust anchors, public keys or keyless identities",
            r"^  - id: borealis",
            id="no-anchors-no-keys",
        ),
        pytest.param(
            [(BOREALIS_IDENTITIES, "    identities:\n      - {}\n")],
            "vendors[1].identities[0]",
            r"^an identity needs 'subject', 'subjectIncludes' or 'san'",
            r"^      - \{\}",
            id="identity-without-subject-or-san",
        ),
        pytest.param(
            [
                (
                    BOREALIS_IDENTITIES,
                    BOREALIS_IDENTITIES.replace(
                        "      - subject", "      - issuer: CN=x\n        subject"
                    ),
                )
            ],
            "vendors[1].identities[0]",
            r"^unknown key 'issuer'",
            r"^      - issuer:",
            id="identity-unknown-key",
        ),
        pytest.param(
            [("    name: Borealis Networks Oy\n", "")],
            "vendors[1]",
            r"^missing required key 'name'",
            r"^  - id: borealis",
            id="vendor-without-name",
        ),
        pytest.param(
            [("  - id: borealis", "  - id: acme")],
            "vendors[1].id",
            r"^duplicate id 'acme'",
            r"^  - id: acme(?=\n    name: Borealis)",
            id="duplicate-vendor-ids",
        ),
        pytest.param(
            [(BODY_SCHEMES, 'C=DE"\n')],
            "certificationBodies[0]",
            r"^a certification body needs the schemes it may certify",
            r"^  - id: example-cb",
            id="body-without-schemes",
        ),
        pytest.param(
            [(BODY_SCHEMES, 'C=DE"\n    schemes: []\n')],
            "certificationBodies[0]",
            r"^a certification body needs the schemes it may certify",
            r"^  - id: example-cb",
            id="body-empty-schemes",
        ),
        pytest.param(
            [(BODY_SCHEMES, 'C=DE"\n    schemes: [NESAS, ISO9001]\n')],
            "certificationBodies[0].schemes[1]",
            r"^'ISO9001' is not one of: BSI-NESAS-CCS-GI, BSZ, CC, EUCC, NESAS",
            r"^    schemes: \[NESAS, ISO9001\]",
            id="body-unknown-scheme",
        ),
        pytest.param(
            [(RULE0_SCHEMES, "      schemes: [NESAS, SOC2]\n")],
            "certification.requirements[0].schemes[1]",
            r"^'SOC2' is not one of",
            r"^      schemes: \[NESAS, SOC2\]",
            id="rule-unknown-scheme",
        ),
        pytest.param(
            [(RULE0_SCHEMES, "")],
            "certification.requirements[0]",
            r"^missing required key 'schemes'",
            r"^    - description: Critical RAN",
            id="rule-without-schemes",
        ),
        pytest.param(
            [(RULE0_SCHEMES, "      schemes: []\n")],
            "certification.requirements[0].schemes",
            r"^needs at least one scheme",
            r"^      schemes: \[\]",
            id="rule-empty-schemes",
        ),
        pytest.param(
            [("      domains: [RAN]\n", "      domains: [Radio]\n")],
            "certification.requirements[0].domains[0]",
            r"^'Radio' is not one of: Core, OAM, RAN, Transport",
            r"^      domains: \[Radio\]",
            id="rule-unknown-domain",
        ),
        pytest.param(
            [
                (
                    "      kinds: [firmware, container-image]\n" + RULE0_SCHEMES,
                    "      kinds: [firmware, binary]\n" + RULE0_SCHEMES,
                )
            ],
            "certification.requirements[0].kinds[1]",
            r"^'binary' is not one of: config, container-image, firmware, other, sbom",
            r"^      kinds: \[firmware, binary\]",
            id="rule-unknown-kind",
        ),
        pytest.param(
            [("unlistedFiles: fail", "unlistedFiles: ignore")],
            "unlistedFiles",
            r"^'ignore' is not one of: fail, warn",
            r"^unlistedFiles:",
            id="bad-unlisted-files",
        ),
        pytest.param(
            [("unlistedFiles: fail", "unlistedFiles: [fail]")],
            "unlistedFiles",
            r"^expected one of: fail, warn, got array",
            r"^unlistedFiles:",
            id="unlisted-files-list",
        ),
        pytest.param(
            [("trustDeclaration: required", "trustDeclaration: mandatory")],
            "trustDeclaration",
            r"^'mandatory' is not one of: required, optional",
            r"^trustDeclaration:",
            id="bad-trust-declaration",
        ),
        pytest.param(
            [("trustDeclaration: required", "trustDeclaration: yes")],
            "trustDeclaration",
            r"^expected one of: required, optional, got boolean",
            r"^trustDeclaration:",
            id="trust-declaration-yaml-bool",
        ),
        pytest.param(
            [("minRsaBits: 3072", "minRsaBits: 1024")],
            "algorithms.minRsaBits",
            r"^must be >= 2048",
            r"^  minRsaBits:",
            id="min-rsa-1024",
        ),
        pytest.param(
            [("minRsaBits: 3072", "minRsaBits: 2047")],
            "algorithms.minRsaBits",
            r"^must be >= 2048",
            r"^  minRsaBits:",
            id="min-rsa-2047",
        ),
        pytest.param(
            [("minRsaBits: 3072", "minRsaBits: true")],
            "algorithms.minRsaBits",
            r"^expected integer, got boolean",
            r"^  minRsaBits:",
            id="min-rsa-bool",
        ),
        pytest.param(
            [("minRsaBits: 3072", 'minRsaBits: "3072"')],
            "algorithms.minRsaBits",
            r"^expected integer, got string",
            r"^  minRsaBits:",
            id="min-rsa-string",
        ),
        pytest.param(
            [("minRsaBits: 3072", "minRsaBits: 3072.0")],
            "algorithms.minRsaBits",
            r"^expected integer, got number",
            r"^  minRsaBits:",
            id="min-rsa-float",
        ),
        pytest.param(
            [
                (
                    "signatures: [ecdsa-p256-sha256,",
                    "signatures: [rsa-pkcs1-sha1, ecdsa-p256-sha256,",
                )
            ],
            "algorithms.signatures[0]",
            r"^'rsa-pkcs1-sha1' is not one of: ecdsa-p256-sha256, ecdsa-p384-sha384, "
            r"ed25519, rsa-pss-sha256",
            r"^  signatures:",
            id="unknown-signature-algorithm",
        ),
        pytest.param(
            [
                (
                    SIGNATURES,
                    "signatures: ed25519",
                )
            ],
            "algorithms.signatures",
            r"^expected array, got string",
            r"^  signatures:",
            id="signatures-not-a-list",
        ),
        pytest.param(
            [("digests: [sha256, sha512]", "digests: [sha256, md5]")],
            "algorithms.digests[1]",
            r"^'md5' is not one of: sha256, sha384, sha512",
            r"^  digests:",
            id="unknown-digest-md5",
        ),
        pytest.param(
            [("digests: [sha256, sha512]", "digests: [sha1]")],
            "algorithms.digests[0]",
            r"^'sha1' is not one of",
            r"^  digests:",
            id="refused-digest-sha1",
        ),
        pytest.param(
            [("algorithms:\n  signatures", "algorithm:\n  signatures")],
            None,
            r"^unknown key 'algorithm'",
            r"^algorithm:",
            id="algorithms-typo",
        ),
        pytest.param(
            [(EFFECTIVE, "effective: 2026-01-01 00:00:00")],
            "denyList[0].effective",
            r"^timestamp needs an explicit offset \(e\.g\. Z\)",
            r"^    effective:",
            id="deny-naive-yaml-time",
        ),
        pytest.param(
            [(EFFECTIVE, 'effective: "2026-01-01T00:00:00"')],
            "denyList[0].effective",
            r"^not an RFC 3339 time with offset",
            r"^    effective:",
            id="deny-naive-string-time",
        ),
        pytest.param(
            [(EFFECTIVE, "effective: 2026-01-01")],
            "denyList[0].effective",
            r"^expected an RFC 3339 time, got date",
            r"^    effective:",
            id="deny-date-only",
        ),
        pytest.param(
            [(EFFECTIVE, "effective: soon")],
            "denyList[0].effective",
            r"^not an RFC 3339 time with offset",
            r"^    effective:",
            id="deny-garbage-time",
        ),
        pytest.param(
            [(EFFECTIVE, EFFECTIVE + "\n    until: 2027-01-01T00:00:00Z")],
            "denyList[0]",
            r"^unknown key 'until'",
            r"^    until:",
            id="deny-unknown-key",
        ),
        pytest.param(
            [(EFFECTIVE, "")],
            "denyList[0]",
            r"^missing required key 'effective'",
            r"^  - vendor: \"prohibited",
            id="deny-without-effective",
        ),
        pytest.param(
            [("  mode: require\n", "  mode: strict\n")],
            "revocation.mode",
            r"^'strict' is not one of: require, if-available, off",
            r"^  mode: strict",
            id="bad-revocation-mode",
        ),
        pytest.param(
            [("  mode: require\n", "  mode: require\n  ocsp: true\n")],
            "revocation",
            r"^unknown key 'ocsp'",
            r"^  ocsp:",
            id="revocation-unknown-key",
        ),
        pytest.param(
            [
                (
                    "    - ../../keys/vendor-a/root.crl.pem\n",
                    "    - ../../keys/vendor-a/root.pem\n",
                )
            ],
            "revocation.crls[0]",
            r"^\.\./\.\./keys/vendor-a/root\.pem: CRL does not parse",
            r"^    - \.\./\.\./keys/vendor-a/root\.pem",
            id="crl-not-a-crl",
        ),
        pytest.param(
            [
                (
                    "    - ../../keys/vendor-a/root.crl.pem\n",
                    "    - ../../keys/vendor-a/missing.crl.pem\n",
                )
            ],
            "revocation.crls[0]",
            r"^cannot load '\.\./\.\./keys/vendor-a/missing\.crl\.pem'",
            r"^    - \.\./\.\./keys/vendor-a/missing",
            id="crl-file-missing",
        ),
        pytest.param(
            [
                (
                    "    name: Borealis Networks Oy\n",
                    "    name: Borealis Networks Oy\n    requireTimestamp: yes please\n",
                )
            ],
            "vendors[1].requireTimestamp",
            r"^expected boolean, got string",
            r"^    requireTimestamp:",
            id="require-timestamp-not-bool",
        ),
        pytest.param(
            [
                (
                    "    name: Example Time Stamping Authority\n",
                    (
                        "    name: Example Time Stamping Authority\n"
                        "    requireTimestamp: true\n"
                    ),
                )
            ],
            "timestampAuthorities[0]",
            r"^unknown key 'requireTimestamp'",
            r"^    requireTimestamp:",
            id="tsa-require-timestamp",
        ),
        pytest.param(
            [
                (
                    "    anchors: [../../keys/tsa/root.pem]\n",
                    "    anchors: [../../keys/tsa/tsa.key]\n",
                )
            ],
            "timestampAuthorities[0].anchors[0]",
            r"no PEM or DER certificate found",
            r"^    anchors: \[\.\./\.\./keys/tsa/tsa\.key\]",
            id="tsa-anchor-not-a-certificate",
        ),
        pytest.param(
            [
                (
                    "trustDeclaration: required\n",
                    (
                        "trustDeclaration: required\n"
                        "rollbackExceptions:\n"
                        "  - vendor: acme\n"
                        "    product: AcmeRAN *\n"
                        "    securityVersion: -1\n"
                        "    reason: r\n"
                    ),
                )
            ],
            "rollbackExceptions[0].securityVersion",
            r"^must be >= 0",
            r"^    securityVersion:",
            id="rollback-negative-security-version",
        ),
        pytest.param(
            [
                (
                    "trustDeclaration: required\n",
                    (
                        "trustDeclaration: required\n"
                        "rollbackExceptions:\n"
                        "  - vendor: acme\n"
                        "    product: AcmeRAN *\n"
                        "    securityVersion: 6\n"
                    ),
                )
            ],
            "rollbackExceptions[0]",
            r"^missing required key 'reason'",
            r"^  - vendor: acme",
            id="rollback-without-reason",
        ),
        pytest.param(
            [("unlistedFiles: fail", "unlistedFiles: fail\nunlistedFiles: warn")],
            None,
            r"^duplicate key 'unlistedFiles'",
            r"^unlistedFiles: warn",
            id="duplicate-yaml-key",
        ),
    ],
)
def test_policy_rejects(
    replacements: list[_Replacement], path: str | None, message: str, line_at: str
) -> None:
    text = _edit(*replacements)
    error = _error(text)
    check_error(error, path=path, message=message, file=FILE)
    line = _line(text, line_at)
    assert error.message.endswith(f"(line {line})"), (error.message, line)


_MINIMAL_VENDORS = (
    "vendors:\n  - id: acme\n    name: Acme\n"
    "    publicKeys: [../../keys/vendor-a/release.pub]\n"
)
_META = "policy: {id: p, version: 1, legalBasis: test}\n"


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        pytest.param(
            _META + "vendors: []\n",
            "vendors",
            r"^at least one trusted vendor is required \(line 2\)$",
            id="no-vendors",
        ),
        pytest.param(
            _META + "vendors:\n",
            "vendors",
            r"^at least one trusted vendor is required \(line 2\)$",
            id="vendors-null",
        ),
        pytest.param(
            _META + "vendors: {acme: {}}\n",
            "vendors",
            r"^expected array, got object \(line 2\)$",
            id="vendors-mapping",
        ),
        pytest.param(
            _META, None, r"^missing required key 'vendors'", id="vendors-missing"
        ),
        pytest.param(
            _MINIMAL_VENDORS, None, r"^missing required key 'policy'", id="no-policy"
        ),
        pytest.param(
            "policy: p\n" + _MINIMAL_VENDORS,
            "policy",
            r"^expected object, got string \(line 1\)$",
            id="policy-not-a-mapping",
        ),
        pytest.param(
            _META + _MINIMAL_VENDORS + "algorithms: strong\n",
            "algorithms",
            r"^expected object, got string \(line 6\)$",
            id="algorithms-string",
        ),
        pytest.param(
            _META + _MINIMAL_VENDORS + "algorithms: []\n",
            "algorithms",
            r"^expected object, got array \(line 6\)$",
            id="algorithms-empty-list",
        ),
        pytest.param(
            _META + _MINIMAL_VENDORS + "algorithms: false\n",
            "algorithms",
            r"^expected object, got boolean \(line 6\)$",
            id="algorithms-false",
        ),
        pytest.param(
            _META + _MINIMAL_VENDORS + "revocation: []\n",
            "revocation",
            r"^expected object, got array \(line 6\)$",
            id="revocation-empty-list",
        ),
        pytest.param(
            _META + _MINIMAL_VENDORS + "certification: []\n",
            "certification",
            r"^expected object, got array \(line 6\)$",
            id="certification-empty-list",
        ),
    ],
)
def test_policy_rejects_structure(text: str, path: str | None, message: str) -> None:
    check_error(_error(text), path=path, message=message, file=FILE)


# ------------------------------------------------------------ hostile documents

BILLION_LAUGHS = b"""\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        pytest.param(
            BILLION_LAUGHS,
            r"^YAML aliases are not allowed \(line 2\)$",
            id="billion-laughs",
        ),
        pytest.param(
            _edit(
                (
                    BOREALIS_IDENTITIES,
                    "    identities: *ids\n",
                ),
                (
                    '    identities:\n      - subject: "CN=Acme',
                    '    identities: &ids\n      - subject: "CN=Acme',
                ),
            ).encode(),
            r"^YAML aliases are not allowed \(line \d+\)$",
            id="harmless-alias",
        ),
        pytest.param(b"- a\n- b\n", r"^top level must be a mapping$", id="list"),
        pytest.param(b"just text\n", r"^top level must be a mapping$", id="scalar"),
        pytest.param(b"", r"^top level must be a mapping$", id="empty"),
        pytest.param(b"~\n", r"^top level must be a mapping$", id="null"),
        pytest.param(
            b"!!python/object/apply:os.system ['true']\n",
            r"^top level must be a mapping$",
            id="python-tag-top-level",
        ),
        pytest.param(
            SAMPLE.encode() + b"---\n" + SAMPLE.encode(),
            r"^multiple YAML documents are not allowed",
            id="multiple-documents",
        ),
        pytest.param(
            b"policy: " + b"[" * 100 + b"]" * 100 + b"\n",
            r"^nesting deeper than 32 levels",
            id="deep-nesting",
        ),
        pytest.param(
            b"policy: [\n", r"^invalid YAML: .*\(line \d+, column \d+\)$", id="syntax"
        ),
        pytest.param(b"policy: \xff\n", r"^not valid UTF-8 \(byte 8\)$", id="not-utf8"),
        pytest.param(
            b"? [a, b]\n: c\n",
            r"^non-string key",
            id="collection-key",
        ),
        pytest.param(
            b"1: one\n",
            r"^non-string key '1' \(line 1\)",
            id="integer-key",
        ),
    ],
)
def test_policy_rejects_hostile_documents(raw: bytes, message: str) -> None:
    check_error(_error(raw), path=None, message=message, file=FILE)


def test_python_tags_are_never_constructed(tmp_path: Path) -> None:
    sentinel = tmp_path / "pwned"
    text = _edit(
        (
            "unlistedFiles: fail",
            f"unlistedFiles: !!python/object/apply:os.system ['touch {sentinel}']",
        )
    )
    error = _error(text)
    check_error(
        error,
        path="unlistedFiles",
        message=r"^unsupported YAML tag '!!python/object/apply:os.system' "
        rf"\(line {_line(text, r'^unlistedFiles:')}\)$",
        file=FILE,
    )
    assert not sentinel.exists()


def test_oversized_policy_is_rejected_before_parsing() -> None:
    raw = builders.SAMPLE_POLICY.read_bytes()
    error = _error(raw, limits=Limits(max_document_bytes=len(raw) - 1))
    check_error(
        error,
        path=None,
        message=rf"^document too large \(more than {len(raw) - 1} bytes\)$",
        file=FILE,
    )


def test_anchor_count_limit_applies() -> None:
    bundle = VENDOR_A_ROOT.read_text(encoding="ascii") * 3
    block = "\n".join("          " + line for line in bundle.strip().splitlines())
    text = _edit((ACME_ANCHORS, f"anchors:\n      - |\n{block}"))
    error = _error(text, limits=Limits(max_certificates=2))
    check_error(
        error,
        path="vendors[0].anchors[0]",
        message=r"more than 2 certificates",
        file=FILE,
    )


@pytest.mark.parametrize(
    ("reference", "shown"),
    [
        pytest.param('"root\\0.pem"', r"'root\\x00\.pem'", id="nul"),
        pytest.param('"root\\x1b[2J.pem"', r"'root\\x1b\[2J\.pem'", id="escape"),
        pytest.param('"root\\n.pem"', r"'root\\n\.pem'", id="newline"),
        pytest.param('"root\\x85.pem"', r"'root\\x85\.pem'", id="c1-control"),
    ],
)
def test_unusable_file_references_are_refused(
    tmp_path: Path, reference: str, shown: str
) -> None:
    # Regression (issue 9, item 4): a NUL in a reference crashed os.open with
    # ValueError (exit 4). Read through the real resolver, as intake does.
    from vendorproof.intake import load_policy

    text = _edit((ACME_ANCHORS, f"anchors: [{reference}]"))
    policy = tmp_path / "policy.yaml"
    policy.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInputError) as info:
        load_policy(policy)
    assert info.value.path == "vendors[0].anchors[0]"
    assert re.match(
        rf"^not a usable file reference: {shown} \(line \d+\)$", info.value.message
    )
    assert str(info.value).isprintable()


def test_unencodable_reference_is_refused() -> None:
    # A lone surrogate cannot come from UTF-8 YAML, but a resolver must never see it.
    from vendorproof.models.policy._reader import _encodable

    assert not _encodable("root\ud800.pem")
    assert _encodable("wurzel-ä.pem")
