"""OpenLineage facets for the submit operator (the extra ``taskhub[openlineage]``).

Imported only by the operator's ``get_openlineage_facets_on_*`` methods, which only the
OpenLineage provider calls: without it, nothing here is loaded. Datasets are the task's
input and output assets, named as :mod:`taskhub.airflow.datasets` says (no query, so no
signature); the run facet ``taskhub`` says which vendor task the Airflow task ran.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
from airflow.providers.openlineage.extractors import OperatorLineage
from openlineage.client.event_v2 import Dataset
from openlineage.client.facet_v2 import RunFacet

from taskhub.airflow import datasets

#: The key of taskhub's facet among a run's facets.
FACET = "taskhub"


@attrs.define
class TaskhubRunFacet(RunFacet):
    """The vendor task behind an Airflow task: where it ran, its ref, and how it stands
    (the vendor's own status word and taskhub's normalized state)."""

    vendor: str | None = None
    backend: str | None = None
    ref: str | None = None
    raw: str | None = None
    state: str | None = None


def operator_lineage(
    payload: Mapping[str, Any] | None,
    *,
    vendor: str | None,
    backend: str | None,
    api: str | None,
) -> OperatorLineage[Dataset, RunFacet]:
    """The lineage of a wait's ``payload`` (:mod:`taskhub.airflow.events`; None before
    any task exists): its task's assets and the ``taskhub`` run facet."""
    payload = payload or {}
    task = payload.get("task") if isinstance(payload.get("task"), Mapping) else None
    facet = TaskhubRunFacet(
        vendor=_text(task.get("vendor")) if task else vendor,
        backend=_text(task.get("backend")) if task else backend,
        ref=_text(payload.get("ref")),
        raw=_text(payload.get("raw")),
        state=_text(payload.get("state")),
    )
    return OperatorLineage(
        inputs=[_dataset(n) for n in datasets.of_task(task, "inputs", api=api)],
        outputs=[_dataset(n) for n in datasets.of_task(task, "outputs", api=api)],
        run_facets={FACET: facet},
    )


def _dataset(item: datasets.Named) -> Dataset:
    return Dataset(namespace=item.namespace, name=item.name)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


__all__ = ["FACET", "TaskhubRunFacet", "operator_lineage"]
