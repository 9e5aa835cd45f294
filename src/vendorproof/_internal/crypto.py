"""Signature schemes: one mapping from key type to algorithm, for signing and verifying.

| key                | algorithm name       | signature                          |
|--------------------|----------------------|------------------------------------|
| Ed25519            | ``ed25519``          | raw 64 bytes (pure Ed25519)        |
| ECDSA P-256        | ``ecdsa-p256-sha256``| DER ECDSA-Sig-Value over SHA-256   |
| ECDSA P-384        | ``ecdsa-p384-sha384``| DER ECDSA-Sig-Value over SHA-384   |
| RSA >= 2048        | ``rsa-pss-sha256``   | RSASSA-PSS, MGF1-SHA256, salt = 32 |
"""

from __future__ import annotations

import hashlib
from typing import Literal

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificatePublicKeyTypes,
    PrivateKeyTypes,
)

from vendorproof.errors import AlgorithmError, InvalidInputError, SignatureError

SigningKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
KeyType = Literal["ed25519", "ecdsa-p256", "ecdsa-p384", "rsa-3072"]
KEY_TYPES: tuple[KeyType, ...] = ("ed25519", "ecdsa-p256", "ecdsa-p384", "rsa-3072")

#: Every signature algorithm vendorproof can verify.
SIGNATURE_ALGORITHMS = frozenset(
    {"ed25519", "ecdsa-p256-sha256", "ecdsa-p384-sha384", "rsa-pss-sha256"}
)
MIN_RSA_BITS = 2048


def generate_key(kind: KeyType) -> SigningKey:
    """Generate a new private key of ``kind``."""
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "ecdsa-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ecdsa-p384":
        return ec.generate_private_key(ec.SECP384R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=3072)


def as_signing_key(key: PrivateKeyTypes, *, file: str) -> SigningKey:
    """Narrow a loaded private key to the types vendorproof signs with."""
    if isinstance(
        key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    ):
        algorithm_name(key.public_key())  # refuses curves/sizes we do not support
        return key
    raise InvalidInputError(
        f"unsupported private key type {type(key).__name__}", file=file
    )


def as_public_key(key: CertificatePublicKeyTypes | object) -> PublicKey:
    """Narrow a public key to the supported types (else AlgorithmError)."""
    if isinstance(
        key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
    ):
        return key
    raise AlgorithmError(f"unsupported public key type {type(key).__name__}")


def algorithm_name(key: PublicKey) -> str:
    """The signature algorithm used with ``key``.

    Raises:
        AlgorithmError: unsupported curve or an RSA key below 2048 bits.
    """
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "ed25519"
    if isinstance(key, ec.EllipticCurvePublicKey):
        if isinstance(key.curve, ec.SECP256R1):
            return "ecdsa-p256-sha256"
        if isinstance(key.curve, ec.SECP384R1):
            return "ecdsa-p384-sha384"
        raise AlgorithmError(f"unsupported elliptic curve {key.curve.name}")
    if key.key_size < MIN_RSA_BITS:
        raise AlgorithmError(
            f"RSA key of {key.key_size} bits is below the minimum of {MIN_RSA_BITS}"
        )
    return "rsa-pss-sha256"


def _pss() -> padding.PSS:
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


def sign(key: SigningKey, data: bytes) -> bytes:
    """Sign ``data`` with the scheme of ``key``."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        alg = hashes.SHA256() if key.curve.key_size <= 256 else hashes.SHA384()
        return key.sign(data, ec.ECDSA(alg))
    return key.sign(data, _pss(), hashes.SHA256())


def verify(key: PublicKey, signature: bytes, data: bytes) -> str:
    """Verify ``signature`` over ``data``; return the algorithm name.

    Raises:
        SignatureError: the signature does not verify.
        AlgorithmError: the key type or size is not supported.
    """
    name = algorithm_name(key)
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            alg = hashes.SHA256() if name == "ecdsa-p256-sha256" else hashes.SHA384()
            key.verify(signature, data, ec.ECDSA(alg))
        else:
            key.verify(signature, data, _pss(), hashes.SHA256())
    except InvalidSignature as e:
        raise SignatureError(f"{name} signature does not verify") from e
    except UnsupportedAlgorithm as e:  # pragma: no cover - backend without the curve
        raise AlgorithmError(str(e)) from e
    return name


def public_der(key: PublicKey) -> bytes:
    """SubjectPublicKeyInfo DER of ``key``."""
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(key: PublicKey) -> str:
    """The key id: lowercase hex SHA-256 of the SubjectPublicKeyInfo DER."""
    return hashlib.sha256(public_der(key)).hexdigest()


def load_private_key(data: bytes, passphrase: bytes | None, *, file: str) -> SigningKey:
    """Load a PEM PKCS#8 private key.

    Raises:
        InvalidInputError: not a key, wrong or missing passphrase, unsupported type.
    """
    try:
        key = serialization.load_pem_private_key(data, password=passphrase)
    except TypeError as e:
        # cryptography raises TypeError for "encrypted but no password" and vice versa.
        msg = "key is encrypted: set VENDORPROOF_KEY_PASSPHRASE or enter the passphrase"
        if passphrase is not None:
            msg = "key is not encrypted but a passphrase was given"
        raise InvalidInputError(msg, file=file) from e
    except ValueError as e:
        reason = "wrong passphrase or not a PEM private key"
        raise InvalidInputError(reason, file=file) from e
    except UnsupportedAlgorithm as e:
        raise InvalidInputError(f"unsupported key algorithm: {e}", file=file) from e
    return as_signing_key(key, file=file)


def load_public_key(data: bytes, *, file: str) -> PublicKey:
    """Load a PEM SubjectPublicKeyInfo public key."""
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as e:
        raise InvalidInputError(f"not a PEM public key: {e}", file=file) from e
    try:
        pub = as_public_key(key)
        algorithm_name(pub)
    except AlgorithmError as e:
        raise InvalidInputError(str(e), file=file) from e
    return pub
