"""Signing keys that live in a PKCS#11 token (an HSM, a smart card, SoftHSM2).

A key is named by an RFC 7512 ``pkcs11:`` URI::

    pkcs11:token=vendorproof;object=operator?module-path=/usr/lib/softhsm/libsofthsm2.so

Path attributes (RFC 7512 section 2.3) honoured: ``token`` (label), ``serial``,
``object`` (label), ``id`` (CKA_ID, percent-encoded bytes) and ``type`` (only
``private``); query attributes: ``pin-value`` and ``module-path``. Every other
attribute is refused rather than ignored, so a URI never selects a different key than
it says. The PIN may instead come from ``VENDORPROOF_PKCS11_PIN`` and the module
from ``VENDORPROOF_PKCS11_MODULE``.

The private key never leaves the token: the classes below subclass cryptography's
private key interfaces, so every caller that signs with a file key signs with a token
key unchanged. Ed25519 signs with CKM_EDDSA (pure Ed25519, RFC 8032); ECDSA P-256 and
P-384 sign with CKM_ECDSA over a digest computed on the host (SHA-256 / SHA-384, the
scheme of :mod:`vendorproof._internal.crypto`), and the raw ``r || s`` the token returns
(PKCS#11 v2.40 section 2.3.1) is DER-encoded as an ECDSA-Sig-Value (RFC 3279 2.2.3).
RSA keys (at least 2048 bits) sign RSASSA-PSS (RFC 8017 section 8.1) with SHA-256,
MGF1-SHA-256 and a 32-byte salt, vendorproof's only RSA scheme: CKM_RSA_PKCS_PSS over
the SHA-256 digest computed on the host (PKCS#11 v2.40 section 2.1.14), so the token
returns the signature cryptography would. Checkpoints and witness cosignatures stay
Ed25519 (c2sp.org/signed-note); an RSA or ECDSA token key signs records and bundles.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import unquote_to_bytes

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric import padding as pad
from cryptography.hazmat.primitives.asymmetric.utils import (
    NoDigestInfo,
    Prehashed,
    encode_dss_signature,
)

from vendorproof.errors import InvalidInputError

if TYPE_CHECKING:
    import pkcs11
    from cryptography.utils import Buffer

PIN_ENV = "VENDORPROOF_PKCS11_PIN"
MODULE_ENV = "VENDORPROOF_PKCS11_MODULE"
SCHEME = "pkcs11:"
MAX_URI = 4096

_PATH_ATTRS = frozenset({"token", "serial", "object", "id", "type"})
_QUERY_ATTRS = frozenset({"pin-value", "module-path"})
# DER of the namedCurve OIDs (RFC 5480 2.1.1.1) a token reports in CKA_EC_PARAMS.
_CURVES: dict[bytes, ec.EllipticCurve] = {
    bytes.fromhex("06082a8648ce3d030107"): ec.SECP256R1(),
    bytes.fromhex("06052b81040022"): ec.SECP384R1(),
}
_ED25519_POINT = 32
# One logged-in session per token and process (PKCS#11 logs in per application, not per
# session), shared by the keys on it; one lock serialises every token operation.
_SESSIONS: dict[tuple[str, bytes], tuple[pkcs11.Session, str]] = {}
_LOCK = threading.Lock()
_OCTET_STRING = 0x04


def is_uri(text: str) -> bool:
    """Whether ``text`` names a token key rather than a key file."""
    return text.startswith(SCHEME)


@dataclass(frozen=True)
class KeyUri:
    """The parts of a ``pkcs11:`` URI vendorproof uses."""

    token: str | None
    serial: str | None
    label: str | None
    key_id: bytes | None
    pin: str | None
    module: str | None

    def shown(self) -> str:
        """The URI without its PIN, for error messages."""
        parts = [f"token={self.token}"] if self.token is not None else []
        if self.label is not None:
            parts.append(f"object={self.label}")
        if self.key_id is not None:
            parts.append(f"id={self.key_id.hex()}")
        return SCHEME + ";".join(parts)


def _fail(message: str, shown: str = "--key") -> NoReturn:
    raise InvalidInputError(message, file=shown)


def _attrs(text: str, sep: str, allowed: frozenset[str], part: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in text.split(sep) if text else []:
        name, eq, value = item.partition("=")
        if not eq or not name:
            _fail(f"pkcs11 URI: {part} attribute {item!r} is not name=value")
        if name not in allowed:
            known = ", ".join(sorted(allowed))
            _fail(f"pkcs11 URI: unsupported {part} attribute {name!r} (known: {known})")
        if name in out:
            _fail(f"pkcs11 URI: {part} attribute {name!r} appears twice")
        out[name] = value
    return out


def _text(attrs: dict[str, str], name: str) -> str | None:
    if name not in attrs:
        return None
    try:
        return unquote_to_bytes(attrs[name]).decode()
    except UnicodeDecodeError:
        _fail(f"pkcs11 URI: attribute {name!r} is not UTF-8")


def parse_uri(text: str) -> KeyUri:
    """Parse an RFC 7512 ``pkcs11:`` URI naming a private key.

    Raises:
        InvalidInputError: not a ``pkcs11:`` URI, an unsupported or repeated attribute,
            no token or no object named.
    """
    if not is_uri(text) or len(text) > MAX_URI:
        _fail(f"not a pkcs11: URI of at most {MAX_URI} characters")
    path, _, query = text[len(SCHEME) :].partition("?")
    attrs = _attrs(path, ";", _PATH_ATTRS, "path")
    params = _attrs(query, "&", _QUERY_ATTRS, "query")
    if _text(attrs, "type") not in {None, "private"}:
        _fail("pkcs11 URI: type must be 'private' (a signing key)")
    if "token" not in attrs and "serial" not in attrs:
        _fail("pkcs11 URI: names no token (token=LABEL or serial=...)")
    if "object" not in attrs and "id" not in attrs:
        _fail("pkcs11 URI: names no key (object=LABEL or id=...)")
    pin = _text(params, "pin-value")
    module = _text(params, "module-path")
    return KeyUri(
        token=_text(attrs, "token"),
        serial=_text(attrs, "serial"),
        label=_text(attrs, "object"),
        key_id=unquote_to_bytes(attrs["id"]) if "id" in attrs else None,
        pin=pin if pin is not None else os.environ.get(PIN_ENV),
        module=module if module is not None else os.environ.get(MODULE_ENV),
    )


def _point(raw: bytes) -> bytes:
    """CKA_EC_POINT: DER OCTET STRING (PKCS#11 v2.40 2.3.3), raw from some tokens."""
    if len(raw) >= 2 and raw[0] == _OCTET_STRING and raw[1] == len(raw) - 2:
        return raw[2:]
    return raw


class _TokenKey:
    """The session and private key object behind one token key, used under a lock."""

    def __init__(self, key: pkcs11.SignMixin, shown: str) -> None:
        self._key = key
        self.shown = shown

    def sign(
        self,
        data: bytes,
        mechanism: pkcs11.Mechanism,
        param: tuple[pkcs11.Mechanism, pkcs11.MGF, int] | None = None,
    ) -> bytes:
        import pkcs11

        with _LOCK:
            try:
                return bytes(
                    self._key.sign(data, mechanism=mechanism, mechanism_param=param)
                )
            except pkcs11.PKCS11Error as e:
                msg = f"token refused to sign: {type(e).__name__} {e}".strip()
                raise InvalidInputError(msg, file=self.shown) from e


def _no_export(shown: str) -> NoReturn:
    _fail("a token key cannot be exported", shown)


class Pkcs11Ed25519Key(ed25519.Ed25519PrivateKey):
    """An Ed25519 private key in a token; signs with CKM_EDDSA."""

    def __init__(self, token_key: _TokenKey, public: ed25519.Ed25519PublicKey) -> None:
        self._token_key = token_key
        self._public = public

    def public_key(self) -> ed25519.Ed25519PublicKey:
        return self._public

    def sign(self, data: Buffer) -> bytes:
        import pkcs11

        return self._token_key.sign(bytes(data), pkcs11.Mechanism.EDDSA)

    def private_bytes(
        self,
        encoding: serialization.Encoding,
        format: serialization.PrivateFormat,  # noqa: A002
        encryption_algorithm: serialization.KeySerializationEncryption,
    ) -> bytes:
        del encoding, format, encryption_algorithm
        _no_export(self._token_key.shown)

    def private_bytes_raw(self) -> bytes:
        _no_export(self._token_key.shown)

    def __copy__(self) -> Pkcs11Ed25519Key:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Pkcs11Ed25519Key:
        return self


class Pkcs11EcKey(ec.EllipticCurvePrivateKey):
    """An ECDSA private key in a token; the host hashes, the token signs (CKM_ECDSA)."""

    def __init__(self, token_key: _TokenKey, public: ec.EllipticCurvePublicKey) -> None:
        self._token_key = token_key
        self._public = public

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._public.curve

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._public

    def sign(
        self, data: Buffer, signature_algorithm: ec.EllipticCurveSignatureAlgorithm
    ) -> bytes:
        import pkcs11

        if not isinstance(signature_algorithm, ec.ECDSA):
            _fail("a token key signs ECDSA only", self._token_key.shown)
        algorithm = signature_algorithm.algorithm
        if isinstance(algorithm, Prehashed):
            digest = bytes(data)
        elif isinstance(algorithm, hashes.SHA256):
            digest = hashlib.sha256(data).digest()
        elif isinstance(algorithm, hashes.SHA384):
            digest = hashlib.sha384(data).digest()
        else:
            _fail(f"unsupported ECDSA hash {algorithm.name}", self._token_key.shown)
        raw = self._token_key.sign(digest, pkcs11.Mechanism.ECDSA)
        half = len(raw) // 2
        if len(raw) % 2 or half != (self.key_size + 7) // 8:
            _fail(
                f"token returned a {len(raw)}-byte ECDSA signature",
                self._token_key.shown,
            )
        r = int.from_bytes(raw[:half], "big")
        s = int.from_bytes(raw[half:], "big")
        return encode_dss_signature(r, s)

    def exchange(
        self, algorithm: ec.ECDH, peer_public_key: ec.EllipticCurvePublicKey
    ) -> bytes:
        del algorithm, peer_public_key
        _fail("a signing key is not used for key agreement", self._token_key.shown)

    def private_numbers(self) -> ec.EllipticCurvePrivateNumbers:
        _no_export(self._token_key.shown)

    def private_bytes(
        self,
        encoding: serialization.Encoding,
        format: serialization.PrivateFormat,  # noqa: A002
        encryption_algorithm: serialization.KeySerializationEncryption,
    ) -> bytes:
        del encoding, format, encryption_algorithm
        _no_export(self._token_key.shown)

    def __copy__(self) -> Pkcs11EcKey:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Pkcs11EcKey:
        return self


#: RSASSA-PSS as :func:`vendorproof._internal.crypto.sign` makes it.
_PSS_SALT = 32


class Pkcs11RsaKey(rsa.RSAPrivateKey):
    """An RSA private key in a token; RSASSA-PSS (SHA-256, MGF1-SHA-256, salt 32) only.

    The host hashes, the token pads and signs (CKM_RSA_PKCS_PSS), so the signature is
    byte-compatible with cryptography's ``sign(data, PSS(...), SHA256())``.
    """

    def __init__(self, token_key: _TokenKey, public: rsa.RSAPublicKey) -> None:
        self._token_key = token_key
        self._public = public

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def public_key(self) -> rsa.RSAPublicKey:
        return self._public

    def sign(
        self,
        data: Buffer,
        padding: pad.AsymmetricPadding,
        algorithm: Prehashed | hashes.HashAlgorithm | NoDigestInfo,
    ) -> bytes:
        import pkcs11

        shown = self._token_key.shown
        if not (
            isinstance(padding, pad.PSS)
            and isinstance(padding.mgf, pad.MGF1)
            and isinstance(padding.mgf._algorithm, hashes.SHA256)  # noqa: SLF001
            and padding._salt_length == _PSS_SALT  # noqa: SLF001
        ):
            _fail("a token RSA key signs RSASSA-PSS (MGF1-SHA256, salt 32) only", shown)
        if isinstance(algorithm, Prehashed):
            if not isinstance(algorithm._algorithm, hashes.SHA256):  # noqa: SLF001
                _fail("a token RSA key signs SHA-256 digests only", shown)
            digest = bytes(data)
        elif isinstance(algorithm, hashes.SHA256):
            digest = hashlib.sha256(data).digest()
        else:
            _fail("a token RSA key signs with SHA-256 only", shown)
        param = (pkcs11.Mechanism.SHA256, pkcs11.MGF.SHA256, _PSS_SALT)
        return self._token_key.sign(digest, pkcs11.Mechanism.RSA_PKCS_PSS, param)

    def decrypt(self, ciphertext: bytes, padding: pad.AsymmetricPadding) -> bytes:
        del ciphertext, padding
        _fail("a signing key is not used for decryption", self._token_key.shown)

    def private_numbers(self) -> rsa.RSAPrivateNumbers:
        _no_export(self._token_key.shown)

    def private_bytes(
        self,
        encoding: serialization.Encoding,
        format: serialization.PrivateFormat,  # noqa: A002
        encryption_algorithm: serialization.KeySerializationEncryption,
    ) -> bytes:
        del encoding, format, encryption_algorithm
        _no_export(self._token_key.shown)

    def __copy__(self) -> Pkcs11RsaKey:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Pkcs11RsaKey:
        return self


def _find(
    session: pkcs11.Session, uri: KeyUri, cls: pkcs11.ObjectClass, shown: str
) -> pkcs11.Key:
    import pkcs11

    kind = "private" if cls == pkcs11.ObjectClass.PRIVATE_KEY else "public"
    try:
        return session.get_key(object_class=cls, label=uri.label, id=uri.key_id)
    except pkcs11.NoSuchKey:
        _fail(f"the token holds no {kind} key with this label/id", shown)
    except pkcs11.MultipleObjectsReturned:
        _fail(f"the token holds several {kind} keys with this label/id", shown)


def _open(uri: KeyUri, shown: str) -> pkcs11.Session:
    import pkcs11

    if not uri.module:
        _fail(
            f"no PKCS#11 module: add module-path= to the URI or set {MODULE_ENV}", shown
        )
    if not Path(uri.module).is_file():
        _fail(f"PKCS#11 module {uri.module} does not exist", shown)
    if uri.pin is None:
        _fail(f"no PIN: add pin-value= to the URI or set {PIN_ENV}", shown)
    try:
        lib = pkcs11.lib(uri.module)
    except (RuntimeError, OSError, pkcs11.PKCS11Error) as e:
        _fail(f"cannot load PKCS#11 module {uri.module}: {e}", shown)
    serial = uri.serial.encode() if uri.serial is not None else None
    try:
        tokens = list(lib.get_tokens(token_label=uri.token, token_serial=serial))
    except pkcs11.PKCS11Error as e:
        _fail(f"cannot list tokens: {type(e).__name__}", shown)
    if len(tokens) != 1:
        what = "no token" if not tokens else f"{len(tokens)} tokens"
        _fail(f"{what} with this label/serial in {uri.module}", shown)
    slot = (uri.module, bytes(tokens[0].serial))
    if slot in _SESSIONS:
        session, pin = _SESSIONS[slot]
        if not hmac.compare_digest(pin.encode(), uri.pin.encode()):
            _fail("wrong PIN for the token (it is open with another PIN)", shown)
        return session
    try:
        session = tokens[0].open(user_pin=uri.pin)
    except (pkcs11.PinIncorrect, pkcs11.PinLenRange, pkcs11.PinInvalid) as e:
        raise InvalidInputError("wrong PIN for the token", file=shown) from e
    except pkcs11.PinLocked as e:
        raise InvalidInputError("the token's PIN is locked", file=shown) from e
    except pkcs11.PKCS11Error as e:
        msg = f"cannot log in to the token: {type(e).__name__}"
        raise InvalidInputError(msg, file=shown) from e
    _SESSIONS[slot] = (session, uri.pin)
    return session


TokenKey = Pkcs11Ed25519Key | Pkcs11EcKey | Pkcs11RsaKey


def load_key(text: str) -> TokenKey:
    """Open the token a ``pkcs11:`` URI names and return its private key.

    The session stays open for the life of the process (the key signs through it).

    Raises:
        InvalidInputError: a malformed URI, a missing module, token or key, a wrong
            PIN, or a key type other than Ed25519 / ECDSA P-256 / P-384 / RSA of
            at least 2048 bits.
    """
    uri = parse_uri(text)
    shown = uri.shown()
    with _LOCK:
        return _load(uri, shown)


def _load(uri: KeyUri, shown: str) -> TokenKey:
    import pkcs11

    session = _open(uri, shown)
    private = _find(session, uri, pkcs11.ObjectClass.PRIVATE_KEY, shown)
    public = _find(session, uri, pkcs11.ObjectClass.PUBLIC_KEY, shown)
    if not isinstance(private, pkcs11.SignMixin):
        _fail("the key cannot sign", shown)
    token_key = _TokenKey(private, shown)
    if private.key_type == pkcs11.KeyType.RSA:
        return Pkcs11RsaKey(token_key, _rsa_public(public, shown))
    try:
        point = _point(bytes(public[pkcs11.Attribute.EC_POINT]))
        params = bytes(public[pkcs11.Attribute.EC_PARAMS])
    except pkcs11.PKCS11Error:
        _fail("the key is not an EC or Ed25519 key (no CKA_EC_POINT)", shown)
    try:
        if private.key_type == pkcs11.KeyType.EC_EDWARDS:
            if len(point) != _ED25519_POINT:
                _fail("only Ed25519 among Edwards curves is supported", shown)
            pub = ed25519.Ed25519PublicKey.from_public_bytes(point)
            return Pkcs11Ed25519Key(token_key, pub)
        if private.key_type == pkcs11.KeyType.EC:
            curve = _CURVES.get(params)
            if curve is None:
                _fail("unsupported curve: ECDSA keys must be P-256 or P-384", shown)
            return Pkcs11EcKey(
                token_key, ec.EllipticCurvePublicKey.from_encoded_point(curve, point)
            )
    except ValueError as e:
        _fail(f"the token's public key does not decode: {e}", shown)
    _fail(
        f"unsupported key type {private.key_type!r} (Ed25519, ECDSA or RSA only)", shown
    )


def _rsa_public(public: pkcs11.Key, shown: str) -> rsa.RSAPublicKey:
    """The RSA public key from CKA_MODULUS and CKA_PUBLIC_EXPONENT (big-endian)."""
    import pkcs11

    from vendorproof._internal import crypto
    from vendorproof.errors import AlgorithmError

    try:
        n = int.from_bytes(bytes(public[pkcs11.Attribute.MODULUS]), "big")
        e = int.from_bytes(bytes(public[pkcs11.Attribute.PUBLIC_EXPONENT]), "big")
        key = rsa.RSAPublicNumbers(e, n).public_key()
        crypto.algorithm_name(key)  # at least 2048 bits
    except pkcs11.PKCS11Error:
        _fail("the token's RSA public key has no modulus or exponent", shown)
    except (ValueError, AlgorithmError) as e:
        _fail(f"the token's RSA public key is not usable: {e}", shown)
    return key
