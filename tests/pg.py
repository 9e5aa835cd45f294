"""A throwaway PostgreSQL cluster for tests (Debian's ``postgresql`` server binaries).

:func:`running_cluster` initialises a cluster in a fresh temporary directory, starts it
on a free loopback port (and a Unix socket in the same directory) with durability
turned off for speed, and stops it (``pg_ctl stop -m immediate``) and removes the
directory afterwards. ``initdb`` refuses to run as root, so as root every server
command runs as the ``postgres`` user (``runuser``) in a directory it owns.

A missing server is a failure, not a skip: CI installs Debian's ``postgresql`` and the
PostgreSQL backend must be tested there.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

__all__ = ["PostgresCluster", "find_bindir", "running_cluster"]

_SERVER_USER = "postgres"
_MISSING = (
    "PostgreSQL server binaries (initdb, pg_ctl) not found under "
    "/usr/lib/postgresql/*/bin or on PATH: install Debian's `postgresql` package "
    "(apt-get install postgresql; CI installs it). The PostgreSQL evidence store "
    "tests are not skipped."
)


def find_bindir() -> Path:
    """The newest ``/usr/lib/postgresql/N/bin`` (or the PATH's) with initdb, pg_ctl."""

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(p) for p in re.findall(r"\d+", path.parent.name))

    found = [
        d
        for d in Path("/usr/lib/postgresql").glob("*/bin")
        if (d / "initdb").is_file() and (d / "pg_ctl").is_file()
    ]
    if found:
        return max(found, key=version)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    pytest.fail(_MISSING, pytrace=False)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PostgresCluster:
    """A running cluster; the superuser is ``postgres`` with trust authentication."""

    def __init__(self, bindir: Path, root: Path) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.port = 0
        #: The account the server runs as when the tests run as root (initdb refuses
        #: root), else None: the server runs as the current user.
        self.owner = _SERVER_USER if os.geteuid() == 0 else None
        self._as_server = ["runuser", "-u", self.owner, "--"] if self.owner else []
        self._names = itertools.count(1)
        self._admin: psycopg.Connection[tuple[object, ...]] | None = None

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self._as_server, str(self.bindir / tool), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=self.root,
        )

    def url(self, database: str = "postgres", user: str = _SERVER_USER) -> str:
        """A URL for ``database`` as ``user`` over TCP."""
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        """``initdb`` (fast: no fsync, C.UTF-8 locale, trust authentication)."""
        done = self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            _SERVER_USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
            "--no-instructions",
        )
        if done.returncode:
            pytest.fail(f"initdb failed:\n{done.stdout}{done.stderr}", pytrace=False)

    def start(self) -> None:
        """Start on a free port (retried: another process may take it first)."""
        log = self.root / "server.log"
        for _ in range(3):
            self.port = _free_port()
            options = (
                f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=60"
            )
            done = self._run(
                "pg_ctl", "-D", str(self.data), "-l", str(log), "-w", "-t", "60",
                "-o", options, "start",
            )  # fmt: skip
            if done.returncode == 0:
                return
        text = log.read_text(errors="replace") if log.exists() else ""
        pytest.fail(
            f"pg_ctl start failed:\n{done.stdout}{done.stderr}\n{text}", pytrace=False
        )

    def stop(self, mode: str = "immediate") -> None:
        """Stop (``-m immediate`` by default: the data is thrown away anyway).

        ``fast`` ends every session and checkpoints: what an administrator's stop
        does, and what keeps the data for a restart (durability is off).
        """
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def create_database(self) -> str:
        """Create a new empty database and return its URL."""
        name = f"evidence_{next(self._names)}"
        if self._admin is None:
            self._admin = psycopg.connect(self.url(), autocommit=True)
        # template0 by file copy is the fastest way (about 4x) since PostgreSQL 15.
        fast = (
            " STRATEGY FILE_COPY" if self._admin.info.server_version >= 150000 else ""
        )
        self._admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0" + fast).format(
                sql.Identifier(name)
            )
        )
        return self.url(name)


@contextmanager
def running_cluster() -> Iterator[PostgresCluster]:
    """A started cluster in a temporary directory, stopped and removed at the end."""
    bindir = find_bindir()
    # Not under pytest's tmp_path: its parents are 0700 root, the server runs as
    # postgres and must reach its data directory and socket.
    root = Path(tempfile.mkdtemp(prefix="vendorproof-pg-"))
    try:
        cluster = PostgresCluster(bindir, root)
        if cluster.owner is not None:
            try:
                shutil.chown(root, cluster.owner, cluster.owner)
            except LookupError:
                pytest.fail(
                    f"no {cluster.owner!r} user to run the server as: " + _MISSING,
                    pytrace=False,
                )
        cluster.init()
        cluster.start()
        try:
            yield cluster
        finally:
            cluster.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
