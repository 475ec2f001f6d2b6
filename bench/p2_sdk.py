"""P2: hub.get(id) against the official SDKs on the same simulator.

Target: faster than each. cognite-sdk's workflows.executions.retrieve_detailed and livepeer's
task.get, interleaved with hub.get on the same task.
"""

from __future__ import annotations

from common import interleaved, show

import taskhub
from taskhub.testing import simulate


def cognite(calls: int, rounds: int) -> None:
    from cognite.client import ClientConfig, CogniteClient, global_config
    from cognite.client.credentials import Token

    global_config.disable_pypi_version_check = True
    with simulate("cognite") as sim:
        hub = taskhub.connect("cognite", **sim.options)
        run = hub.submit(workflow="taskhub-demo", version="1")
        sim.clock.advance(3)
        client = CogniteClient(
            ClientConfig(
                client_name="bench",
                project=sim.options["project"],
                credentials=Token(sim.options["token"]),
                base_url=sim.url,
            )
        )
        figures = interleaved(
            {
                "cognite-sdk retrieve_detailed": lambda: (
                    client.workflows.executions.retrieve_detailed(run.id)
                ),
                "hub.get(id)": lambda: hub.get(run.id),
            },
            calls=calls,
            rounds=rounds,
        )
        show(f"P2 cognite (detailed execution, {calls} calls x {rounds} rounds)", figures)


def livepeer(calls: int, rounds: int) -> None:
    from livepeer import Livepeer

    with simulate("livepeer") as sim:
        hub = taskhub.connect("livepeer", **sim.options)
        task = hub.submit(kind="upload", url="https://media.example.com/in.mp4", name="in")
        client = Livepeer(api_key=sim.options["api_key"], server_url=sim.url)
        figures = interleaved(
            {
                "livepeer SDK task.get": lambda: client.task.get(task_id=task.id),
                "hub.get(id)": lambda: hub.get(task.id),
            },
            calls=calls,
            rounds=rounds,
        )
        show(f"P2 livepeer (one task, {calls} calls x {rounds} rounds)", figures)


if __name__ == "__main__":
    cognite(200, 7)
    livepeer(300, 7)
