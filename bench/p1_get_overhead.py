"""P1: hub.get(id) against a raw requests.Session.get(url).json() of the same task.

Target: hub.get at most 1.10x the raw call. Both sides hit the same Livepeer simulator on
loopback, interleaved round by round.
"""

from __future__ import annotations

import requests
from common import interleaved, show

import taskhub
from taskhub.testing import simulate


def main(calls: int = 300, rounds: int = 9) -> None:
    with simulate("livepeer") as sim:
        hub = taskhub.connect("livepeer", **sim.options)
        task = hub.submit(kind="upload", url="https://media.example.com/in.mp4", name="in")
        raw = requests.Session()
        raw.headers["Authorization"] = f"Bearer {sim.options['api_key']}"
        url = f"{sim.url}/task/{task.id}"
        figures = interleaved(
            {
                "raw requests get().json()": lambda: raw.get(url, timeout=(5, 30)).json(),
                "hub.get(id)": lambda: hub.get(task.id),
            },
            calls=calls,
            rounds=rounds,
        )
        show(f"P1 get overhead (livepeer simulator, {calls} calls x {rounds} rounds)", figures)


if __name__ == "__main__":
    main()
