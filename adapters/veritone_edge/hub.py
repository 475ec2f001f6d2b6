"""The Veritone Edge hub: the portable operations, plus Edge's own marked ``ex_``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from taskhub.hub import TaskHub, TaskRef
from taskhub.model import Asset

if TYPE_CHECKING:
    from .adapter import EdgeAdapter


class EdgeHub(TaskHub):
    """A TaskHub on a Veritone aiWARE Edge instance (``taskhub.connect("veritone-edge",
    …)`` returns one). Methods prefixed ``ex_`` exist on Edge only."""

    adapter: EdgeAdapter

    def ex_outputs(self, job: TaskRef) -> list[Asset]:
        """The outputs a job's tasks wrote, as Assets."""
        with self._secrets():
            return self.adapter.outputs(self._id(job))

    def ex_output(self, job: TaskRef, name: str) -> bytes:
        """The contents of one job output."""
        with self._secrets():
            return self.adapter.output(self._id(job), name)

    def ex_download_output(
        self, job: TaskRef, name: str, directory: str | os.PathLike[str]
    ) -> Path:
        """Save one job output into ``directory`` under a safe name; nothing partial is left."""
        with self._secrets():
            return self.adapter.download_output(self._id(job), name, directory)

    def ex_engines(self) -> list[dict[str, Any]]:
        """Every engine installed on the Edge instance."""
        with self._secrets():
            return self.adapter.engines()

    def ex_delete_job(self, job: TaskRef) -> None:
        """Delete a job and its tasks (Edge has no cancel: this is how work is dropped)."""
        with self._secrets():
            self.adapter.delete_job(self._id(job))


__all__ = ["EdgeHub"]
