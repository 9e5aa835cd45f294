"""Fixtures for the evidence store tests: every test runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pg import PostgresCluster, running_cluster
from tests.unit.evidence.support import BACKENDS, Backend
from vendorproof.evidence.store import EvidenceStore, open_store


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """One throwaway PostgreSQL cluster for the session (fails if not installed)."""
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """An empty store location: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return Backend("sqlite", str(tmp_path / "evidence.db"))
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    return Backend("postgresql", cluster.create_database())


@pytest.fixture
def store(backend: Backend) -> Iterator[EvidenceStore]:
    """The store at ``backend``, opened (so created at the current schema version)."""
    s = open_store(backend.url)
    try:
        yield s
    finally:
        s.close()
