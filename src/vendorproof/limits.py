"""Resource limits for every untrusted input (one frozen config, no magic numbers)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Bounds that protect the verifier against hostile or broken documents.

    Attributes:
        max_document_bytes: largest JSON/YAML document read (statements, policy).
        max_depth: deepest nesting of arrays/objects in a JSON/YAML document.
        max_yaml_nodes: most nodes (scalars and collections) in a YAML document,
            counted while it is read.
        max_subjects: most subjects in one in-toto statement.
        max_signatures: most signatures in one DSSE envelope.
        max_chain_depth: most intermediates between a leaf and a trust anchor.
        max_certificates: most certificates in one bundle or PEM file.
        max_files: most payload files in one delivery (and blobs in an OCI image
            layout, descriptors in one manifest or index).
        max_index_depth: deepest nesting of OCI image indexes below index.json.
        max_input_bytes: most bytes of vendor documents one package format reads
            whole into memory and stores as evidence inputs (a SOL 004 CSAR's
            ``TOSCA.meta``, manifest, signature and certificate files together).
    """

    max_document_bytes: int = 16 * 1024 * 1024
    max_depth: int = 32
    max_yaml_nodes: int = 100_000
    max_subjects: int = 100_000
    max_signatures: int = 16
    max_chain_depth: int = 8
    max_certificates: int = 64
    max_files: int = 100_000
    max_index_depth: int = 8
    max_input_bytes: int = 64 * 1024 * 1024


DEFAULT_LIMITS = Limits()
