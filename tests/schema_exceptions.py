"""Where a vendor's published schema is wrong, and how the schemathesis runs allow for it.

This is the one place that lists them (tests/test_schemathesis.py applies them; nothing else
may loosen a run). Each entry says what the published schema claims, what the server does
instead, and the evidence. Anything not listed here must pass every schemathesis check.

Four kinds of entry:

* :class:`Patch` -- the published document is edited (in memory, in the run's temporary
  folder) before schemathesis reads it: a JSON Pointer into the document and the value that
  replaces what is there (``None`` removes it);
* :class:`Status` -- statuses the server answers for one operation that a check does not
  expect (mostly to input the schema calls valid: ``positive_data_acceptance``);
* :class:`GraphQLError` -- an error a GraphQL vendor documents for a well-formed document,
  which schemathesis otherwise counts as a failure of the server;
* :class:`Disabled` -- a check whose premise the vendor's server does not share;
* :class:`Scope` -- GraphQL types the simulator declares but has no data of: the run's copy
  of the published SDL holds them as the simulator declares them (the fields it keeps), so
  schemathesis does not select fields the simulator cannot serve. This is a limit of the
  simulator, not a slip of the vendor's, and is listed as such.
"""

from __future__ import annotations

import attrs

from taskhub.adapters.veritone_edge.simulator import JOB_ORDER


@attrs.frozen
class Pointer:
    """A patch value taken from the document itself: what ``pointer`` names there."""

    pointer: str


@attrs.frozen
class Patch:
    """Replace (or, with ``value=None``, remove) what ``pointer`` names in the document."""

    vendor: str
    pointer: str
    value: object
    evidence: str


@attrs.frozen
class Status:
    """The check ``check`` also expects ``statuses`` from ``operation`` (by default:
    ``positive_data_acceptance``, for input the schema calls valid)."""

    vendor: str
    operation: str
    statuses: tuple[int, ...]
    evidence: str
    check: str = "positive_data_acceptance"


@attrs.frozen
class GraphQLError:
    """A documented GraphQL error (by its ``name``) that is the vendor's answer, not a fault,
    when a resolver raises it (for the ``operations`` named, or any)."""

    vendor: str
    name: str
    evidence: str
    operations: tuple[str, ...] = ()


@attrs.frozen
class Disabled:
    """The schemathesis check ``check`` is left out of the vendor's runs."""

    vendor: str
    check: str
    evidence: str


@attrs.frozen
class Scope:
    """GraphQL types the simulator keeps as stubs (always null or empty)."""

    vendor: str
    types: tuple[str, ...]
    evidence: str


_EDGE_PARAMETERS = "/components/parameters"
_EDGE_SCHEMAS = "/components/schemas"
#: The sortable JobDetail properties (every one but the arrays ``tasks``, ``taskRoutes`` and
#: ``sendOutputToUris``), as the Edge simulator's ``JOB_ORDER`` has them.
_JOB_FIELDS = list(JOB_ORDER)

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

# -- Livepeer Studio (livepeer/studio packages/api/src/schema/api-schema.yaml) -------------------
_LP = "/components/schemas"
_STUDIO_REFS = (
    "studio compiles its validators after json-schema-ref-parser's dereference() of the "
    "components (packages/api/src/schema/compile-schemas.js), which replaces every $ref by "
    "the value it points to -- a description's text, a default's list -- so the server's "
    "schema holds the value; an OpenAPI tool reads a $ref there as a schema and cannot"
)
PATCHES += tuple(
    Patch("livepeer", where, Pointer(target), _STUDIO_REFS)
    for where, target in (
        (
            f"{_LP}/new-stream-payload/properties/profiles/default",
            f"{_LP}/stream/properties/profiles/default",
        ),
        (
            f"{_LP}/new-stream-payload/properties/profiles/description",
            f"{_LP}/stream/properties/profiles/description",
        ),
        (
            f"{_LP}/new-stream-payload/properties/recordingSpec/description",
            f"{_LP}/stream/properties/recordingSpec/description",
        ),
        (
            f"{_LP}/new-stream-payload/properties/recordingSpec/properties/profiles/description",
            f"{_LP}/stream/properties/recordingSpec/properties/profiles/description",
        ),
        (
            f"{_LP}/new-asset-payload/properties/profiles/description",
            f"{_LP}/asset/properties/profiles/description",
        ),
    )
)

