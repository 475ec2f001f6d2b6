"""The ``[serve]`` table: named tokens with roles (values from the environment), allowed
hosts and the discovery interval, checked before anything is served."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("waitress", reason="needs the serve extra: pip install 'taskhub[serve]'")

from taskhub.errors import ConfigError
from taskhub.serve import Role
from taskhub.serve.settings import settings
from tests.store.services import await_serving, free_port

OPS = "ops-Qz7_k2Lw9xPq4RvT"
VIEW = "view-Hn3Bt8Zy1Mc6Ws5D"


def test_tokens_roles_and_hosts_come_from_the_table_and_the_environment() -> None:
    table = {
        "discover_every": 60,
        "allow_hosts": ["dash.example"],
        "tokens": {
            "ops": {"role": "operator", "token": "${OPS_TOKEN}"},
            "grafana": {"role": "viewer", "token": "${VIEW_TOKEN}"},
        },
    }
    found = settings(table, {"OPS_TOKEN": OPS, "VIEW_TOKEN": VIEW})
    assert found.discover_every == 60
    assert found.allow_hosts == ["dash.example"]
    tokens = {t.name: t for t in found.named_tokens()}
    assert (tokens["ops"].role, tokens["grafana"].role) == (Role.OPERATOR, Role.VIEWER)
    assert OPS not in repr(found) and OPS not in repr(tokens["ops"])


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ({"tokens": {"ops": {"role": "admin", "token": OPS}}}, "serve.tokens.ops.role"),
        ({"tokens": {"ops": {"role": "viewer"}}}, "serve.tokens.ops.token"),
        ({"tokens": {"ops": {"role": "viewer", "token": "short"}}}, "serve.tokens.ops.token"),
        ({"discover_evry": 5}, "did you mean 'discover_every'"),
        ({"discover_every": -1}, "serve.discover_every"),
        ({"tokens": {"ops": {"role": "viewer", "token": "${MISSING_TOKEN}"}}}, "MISSING_TOKEN"),
    ],
)
def test_a_mistake_names_its_path_and_never_the_value(table: dict[str, object], says: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings(table, {}).named_tokens()
    assert says in str(info.value)
    assert OPS not in str(info.value) and "short" not in str(info.value)


def test_a_viewer_token_from_the_configuration_reads(tmp_path: Path) -> None:
    config = tmp_path / "taskhub.toml"
    config.write_text(
        '[serve.tokens.grafana]\nrole = "viewer"\ntoken = "${VIEW_TOKEN}"\n'
        '[serve.tokens.ops]\nrole = "operator"\ntoken = "${OPS_TOKEN}"\n'
    )
    port = free_port()
    env = {**os.environ, "VIEW_TOKEN": VIEW, "OPS_TOKEN": OPS, "TASKHUB_CONFIG": str(config)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "taskhub", "serve", "--port", str(port),
         "--db", f"sqlite:///{tmp_path / 's.db'}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        await_serving(proc, url)
        for token in (VIEW, OPS):
            asked = urllib.request.Request(
                f"{url}/api/counts", headers={"Authorization": f"Bearer {token}"}
            )
            with urllib.request.urlopen(asked, timeout=10) as answer:
                assert answer.status == 200
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{url}/api/counts", timeout=10)
        assert refused.value.code == 401
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert VIEW not in out + err and OPS not in out + err
