"""What a Veritone hub can submit: a job (``createJob``) of engine tasks on a TDO."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import attrs

from taskhub.spec import Spec, invalid, mapping, objects, text


@attrs.frozen(repr=False)
class Job(Spec):
    """``createJob``: ``tasks`` (each an aiWARE ``CreateTask`` with ``engineId`` or
    ``taskType``, and its ``payload``) on an existing TDO (``target_id``) or on one made on
    the fly (``target``, a ``CreateTDOWithJob``); ``routes`` chain the tasks."""

    vendor: ClassVar[str] = "veritone"

    tasks: Sequence[Mapping[str, Any]] = attrs.field(validator=objects())
    target_id: str | None = attrs.field(default=None, validator=text(optional=True))
    target: Mapping[str, Any] | None = attrs.field(default=None, validator=mapping(optional=True))
    cluster_id: str | None = attrs.field(default=None, validator=text(optional=True))
    routes: Sequence[Mapping[str, Any]] | None = attrs.field(
        default=None, validator=objects(optional=True, empty=True)
    )

    def __attrs_post_init__(self) -> None:
        for n, task in enumerate(self.tasks):
            if not (task.get("engineId") or task.get("taskType")):
                raise invalid(self, f"tasks[{n}]", "needs engineId or taskType")
            for key in ("engineId", "taskType"):
                if key in task and not isinstance(task[key], str):
                    raise invalid(self, f"tasks[{n}].{key}", "must be a string")
        if (self.target_id is None) == (self.target is None):
            raise invalid(self, "target_id", "give exactly one of target_id and target")


__all__ = ["Job"]
