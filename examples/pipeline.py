"""A vendor-neutral pipeline: submit the configured job, wait for it, print the result.

    TASKHUB_CONFIG=examples/livepeer.toml python examples/pipeline.py

Which vendor runs the work is the configuration's business: the same script runs unchanged
against any of the five example configs.
"""

from __future__ import annotations

import json
import sys

import taskhub


def main() -> int:
    config = taskhub.config.load()
    job = config.job("pipeline")
    with taskhub.connect(job.backend, config=config) as hub:
        task = hub.submit_job("pipeline")
        print(f"submitted {task.ref} ({task.state})", file=sys.stderr)
        done = hub.wait(task.id, timeout=600, on_update=lambda t: print(t, file=sys.stderr))
    print(
        json.dumps(
            {
                "ref": done.ref,
                "state": done.state.value,
                "raw": done.status.raw,
                "reason": done.status.reason,
            }
        )
    )
    return 0 if done.state.successful else 1


if __name__ == "__main__":
    raise SystemExit(main())
