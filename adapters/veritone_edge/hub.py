"""The Veritone Edge hub: the portable operations, plus Edge's own marked ``ex_``."""

from __future__ import annotations

from taskhub.hub import TaskHub, forward

from .adapter import EdgeAdapter


class EdgeHub(TaskHub):
    """A TaskHub on a Veritone aiWARE Edge instance (``taskhub.connect("veritone-edge",
    …)`` returns one). Methods prefixed ``ex_`` exist on Edge only; those about a job take
    it as a Task, a ref or an id."""

    adapter: EdgeAdapter

    ex_outputs = forward(EdgeAdapter.outputs, ref=True)
    ex_output = forward(EdgeAdapter.output, ref=True)
    ex_download_output = forward(EdgeAdapter.download_output, ref=True)
    ex_engines = forward(EdgeAdapter.engines)
    ex_delete_job = forward(EdgeAdapter.delete_job, ref=True)


__all__ = ["EdgeHub"]