_MERGED = (
    "the server validates and stores by api-schema.yaml deep-merged with db-schema.yaml "
    "(compile-schemas.js: _.merge({}, ...subSchemas)) and answers with the stored document "
    "less its writeOnly fields (store/table.ts cleanWriteOnlyResponse)"
)
_TASK_PARAMS = f"{_LP}/task/properties/params/properties"
_NO_TYPE = (
    "declares no type, so the server's validator (Ajv, compiled from it) lets any JSON "
    "through; but body-parser's strict JSON parser has already refused JSON that is not an "
    "object or array (400 'Unexpected token ... in JSON at position N', app-router.ts), and "
    "the handler takes the body as an object: an object is what the operation takes. (An "
    "array still passes; see the request-upload entry in STATUSES)"
)
_KEY_MASKED = {
    "type": "object",
    "properties": {"encryptedKey": {"type": "string"}, "key": {"type": "string"}},
}
PATCHES += (
    *(
        Patch("livepeer", f"{_LP}/{name}/type", "object", f"{name} {_NO_TYPE}")
        for name in ("new-asset-payload", "new-asset-from-url-payload", "transcode-payload")
    ),
    Patch(
        "livepeer",
        f"{_LP}/task/properties/userId",
        {"type": "string", "readOnly": True},
        f"a task carries userId (db-schema.yaml task.userId, readOnly): {_MERGED}",
    ),
    Patch(
        "livepeer",
        f"{_TASK_PARAMS}/upload/properties/thumbnails",
        {"type": "boolean"},
        "an upload task's params carry thumbnails (controllers/asset.ts sets it on every "
        f"import; db-schema.yaml task.params.upload.thumbnails): {_MERGED}",
    ),
    Patch(
        "livepeer",
        f"{_TASK_PARAMS}/transcode-file/properties/outputs/properties/fmp4",
        Pointer(f"{_LP}/transcode-payload/properties/outputs/properties/fmp4"),
        "transcode-payload takes outputs.fmp4 and controllers/transcode.ts copies outputs "
        "into the task's params whole, but the task schema leaves fmp4 out",
    ),
    *(
        Patch(
            "livepeer",
            where,
            _KEY_MASKED,
            "a stored encryption is assetEncryptionWithoutKey(encryption) = {...encryption, "
            "key: '***'} (controllers/asset.ts; task.ts taskParamsWithoutCredentials for the "
            "task), which the referenced request schema (additionalProperties: false, no key) "
            "refuses; the simulator keeps only key: '***'",
        )
        for where in (
            f"{_LP}/asset/properties/source/oneOf/0/properties/encryption",
            f"{_LP}/asset/properties/source/oneOf/2/properties/encryption",
            f"{_TASK_PARAMS}/upload/properties/encryption",
        )
    ),
    Patch(
        "livepeer",
        f"{_LP}/asset/properties/storage/properties/ipfs/properties/spec/type",
        ["object", "null"],
        "storage.ipfs false or null is stored as {spec: null} (controllers/asset.ts "
        "storageInputToState), and answered so",
    ),
    Patch(
        "livepeer",
        f"{_LP}/session/required",
        ["name"],
        "the session schema requires streamId, but the server makes a session with parentId "
        "and no streamId (controllers/stream.ts POST /:streamId/stream) and answers it as "
        "stored (controllers/session.ts GET /:id)",
    ),
    Patch(
        "livepeer",
        f"{_LP}/task/properties/output/properties/clip",
        Pointer(f"{_LP}/task/properties/output/properties/upload"),
        "a finished task's output is the worker's output stored whole, and a clip task's is "
        "{clip: {assetSpec}}: task/scheduler.ts reads event.output[task.type].assetSpec for "
        "clip and upload alike; the task schema names upload, export and exportData only",
    ),
    Patch(
        "livepeer",
        f"{_LP}/asset/required",
        ["id", "source"],
        "an asset made from a request-upload whose body is an array (which the typeless "
        "new-asset-payload lets through) has no name: validateAssetPayload copies "
        "payload.name, undefined, and JSON leaves it out",
    ),
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
    Status(
        "livepeer",
        "updateAsset",
        (422,),
        "'asset is not ready' for an asset not yet ready (controllers/asset.ts PATCH /:id); "
        "also 'cannot update playback policy from private to public or vice versa'",
    ),
    Status(
        "livepeer",
        "createClip",
        (422,),
        "'endTime must occur after startTime' when endTime <= startTime (controllers/clip.ts)",
    ),
    Status(
        "livepeer",
        "deleteAsset",
        (400,),
        "'asset is already deleted' for an asset being deleted (controllers/asset.ts DELETE)",
    ),
    Status(
        "livepeer",
        "createStream",
        (400,),
        "'recordingSpec is only supported with record=true' (controllers/stream.ts)",
    ),
    *(
        Status(
            "livepeer",
            operation,
            (400,),
            "a webhook playbackPolicy names a webhook that must exist: 'webhook <id> not "
            "found' (controllers/asset.ts validateAssetPlaybackPolicy); 'assets must have at "
            "least one profile' for profiles: []; and 422 'encryptedKey must be valid base64' "
            "for a key that is not (isValidBase64, the same file)",
        )
        for operation in ("requestUpload", "uploadAsset")
    ),
)
STATUSES = (
    *(
        attrs.evolve(s, statuses=(400, 422))
        if s.operation in ("requestUpload", "uploadAsset")
        else s
        for s in STATUSES
    ),
    Status(
        "livepeer",
        "requestUpload",
        (200,),
        "new-asset-payload declares no type, so the server's validator passes an array body "
        "and the handler makes an asset of it, with none of the fields (controllers/asset.ts "
        "/request-upload); the document (patched above to say object) calls it invalid",
        check="negative_data_rejection",
    ),
    Status(
        "livepeer",
        "updateAsset",
        (200,),
        "the document requires a body, but body-parser leaves an absent body as {} (req.body "
        "defaults to {}) and asset-patch-payload requires no field: the server changes "
        "nothing and answers the asset",
        check="negative_data_rejection",
    ),
    Status(
        "livepeer",
        "transcodeVideo",
        (500,),
        "the handler fails unhandled (errorHandler: 500 'Internal server error: <name>') on "
        "an array body, which the typeless transcode-payload lets through (it reads "
        "params.input['url']: TypeError), on an empty S3 bucket or key (toObjectStoreUrl "
        "throws 'undefined property ...', controllers/helpers.ts) and on an endpoint "
        "new URL() cannot parse (TypeError)",
        check="not_a_server_error",
    ),
)

