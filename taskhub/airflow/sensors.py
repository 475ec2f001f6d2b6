"""TaskHubSensor: waits for a task that already exists (submitted elsewhere, or upstream)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from taskhub.airflow import events, links
from taskhub.airflow._compat import (
    AirflowException,
    BaseSensorOperator,
    Context,
    PokeReturnValue,
    default_deferrable,
)
from taskhub.airflow.follow import TRANSIENT
from taskhub.airflow.hooks import TaskHubHook
from taskhub.airflow.outcome import fail, finish
from taskhub.airflow.triggers import TaskHubTrigger
from taskhub.errors import TaskhubError
from taskhub.hub import TaskHub
from taskhub.model import Task


class TaskHubSensor(BaseSensorOperator):
    """Wait until the task ``ref`` (``"backend:id"`` or an id; templated) finishes.

    Deferrable (default: Airflow's ``[operators] default_deferrable``): the wait runs in the
    triggerer; otherwise each poke is one read. Succeeded: done, the task's dict is the return
    value. Failed or cancelled: the Airflow task fails with the vendor's message. Skipped:
    skip. The sensor's ``timeout`` ends the wait as Airflow's sensors do (``soft_fail``: skip).
    Links to the vendor's console page for the task, as the submit operator does.
    """

    template_fields: Sequence[str] = ("conn_id", "ref")
    ui_color = "#e8f0fe"
    operator_extra_links = links.LINKS

    def __init__(
        self,
        *,
        ref: str,
        conn_id: str = TaskHubHook.default_conn_name,
        deferrable: bool | None = None,
        stale_after: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self.ref = ref
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.stale_after = stale_after
        self._linked = False

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        hook = TaskHubHook(self.conn_id)
        with hook.get_hub() as hub:
            try:
                task = hub.get(self.ref)
            except TaskhubError as exc:
                fail(exc, f"reading {self.ref}")
            self._link(context, hook, hub, task)
            if task.state.terminal:
                return self._finish(events.finished(hub, task))
        return self.defer(
            trigger=TaskHubTrigger(
                conn_id=self.conn_id,
                ref=task.ref,
                deadline=time.time() + float(self.timeout),
                stale_after=self.stale_after,
                cancel_on_kill=False,
            ),
            method_name="execute_complete",
        )

    def poke(self, context: Context) -> bool | PokeReturnValue:
        hook = TaskHubHook(self.conn_id)
        with hook.get_hub() as hub:
            try:
                task = hub.get(self.ref)
            except TRANSIENT as exc:
                self.log.warning("%s: %s (poking on)", self.ref, exc)
                return False
            except TaskhubError as exc:
                fail(exc, f"reading {self.ref}")
            self._link(context, hook, hub, task)
            self.log.info("%s: %s (%s)", task.ref, task.state.value, task.status.raw)
            if not task.state.terminal:
                return False
            return PokeReturnValue(True, self._finish(events.finished(hub, task)))

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Back from the trigger: end the Airflow task as the event says."""
        if not isinstance(event, dict):
            raise AirflowException(f"{self.task_id}: the trigger sent no event ({event!r})")
        return self._finish(event)

    def _link(self, context: Context, hook: TaskHubHook, hub: TaskHub, task: Task) -> None:
        """Record the console link once, when the task is first read."""
        if not self._linked:
            links.record(context, hub.vendor, hook.console_url(hub, task))
            self._linked = True

    def _finish(self, payload: dict[str, Any]) -> Any:
        return finish(payload, sensor=True, soft_fail=bool(self.soft_fail))
