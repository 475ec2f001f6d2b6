"""A small FastAPI service on taskhub.aio: submit a configured job, read a task, wait for one.

    pip install fastapi uvicorn          # not taskhub dependencies
    TASKHUB_CONFIG=examples/livepeer.toml uvicorn --app-dir examples fastapi_app:app

One AsyncTaskHub (the configuration's default backend, or TASKHUB_BACKEND) lives as long as
the application; every handler awaits it, so the service's event loop never blocks on the
vendor, and any number of concurrent waits share one read per refresher cycle.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

import taskhub
from taskhub.aio import AsyncTaskHub


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    async with taskhub.aio.connect() as hub:
        app.state.hub = hub
        yield


app = FastAPI(title="taskhub example", lifespan=lifespan)


def _hub(request: Request) -> AsyncTaskHub[taskhub.TaskHub]:
    hub: AsyncTaskHub[taskhub.TaskHub] = request.app.state.hub
    return hub


def _refused(exc: taskhub.TaskhubError) -> HTTPException:
    """A taskhub error as an HTTP answer (its text carries no secret)."""
    if isinstance(exc, taskhub.TaskNotFound):
        return HTTPException(404, str(exc))
    if isinstance(exc, (taskhub.InvalidRequest, taskhub.ConfigError)):
        return HTTPException(400, str(exc))
    if isinstance(exc, (taskhub.InvalidTransition, taskhub.Conflict)):
        return HTTPException(409, str(exc))
    return HTTPException(502, str(exc))


@app.post("/jobs/{name}", status_code=201)
async def submit(name: str, request: Request) -> dict[str, Any]:
    """Submit the configuration's job ``name``; the new task."""
    try:
        task = await _hub(request).submit_job(name)
    except taskhub.TaskhubError as exc:
        raise _refused(exc) from exc
    return task.to_dict()


@app.get("/tasks/{ref}")
async def get(ref: str, request: Request) -> dict[str, Any]:
    """One task, by ``backend:id``."""
    try:
        task = await _hub(request).get(ref)
    except taskhub.TaskhubError as exc:
        raise _refused(exc) from exc
    return task.to_dict()


@app.post("/tasks/{ref}/wait", response_model=None)
async def wait(ref: str, request: Request, timeout: float = 30.0) -> Any:
    """Wait up to ``timeout`` seconds for the task to finish: 200 with it finished, or 202
    with the task as last seen."""
    try:
        task = await _hub(request).wait(ref, timeout=min(max(timeout, 0.0), 300.0))
    except taskhub.WaitTimeout as exc:
        seen = exc.task.to_dict() if exc.task is not None else None
        return JSONResponse(seen, status_code=202)
    except taskhub.TaskhubError as exc:
        raise _refused(exc) from exc
    return task.to_dict()