DISABLED: tuple[Disabled, ...] = (
    Disabled(
        "livepeer",
        "unsupported_method",
        "Express has no 405: a method no route of a path takes falls through to the API "
        "router's last handler, throw new NotFoundError('not found') (app-router.ts), so the "
        "server answers 404, as the simulator does; OPTIONS is a CORS preflight (204)",
    ),
)

_ERROR_CODES = "veritone/docs src/docs/apis/error-codes.md"
GRAPHQL_ERRORS: tuple[GraphQLError, ...] = (
    GraphQLError(
        "veritone",
        "not_found",
        f"'A requested object was not found' ({_ERROR_CODES}, with the documented answer "
        "{data: {asset1: null, ...}, errors: [{name: not_found, data: {objectId, "
        "objectType}}]}): what an id that names nothing gets",
    ),
    GraphQLError(
        "veritone",
        "invalid_input",
        "'Although the query contains syntactically valid GraphQL according to the schema, "
        "something was wrong with the parameters on the field. For example, an integer "
        f"parameter have have been outside the allowed range' ({_ERROR_CODES}): a negative "
        "offset or limit, a job without tasks, a status the task cannot take",
    ),
    GraphQLError(
        "veritone",
        "authentication_error",
        f"a login with a user name and password that do not match ({_ERROR_CODES}: "
        "'The client did not supply a valid authentication token')",
        operations=("Mutation.userLogin",),
    ),
)


@attrs.frozen
class Exceptions:
    """Every entry of one vendor."""

    patches: list[Patch]
    statuses: list[Status]
    graphql_errors: list[GraphQLError]
    disabled: list[Disabled]
    scoped: list[str]


SCOPES: tuple[Scope, ...] = (
    Scope(
        "veritone",
        (
            "ApplicationPlatform",
            "Build",
            "BuildList",
            "EngineConfiguration",
            "EngineDependency",
            "EngineField",
            "EngineList",
            "EngineRunList",
            "EngineSearchConfiguration",
            "EngineTaskMetrics",
            "EngineType",
            "EntityIdentifierTypeList",
            "ExecutionLocation",
            "ExportFormat",
            "Folder",
            "Group",
            "JobTemplate",
            "Metadata",
            "Organization",
            "ScheduledJob",
            "Schema",
            "Security",
            "TDOSourceData",
            "TDOStreamData",
            "TDOStreamManifest",
            "TaskTemplate",
            "User",
        ),
        "the simulator serves every published field of Job, Task, TemporalDataObject, "
        "Engine, Asset, AssetSourceData, EngineCategory, EngineResult and LoginInfo (issue 21 "
        "G2); the types those fields reach beyond them (builds, templates, organizations, "
        "users, folders ...) are data it does not simulate: every field returning one answers "
        "null or an empty list, and each is declared with one field (its id, or a list's Page "
        "fields) so that a selection of it validates",
    ),
)


def for_vendor(vendor: str) -> Exceptions:
    """The entries of one vendor."""
    return Exceptions(
        [p for p in PATCHES if p.vendor == vendor],
        [s for s in STATUSES if s.vendor == vendor],
        [g for g in GRAPHQL_ERRORS if g.vendor == vendor],
        [d for d in DISABLED if d.vendor == vendor],
        [t for scope in SCOPES if scope.vendor == vendor for t in scope.types],
    )
