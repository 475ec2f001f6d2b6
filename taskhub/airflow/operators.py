"""TaskHubSubmitOperator submits and waits; TaskHubReportOperator reports as the worker.

The submit operator records the task's ref before it waits — in the task instance's state
store (``task_state_store`` on Airflow ≥ 3.3; Variables on 3.0-3.2, see
:mod:`taskhub.airflow.state`), which outlives a try, and in XCom — so a retry of the Airflow
task picks up the task it already submitted instead of submitting again. A submit
whose outcome is unknown (``OutcomeUnknown``: the request went out, no answer came back) is
looked up at the vendor, never sent again blindly.

Around the wait it gives what the best providers give: a link to the vendor's console
(:mod:`taskhub.airflow.links`), OpenLineage facets (:mod:`taskhub.airflow.lineage`, with
the OpenLineage provider installed) and, for each asset alias among its ``outlets``, an
Airflow asset event per output the vendor produced (:mod:`taskhub.airflow.datasets`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from typing import Any

from taskhub import redact
from taskhub.airflow import datasets, events, links
from taskhub.airflow._compat import (
    AirflowException,
    AirflowFailException,
    Asset,
    AssetAlias,
    BaseOperator,
    Context,
    default_deferrable,
    mask_secret,
)
from taskhub.airflow.follow import TRANSIENT
from taskhub.airflow.hooks import TaskHubHook
from taskhub.airflow.outcome import fail, finish
from taskhub.airflow.state import TaskState, state_of
from taskhub.airflow.triggers import TaskHubTrigger
from taskhub.errors import (
    OutcomeUnknown,
    StaleTask,
    TaskhubError,
    TaskNotFound,
    UnsupportedOperation,
    WaitTimeout,
)
from taskhub.hub import TaskHub
from taskhub.model import Task

log = logging.getLogger("taskhub.airflow")

#: The XCom key and the task-state key under which the submitted task's ref is kept.
REF_KEY = "taskhub_ref"
#: The task-state key of a submit whose outcome is unknown (what to look it up by).
LOOKUP_KEY = "taskhub_lookup"


class TaskHubSubmitOperator(BaseOperator):
    """Submit a named job of the configuration (``job``, filled with ``job_params``) or an
    explicit vendor ``spec``, then wait for the task to finish.

    ``deferrable`` (default: Airflow's ``[operators] default_deferrable``): wait in the
    triggerer, releasing the worker slot; otherwise wait in the worker (``hub.wait``).
    ``wait_for_completion=False`` returns as soon as the task is submitted.
    ``timeout``: seconds to wait before the Airflow task fails (a retry resumes waiting).
    ``stale_after``: seconds without any change in the task before it fails as stale
    (default: the backend's option, else the vendor's). ``cancel_on_kill``: when the Airflow
    task is killed, cancel the vendor's task where the vendor can.

    Pushes ``task.to_dict()`` (masked) as the return value and the ref under ``taskhub_ref``.
    Succeeded: success. Failed or cancelled: the Airflow task fails with the vendor's message
    and status word. Skipped: skip.

    Links to the vendor's console page for the task (Livepeer Studio, Veritone aiWARE,
    Cognite Data Fusion). With ``outlets=[AssetAlias(name)]``, a task that succeeded adds an
    asset event per output to the alias, with its ref and vendor in the event's extra, so a
    DAG scheduled on the alias runs when the vendor produced them.
    """

    template_fields: Sequence[str] = ("conn_id", "job", "job_params", "spec")
    template_fields_renderers = {"spec": "json", "job_params": "json"}

    def render_template_fields(self, context: Context, jinja_env: Any = None) -> None:
        """Render the templated fields, then register every secret they hold with Airflow's
        masker: Airflow masks by key name, which misses a signed URL in ``url`` or a
        credential inside a payload kept as a JSON string; the rendered fields Airflow keeps
        and shows, and the logs, get ``***`` in their place."""
        super().render_template_fields(context, jinja_env)
        for value in redact.DEFAULT.secrets_in([self.spec, self.job_params]):
            mask_secret(value)

    ui_color = "#e8f0fe"
    operator_extra_links = links.LINKS

    def __init__(
        self,
        *,
        conn_id: str = TaskHubHook.default_conn_name,
        job: str | None = None,
        job_params: dict[str, Any] | None = None,
        spec: dict[str, Any] | None = None,
        wait_for_completion: bool = True,
        deferrable: bool | None = None,
        timeout: float | None = None,
        stale_after: float | None = None,
        cancel_on_kill: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (job is None) == (spec is None):
            raise ValueError(f"{self.task_id}: give job= (a configured job) or spec=, not both")
        if job_params and job is None:
            raise ValueError(f"{self.task_id}: job_params fill a job's placeholders; give job=")
        self.conn_id = conn_id
        self.job = job
        self.job_params = dict(job_params or {})
        self.spec = spec
        self.wait_for_completion = wait_for_completion
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.timeout = timeout
        self.stale_after = stale_after
        self.cancel_on_kill = cancel_on_kill
        self._hub: TaskHub | None = None
        self._ref: str | None = None
        #: (vendor, backend, base URL) of the connection, once read.
        self._where: tuple[str, str, str | None] | None = None
        #: The last word on the task (an event payload), for lineage.
        self._seen: dict[str, Any] | None = None

    # -- running -------------------------------------------------------------------------------

    def execute(self, context: Context) -> Any:
        hook = TaskHubHook(self.conn_id)
        hub = self._hub = hook.get_hub()
        self._where = _where(hub)
        try:
            task_state, _ = self._state(context)
            task = self._resume(hub, task_state)
            if task is None:
                task = self._submit(hub, task_state)
            self._record(context, task_state, task)
            links.record(context, hub.vendor, hook.console_url(hub, task))
            if not self.wait_for_completion:
                self._seen = _seen(hub, task)
                return self._seen["task"]
            if task.state.terminal:
                return self._finish(context, events.finished(hub, task))
            if self.deferrable:
                deadline = None if self.timeout is None else time.time() + self.timeout
                self.defer(
                    trigger=TaskHubTrigger(
                        conn_id=self.conn_id,
                        ref=task.ref,
                        deadline=deadline,
                        stale_after=self.stale_after,
                        cancel_on_kill=self.cancel_on_kill,
                    ),
                    method_name="execute_complete",
                )
            return self._finish(context, self._wait_here(hub, task))
        finally:
            hub.close()

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Back from the trigger: end the Airflow task as the event says."""
        if not isinstance(event, dict):
            raise AirflowException(f"{self.task_id}: the trigger sent no event ({event!r})")
        return self._finish(context, event)

    def _state(self, context: Context) -> tuple[TaskState | None, bool]:
        """Where the ref lives between tries, and whether taskhub clears it (see
        :func:`taskhub.airflow.state.state_of`)."""
        return state_of(context)

    def _finish(self, context: Context, event: dict[str, Any]) -> Any:
        """End the Airflow task as ``event`` says; once the vendor's task is finished, a
        Variable-kept ref is deleted (a timeout or a stale task keeps it: the retry resumes)."""
        task_state, owned = self._state(context)
        if owned and event.get("outcome") in events.FINISHED:
            for key in (REF_KEY, LOOKUP_KEY):
                _forget(task_state, key)
        self._seen = event
        if event.get("outcome") == "succeeded":
            self._announce(context, event)
        return finish(event)

    def _announce(self, context: Context, event: dict[str, Any]) -> None:
        """Add an asset event per output of the task to each asset alias in ``outlets``."""
        aliases = [o for o in self.outlets if isinstance(o, AssetAlias)]
        task = event.get("task")
        if not aliases or not isinstance(task, dict):
            return
        produced = datasets.of_task(task, "outputs", api=self._connection()[2])
        if not produced:
            log.warning("%s: the vendor names no output: no asset event", event.get("ref"))
            return
        extra = {"ref": event.get("ref"), "vendor": task.get("vendor")}
        for alias in aliases:
            for item in produced:
                asset = Asset(name=item.uri, uri=item.uri)
                context["outlet_events"][alias].add(asset, extra={**extra, "kind": item.kind})
        log.info("%s: %d asset event(s) for %s", event.get("ref"), len(produced), aliases)

    def _connection(self) -> tuple[str | None, str | None, str | None]:
        """(vendor, backend, base URL) of the connection; read once (a task resumed from
        the triggerer reads it again: no request is sent). Nothing is known of a connection
        that no longer opens, which never fails a task whose vendor task is done."""
        if self._where is None:
            try:
                with TaskHubHook(self.conn_id).get_hub() as hub:
                    self._where = _where(hub)
            except AirflowFailException as exc:
                log.warning("%s: %s", self.task_id, exc)
                return None, None, None
        return self._where

    # -- lineage (called by the OpenLineage provider, where it is installed) -------------------

    def get_openlineage_facets_on_start(self) -> Any:
        """Lineage as the task starts: the backend and vendor; no vendor task yet."""
        return self._lineage(None)

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Lineage of a task that ran: its inputs, its outputs and the ``taskhub`` facet."""
        return self._lineage(self._seen)

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> Any:
        """Lineage of a task that failed: what was seen of the vendor task, if anything."""
        return self._lineage(self._seen or ({"ref": self._ref} if self._ref else None))

    def _lineage(self, payload: dict[str, Any] | None) -> Any:
        from taskhub.airflow import lineage  # needs the OpenLineage provider

        vendor, backend, api = self._connection()
        return lineage.operator_lineage(payload, vendor=vendor, backend=backend, api=api)

    def on_kill(self) -> None:
        """The Airflow task is being killed while it waits in the worker: cancel the vendor's
        task (``cancel_on_kill``) where the vendor can. A deferred task is the trigger's
        (:meth:`TaskHubTrigger.on_kill`)."""
        hub, ref = self._hub, self._ref
        if not self.cancel_on_kill or hub is None or ref is None:
            return
        if "cancel" not in hub.capabilities:
            log.warning("%s: %s cannot cancel a task; it keeps running", ref, hub.vendor)
            return
        try:
            task = hub.cancel(ref)
        except TaskhubError as exc:
            log.warning("%s: the cancel failed: %s", ref, exc)
            return
        log.info("%s: cancel sent (now %s)", ref, task.state.value)

    # -- steps ---------------------------------------------------------------------------------

    def _resume(self, hub: TaskHub, task_state: TaskState | None) -> Task | None:
        """The task an earlier try of this Airflow task submitted, if it is still worth
        waiting for (running, or finished well); None when a submit is due."""
        if task_state is None:
            return None
        ref = task_state.get(REF_KEY)
        if isinstance(ref, str) and ref:
            try:
                task = hub.get(ref)
            except TaskNotFound:
                log.warning("%s: the earlier try's task is gone; submitting again", ref)
                return None
            except TaskhubError as exc:
                fail(exc, f"reading {ref}, submitted by an earlier try")
            if task.state.terminal and not task.state.successful:
                log.info("%s ended %s in an earlier try; submitting again", ref, task.state.value)
                return None
            log.info("%s: submitted by an earlier try, now %s: resuming", ref, task.state.value)
            return task
        lookup = task_state.get(LOOKUP_KEY)
        if isinstance(lookup, dict):
            log.info("an earlier try's submit had an unknown outcome: looking it up")
            return self._look_up(hub, task_state, lookup)
        return None

    def _submit(self, hub: TaskHub, task_state: TaskState | None) -> Task:
        for _ in range(2):
            try:
                if self.job is not None:
                    return hub.submit_job(self.job, **self.job_params)
                return hub.submit(**(self.spec or {}))
            except OutcomeUnknown as exc:
                log.warning("the submit's outcome is unknown (%s): looking it up", exc)
                if task_state is not None and _jsonable(exc.lookup):
                    # Only what the lookup needs, masked: it outlives the try, in Airflow's
                    # database (the adapters compare masked inputs, so it still finds).
                    task_state.set(LOOKUP_KEY, hub.policy.data(exc.lookup))
                found = self._look_up(hub, task_state, exc.lookup)
                if found is not None:
                    return found
                log.info("%s did not create it: submitting again", hub.vendor)
            except TaskhubError as exc:
                fail(exc, f"submitting to {hub.backend}")
        raise AirflowException(
            f"two submits to {hub.backend} went unanswered and created nothing; giving up"
        )

    def _look_up(
        self, hub: TaskHub, task_state: TaskState | None, lookup: dict[str, Any]
    ) -> Task | None:
        """The task a submit with an unknown outcome created, or None when it created none.
        A vendor that cannot tell fails the Airflow task without retry: a person decides."""
        try:
            found = hub.find_submitted(lookup)
        except UnsupportedOperation:
            _forget(task_state, LOOKUP_KEY)
            raise AirflowFailException(
                f"a submit to {hub.backend} went out and no answer came back, and {hub.vendor} "
                f"gives no way to look it up; check the vendor ({_describe(lookup)}) before "
                "clearing this task, which submits again"
            ) from None
        except OutcomeUnknown as exc:  # the vendor cannot tell which one it was
            _forget(task_state, LOOKUP_KEY)
            raise AirflowFailException(
                f"{exc}; check the vendor before clearing this task, which submits again"
            ) from exc
        except TaskhubError as exc:
            if isinstance(exc, TRANSIENT):  # the retry looks it up again, it never resubmits
                raise AirflowException(f"looking up an unanswered submit: {exc}") from exc
            fail(exc, "looking up an unanswered submit")
        _forget(task_state, LOOKUP_KEY)
        if found is not None:
            log.info("%s: the unanswered submit created it", found.ref)
        return found

    def _record(self, context: Context, task_state: TaskState | None, task: Task) -> None:
        """Keep the ref where a retry (and downstream tasks) will find it, before waiting."""
        self._ref = task.ref
        if task_state is not None:
            task_state.set(REF_KEY, task.ref)
        context["ti"].xcom_push(key=REF_KEY, value=task.ref)
        log.info("%s: %s (%s)", task.ref, task.state.value, task.status.raw)

    def _wait_here(self, hub: TaskHub, task: Task) -> dict[str, Any]:
        """Wait in the worker; the same payload the trigger would send."""
        started = time.monotonic()
        last = task
        while True:
            left = None if self.timeout is None else self.timeout - (time.monotonic() - started)
            try:
                done = hub.wait(task.id, timeout=left, stale_after=self.stale_after)
                return events.finished(hub, done)
            except StaleTask as exc:
                return events.stopped(events.STALE, task.ref, str(exc), hub=hub, task=exc.task)
            except WaitTimeout as exc:
                return events.stopped(
                    events.TIMEOUT, task.ref, str(exc), hub=hub, task=exc.task or last
                )
            except TRANSIENT as exc:
                log.warning("%s: %s (waiting on)", task.ref, exc)
                time.sleep(1.0)
            except TaskhubError as exc:
                return events.stopped(events.ERROR, task.ref, str(exc), hub=hub, error=exc)


class TaskHubReportOperator(BaseOperator):
    """As the worker running a vendor task, report its new state (Cognite's task update,
    Veritone's ``updateTask``, Edge's status update): ``hub.report(task_ref, state,
    output=result, **fields)`` (``result`` is the vendor's ``output``; the operator's own
    ``output`` is Airflow's handle on its return value).

    A state the vendor does not let a worker send, or one the task cannot take from where it
    is, fails the Airflow task before any change is sent. Pushes the task's dict.
    """

    template_fields: Sequence[str] = ("conn_id", "task_ref", "state", "result", "fields")
    template_fields_renderers = {"result": "json", "fields": "json"}
    ui_color = "#e8f0fe"

    def __init__(
        self,
        *,
        task_ref: str,
        state: str,
        conn_id: str = TaskHubHook.default_conn_name,
        result: Any = None,
        fields: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self.task_ref = task_ref
        self.state = state
        self.result = result
        self.fields = dict(fields or {})

    def execute(self, context: Context) -> Any:
        extra = dict(self.fields)
        if self.result is not None:
            extra["output"] = self.result
        with TaskHubHook(self.conn_id).get_hub() as hub:
            try:
                task = hub.report(self.task_ref, self.state, **extra)
            except TaskhubError as exc:
                fail(exc, f"reporting {self.state} for {self.task_ref}")
            log.info("%s: reported %s (now %s)", task.ref, self.state, task.status.raw)
            return events.task_dict(hub, task)


def _where(hub: TaskHub) -> tuple[str, str, str | None]:
    base_url = getattr(hub.options, "base_url", None)
    return hub.vendor, hub.backend, base_url if isinstance(base_url, str) else None


def _seen(hub: TaskHub, task: Task) -> dict[str, Any]:
    """What lineage reports of a task that is not waited for."""
    return {
        "ref": task.ref,
        "state": task.state.value,
        "raw": task.status.raw,
        "task": events.task_dict(hub, task),
    }


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _forget(task_state: TaskState | None, key: str) -> None:
    if task_state is not None and task_state.get(key) is not None:
        task_state.delete(key)


def _describe(lookup: dict[str, Any]) -> str:
    text = json.dumps(lookup, default=str, sort_keys=True)
    return f"looked up by {text[:300]}"
