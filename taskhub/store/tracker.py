"""A Tracker backed by the store: it remembers across restarts and processes.

Before it first judges a task it has not seen in this process, it reads the task's last
recorded status from the store, so a stale poll after a restart cannot move the task back;
every accepted observation is queued for the store, whose writer judges it once more against
the database row, so another process's newer state is never overwritten either.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from taskhub.model import Task
from taskhub.states import Tracker, Transition

from .store import Store


class StoreTracker(Tracker):
    """A :class:`~taskhub.states.Tracker` that reads from and records into a :class:`Store`.

    ``lookup=False`` skips the per-task read for tasks not yet seen (after :meth:`preload`,
    when this process is the only writer of those tasks); the store's writer still refuses a
    backward move.
    """

    def __init__(self, store: Store, *, lookup: bool = True, **limits: int) -> None:
        super().__init__(**limits)
        self.store = store
        self.lookup = lookup

    def preload(self, *, backend: str | None = None, refs: Iterable[str] | None = None) -> int:
        """Seed the tracker with the recorded status of every task of ``backend`` (or of
        ``refs``, or of the whole store); return how many."""
        found = self.store.statuses(refs, backend=backend)
        for ref, (task, _) in found.items():
            if self.state(ref) is None:
                super().observe(task)
        return len(found)

    def observe(self, task: Task, *, at: datetime | None = None) -> Transition | None:
        ref = task.ref
        before = self.status(ref)
        if before is None and self.lookup:
            seed = self.store.statuses([ref]).get(ref)
            if seed is not None:
                super().observe(seed[0])
                before = seed[1]
        transition = super().observe(task, at=at)
        if transition is not None or (self.status(ref) is task.status and before != task.status):
            self.store.record(task, transition)
        return transition
