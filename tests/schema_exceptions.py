"""Where a vendor's published schema is wrong, and how the schemathesis runs allow for it.

This is the one place that lists them (tests/test_schemathesis.py applies them; nothing else
may loosen a run). Each entry says what the published schema claims, what the server does
instead, and the evidence. Anything not listed here must pass every schemathesis check.

Three kinds of entry:

* :class:`Patch` -- the published document is edited (in memory, in the run's temporary
  folder) before schemathesis reads it: a JSON Pointer into the document and the value that
  replaces what is there (``None`` removes it);
* :class:`Status` -- statuses the server answers to input the schema calls valid, added to
  what ``positive_data_acceptance`` expects for one operation;
* :class:`GraphQLError` -- an error a GraphQL vendor documents for a well-formed document,
  which schemathesis otherwise counts as a failure of the server.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class Patch:
    """Replace (or, with ``value=None``, remove) what ``pointer`` names in the document."""

    vendor: str
    pointer: str
    value: object
    evidence: str


@attrs.frozen
class Status:
    """``positive_data_acceptance`` also accepts ``statuses`` from ``operation``."""

    vendor: str
    operation: str
    statuses: tuple[int, ...]
    evidence: str


@attrs.frozen
class GraphQLError:
    """A documented GraphQL error (by its ``name``) that is the vendor's answer, not a fault."""

    vendor: str
    name: str
    evidence: str


_EDGE_PARAMETERS = "/components/parameters"
_EDGE_SCHEMAS = "/components/schemas"
#: The sortable JobDetail properties (every one but the arrays ``tasks``, ``taskRoutes`` and
#: ``sendOutputToUris``), as the Edge simulator's ``JOB_ORDER`` has them.
_JOB_FIELDS = [
    "abortedDateTime",
    "completedDateTime",
    "coreID",
    "coreJobID",
    "coreRecordingId",
    "coreScheduledJobId",
    "coreSourceId",
    "createdDateTime",
    "currentRetries",
    "dueDateTime",
    "internalJobID",
    "internalOrganizationID",
    "internalScheduledJobId",
    "isTemplate",
    "jobConfigJSON",
    "jobStatus",
    "jobTemplateId",
    "maxRetries",
    "modifiedDateTime",
    "priority",
    "scheduledDateTime",
    "startDateTime",
    "startedDateTime",
    "stopDateTime",
]

PATCHES: tuple[Patch, ...] = (
    # -- Veritone Edge (OpenAPI 3.15.2) --------------------------------------------------------
    Patch(
        "veritone-edge",
        f"{_EDGE_PARAMETERS}/Offset_Query_Optional/schema/minimum",
        0,
        "offset is 'the number of data to skip'; a negative count has no meaning and the "
        "spec gives no minimum. The server's answer is undocumented: the simulator refuses "
        "it with the spec's 400 Error (issue 21 E1), never as a Python slice",
    ),
    Patch(
        "veritone-edge",
        f"{_EDGE_PARAMETERS}/Limit_Query_Optional/schema/minimum",
        0,
        "limit is 'the number of items to return': as offset",
    ),
    Patch(
        "veritone-edge",
        f"{_EDGE_PARAMETERS}/Direction_Query_Optional/schema/enum",
        ["ASC", "DESC", "asc", "desc"],
        "direction is described 'the sort order.  ASC or DESC.' but typed a free string",
    ),
    Patch(
        "veritone-edge",
        f"{_EDGE_PARAMETERS}/Orderby_Query_Optional/schema/enum",
        _JOB_FIELDS,
        "orderBy on /proc/jobs is 'the field to sort' (default createdDateTime, a JobDetail "
        "property) but typed a free string: a server can only sort by a field it has, so the "
        "simulator sorts by any scalar JobDetail property and refuses other names with 400",
    ),
    Patch(
        "veritone-edge",
        "/paths/~1admin~1engines/parameters/14/schema/enum",
        ["name", "state", "type", "organizationID", "createdTime"],
        "orderBy on /admin/engines is described 'The value should be in [name, state, type, "
        "organizationID, createdTime]' but typed a free string",
    ),
    Patch(
        "veritone-edge",
        f"{_EDGE_SCHEMAS}/JobDetail/required",
        ["internalOrganizationID"],
        "JobDetail requires 'internalOrganizationId', a property it does not have: the "
        "property is internalOrganizationID (../shared/vendors/veritone-edge.md section 10)",
    ),
    Patch(
        "veritone-edge",
        f"{_EDGE_SCHEMAS}/TaskDetail/required",
        ["engineID"],
        "TaskDetail requires 'engineId', a property it does not have: the property is "
        "engineID (../shared/vendors/veritone-edge.md section 10)",
    ),
    Patch(
        "veritone-edge",
        f"{_EDGE_SCHEMAS}/CreateJobDetail/required",
        None,
        "CreateJobDetail requires internalOrganizationID, but every documented create "
        "example leaves it out (veritone/docs src/docs/quickstart/jobs/README.md and both of "
        "src/docs/overview/aiWARE-in-depth/edge-installation.md): the server takes the "
        "instance's organization, and so does the simulator",
    ),
)

PATCHES += tuple(
    Patch(
        "veritone-edge",
        f"/paths/~1proc~1{kind}~1{{{name}}}~1delete/post/responses/204/content",
        None,
        "the delete operations declare HTTP 204 with an AdminOperationResponse body, but a "
        "204 carries no body (RFC 9110 section 15.3.5; ../shared/vendors/veritone-edge.md "
        "section 10, '204 with body')",
    )
    for kind, name in (("job", "JobID"), ("task", "TaskID"))
)

STATUSES: tuple[Status, ...] = (
    Status(
        "veritone-edge",
        "createJob",
        (400,),
        "a well-formed create is refused when it names an engine the instance does not have "
        "(CreateTaskDetail.engineId: 'If the engine is not available on edge, this will "
        "return an exception') or a route names a task the job does not have",
    ),
)

GRAPHQL_ERRORS: tuple[GraphQLError, ...] = ()


def for_vendor(vendor: str) -> tuple[list[Patch], list[Status], list[GraphQLError]]:
    """The entries of one vendor."""
    return (
        [p for p in PATCHES if p.vendor == vendor],
        [s for s in STATUSES if s.vendor == vendor],
        [g for g in GRAPHQL_ERRORS if g.vendor == vendor],
    )
