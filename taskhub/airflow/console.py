"""The vendor's own web page for a task: the URL behind the operators' console links.

No Airflow here: a connection's ``console_url`` is checked when the connection is read
(:func:`check`), and the link's URL is built from a task and its hub (:func:`url_for`).

Three vendors have a page for what taskhub submits:

=========  ===========================  ===============================================
vendor     link                         default page (``console_url`` overrides it)
=========  ===========================  ===============================================
livepeer   Livepeer Studio console      the asset a task made or read, in its project
veritone   Veritone aiWARE console      the job's media (its target TDO) in Veritone CMS
cognite    Cognite Data Fusion console  the workflow, with the connection's project and
                                        cluster
=========  ===========================  ===============================================

Vionlabs and Veritone Edge show no page per task: no link. A template is a URL with
``{placeholders}`` from the vendor's list (:data:`CONSOLES`); each value is
percent-encoded, so an id cannot change the URL's shape. A link never carries a secret: a
template with credentials, a signed query or the connection's own secret is refused, and a
built URL that the hub's redaction would change is dropped.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import attrs

from taskhub.hub import TaskHub
from taskhub.model import Task


@attrs.frozen
class Console:
    """One vendor's console: the link's name, its default page and what fills it."""

    #: The link's name in Airflow's UI.
    name: str
    #: The page, with ``{placeholders}`` from ``fields``.
    template: str
    #: Placeholder -> what it means (for errors and docs).
    fields: Mapping[str, str]
    #: The placeholders' values for a task (a value is None where the task has none).
    values: Callable[[TaskHub, Task], Mapping[str, str | None]]


def _livepeer(hub: TaskHub, task: Task) -> dict[str, str | None]:
    raw = task.raw if isinstance(task.raw, dict) else {}
    assets = [a.id for a in (*task.outputs, *task.inputs) if a.kind == "asset" and a.id]
    project = raw.get("projectId")
    return {
        "id": task.id,
        "project": project if isinstance(project, str) else None,
        "asset": assets[0] if assets else None,
    }


def _veritone(hub: TaskHub, task: Task) -> dict[str, str | None]:
    # A job names its TDO in params; one of its engine tasks, as an input.
    target = task.params.get("targetId")
    tdos = [str(target)] if target not in (None, "") else []
    tdos += [a.id for t in (task, *task.subtasks) for a in t.inputs if a.kind == "tdo" and a.id]
    return {"id": task.id, "tdo": tdos[0] if tdos else None}


def _cognite(hub: TaskHub, task: Task) -> dict[str, str | None]:
    options = hub.options
    host = urlsplit(str(getattr(options, "base_url", ""))).hostname
    workflow, version = task.params.get("workflow"), task.params.get("version")
    return {
        "id": task.id,
        "project": str(getattr(options, "project", "")) or None,
        "cluster": host or None,
        "workflow": workflow if isinstance(workflow, str) else None,
        "version": version if isinstance(version, str) else None,
    }


#: The vendors with a page per task, and how their link is made.
CONSOLES: dict[str, Console] = {
    "livepeer": Console(
        "Livepeer Studio console",
        "https://livepeer.studio/dashboard/projects/{project}/assets/{asset}",
        {
            "id": "the task's id",
            "project": "the task's project id",
            "asset": "the asset the task made (or else read)",
        },
        _livepeer,
    ),
    "veritone": Console(
        "Veritone aiWARE console",
        "https://cms.veritone.com/#/media-details/{tdo}",
        {"id": "the job's id", "tdo": "the id of the job's target TDO (its media)"},
        _veritone,
    ),
    "cognite": Console(
        "Cognite Data Fusion console",
        "https://fusion.cognite.com/{project}/data-workflows/{workflow}?cluster={cluster}",
        {
            "id": "the execution's id",
            "project": "the connection's project",
            "cluster": "the host of the connection's base_url",
            "workflow": "the workflow's external id",
            "version": "the workflow version",
        },
        _cognite,
    ),
}


def check(hub: TaskHub, template: Any) -> str:
    """``template`` as a console URL template for ``hub``'s vendor; ValueError saying what
    is wrong with it (no request is sent)."""
    console = CONSOLES.get(hub.vendor)
    if console is None:
        known = ", ".join(sorted(CONSOLES))
        raise ValueError(f"{hub.vendor} has no console page per task (only {known} do)")
    if not isinstance(template, str) or not template.strip():
        raise ValueError("expected a URL template (a string)")
    try:
        parts = urlsplit(template)
        fields = [f for _, f, spec, conv in string.Formatter().parse(template) if f is not None]
        specs = [(spec, conv) for _, f, spec, conv in string.Formatter().parse(template) if f]
    except ValueError as exc:
        raise ValueError(f"not a URL template: {exc}") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("expected an absolute http(s) URL, such as " + console.template)
    if "@" in parts.netloc:
        raise ValueError("a console link must not carry credentials (user@host)")
    for field in fields:
        if field not in console.fields:
            known = ", ".join("{" + name + "}" for name in console.fields)
            raise ValueError(f"unknown placeholder {{{field}}}; {hub.vendor} has {known}")
    if any(spec or conv for spec, conv in specs):
        raise ValueError("placeholders take no format spec or conversion: write {name}")
    if hub.policy.url(template) != template or hub.policy.text(template) != template:
        raise ValueError("a console link must not carry a secret (a key, token or signature)")
    return template


def url_for(hub: TaskHub, task: Task, template: str | None = None) -> str | None:
    """The console page of ``task``, from ``template`` (checked by :func:`check`) or the
    vendor's default; None where the vendor has no page or the task lacks a value the
    template needs."""
    console = CONSOLES.get(hub.vendor)
    if console is None:
        return None
    chosen = template or console.template
    values = console.values(hub, task)
    needed = {f for _, f, _, _ in string.Formatter().parse(chosen) if f}
    if any(not values.get(name) for name in needed):
        return None
    link = chosen.format_map({k: quote(v, safe="") for k, v in values.items() if v})
    policy = hub.policy
    if policy.url(link) != link or policy.text(link) != link:
        return None  # a value shaped like a secret: no link rather than a leak
    return link


def link_name(vendor: str) -> str | None:
    """The name of ``vendor``'s console link (None: it has none)."""
    console = CONSOLES.get(vendor)
    return console.name if console is not None else None


__all__ = ["CONSOLES", "Console", "check", "link_name", "url_for"]
