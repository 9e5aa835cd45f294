"""The vendorproof exception hierarchy.

Malformed input is kept apart from input that is well formed but does not verify:

```
Error
├── InvalidInputError            malformed / unsupported document (has .file, .path)
├── OutputError                  an output cannot be written (exists, unwritable)
├── NetworkError                 a remote service cannot be reached (TSA transport)
└── VerificationError            well formed but does not verify; fail closed
    ├── SignatureError
    ├── CertificateChainError
    ├── AlgorithmError
    ├── DigestMismatchError
    ├── TimestampError
    └── PolicyViolationError
```
"""

from __future__ import annotations


class Error(Exception):
    """Base class for every vendorproof error."""


class InvalidInputError(Error):
    """A document is malformed, unreadable or uses an unsupported format.

    ``file`` names the document, ``path`` the field inside it (``subject[0].digest``).
    """

    def __init__(
        self, message: str, *, path: str | None = None, file: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.file = file

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.file, self.path) if p)
        return f"{where}: {self.message}" if where else self.message

    def under(self, parent: str) -> InvalidInputError:
        """Return the same error, located under the field ``parent``."""
        if not self.path:
            path = parent
        elif self.path.startswith("["):
            path = f"{parent}{self.path}"
        else:
            path = f"{parent}.{self.path}"
        return type(self)(self.message, path=path, file=self.file)

    def in_file(self, file: str) -> InvalidInputError:
        """Return the same error, attributed to ``file`` unless it names one."""
        return type(self)(self.message, path=self.path, file=self.file or file)


class OutputError(Error):
    """An output cannot be written (exists without ``--force``, or I/O failed)."""


class NetworkError(Error):
    """A remote service (an RFC 3161 TSA) cannot be reached or answered at HTTP level.

    A transport failure says nothing about the document: it is neither malformed
    input nor a verification failure, and may succeed when retried.
    """


class VerificationError(Error):
    """The input is well formed but did not verify. Never ignore this."""


class SignatureError(VerificationError):
    """A signature is missing, invalid, or made by a signer that is not trusted."""


class CertificateChainError(VerificationError):
    """A certificate does not chain to a trusted anchor under the profile."""


class AlgorithmError(VerificationError):
    """An algorithm or key size is not allowed (SHA-1, MD5, RSA < 2048, policy)."""


class DigestMismatchError(VerificationError):
    """A delivered file does not match its recorded size or digests."""


class TimestampError(VerificationError):
    """An RFC 3161 timestamp is invalid or does not cover the signature."""


class PolicyViolationError(VerificationError):
    """The delivery is authentic but the operator's policy does not accept it."""
