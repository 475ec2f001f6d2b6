"""What a Veritone Edge hub can submit: a job (one ``CreateJobDetail``) of engine tasks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import attrs

from taskhub.spec import Spec, invalid, mapping, objects

#: The OpenAPI's ``CreateJobDetail`` fields beyond ``tasks`` and ``taskRoutes``.
JOB_EXTRA = frozenset(
    {
        "coreID",
        "coreJobID",
        "coreRecordingID",
        "coreSourceID",
        "currentRetries",
        "dueDateTime",
        "internalOrganizationID",
        "jobConfigJSON",
        "jobStatus",
        "sendOutputToUris",
    }
)


@attrs.frozen(repr=False)
class Job(Spec):
    """``POST /proc/job/create``: ``tasks`` each with ``engineId`` and a ``payload`` object
    (sent as JSON text); ``routes`` refer to the tasks' ``correlationTaskId`` (default: the
    tasks in a chain); ``extra`` holds other ``CreateJobDetail`` fields as the API names them
    (``jobConfigJSON``, ``internalOrganizationID``, …)."""

    vendor: ClassVar[str] = "veritone-edge"

    tasks: Sequence[Mapping[str, Any]] = attrs.field(validator=objects())
    routes: Sequence[Mapping[str, Any]] | None = attrs.field(
        default=None, validator=objects(optional=True, empty=True)
    )
    extra: Mapping[str, Any] = attrs.field(factory=dict, validator=mapping(keys=JOB_EXTRA))

    def __attrs_post_init__(self) -> None:
        for n, task in enumerate(self.tasks):
            if not isinstance(task.get("engineId"), str) or not task["engineId"]:
                raise invalid(self, f"tasks[{n}].engineId", "needs an engine id (a string)")


__all__ = ["Job"]
