from __future__ import annotations

from pathlib import Path

import pytest

from tests.store.services import pg_server, pg_url  # noqa: F401 (fixtures)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The store's URL: a SQLite file, and a database on a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'taskhub.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url
