"""The fixed choices of command-line options, as enums so that ``--help`` lists them.

Each mirrors a library enum or tuple (the test ``tests/cli/test_help.py`` holds them
equal). They are repeated here rather than imported because importing their homes
(``verify.x509``, ``models.policy``, ``_internal.crypto``) loads ``cryptography``,
and ``vendorproof --help`` should not pay for that.
"""

from __future__ import annotations

import enum


class KeyType(enum.StrEnum):
    """``keys generate --type`` (``_internal.crypto.KEY_TYPES``)."""

    ED25519 = "ed25519"
    ECDSA_P256 = "ecdsa-p256"
    ECDSA_P384 = "ecdsa-p384"
    RSA_3072 = "rsa-3072"


class EkuChoice(enum.StrEnum):
    """``x509 verify --eku`` (``verify.x509.Eku``)."""

    CODE_SIGNING = "code-signing"
    TIME_STAMPING = "time-stamping"
    ANY = "any"


class RevocationChoice(enum.StrEnum):
    """``x509 verify --revocation`` (``models.policy.RevocationMode``)."""

    REQUIRE = "require"
    IF_AVAILABLE = "if-available"
    OFF = "off"


class VerdictChoice(enum.StrEnum):
    """``evidence list/export --verdict`` (a record's ``verificationResult``)."""

    PASSED = "PASSED"
    FAILED = "FAILED"


class ExportFormat(enum.StrEnum):
    """``evidence export --format``."""

    JSONL = "jsonl"
    CSV = "csv"
    VSA = "vsa"


class OutputFormat(enum.StrEnum):
    """``--format`` of verify, intake and gate: the table, or a ``ReportFormat``."""

    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    JUNIT = "junit"
