"""Offline verification of Sigstore keyless (Fulcio certificate) bundles.

Two forms of vendor signature are supported:

- (a) :func:`verify_artifact_bundle`: a Sigstore bundle holding a *message signature*
  over a file itself (``cosign sign-blob`` / ``sigstore sign``);
- (b) :func:`verify_statement_bundle`: a Sigstore bundle holding a *DSSE envelope*
  (an in-toto Statement) signed keyless.

Verification is delegated to sigstore-python's ``Verifier`` and is entirely
**offline**: the trust root is either the ``trusted_root.json`` the policy names or,
only when the policy explicitly allows it, the public-good trusted root *embedded in
the installed sigstore package* (read as package data; no TUF refresh, no TUF cache
in the user's home directory, no Rekor or Fulcio query). Nothing is fetched.

What a passing verification establishes:

1. a verified signing time: the Rekor v1 integrated time, bound by the log's signed
   inclusion promise (SET), and/or RFC 3161 timestamps from a timestamp authority of
   the trusted root (Rekor v2 bundles carry timestamps, not integrated times);
2. the signing certificate chains to a Fulcio CA of the trusted root at every
   verified signing time, and is valid (not before / not after) at those times;
3. the certificate carries a valid Signed Certificate Timestamp from a CT log of the
   trusted root, has the digital-signature key usage and the code-signing EKU;
4. the identity policy: the certificate's SAN equals ``KeylessSigner.identity``
   exactly and its OIDC issuer extension equals ``KeylessSigner.issuer`` exactly;
5. the Rekor entry: its inclusion proof against a checkpoint signed by a Rekor key of
   the trusted root and, when present, its inclusion promise;
6. the signature: over the artifact's SHA-256 digest (form a) or over the DSSE PAE of
   the payload (form b), with the certificate's key;
7. the Rekor entry's body matches the bundle's certificate, signature and the input
   (guards against CVE-2022-36056 style substitutions).

The bundle is first read as strict JSON (duplicate keys refused, size and nesting
bounded), with canonical standard-alphabet base64 and decimal uint64 strings, because
sigstore-models decodes both leniently.

Errors: a malformed or unsupported bundle or trusted root, or an unreadable artifact,
raises :class:`~vendorproof.errors.InvalidInputError`; every other failure, including
a bundle that lacks material verification needs (no certificate, no log entry, no
checkpoint, no signed time), raises :class:`~vendorproof.errors.SignatureError` with
a one-line reason. sigstore exceptions (and a Rust panic in a decoder it calls) never
escape this module.

``sigstore`` is imported lazily (it costs ~0.4 s), so importing this module is cheap.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from vendorproof._internal.jsonio import parse_json, render_path, show_key
from vendorproof._internal.panic import is_panic
from vendorproof._internal.text import shorten
from vendorproof.errors import InvalidInputError, SignatureError
from vendorproof.models._fields import b64decode, format_time

if TYPE_CHECKING:
    from sigstore.hashes import Hashed
    from sigstore.models import Bundle
    from sigstore.verify import Verifier
    from sigstore.verify.policy import Identity
    from sigstore_models.bundle.v1 import Bundle as BundleModel
    from sigstore_models.rekor.v1 import TransparencyLogEntry

__all__ = [
    "ArtifactDigest",
    "KeylessSigner",
    "KeylessTrust",
    "verify_artifact_bundle",
    "verify_statement_bundle",
]

# The public-good trusted root shipped inside the sigstore package, under the
# directory named after the (percent-encoded) production TUF repository URL.
_EMBEDDED_PACKAGE = "sigstore._store"
_PUBLIC_GOOD_DIR = "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev"
_TRUSTED_ROOT_NAME = "trusted_root.json"

_MAX_REASON = 400


@dataclass(frozen=True, slots=True, kw_only=True)
class KeylessTrust:
    """The root of trust for keyless verification; exactly one source must be set.

    Attributes:
        trusted_root: The contents of a Sigstore ``trusted_root.json`` the policy
            names (Fulcio CAs, Rekor and CT log keys, timestamp authorities).
        public_good: Use the public-good trusted root embedded in the installed
            sigstore package. Only when the policy explicitly allows it.

    Raises:
        InvalidInputError: Neither or both sources are set.
    """

    trusted_root: bytes | None
    public_good: bool = False

    def __post_init__(self) -> None:
        """Check that exactly one source of trust is set."""
        if (self.trusted_root is None) == (not self.public_good):
            raise InvalidInputError(
                "keyless trust needs exactly one of a trusted_root.json or the "
                "public-good root"
            )

    @property
    def description(self) -> str:
        """A short name of the root of trust, for accounts and errors."""
        if self.public_good:
            return "the embedded public-good trusted root"
        return "the policy's trusted root"


@dataclass(frozen=True, slots=True, kw_only=True)
class KeylessSigner:
    """The signer a keyless bundle must have been issued to.

    Attributes:
        identity: The certificate identity (SAN: email, URI or Sigstore other
            name), matched exactly.
        issuer: The OIDC issuer recorded in the certificate, matched exactly.

    Raises:
        InvalidInputError: The identity or issuer is empty (an empty issuer would
            silently disable sigstore's issuer check).
    """

    identity: str
    issuer: str

    def __post_init__(self) -> None:
        """Refuse empty identities and issuers."""
        if not self.identity.strip():
            raise InvalidInputError("keyless signer identity must not be empty")
        if not self.issuer.strip():
            raise InvalidInputError("keyless signer issuer must not be empty")


def verify_artifact_bundle(
    bundle: bytes,
    artifact: bytes | Path | ArtifactDigest,
    *,
    trust: KeylessTrust,
    signer: KeylessSigner,
) -> str:
    """Verify a Sigstore bundle holding a message signature over ``artifact``.

    Args:
        bundle: The Sigstore bundle JSON.
        artifact: The signed file's contents, or its path (hashed streaming, so
            multi-gigabyte files are never read into memory).
        trust: The root of trust.
        signer: The required certificate identity and OIDC issuer.

    Returns:
        A one-line account: identity, issuer, Rekor log index and signing time.

    Raises:
        InvalidInputError: The bundle or trusted root is malformed or unsupported,
            or the artifact cannot be read.
        SignatureError: The bundle does not verify (see the module docstring).
    """
    document, parsed = _parse_bundle(bundle)
    if document.message_signature is None:
        raise SignatureError(
            "Sigstore bundle holds a DSSE statement, not a signature over the file"
        )
    verifier = _verifier(trust)
    digest = _sha256(artifact)
    policy = _policy(signer)
    try:
        verifier.verify_artifact(digest, parsed, policy)
    except _library_errors() as e:  # untrusted input: fails closed
        raise SignatureError(_reason("Sigstore bundle does not verify", e)) from e
    except BaseException as e:
        if not is_panic(e):
            raise
        raise SignatureError(_reason("Sigstore bundle does not verify", e)) from e
    return _account(document, parsed, trust=trust, signer=signer)


def verify_statement_bundle(
    bundle: bytes,
    *,
    trust: KeylessTrust,
    signer: KeylessSigner,
) -> tuple[str, bytes]:
    """Verify a Sigstore bundle holding a keyless-signed DSSE envelope.

    The payload type is not checked: the caller must require the type it expects
    (``application/vnd.in-toto+json``) before parsing the payload.

    Args:
        bundle: The Sigstore bundle JSON.
        trust: The root of trust.
        signer: The required certificate identity and OIDC issuer.

    Returns:
        The envelope's ``(payload_type, payload)`` after verification.

    Raises:
        InvalidInputError: The bundle or trusted root is malformed or unsupported.
        SignatureError: The bundle does not verify (see the module docstring).
    """
    document, parsed = _parse_bundle(bundle)
    if document.dsse_envelope is None:
        raise SignatureError(
            "Sigstore bundle holds a signature over a file, not a DSSE statement"
        )
    verifier = _verifier(trust)
    policy = _policy(signer)
    try:
        return verifier.verify_dsse(parsed, policy)
    except _library_errors() as e:  # untrusted input: fails closed
        raise SignatureError(_reason("Sigstore DSSE bundle does not verify", e)) from e
    except BaseException as e:
        if not is_panic(e):
            raise
        raise SignatureError(_reason("Sigstore DSSE bundle does not verify", e)) from e


def _reason(prefix: str, e: BaseException) -> str:
    from pydantic import ValidationError
    from sigstore.errors import Error as SigstoreError

    if isinstance(e, ValidationError) and e.errors():
        # pydantic's own text is multi-line and echoes the whole input
        first = e.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "bundle"
        detail = f"{where}: {first['msg']}"
    elif isinstance(e, SigstoreError):
        detail = str(e)
    else:
        detail = f"{type(e).__name__}: {e}"
    return shorten(f"{prefix}: {detail}" if detail.strip() else prefix, _MAX_REASON)


# Protobuf JSON fields of a bundle (both spellings sigstore-models accepts) that hold
# bytes (base64) or uint64 (a decimal string): sigstore-models decodes the first with a
# lenient base64.b64decode and the second with int(), which accepts "1_000" and " 7".
_BYTES_FIELDS = frozenset(
    {
        *("rawBytes", "raw_bytes", "signature", "digest", "keyId", "key_id"),
        *("signedTimestamp", "signed_timestamp", "signedEntryTimestamp"),
        *("signed_entry_timestamp", "rootHash", "root_hash", "hashes"),
        *("canonicalizedBody", "canonicalized_body", "payload", "sig", "value"),
    }
)
_U64_FIELDS = frozenset(
    {"logIndex", "log_index", "treeSize", "tree_size", "integratedTime"}
    | {"integrated_time"}
)
_U64 = re.compile(r"[0-9]{1,20}")


def _check_encodings(document: object) -> None:
    """Strict base64 and uint64 strings anywhere in the bundle (iteratively)."""
    stack: list[tuple[object, tuple[str | int, ...]]] = [(document, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                where = (*path, key)
                values = item if key == "hashes" and isinstance(item, list) else [item]
                if key in _BYTES_FIELDS:
                    for i, text in enumerate(values):
                        if isinstance(text, str):
                            at = render_path((*where, i) if values is item else where)
                            if "-" in text or "_" in text:
                                # sigstore-models' decoder would drop these characters
                                raise InvalidInputError(
                                    "invalid base64: the URL-safe alphabet is not "
                                    "read by sigstore (use the standard one)",
                                    path=at,
                                )
                            b64decode(text, at)
                elif (
                    key in _U64_FIELDS
                    and isinstance(item, str)
                    and not _U64.fullmatch(item)
                ):
                    raise InvalidInputError(
                        f"not a uint64 in decimal digits: {show_key(item)}",
                        path=render_path(where),
                    )
                stack.append((item, where))
        elif isinstance(value, list):
            stack.extend((item, (*path, i)) for i, item in enumerate(value))


def _parse_bundle(bundle: bytes) -> tuple[BundleModel, Bundle]:
    """Parse a bundle: schema errors are malformed input, broken invariants fail.

    The bytes are first read as strict JSON (duplicate keys, nesting, size: the rules
    of every JSON input) with strict base64 and uint64 fields. The document model is
    then sigstore's own parse (protobuf JSON: camelCase or snake_case names), so the
    fields read here are the fields sigstore verifies. Any failure of the libraries
    while parsing, including a Rust panic in a decoder they call (RFC 3161 tokens are
    decoded here), is malformed input.
    """
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import Bundle, IncompatibleEntry, InvalidBundle
    from sigstore_models.bundle.v1 import Bundle as BundleModel

    try:
        _check_encodings(parse_json(bundle, file=""))
    except InvalidInputError as e:
        raise InvalidInputError(f"malformed Sigstore bundle: {e}") from e
    try:  # JSON, schema, media type, encodings; not sigstore's invariants
        document = BundleModel.from_json(bundle)
    except ValueError as e:
        raise InvalidInputError(_reason("malformed Sigstore bundle", e)) from e
    try:
        return document, Bundle.from_json(bundle)
    except IncompatibleEntry as e:
        raise InvalidInputError(_reason("unsupported Sigstore bundle", e)) from e
    except InvalidBundle as e:
        raise SignatureError(_reason("Sigstore bundle is incomplete", e)) from e
    except (ValueError, SigstoreError) as e:  # not DER; "Invalid Timestamp Response"
        raise InvalidInputError(_reason("malformed Sigstore bundle", e)) from e
    except _library_errors() as e:  # the libraries' other types: still bad input
        raise InvalidInputError(_reason("malformed Sigstore bundle", e)) from e
    except BaseException as e:
        if not is_panic(e):
            raise
        raise InvalidInputError(_reason("malformed Sigstore bundle", e)) from e


def _library_errors() -> tuple[type[Exception], ...]:
    """What sigstore and the libraries under it raise for input they cannot accept.

    sigstore's own ``Error`` tree (``VerificationError``, ``InvalidBundle``...),
    ``ValueError`` (pydantic's ``ValidationError``, cryptography's and
    rfc3161-client's parse errors), the built-in types its models let through on
    a field of the wrong shape, and cryptography's for a key or signature it cannot
    use. Anything else is a bug and is not caught (a Rust panic is handled apart).
    """
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from sigstore.errors import Error as SigstoreError

    return (
        SigstoreError,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        InvalidSignature,
        UnsupportedAlgorithm,
    )


def _verifier(trust: KeylessTrust) -> Verifier:
    """Build an offline verifier on the trusted root (never TUF, never the net)."""
    from sigstore.models import TrustedRoot
    from sigstore.verify import Verifier
    from sigstore_models.trustroot.v1 import TrustedRoot as TrustedRootModel

    if trust.trusted_root is not None:
        data = trust.trusted_root
    else:
        resource = importlib.resources.files(_EMBEDDED_PACKAGE).joinpath(
            _PUBLIC_GOOD_DIR, _TRUSTED_ROOT_NAME
        )
        try:
            data = resource.read_bytes()
        except OSError as e:
            raise InvalidInputError(
                shorten(
                    f"the sigstore package has no embedded public-good root: {e}",
                    _MAX_REASON,
                )
            ) from e
    try:
        # What TrustedRoot.from_file does, from bytes rather than a path.
        root = TrustedRoot(TrustedRootModel.from_json(data))
        return Verifier(trusted_root=root)
    except _library_errors() as e:  # trust material it cannot load is malformed
        raise InvalidInputError(
            _reason(f"unusable Sigstore trusted root ({trust.description})", e)
        ) from e
    except BaseException as e:
        if not is_panic(e):
            raise
        raise InvalidInputError(
            _reason(f"unusable Sigstore trusted root ({trust.description})", e)
        ) from e


def _policy(signer: KeylessSigner) -> Identity:
    from sigstore.verify.policy import Identity

    return Identity(identity=signer.identity, issuer=signer.issuer)


@dataclass(frozen=True, slots=True)
class ArtifactDigest:
    """An artifact already measured: its lowercase hex sha256 (no second read)."""

    sha256: str


def _sha256(artifact: bytes | Path | ArtifactDigest) -> Hashed:
    from sigstore.hashes import Hashed
    from sigstore_models.common.v1 import HashAlgorithm

    if isinstance(artifact, ArtifactDigest):
        try:
            digest = bytes.fromhex(artifact.sha256)
        except ValueError as e:
            raise InvalidInputError("artifact digest is not hex") from e
        if len(digest) != hashlib.sha256().digest_size:
            raise InvalidInputError("artifact digest is not a sha256 digest")
    elif isinstance(artifact, Path):
        try:
            with artifact.open("rb") as f:
                digest = hashlib.file_digest(f, "sha256").digest()
        except OSError as e:
            raise InvalidInputError(
                shorten(f"cannot read artifact: {e.strerror or e}", _MAX_REASON),
                file=str(artifact),
            ) from e
    else:
        digest = hashlib.sha256(artifact).digest()
    return Hashed(algorithm=HashAlgorithm.SHA2_256, digest=digest)


def _account(
    document: BundleModel,
    parsed: Bundle,
    *,
    trust: KeylessTrust,
    signer: KeylessSigner,
) -> str:
    """One line on who signed and when, from the verified bundle."""
    entry = document.verification_material.tlog_entries[0]
    return (
        f"Sigstore keyless signature by {signer.identity} "
        f"(OIDC issuer {signer.issuer}); Rekor log index {entry.log_index}, "
        f"{_signing_time(entry, parsed)}; verified offline against {trust.description}"
    )


def _signing_time(entry: TransparencyLogEntry, parsed: Bundle) -> str:
    if entry.integrated_time and entry.inclusion_promise is not None:
        # bound by the inclusion promise, which sigstore verified
        when = datetime.fromtimestamp(entry.integrated_time, tz=UTC)
        return f"integrated time {format_time(when)}"
    timestamps = parsed.verification_material.timestamp_verification_data
    responses = timestamps.rfc3161_timestamps if timestamps else []
    if len(responses) == 1:  # without a promise, the one timestamp was verified
        gen_time = responses[0].tst_info.gen_time
        return f"RFC 3161 timestamp {format_time(gen_time)}"
    return f"signing time from {len(responses)} RFC 3161 timestamps"
