"""TLS verification is on unless turned off (with a warning); one hub serves 8 threads."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import taskhub
from taskhub import State, VendorUnavailable
from taskhub.testing import simulate


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_certificates_are_verified_by_default() -> None:
    with simulate("livepeer", ssl_context="adhoc") as sim:
        assert sim.url.startswith("https://")
        with sim.connect() as hub, pytest.raises(VendorUnavailable, match="TLS failed") as info:
            hub.get("anything")
        assert "verify = false" in str(info.value)
        assert len(sim.requests) == 0  # the handshake failed: nothing reached the API
        with pytest.warns(RuntimeWarning, match="verification is turned off"):
            insecure = sim.connect(verify=False)
        with insecure:
            task = insecure.submit(kind="upload", url="https://m.example/a.mp4", name="a")
            assert insecure.get(task.id).id == task.id


def test_one_hub_from_eight_threads_returns_correct_results() -> None:
    with simulate("livepeer") as sim, sim.connect() as hub:
        ids = [
            hub.submit(kind="upload", url=f"https://m.example/{n}.mp4", name=str(n)).id
            for n in range(16)
        ]
        sim.clock.advance(2)
        errors: list[BaseException] = []
        barrier = threading.Barrier(8)

        def worker(n: int) -> list[tuple[str, str]]:
            barrier.wait()
            seen = []
            for round_ in range(10):
                task_id = ids[(n + round_) % len(ids)]
                task = hub.get(task_id)
                seen.append((task_id, task.id))
                listed = list(hub.list(limit=5))
                seen.extend((t.id, t.id) for t in listed)
            return seen

        with ThreadPoolExecutor(8) as pool:
            futures = [pool.submit(worker, n) for n in range(8)]
            results: list[Any] = []
            for future in futures:
                try:
                    results.extend(future.result(timeout=120))
                except BaseException as exc:  # pragma: no cover - reported below
                    errors.append(exc)
        assert errors == []
        assert all(asked == got for asked, got in results)
        assert len(results) == 8 * 10 * 6
        assert {hub.tracker.state(f"livepeer:{i}") for i in ids} == {State.RUNNING}


def test_concurrent_hubs_on_every_vendor_do_not_mix_credentials() -> None:
    with simulate("cognite") as a, simulate("cognite") as b:
        hubs = [taskhub.connect("cognite", **a.options), taskhub.connect("cognite", **b.options)]
        runs = [h.submit(workflow="taskhub-auto", version="1") for h in hubs]
        with ThreadPoolExecutor(4) as pool:
            got = list(pool.map(lambda i: hubs[i % 2].get(runs[i % 2].id).id, range(40)))
        assert got == [runs[i % 2].id for i in range(40)]
