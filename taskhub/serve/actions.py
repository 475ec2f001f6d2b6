"""The actions ``taskhub serve`` takes for an operator: submit a named job, cancel, retry.

Each runs through the backend's hub, so it keeps the library's checks, errors, redaction and
state machine (a cancel of a task the store knows is finished is refused before any request,
unless forced); its result is recorded in the store before the answer is sent, and every
action — done, refused or failed — is an audit row: who (the token's name), what, on which
ref or job, the parameters masked, when, the outcome.

A submit with an ``Idempotency-Key`` the same token used before returns the task the first
one made, and is never sent twice: a key whose submit is still running, or whose outcome is
unknown (the request went out, no answer came back), is refused with what to do instead.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import attrs

from taskhub import redact
from taskhub.errors import (
    ConfigError,
    Conflict,
    InvalidRequest,
    InvalidTransition,
    OutcomeUnknown,
    RateLimited,
    TaskhubError,
    TaskNotFound,
    UnsupportedOperation,
)
from taskhub.hub import TaskHub
from taskhub.model import Task, split_ref

from .service import Service

log = logging.getLogger("taskhub.serve")

#: How long an action waits for its result to be in the store before answering.
RECORD_SECONDS = 10.0


class ActionFailed(Exception):
    """An action that did not do what was asked: the HTTP status and what to say."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        retry_after: float | None = None,
        unknown: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after
        #: The request went out and no answer came back: the vendor may have acted.
        self.unknown = unknown


@attrs.frozen
class Done:
    """What an action did: the task as recorded, and whether a submit made it just now."""

    task: dict[str, Any]
    created: bool = False


class Operator:
    """Takes the actions on the service's hubs and records each."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.store = service.store

    def cancel(self, ref: str, who: str, *, force: bool = False, reason: str | None = None) -> Done:
        """Cancel ``ref`` through its backend's hub."""
        hub, task_id = self._hub(ref, who, "cancel")
        params = {"force": force, "reason": reason}
        return self._act(
            hub, who, "cancel", ref, params, lambda: hub.cancel(task_id, reason=reason, force=force)
        )

    def retry(self, ref: str, who: str) -> Done:
        """Run ``ref`` again through its backend's hub."""
        hub, task_id = self._hub(ref, who, "retry")
        return self._act(hub, who, "retry", ref, {}, lambda: hub.retry(task_id))

    def submit(self, job: str, params: Mapping[str, Any], who: str, key: str | None) -> Done:
        """Submit the configured ``[jobs.NAME]`` with ``params``; with ``key``, at most once."""
        hub = self._job_hub(job, who, params)
        masked = hub.policy.data(dict(params))
        if key is not None:
            claim = self.store.actions.claim(who, key, job)
            if not claim.fresh:
                return self._repeated(claim, job, key)
        try:
            done = self._act(
                hub, who, "submit", job, masked, lambda: hub.submit_job(job, **params), created=True
            )
        except ActionFailed as exc:
            if key is not None:
                if exc.unknown:
                    self.store.actions.settle(who, key, ref=None, state="unknown")
                else:
                    self.store.actions.release(who, key)
            raise
        if key is not None:
            self.store.actions.settle(who, key, ref=done.task["ref"], state="done")
        return done

    # -- internals -----------------------------------------------------------------------------

    def _hub(self, ref: str, who: str, action: str) -> tuple[TaskHub, str]:
        try:
            backend, task_id = split_ref(ref)
        except InvalidRequest as exc:
            raise ActionFailed(400, exc.message) from None
        hub = self.service.hubs.get(backend)
        if hub is None:
            self._audit(who, action, ref, {}, "refused", detail="no such backend")
            raise ActionFailed(404, f"no backend {backend[:60]!r} is followed here")
        # The hub judges by what it knows: tell it what the store knows of the task, so a
        # finished task is refused here as the library refuses it.
        known = self.store.statuses([ref]).get(ref)
        if known is not None:
            hub.tracker.observe(known[0])
        return hub, task_id

    def _job_hub(self, job: str, who: str, params: Mapping[str, Any]) -> TaskHub:
        for hub in self.service.hubs.values():
            config = hub.config
            if config is None or job not in config.jobs:
                continue
            wanted = config.jobs[job].backend
            if wanted is None or wanted == hub.backend:
                return hub
        known = sorted(
            {name for hub in self.service.hubs.values() if hub.config for name in hub.config.jobs}
        )
        self._audit(
            who, "submit", job, redact.DEFAULT.data(dict(params)), "refused", detail="no such job"
        )
        raise ActionFailed(404, f"no job {job[:60]!r} here; known: {', '.join(known) or 'none'}")

    def _act(
        self,
        hub: TaskHub,
        who: str,
        action: str,
        target: str,
        params: Any,
        call: Any,
        *,
        created: bool = False,
    ) -> Done:
        try:
            task: Task = call()
        except TaskhubError as exc:
            status, outcome = _status(exc)
            detail = hub.policy.text(str(exc))
            self._audit(who, action, target, params, outcome, detail=detail)
            if isinstance(exc, OutcomeUnknown):
                detail += " — the vendor may have acted: look the task up before trying again"
            raise ActionFailed(
                status,
                detail,
                retry_after=getattr(exc, "retry_after", None),
                unknown=isinstance(exc, OutcomeUnknown),
            ) from None
        # The hub's observers recorded it; wait until it is written, so the answer and the
        # store agree.
        self.store.flush(RECORD_SECONDS)
        self._audit(who, action, target, params, "ok", ref=task.ref, detail=task.state.value)
        stored = self.store.task(task.ref)
        return Done(stored if stored is not None else task.to_dict(), created=created)

    def _repeated(self, claim: Any, job: str, key: str) -> Done:
        if claim.job != job:
            raise ActionFailed(
                422, f"this Idempotency-Key was used for job {claim.job!r}, not {job!r}"
            )
        if claim.state == "done" and claim.ref is not None:
            stored = self.store.task(claim.ref)
            if stored is not None:
                return Done(stored, created=False)
        if claim.state == "unknown":
            raise ActionFailed(
                409,
                "the submit with this Idempotency-Key went out and no answer came back: it may "
                "have created the task; look it up (taskhub ls) before submitting with a new key",
            )
        raise ActionFailed(409, "a submit with this Idempotency-Key is still running")

    def _audit(
        self, who: str, action: str, target: str, params: Any, outcome: str, **kw: Any
    ) -> None:
        try:
            self.store.actions.record(
                who=who, action=action, target=target, params=params, outcome=outcome, **kw
            )
        except Exception:  # the action's own answer matters more than its audit row
            log.exception("serve: cannot write the audit row of %s %s", action, target[:100])


def _status(exc: TaskhubError) -> tuple[int, str]:
    """The HTTP status and audit outcome of a hub's error."""
    if isinstance(exc, OutcomeUnknown):
        return 502, "unknown"
    if isinstance(exc, TaskNotFound):
        return 404, "refused"
    if isinstance(exc, (InvalidTransition, Conflict)):
        return 409, "refused"
    if isinstance(exc, RateLimited):
        return 429, "failed"
    if isinstance(exc, (InvalidRequest, ConfigError, UnsupportedOperation)):
        return (400 if exc.http_status is None else 422), "refused"
    return 502, "failed"
