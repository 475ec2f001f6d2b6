"""The Cognite hub: the portable operations (Cognite needs no ``ex_`` call today)."""

from __future__ import annotations

from taskhub.hub import TaskHub

from .adapter import CogniteAdapter


class CogniteHub(TaskHub):
    """A TaskHub on Cognite Data Fusion workflows (``taskhub.connect("cognite", …)``).

    Every operation Cognite has is portable (submit, get, list, cancel, retry, report), so
    this class adds no ``ex_`` method; it types ``adapter``.
    """

    adapter: CogniteAdapter


__all__ = ["CogniteHub"]
