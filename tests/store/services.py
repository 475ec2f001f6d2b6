"""Real services for the store and serve tests, started on loopback in temporary directories:
PostgreSQL from the Debian package (initdb + pg_ctl) and Prometheus.

A test that needs one skips with a one-line reason when its binary is absent, except when
``TASKHUB_REQUIRE_SERVICES=1`` (set by .ci/run, which installs them): then it fails.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REQUIRED = os.environ.get("TASKHUB_REQUIRE_SERVICES") == "1"


def missing(reason: str) -> None:
    """Skip (or fail, in CI) because a service's binary is absent."""
    if REQUIRED:
        pytest.fail(f"{reason} (TASKHUB_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def await_serving(proc: subprocess.Popen[str], url: str) -> None:
    """Wait for a ``taskhub serve`` process's first line, which says where it serves; fail
    with what it printed when that is not ``url``."""
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if f"{url}/" not in line:
        said = proc.stderr.read() if proc.stderr is not None else ""
        pytest.fail(f"taskhub serve did not start on {url}: {line!r} {said}"[:3000])


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class Postgres:
    """One PostgreSQL server in a temporary directory on 127.0.0.1."""

    def __init__(self, bindir: Path, base: Path) -> None:
        self.bindir = bindir
        self.base = base
        self.data = base / "data"
        self.port = free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
            self._as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(base, "postgres")

    def _run(self, *args: str) -> None:
        subprocess.run(
            [*self._as, *args], check=True, capture_output=True, timeout=120, cwd=self.base
        )

    def init(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "taskhub",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        )

    def start(self) -> None:
        opts = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} "
            f"-c unix_socket_directories={self.base} -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            opts,
            "-l",
            str(self.base / "log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "stop")

    def create_database(self, name: str) -> str:
        import sqlalchemy as sa

        admin = sa.create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.url(name)

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://taskhub@127.0.0.1:{self.port}/{database}"


@contextlib.contextmanager
def postgres(base: Path) -> Iterator[Postgres]:
    bindir = postgres_bin()
    if bindir is None or not (bindir / "initdb").exists():
        missing("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin")
    assert bindir is not None
    base.mkdir(parents=True, exist_ok=True)
    server = Postgres(bindir, base)
    server.init()
    server.start()
    try:
        yield server
    finally:
        server.stop("immediate")


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Postgres]:
    """A PostgreSQL server for the whole run (each test makes its own database)."""
    base = Path("/tmp") / f"taskhub-pg-{os.getpid()}-{time.monotonic_ns()}"
    with postgres(base) as server:
        yield server
    shutil.rmtree(base, ignore_errors=True)


_counter = iter(range(1, 10**6))


@pytest.fixture
def pg_url(pg_server: Postgres) -> str:
    """A fresh database on the session's PostgreSQL server."""
    return pg_server.create_database(f"t{os.getpid()}_{next(_counter)}")
