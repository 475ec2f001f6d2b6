"""`taskhub engine veritone MOD:FUNC` imports MOD from the current directory, as `python -m`
would, even when run through the installed console script (whose sys.path[0] is its bin/)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from taskhub import State
from taskhub.adapters.veritone.simulator import EXTERNAL_ENGINE
from taskhub.testing import simulate

CONSOLE_SCRIPT = Path(sys.executable).parent / "taskhub"

ENGINE = """\
def detect(job):
    return {"series": [{"found": "here", "start": 0, "end": job.path.stat().st_size}]}
"""


def test_the_engine_imports_the_function_from_the_current_directory(tmp_path: Path) -> None:
    (tmp_path / "myengine.py").write_text(ENGINE)
    with simulate("veritone") as sim, sim.connect(max_retry_time=5) as hub:
        s: Any = sim.simulator
        job = hub.submit(
            tasks=[{"engineId": EXTERNAL_ENGINE, "payload": {}}],
            target={"startDateTime": 1700000000, "stopDateTime": 1700000060, "name": "rec"},
        )
        s.add_asset(job.params["targetId"], "media", "video/mp4", data=b"v" * 321)
        payload = s.engine_payload(job.subtasks[0].id)
        (tmp_path / "payload.json").write_text(json.dumps(payload))
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PAYLOAD_FILE")}
        done = subprocess.run(
            [str(CONSOLE_SCRIPT), "engine", "veritone", "myengine:detect"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**env, "PAYLOAD_FILE": str(tmp_path / "payload.json")},
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        task = next(t for t in hub.get(job.id).subtasks if t.id == payload["taskId"])
        assert task.state is State.SUCCEEDED
        assert task.output["series"][0]["end"] == 321
