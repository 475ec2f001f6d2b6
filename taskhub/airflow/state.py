"""Where a submit operator keeps its task's ref between the tries of one Airflow task.

Airflow 3.3 gives every task instance a ``task_state_store`` that outlives a try. Airflow
3.0-3.2 have none, and clear XCom when a try starts, so a retry there would submit the same
work again. :class:`VariableState` gives those versions the same three calls on Airflow
Variables, one per task instance and key, deleted once the work is finished.
"""

from __future__ import annotations

import hashlib
from typing import Any, Protocol

from airflow.sdk import Variable

#: Variable keys are at most 250 characters in Airflow's metadata database.
_MAX_KEY = 250


class TaskState(Protocol):
    """What the operator needs of a task state store (Airflow 3.3's has these calls)."""

    def get(self, key: str) -> Any:
        """The value kept under ``key``, or None."""

    def set(self, key: str, value: Any) -> None:
        """Keep ``value`` (JSON) under ``key`` until deleted."""

    def delete(self, key: str) -> None:
        """Forget ``key``."""


class VariableState:
    """A task state store on Airflow Variables, for Airflow < 3.3.

    Keys are ``taskhub/<dag>/<run>/<task>/<map index>/<key>`` (a digest when that is too
    long), so they are readable in the Variables page and never shared by two task instances.
    """

    def __init__(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> None:
        self.prefix = f"taskhub/{dag_id}/{run_id}/{task_id}/{map_index}"

    @classmethod
    def of(cls, ti: Any) -> VariableState:
        """The store of task instance ``ti``."""
        return cls(ti.dag_id, ti.run_id, ti.task_id, getattr(ti, "map_index", -1))

    def key(self, key: str) -> str:
        """The Variable's key for ``key``."""
        full = f"{self.prefix}/{key}"
        if len(full) <= _MAX_KEY:
            return full
        digest = hashlib.sha256(self.prefix.encode()).hexdigest()[:32]
        return f"taskhub/{digest}/{key}"

    def get(self, key: str) -> Any:
        """The value kept under ``key``, or None."""
        return Variable.get(self.key(key), default=None, deserialize_json=True)

    def set(self, key: str, value: Any) -> None:
        """Keep ``value`` under ``key``."""
        Variable.set(
            self.key(key),
            value,
            description="taskhub: kept between tries of this Airflow task; deleted when done",
            serialize_json=True,
        )

    def delete(self, key: str) -> None:
        """Forget ``key``."""
        remove = getattr(Variable, "delete", None)
        if remove is not None:
            remove(self.key(key))
        else:  # a Task SDK without Variable.delete: a JSON null reads back as "nothing kept"
            self.set(key, None)


def state_of(context: Any) -> tuple[TaskState | None, bool]:
    """The task instance's state store, and whether taskhub must clear it itself (the
    Variable fallback, whose entries outlive the task instance); None outside a task
    instance (a context without one)."""
    store = context.get("task_state_store")
    if store is not None:
        return store, False
    ti = context.get("ti")
    return (None, False) if ti is None else (VariableState.of(ti), True)


__all__ = ["TaskState", "VariableState", "state_of"]
