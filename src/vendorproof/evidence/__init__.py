"""Evidence: signed, hash-chained records of intake decisions and their store.

The library surface (docs/design.md, "Public API"): open a store, run an intake,
replay the chain, export an audit bundle. Names are re-exported lazily (importing the
package stays cheap); the ``TYPE_CHECKING`` block gives type checkers the same names
with their real types (``tests/typecheck/test_exports.py`` keeps it in step with
``_EXPORTS``). The replay function is exported as ``replay_records``: the name
``replay`` is the submodule ``vendorproof.evidence.replay``, which the import system
binds on the package whenever that module is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vendorproof._internal.lazy import lazy_exports

_EXPORTS = {
    "DEFAULT_STORE": "store",
    "EvidenceStore": "store",
    "RecordFilter": "store",
    "StoredRecord": "store",
    "open_read_only": "store",
    "open_store": "store",
    "ChainHeadError": "intake",
    "IntakeResult": "intake",
    "run_intake": "intake",
    "RecordReplay": "replay",
    "RecordSource": "replay",
    "ReplaySummary": "replay",
    "replay_records": "replay:replay",
    "BundleSource": "bundle",
    "StoreSource": "bundle",
    "export_bundle": "bundle",
    "EvidenceRecord": "record",
}

if TYPE_CHECKING:
    from vendorproof.evidence.bundle import BundleSource as BundleSource
    from vendorproof.evidence.bundle import StoreSource as StoreSource
    from vendorproof.evidence.bundle import export_bundle as export_bundle
    from vendorproof.evidence.intake import ChainHeadError as ChainHeadError
    from vendorproof.evidence.intake import IntakeResult as IntakeResult
    from vendorproof.evidence.intake import run_intake as run_intake
    from vendorproof.evidence.record import EvidenceRecord as EvidenceRecord
    from vendorproof.evidence.replay import RecordReplay as RecordReplay
    from vendorproof.evidence.replay import RecordSource as RecordSource
    from vendorproof.evidence.replay import ReplaySummary as ReplaySummary
    from vendorproof.evidence.replay import replay as _replay
    from vendorproof.evidence.store import DEFAULT_STORE as DEFAULT_STORE
    from vendorproof.evidence.store import EvidenceStore as EvidenceStore
    from vendorproof.evidence.store import RecordFilter as RecordFilter
    from vendorproof.evidence.store import StoredRecord as StoredRecord
    from vendorproof.evidence.store import open_read_only as open_read_only
    from vendorproof.evidence.store import open_store as open_store

    replay_records = _replay

__all__, _getattr, _dir = lazy_exports(__name__, _EXPORTS)
if not TYPE_CHECKING:  # pragma: no branch - an unknown name is a type error, not Any
    __getattr__, __dir__ = _getattr, _dir
