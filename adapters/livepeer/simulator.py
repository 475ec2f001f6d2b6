"""A Livepeer Studio simulator: the task API, the asset API and the endpoints that spawn tasks.

Lifecycle (on the simulator's clock): create -> ``pending`` -> ``waiting`` (at once) ->
``running`` after ``waiting_s`` with progress rising, capped at 0.99 -> ``completed`` after
``running_s``. The input URL (or clip playback id) picks a failure scenario:

* ``fail-retry``: the first attempt fails with a retriable error; the task goes back to
  ``waiting`` with ``retries`` 1 and ``errorMessage``, then succeeds;
* ``fail-always``: three retriable failures; ``failed`` after the third (at most 2 retries);
* ``fail-fatal``: an unretriable error; ``failed`` at once;
* ``stuck``: stays ``waiting`` forever (Livepeer has no server-side timeout).

A manual retry (``POST /task/{id}/retry``) of a failed task succeeds. ``cancelled`` never
occurs; deleting the output asset fails a running task with "task cancelled, asset has been
deleted".

Requests are held to the published schema as the server's validator (Ajv) holds them: a body
that fails it is a 422 ``{"errors": [<JSON-encoded Ajv error>, ...]}``; JSON that is neither
an object nor an array is the JSON parser's 400 first. A repeated import URL is answered with
the earlier import only under studio's ``findDuplicateUrlUpload`` rule (not deleted, same user
and project, same URL, still waiting or processing, created in the last 15 minutes). A transcode's
``storage`` (and an S3 ``input``) become the object-store URL the server makes of them, kept
with the credentials already masked (``s3+https://***:***@host/bucket``, ``w3s://***@/``): no
answer can carry a secret. Assets are listed (``GET /asset``), read, updated (``PATCH``; a new
``storage.ipfs`` spawns an ``export`` task) and deleted. A request-upload's bytes arrive by
``PUT`` to its ``url`` or through the tus protocol at its ``tusEndpoint``
(``/api/asset/upload/tus``); either starts its task.

Streams (``POST /stream``, ``GET /stream/{id}``) and their sessions (``GET /session/{id}``)
carry the clip flow: a session begins when an encoder pushes (:meth:`start_session`, the
ingest node's part), ``POST /clip`` clips a stream's latest (or named) session, and
``GET /stream/{id}/clips`` / ``GET /session/{id}/clips`` list the caller's clip assets. A clip
of a playback id no stream has makes that stream, live, first (``implicit_streams=False``: 404
"Content not found", as the server answers).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
import re
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, quote_plus, unquote_to_bytes, urlsplit

import attrs
import requests
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from taskhub.testing import Answer, Simulator

from .adapter import DUPLICATE_IMPORT_MS
from .parse import mask_credentials, masked_object_store_url
from .webhooks import sign

RETRIABLE = "internal error processing file"
FATAL = (
    "invalid video file codec or container, check your input file against the input codec "
    "and container support matrix"
)
DELETED = "task cancelled, asset has been deleted"
MAX_RETRIES = 2
TYPES = ("upload", "export", "export-data", "transcode-file", "clip")
IPFS_GATEWAY = "https://ipfs.livepeer.studio/ipfs/"
TUS_VERSION = "1.0.0"

#: Fields ``order`` and ``filters`` know, and how the server compares them: ``text`` (equal),
#: ``int`` (a number: equal, or ``{gt|gte|lt|lte: n}``), ``full-text`` (case-blind substring).
_TASK_FIELDS = {
    "id": "text",
    "name": "full-text",
    "createdAt": "int",
    "updatedAt": "int",
    "userId": "text",
    "user.email": "full-text",
    "type": "text",
    "inputAssetId": "text",
    "outputAssetId": "text",
    "projectId": "text",
}
_ASSET_FIELDS = {
    "id": "text",
    "name": "full-text",
    "objectStoreId": "text",
    "createdAt": "int",
    "updatedAt": "int",
    "userId": "text",
    "creatorId": "text",
    "playbackId": "text",
    "playbackRecordingId": "text",
    "projectId": "text",
    "phase": "text",
    "user.email": "full-text",
    "cid": "text",
    "nftMetadataCid": "text",
    "sourceUrl": "text",
    "sourceSessionId": "text",
    "sourceAssetId": "text",
    "sourceType": "text",
    "sourcePlaybackId": "text",
}


@attrs.define
class _Task:
    id: str
    type: str
    user: str
    created: int
    params: dict[str, Any]
    plan: list[str]  # outcome of each attempt: ok | retriable | fatal | stuck
    started: int | None  # when the current run of attempts began (None: still pending)
    input_asset: str | None = None
    output_asset: str | None = None
    failed_at: tuple[int, str] | None = None  # forced failure: (ms, message)
    forced: tuple[int, dict[str, Any]] | None = None  # an admin write: (ms, status)
    manual_retries: int = 0


@attrs.define
class _Upload:
    """A resumable (tus) upload: its task, announced length and bytes received so far."""

    task: str
    length: int
    offset: int = 0


# -- request bodies, checked as the server's schema validator (Ajv) checks them -----------------
#
# The published schema (livepeer/studio packages/api/src/schema/api-schema.yaml, merged with
# db-schema.yaml, which adds objectStoreId and catalystPipelineStrategy to some payloads) is
# compiled by Ajv with its defaults: the first problem stops each (sub)schema, keywords run
# type, then enum/oneOf, then required, additionalProperties and properties (in declaration
# order), and a failed ``oneOf`` reports every branch's problem and then its own. Each problem
# is sent as a JSON-encoded string in ``{"errors": [...]}`` with status 422.

_Schema = dict[str, Any]

_STRING: _Schema = {"type": "string"}
_NUMBER: _Schema = {"type": "number"}
_BOOLEAN: _Schema = {"type": "boolean"}
_MEDIA_URL: _Schema = {"type": "string", "format": "uri", "pattern": "^(https?|ipfs|ar)://"}
_ENDPOINT: _Schema = {"type": "string", "format": "uri", "pattern": "^http(s)?://"}


def _object(
    properties: dict[str, _Schema], required: tuple[str, ...] = (), *, typed: bool = True
) -> _Schema:
    schema: _Schema = {"additionalProperties": False, "properties": properties}
    if required:
        schema = {"required": list(required), **schema}
    return {"type": "object", **schema} if typed else schema


_CREDENTIALS = _object(
    {"accessKeyId": _STRING, "secretAccessKey": _STRING}, ("accessKeyId", "secretAccessKey")
)
_PROFILE = _object(
    {
        "width": {"type": "integer", "minimum": 128},
        "name": {"type": "string", "minLength": 1, "maxLength": 500},
        "height": {"type": "integer", "minimum": 128},
        "bitrate": {"type": "integer", "minimum": 400},
        "quality": {"type": "integer", "minimum": 0, "maximum": 44},
        "fps": {"type": "integer", "minimum": 0},
        "fpsDen": {"type": "integer", "minimum": 1},
        "gop": _STRING,
        "profile": {
            "type": "string",
            "enum": ["H264Baseline", "H264Main", "H264High", "H264ConstrainedHigh"],
        },
        "encoder": {"type": "string", "enum": ["H.264", "HEVC", "VP8", "VP9"]},
    },
    ("bitrate",),
)
_CREATOR_ID: _Schema = {
    "oneOf": [
        _object(
            {"type": {"type": "string", "enum": ["unverified"]}, "value": _STRING},
            ("type", "value"),
        ),
        _STRING,
    ]
}
_PLAYBACK_POLICY: _Schema = {
    **_object(
        {
            "type": {
                "type": "string",
                "enum": ["public", "jwt", "webhook", "lit_signing_condition"],
            },
            "webhookId": _STRING,
            "webhookContext": {"type": "object"},
            "refreshInterval": _NUMBER,
            "allowedOrigins": {"type": "array", "items": _STRING},
            "unifiedAccessControlConditions": {"type": "array", "items": {"type": "object"}},
            "resourceId": _object(
                dict.fromkeys(("baseUrl", "path", "orgId", "role", "extraData"), _STRING),
                ("baseUrl", "path", "orgId", "role", "extraData"),
            ),
        },
        ("type",),
    ),
    "type": ["object", "null"],
}
_IPFS_SPEC = _object(
    {
        "nftMetadataTemplate": {"type": "string", "enum": ["file", "player"]},
        "nftMetadata": {"type": "object"},
    }
)
_ASSET_STORAGE = _object(
    {
        "ipfs": {
            "oneOf": [
                _object({"spec": {"oneOf": [{"type": "null"}, _IPFS_SPEC]}}),
                _BOOLEAN,
                {"type": "null"},
            ]
        }
    }
)
_ENCRYPTION = _object({"encryptedKey": _STRING}, ("encryptedKey",))
_PIPELINE: _Schema = {
    "type": "string",
    "enum": [
        "catalyst",
        "catalyst_ffmpeg",
        "background_external",
        "background_mist",
        "fallback_external",
        "external",
    ],
}
_ASSET_COMMON: dict[str, _Schema] = {
    "name": _STRING,
    "staticMp4": _BOOLEAN,
    "playbackPolicy": _PLAYBACK_POLICY,
    "creatorId": _CREATOR_ID,
    "storage": _ASSET_STORAGE,
}
_ASSET_TAIL: dict[str, _Schema] = {
    "encryption": _ENCRYPTION,
    "c2pa": _BOOLEAN,
    "profiles": {"type": ["array", "null"], "items": _PROFILE},
    "targetSegmentSizeSecs": _NUMBER,
    "objectStoreId": _STRING,
    "catalystPipelineStrategy": _PIPELINE,
}
#: new-asset-payload (``POST /asset/request-upload``).
NEW_ASSET = _object({**_ASSET_COMMON, **_ASSET_TAIL}, ("name",), typed=False)
#: new-asset-from-url-payload (``POST /asset/upload/url``).
NEW_ASSET_FROM_URL = _object(
    {**_ASSET_COMMON, "url": _MEDIA_URL, **_ASSET_TAIL}, ("name", "url"), typed=False
)
#: asset-patch-payload (``PATCH /asset/{id}``).
ASSET_PATCH = _object(
    {
        "name": _STRING,
        "creatorId": _CREATOR_ID,
        "playbackPolicy": _PLAYBACK_POLICY,
        "storage": _ASSET_STORAGE,
    }
)
_S3_INPUT = _object(
    {
        "type": {"type": "string", "enum": ["s3"]},
        "endpoint": _ENDPOINT,
        "bucket": _STRING,
        "path": _STRING,
        "credentials": _CREDENTIALS,
    },
    ("type", "endpoint", "bucket", "path", "credentials"),
)
_S3_STORAGE = _object(
    {
        "type": {"type": "string", "enum": ["s3"]},
        "endpoint": _ENDPOINT,
        "bucket": _STRING,
        "credentials": _CREDENTIALS,
    },
    ("type", "endpoint", "bucket", "credentials"),
)
_WEB3_STORAGE = _object(
    {
        "type": {"type": "string", "enum": ["web3.storage"]},
        "credentials": _object({"proof": _STRING}, ("proof",)),
    },
    ("type", "credentials"),
)
_OUTPUT = _object({"path": _STRING}, ("path",))
#: transcode-payload (``POST /transcode``).
TRANSCODE = _object(
    {
        "input": {"oneOf": [_object({"url": _MEDIA_URL}, ("url",)), _S3_INPUT]},
        "storage": {"oneOf": [_S3_STORAGE, _WEB3_STORAGE]},
        "outputs": _object({"hls": _OUTPUT, "mp4": _OUTPUT, "fmp4": _OUTPUT}),
        "profiles": {"type": "array", "items": _PROFILE},
        "targetSegmentSizeSecs": _NUMBER,
        "creatorId": _CREATOR_ID,
        "c2pa": _BOOLEAN,
        "catalystPipelineStrategy": _PIPELINE,
    },
    ("input", "storage", "outputs"),
    typed=False,
)
#: clip-payload (``POST /clip``).
CLIP = _object(
    {
        "playbackId": _STRING,
        "startTime": _NUMBER,
        "endTime": _NUMBER,
        "name": _STRING,
        "sessionId": _STRING,
    },
    ("playbackId", "startTime"),
)

#: ffmpeg-profile (a stream's ``profiles``).
_FFMPEG_PROFILE = _object(
    {
        "width": {"type": "integer", "minimum": 128},
        "name": {"type": "string", "minLength": 1, "maxLength": 500},
        "height": {"type": "integer", "minimum": 128},
        "bitrate": {"type": "integer", "minimum": 400},
        "fps": {"type": "integer", "minimum": 0},
        "fpsDen": {"type": "integer", "minimum": 1},
        "quality": {"type": "integer", "minimum": 0, "maximum": 44},
        "gop": _STRING,
        "profile": {
            "type": "string",
            "enum": ["H264Baseline", "H264Main", "H264High", "H264ConstrainedHigh"],
        },
        "encoder": {"type": "string", "enum": ["H.264"]},
    },
    ("width", "name", "height", "bitrate", "fps"),
)
_TARGET = _object(
    {
        "profile": {"type": "string", "minLength": 1, "maxLength": 500},
        "videoOnly": _BOOLEAN,
        "id": _STRING,
        "spec": _object(
            {
                "name": _STRING,
                "url": {"type": "string", "format": "uri", "pattern": "^(srt|rtmps?)://"},
            },
            ("url",),
        ),
    },
    ("profile",),
)
_PULL = _object(
    {
        "source": _STRING,
        "headers": {"type": "object", "additionalProperties": _STRING},
        "isMobile": {
            "oneOf": [{"type": "integer", "enum": [0, 1, 2]}, _BOOLEAN],
        },
        "location": _object({"lat": _NUMBER, "lon": _NUMBER}, ("lat", "lon")),
    },
    ("source",),
)
_TAG_VALUE: _Schema = {"oneOf": [_STRING, _NUMBER]}
#: new-stream-payload (``POST /stream``), with the properties db-schema.yaml adds.
NEW_STREAM = _object(
    {
        "name": _STRING,
        "pull": _PULL,
        "creatorId": _CREATOR_ID,
        "playbackPolicy": _PLAYBACK_POLICY,
        "profiles": {"type": ["array", "null"], "items": _FFMPEG_PROFILE},
        "record": _BOOLEAN,
        "recordingSpec": _object(
            {"profiles": {"type": ["array", "null"], "items": _PROFILE}},
        ),
        "multistream": _object({"targets": {"type": "array", "items": _TARGET}}),
        "userTags": {
            "type": "object",
            "additionalProperties": {
                "oneOf": [_STRING, _NUMBER, {"type": "array", "items": _TAG_VALUE}]
            },
        },
        "wowza": {"type": "object"},
        "presets": {"type": "array", "items": _STRING},
        "renditions": {"type": "object", "additionalProperties": _STRING},
        "recordObjectStoreId": _STRING,
        "objectStoreId": _STRING,
        "detection": {"type": "object"},
    },
    ("name",),
)
#: default-stream-profiles (studio ``parse-cli.ts``): a stream created without profiles.
DEFAULT_STREAM_PROFILES: list[dict[str, Any]] = [
    {"name": f"{height}p0", "fps": 0, "bitrate": bitrate, "width": width, "height": height}
    | {"profile": "H264ConstrainedHigh"}
    for width, height, bitrate in (
        (426, 240, 250_000),
        (640, 360, 800_000),
        (854, 480, 1_600_000),
        (1280, 720, 3_000_000),
    )
]
#: The stream fields only admins see, or nobody (``stream-table.ts``, ``session.ts``).
_STREAM_HIDDEN = (
    "mistHost",
    "broadcasterHost",
    "createdByTokenId",
    "pullLockedAt",
    "pullLockedBy",
    "pullRegion",
    "recordObjectStoreId",
    "recordingSessionId",
    "previousSessions",
    "partialSession",
    "previousStats",
    "lastSessionId",
    "userSessionCreatedAt",
)
_SESSION_HIDDEN = ("deleted", "broadcasterHost", "recordObjectStoreId", "version")
#: ``addDefaultFields``: what a stream shows for a field it has never set.
_STREAM_DEFAULTS: dict[str, Any] = {
    "lastSeen": 0,
    "isActive": False,
    "record": False,
    "suspended": False,
    "sourceSegments": 0,
    "transcodedSegments": 0,
    "sourceSegmentsDuration": 0,
    "transcodedSegmentsDuration": 0,
    "sourceBytes": 0,
    "transcodedBytes": 0,
    "lastTerminatedAt": None,
}
#: The fields ``order`` and ``filters`` know on the clip lists (``clip.ts``).
_CLIP_FIELDS = {
    "id": "text",
    "createdAt": "int",
    "updatedAt": "int",
    "userId": "text",
    "projectId": "text",
    "playbackId": "text",
    "sourceType": "text",
    "sourceSessionId": "text",
    "sourceAssetId": "text",
}
_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
#: The cors package's default ``methods``, named in every preflight answer.
_CORS_METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE"
#: Asset fields the asset schema marks writeOnly (api-schema.yaml, and db-schema.yaml merged
#: into it): kept, never shown (``cleanWriteOnlyResponse``).
_ASSET_WRITE_ONLY = ("staticMp4", "objectStoreId", "playbackRecordingId", "files")
#: body-parser's ``FIRST_CHAR_REGEXP``: the first character after JSON white space.
_FIRST_CHAR = re.compile(r"[ \t\n\r]*([^ \t\n\r])", re.DOTALL)

# RFC 3986 ``URI`` (absolute, with a scheme): the ``uri`` format Ajv's formats check.
_PCHAR = r"(?:[a-z0-9\-._~!$&'()*+,;=:@]|%[0-9a-f]{2})"
_URI = re.compile(
    r"[a-z][a-z0-9+\-.]*:"
    r"(?://(?:(?:[a-z0-9\-._~!$&'()*+,;=:]|%[0-9a-f]{2})*@)?"
    r"(?:\[[0-9a-f:.]+\]|(?:[a-z0-9\-._~!$&'()*+,;=]|%[0-9a-f]{2})*)(?::[0-9]*)?"
    rf"(?:/{_PCHAR}*)*"
    rf"|/(?:{_PCHAR}+(?:/{_PCHAR}*)*)?"
    rf"|{_PCHAR}+(?:/{_PCHAR}*)*"
    r"|)"
    rf"(?:\?(?:{_PCHAR}|[/?])*)?"
    rf"(?:#(?:{_PCHAR}|[/?])*)?",
    re.IGNORECASE,
)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _is_type(name: str, value: Any) -> bool:
    kind = _json_type(value)
    if name == "integer":
        return kind == "number" and float(value).is_integer()
    return kind == name


def _same(a: Any, b: Any) -> bool:
    """JSON equality (``True`` is not ``1``)."""
    return _json_type(a) == _json_type(b) and a == b


def _problem(at: str, path: str, keyword: str, params: dict[str, Any], message: str) -> str:
    """One Ajv error object, JSON-encoded as the server sends it."""
    error = {
        "instancePath": at,
        "schemaPath": f"{path}/{keyword}",
        "keyword": keyword,
        "params": params,
        "message": message,
    }
    return json.dumps(error, separators=(",", ":"), ensure_ascii=False)


def schema_errors(schema: _Schema, data: Any, at: str = "", path: str = "#") -> list[str]:
    """What Ajv (``allErrors: false``) reports for ``data``: empty when it is valid."""
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(t, data) for t in types):
            message = f"must be {','.join(types)}"
            return [_problem(at, path, "type", {"type": schema["type"]}, message)]
    if "enum" in schema and not any(_same(data, v) for v in schema["enum"]):
        message = "must be equal to one of the allowed values"
        return [_problem(at, path, "enum", {"allowedValues": schema["enum"]}, message)]
    if "oneOf" in schema:
        found: list[str] = []
        passing: list[int] = []
        for n, branch in enumerate(schema["oneOf"]):
            problems = schema_errors(branch, data, at, f"{path}/oneOf/{n}")
            found += problems
            if not problems:
                passing.append(n)
        if len(passing) != 1:
            params: dict[str, Any] = {"passingSchemas": passing[:2] or None}
            message = "must match exactly one schema in oneOf"
            return [*found, _problem(at, path, "oneOf", params, message)]
    kind = _json_type(data)
    if kind == "number":
        if "maximum" in schema and data > schema["maximum"]:
            limit = schema["maximum"]
            params = {"comparison": "<=", "limit": limit}
            return [_problem(at, path, "maximum", params, f"must be <= {limit}")]
        if "minimum" in schema and data < schema["minimum"]:
            limit = schema["minimum"]
            params = {"comparison": ">=", "limit": limit}
            return [_problem(at, path, "minimum", params, f"must be >= {limit}")]
    if kind == "string":
        if "maxLength" in schema and len(data) > schema["maxLength"]:
            limit = schema["maxLength"]
            message = f"must NOT have more than {limit} characters"
            return [_problem(at, path, "maxLength", {"limit": limit}, message)]
        if "minLength" in schema and len(data) < schema["minLength"]:
            limit = schema["minLength"]
            message = f"must NOT have fewer than {limit} characters"
            return [_problem(at, path, "minLength", {"limit": limit}, message)]
        if "pattern" in schema and not re.search(schema["pattern"], data):
            pattern = schema["pattern"]
            message = f'must match pattern "{pattern}"'
            return [_problem(at, path, "pattern", {"pattern": pattern}, message)]
        if schema.get("format") == "uri" and not _URI.fullmatch(data):
            return [_problem(at, path, "format", {"format": "uri"}, 'must match format "uri"')]
    if kind == "array" and "items" in schema:
        for n, item in enumerate(data):
            problems = schema_errors(schema["items"], item, f"{at}/{n}", f"{path}/items")
            if problems:
                return problems
    if kind == "object":
        for name in schema.get("required", ()):
            if name not in data:
                params = {"missingProperty": name}
                message = f"must have required property '{name}'"
                return [_problem(at, path, "required", params, message)]
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        if extra is False:
            for name in data:
                if name not in properties:
                    params = {"additionalProperty": name}
                    message = "must NOT have additional properties"
                    return [_problem(at, path, "additionalProperties", params, message)]
        elif isinstance(extra, dict):
            for name in data:
                if name not in properties:
                    where = f"{at}/{_pointer(name)}"
                    problems = schema_errors(
                        extra, data[name], where, f"{path}/additionalProperties"
                    )
                    if problems:
                        return problems
        for name, sub in properties.items():
            if name in data:
                where = f"{at}/{_pointer(name)}"
                problems = schema_errors(sub, data[name], where, f"{path}/properties/{name}")
                if problems:
                    return problems
    return []


def _pointer(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


class LivepeerSimulator(Simulator):
    """Livepeer Studio's task and asset APIs, faithful to status codes, shapes and lifecycle."""

    vendor = "livepeer"
    base_path = "/api"

    def __init__(
        self,
        *,
        api_key: str | None = None,
        other_api_key: str | None = None,
        waiting_s: float = 1.0,
        running_s: float = 4.0,
        backoff_s: tuple[float, float] = (30.0, 180.0),
        max_active: int = 100,
        sdk_safe_outputs: bool = True,
        implicit_streams: bool = True,
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.rng = random.Random(kw.get("seed", 0))
        self.api_key = api_key or f"lp-sim-{self.rng.getrandbits(64):016x}"
        self.other_api_key = other_api_key or f"lp-other-{self.rng.getrandbits(64):016x}"
        self.users = {self.api_key: "user-1", self.other_api_key: "user-2"}
        self.project = str(self._uuid())
        self.waiting_ms = int(waiting_s * 1000)
        self.running_ms = int(running_s * 1000)
        self.backoff_ms = tuple(int(b * 1000) for b in backoff_s)
        self.max_active = max_active
        self.sdk_safe_outputs = sdk_safe_outputs
        self.tasks: dict[str, _Task] = {}
        self.order: list[str] = []  # creation order
        self.assets: dict[str, dict[str, Any]] = {}
        self.deleted_assets: set[str] = set()
        self.uploads: dict[str, str] = {}  # direct-upload token -> task id
        self.tus: dict[str, _Upload] = {}  # tus upload id -> upload
        self.webhook_id = str(self._uuid())
        # A clip of a playback id no stream has makes the stream (live, with a session) first,
        # so a pipeline can clip without creating one; False: 404 "Content not found".
        self.implicit_streams = implicit_streams
        self.streams: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}

    # -- framework hooks -----------------------------------------------------------------------

    def routes(self) -> Iterable[Rule]:
        return [
            Rule("/task", endpoint="list_tasks", methods=["GET"]),
            Rule("/task/<task_id>", endpoint="get_task", methods=["GET"]),
            Rule("/task/<task_id>/retry", endpoint="retry_task", methods=["POST"]),
            Rule("/asset", endpoint="list_assets", methods=["GET"]),
            Rule("/asset/request-upload", endpoint="request_upload", methods=["POST"]),
            Rule("/asset/upload/url", endpoint="upload_url", methods=["POST"]),
            Rule("/asset/upload/direct", endpoint="direct_upload", methods=["PUT"]),
            Rule("/asset/upload/tus", endpoint="tus_create", methods=["POST"]),
            Rule("/asset/upload/tus/<upload_id>", endpoint="tus_head", methods=["HEAD"]),
            Rule("/asset/upload/tus/<upload_id>", endpoint="tus_patch", methods=["PATCH"]),
            Rule("/asset/<asset_id>", endpoint="get_asset", methods=["GET"]),
            Rule("/asset/<asset_id>", endpoint="update_asset", methods=["PATCH"]),
            Rule("/asset/<asset_id>", endpoint="delete_asset", methods=["DELETE"]),
            Rule("/transcode", endpoint="transcode", methods=["POST"]),
            Rule("/clip", endpoint="clip", methods=["POST"]),
            Rule("/stream", endpoint="create_stream", methods=["POST"]),
            Rule("/stream/<stream_id>", endpoint="get_stream", methods=["GET"]),
            Rule("/stream/<stream_id>/clips", endpoint="stream_clips", methods=["GET"]),
            Rule("/session/<session_id>", endpoint="get_session", methods=["GET"]),
            Rule("/session/<session_id>/clips", endpoint="session_clips", methods=["GET"]),
        ]

    def error(self, status: int, message: str, headers: Any = None) -> Response:
        return self.json({"errors": [message]}, status, headers)

    def handle(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            # The cors package ends every OPTIONS request as a preflight, before any route
            # or credential check: 204, no body (middleware/auth.ts authenticateWithCors).
            return Response(status=204, headers={"Access-Control-Allow-Methods": _CORS_METHODS})
        return super().handle(request)

    def method_not_allowed(self, allowed: Iterable[str]) -> Response:
        # Express has no 405: a method no route takes falls through to the API router's
        # last handler, ``throw new NotFoundError("not found")`` (app-router.ts).
        return self.error(404, "not found")

    def client_options(self, url: str) -> dict[str, Any]:
        return {"base_url": url, "api_key": self.api_key}

    def secrets(self) -> list[str]:
        return [self.api_key, self.other_api_key]

    # -- helpers -----------------------------------------------------------------------------

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def _user(self, request: Request) -> str:
        header = request.headers.get("Authorization")
        if not header:
            raise Answer(self.error(401, "request is not authenticated"))
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer":
            raise Answer(self.error(401, f"unsupported authorization header scheme: {scheme}"))
        user = self.users.get(value.strip())
        if user is None:
            raise Answer(self.error(401, f"no token {value.strip()} found"))
        if "projectId" in request.args:
            raise Answer(self.error(400, "projectId as query param not supported"))
        return user

    def _payload(self, request: Request, schema: dict[str, Any]) -> Any:
        """The JSON body, held to ``schema`` (422 with Ajv's errors when it fails).

        As the server's JSON parser (body-parser, strict): a body that is not
        ``application/json`` is read as ``{}``; JSON that is neither an object nor an array is
        a 400 worded as Node 18 words it. An array passes a schema that declares no type
        (new-asset-payload, new-asset-from-url-payload, transcode-payload), as it does on
        the server, and its handler then meets it.
        """
        body: Any = {}
        data = request.get_data(cache=True)
        if request.mimetype == "application/json" and data:
            if request.headers.get("Content-Encoding", "").lower() != "gzip":
                self._strict_json(data)
            body = self.body(request)
            if not isinstance(body, (dict, list)):  # a gzip body: its text was not checked
                raise Answer(self.error(400, "request body is not valid JSON"))
        problems = schema_errors(schema, body)
        if problems:
            raise Answer(self.json({"errors": problems}, 422))
        return body

    def _strict_json(self, data: bytes) -> None:
        """body-parser's strict mode: the first character must open an object or array."""
        text = data.decode("utf-8", "replace")
        first = _FIRST_CHAR.match(text)
        if first and first.group(1) not in "{[":
            at = first.start(1)
            raise Answer(
                self.error(400, f"Unexpected token {first.group(1)} in JSON at position {at}")
            )

    def _capacity(self, user: str) -> None:
        if len(self.tasks) < self.max_active:
            return  # fewer tasks than the quota in all: no need to look at each
        active = sum(
            1
            for t in self.tasks.values()
            if t.user == user and self.status(t)["phase"] in ("pending", "waiting", "running")
        )
        if active >= self.max_active:
            raise Answer(
                self.error(429, f"user {user} has reached the maximum number of pending tasks")
            )

    @staticmethod
    def _plan(source: str) -> list[str]:
        if "fail-always" in source:
            return ["retriable"] * (MAX_RETRIES + 1)
        if "fail-retry" in source:
            return ["retriable", "ok"]
        if "fail-fatal" in source:
            return ["fatal"]
        if "stuck" in source:
            return ["stuck"]
        return ["ok"]

    def _new_task(
        self, user: str, kind: str, params: dict[str, Any], source: str, pending: bool = False
    ) -> _Task:
        now = self.now_ms()
        task = _Task(
            str(self._uuid()), kind, user, now, params, self._plan(source), None if pending else now
        )
        self.tasks[task.id] = task
        self.order.append(task.id)
        return task

    def _new_asset(
        self, user: str, body: dict[str, Any], source: dict[str, Any], task: _Task
    ) -> dict[str, Any]:
        asset_id = str(self._uuid())
        asset: dict[str, Any] = {
            "id": asset_id,
            "name": body.get("name"),
            "source": source,
            "playbackId": f"{self.rng.getrandbits(48):012x}",
            "userId": user,
            "projectId": self.project,
            "createdAt": self.now_ms(),
        }
        for key in ("profiles", "staticMp4", "playbackPolicy"):
            if body.get(key) is not None:
                asset[key] = body[key]
        if body.get("creatorId") is not None:
            asset["creatorId"] = _creator_id(body["creatorId"])
        storage = _storage_state(body.get("storage"))
        if storage is not None:
            asset["storage"] = storage
        if source["type"] == "clip" and asset.get("name") is None:
            asset["name"] = f"clip-{asset['playbackId']}"
        if asset.get("name") is None:
            del asset["name"]  # undefined on the server: left out of the JSON
        self.assets[asset_id] = asset
        task.output_asset = asset_id
        asset["_task"] = task.id
        return asset

    def _asset_checks(self, body: dict[str, Any], base64_message: str) -> None:
        """What the server checks in an asset payload after the schema, in its order."""
        encryption = body.get("encryption") or {}
        key = encryption.get("encryptedKey")
        if key and not _canonical_base64(key):
            raise Answer(self.error(422, base64_message))
        if body.get("objectStoreId"):
            # The simulator has no object stores: the server's lookup throws, unhandled.
            raise Answer(self.error(500, "Internal server error: Error"))
        if isinstance(body.get("profiles"), list) and not body["profiles"]:
            raise Answer(self.error(400, "assets must have at least one profile"))
        policy = body.get("playbackPolicy")
        if isinstance(policy, dict) and policy.get("type") == "webhook":
            webhook = policy.get("webhookId", "undefined")
            raise Answer(self.error(400, f"webhook {webhook} not found"))  # no webhooks here
        if key and not policy:
            raise Answer(self.error(400, "a playbackPolicy is required when using encryption"))

    @staticmethod
    def _upload_params(body: dict[str, Any], url: str | None) -> dict[str, Any]:
        """``params.upload`` as the server writes it (the encryption key already gone)."""
        params: dict[str, Any] = {} if url is None else {"url": url}
        if body.get("c2pa") is not None:
            params["c2pa"] = body["c2pa"]
        if body.get("encryption"):
            params["encryption"] = _encryption_without_key()
        params["thumbnails"] = True
        if body.get("profiles"):
            params["profiles"] = body["profiles"]
        if body.get("targetSegmentSizeSecs") is not None:
            params["targetSegmentSizeSecs"] = body["targetSegmentSizeSecs"]
        return params

    # -- the lifecycle, computed from the clock ----------------------------------------------

    def segments(self, task: _Task) -> list[tuple[int, dict[str, Any]]]:
        """Every status the task has had, as (start ms, status object), oldest first."""
        out: list[tuple[int, dict[str, Any]]] = [(task.created, {"phase": "pending"})]
        if task.started is None:
            return out
        t = task.started
        for attempt, outcome in enumerate(task.plan):
            waiting = {"phase": "waiting", "retries": attempt}
            if attempt and out[-1][1].get("errorMessage"):
                t += self.backoff_ms[min(attempt - 1, len(self.backoff_ms) - 1)]
            out.append((t, waiting))
            if outcome == "stuck":
                break
            t += self.waiting_ms
            out.append((t, {"phase": "running", "retries": attempt}))
            t += self.running_ms
            if outcome == "ok":
                out.append((t, {"phase": "completed"}))
            elif outcome == "retriable" and attempt < MAX_RETRIES:
                out.append(
                    (t, {"phase": "waiting", "retries": attempt + 1, "errorMessage": RETRIABLE})
                )
                continue
            else:
                message = FATAL if outcome == "fatal" else RETRIABLE
                out.append((t, {"phase": "failed", "retries": attempt, "errorMessage": message}))
            break
        if task.failed_at is not None:
            at, message = task.failed_at
            kept = [s for s in out if s[0] <= at]
            retries = kept[-1][1].get("retries", 0)
            out = [*kept, (at, {"phase": "failed", "retries": retries, "errorMessage": message})]
        if task.forced is not None:
            at, forced = task.forced
            out = [*(s for s in out if s[0] < at), (at, forced)]
        return out

    def status(self, task: _Task, now: int | None = None) -> dict[str, Any]:
        """The task's ``status`` object at ``now``."""
        now = self.now_ms() if now is None else now
        start, current = task.created, {"phase": "pending"}
        for at, status in self.segments(task):
            if at > now:
                break
            start, current = at, status
        status = {"phase": current["phase"], "updatedAt": start}
        if current["phase"] == "running":
            elapsed = now - start
            status["updatedAt"] = start + elapsed // 1000 * 1000  # a progress report a second
            status["progress"] = round(min(0.99, elapsed / max(self.running_ms, 1)), 3)
        for key in ("retries", "errorMessage"):
            if key in current and current["phase"] != "completed":
                status[key] = current[key]
        return dict(
            sorted(
                status.items(),
                key=lambda kv: (
                    ("phase", "updatedAt").index(kv[0]) if kv[0] in ("phase", "updatedAt") else 2
                ),
            )
        )

    def view(self, task: _Task, now: int | None = None) -> dict[str, Any]:
        """The task as ``GET /task/{id}`` shows it."""
        status = self.status(task, now)
        body: dict[str, Any] = {"id": task.id, "type": task.type, "createdAt": task.created}
        if task.started is not None:
            body["scheduledAt"] = task.started
        if task.input_asset:
            body["inputAssetId"] = task.input_asset
        if task.output_asset:
            body["outputAssetId"] = task.output_asset
        body["projectId"] = self.project
        body["userId"] = task.user
        body["params"] = task.params
        body["status"] = status
        if status["phase"] == "completed":
            body["output"] = self._output(task)
        return body

    def _output(self, task: _Task) -> dict[str, Any]:
        if task.type == "transcode-file":
            params = task.params.get("transcode-file") or {}
            outputs = params.get("outputs") or {}
            out: dict[str, Any] = {"baseUrl": (params.get("storage") or {}).get("url", "")}
            if "hls" in outputs:
                out["hls"] = {"path": f"{outputs['hls']['path'].rstrip('/')}/index.m3u8"}
            if "mp4" in outputs:
                out["mp4"] = [{"path": f"{outputs['mp4']['path'].rstrip('/')}/static720p0.mp4"}]
            return {"transcodeFile": out}
        if task.type == "export":
            cid, metadata = _cid(task.id, "video"), _cid(task.id, "metadata")
            return {
                "export": {
                    "ipfs": {
                        "videoFileCid": cid,
                        "videoFileUrl": f"ipfs://{cid}",
                        "videoFileGatewayUrl": IPFS_GATEWAY + cid,
                        "nftMetadataCid": metadata,
                        "nftMetadataUrl": f"ipfs://{metadata}",
                        "nftMetadataGatewayUrl": IPFS_GATEWAY + metadata,
                    }
                }
            }
        spec = self._asset_spec(task)
        if self.sdk_safe_outputs:
            asset = self.assets.get(task.output_asset or "", {})
            spec = {"id": asset.get("id"), "source": asset.get("source"), **spec}
        return {"upload" if task.type == "upload" else "clip": {"assetSpec": spec}}

    def _asset_spec(self, task: _Task) -> dict[str, Any]:
        """What the worker reports about the file it made (the same on every read)."""
        asset = self.assets.get(task.output_asset or "", {})
        return {
            "name": asset.get("name", "output"),
            "type": "video",
            "size": 1_048_576,
            "hash": [{"hash": hashlib.sha256(task.id.encode()).hexdigest(), "algorithm": "sha256"}],
            "videoSpec": {"format": "mp4", "duration": 60.0},
        }

    def asset_view(self, asset: dict[str, Any]) -> dict[str, Any]:
        body = {
            k: v for k, v in asset.items() if not k.startswith("_") and k not in _ASSET_WRITE_ONLY
        }
        task = self.tasks.get(asset.get("_task", ""))
        status: dict[str, Any] = {"phase": "waiting", "updatedAt": asset["createdAt"]}
        if task is not None:
            current = self.status(task)
            phase = {"running": "processing", "completed": "ready", "failed": "failed"}.get(
                current["phase"], "uploading" if current["phase"] == "pending" else "waiting"
            )
            status = {"phase": phase, "updatedAt": current["updatedAt"]}
            if phase == "processing" and "progress" in current:
                status["progress"] = current["progress"]
            if phase == "failed" and "errorMessage" in current:
                status["errorMessage"] = current["errorMessage"]
            if phase == "ready":
                body.update({k: v for k, v in self._asset_spec(task).items() if k != "name"})
        if asset["id"] in self.deleted_assets:
            status = {"phase": "deleting", "updatedAt": asset.get("deletedAt", status["updatedAt"])}
        body["status"] = status
        storage = self._storage_view(asset)
        if storage is not None:
            body["storage"] = storage
        return body

    def _storage_view(self, asset: dict[str, Any]) -> dict[str, Any] | None:
        """``asset.storage`` with its IPFS export state, as the export tasks have left it."""
        exports: list[str] = asset.get("_exports", [])
        storage = asset.get("storage")
        if not exports:
            return storage if isinstance(storage, dict) else None
        tasks = [self.tasks[i] for i in exports]
        latest = tasks[-1]
        done = [t for t in tasks[:-1] if self.status(t)["phase"] == "completed"]
        previous = done[-1] if done else None
        ipfs: dict[str, Any] = {"spec": latest.params["export"]["ipfs"]}
        if previous is not None:
            ipfs = {"spec": previous.params["export"]["ipfs"], **_ipfs_files(previous.id)}
        current = self.status(latest)
        kept: dict[str, str] = {"last": previous.id} if previous else {}
        if current["phase"] == "completed":
            files = {**_ipfs_files(latest.id), "updatedAt": current["updatedAt"]}
            ipfs = {"spec": latest.params["export"]["ipfs"], **files}
            state: dict[str, Any] = {"phase": "ready", "tasks": {"last": latest.id}}
        elif current["phase"] == "failed":
            # The spec goes back to the last exported one; with none, the new spec stays.
            state = {
                "phase": "reverted" if previous else "failed",
                "errorMessage": current.get("errorMessage", RETRIABLE),
                "tasks": {**kept, "failed": latest.id},
            }
        else:
            ipfs["spec"] = latest.params["export"]["ipfs"]
            tasks_now = {**kept, "pending": latest.id}
            state = {"phase": "waiting", "tasks": tasks_now}
            if current["phase"] == "running":  # the worker's progress reports
                state = {"phase": "processing", "progress": current["progress"], "tasks": tasks_now}
        return {**(storage if isinstance(storage, dict) else {}), "ipfs": ipfs, "status": state}

    def _live_asset(self, asset_id: str) -> dict[str, Any] | None:
        asset = self.assets.get(asset_id)
        return None if asset is None or asset_id in self.deleted_assets else asset

    # -- tasks -------------------------------------------------------------------------------

    def on_get_task(self, request: Request, task_id: str) -> Response:
        user = self._user(request)
        task = self.tasks.get(task_id)
        if task is None:
            return self.error(404, "not found")
        if task.user != user:
            return self.error(403, "user can only request information on their own tasks")
        return self.json(self.view(task))

    def on_retry_task(self, request: Request, task_id: str) -> Response:
        user = self._user(request)
        task = self.tasks.get(task_id)
        if task is None:
            return self.error(404, "task not found")
        if task.user != user:
            return self.error(403, "users may only retry their own tasks")
        if self.status(task)["phase"] not in ("failed", "cancelled"):
            return self.error(400, "task is not in a retryable state")
        task.started = self.now_ms()
        task.plan = ["ok"]
        task.failed_at = None
        task.forced = None
        task.manual_retries += 1
        return self.json({"id": task.id})

    def on_list_tasks(self, request: Request) -> Response:
        user = self._user(request)
        now = self.now_ms()
        rows = [self.tasks[i] for i in self.order if self.tasks[i].user == user]

        def value(task: _Task, field: str) -> Any:
            return self._task_field(task, field, now)

        return self._find(
            request,
            rows,
            _TASK_FIELDS,
            value,
            lambda t: self.view(t, now),
            [],
            link_short_page=True,
        )

    def _task_field(self, task: _Task, field: str, now: int) -> Any:
        if field == "updatedAt":
            return self.status(task, now)["updatedAt"]
        if field == "createdAt":
            return task.created
        return {
            "id": task.id,
            "type": task.type,
            "userId": task.user,
            "projectId": self.project,
            "inputAssetId": task.input_asset,
            "outputAssetId": task.output_asset,
        }.get(field)

    # -- listing: filters, order, offset paging, the Link header ---------------------------

    def _find(
        self,
        request: Request,
        rows: list[Any],
        fields: dict[str, str],
        value: Callable[[Any, str], Any],
        show: Callable[[Any], dict[str, Any]],
        extra_filters: list[tuple[str, Any]],
        *,
        link_short_page: bool,
    ) -> Response:
        """One page of ``rows`` as the server's list endpoints answer it.

        ``limit`` reads as JavaScript's ``parseInt`` does (``2abc`` is 2; not a number or
        below 1 is 20; at most 1000). An ``order`` part that is not ``<known field>-<dir>`` is
        ignored, and with none left the order is by id. ``filters`` is a JSON array of
        ``{id, value}``: a missing ``value`` or an unknown field is a 400. The task list links
        every non-empty page (a short one to ``cursor=undefined``); the asset list links only
        a full page.
        """
        args = request.args
        limit = _js_int(args.get("limit", ""))
        limit = 20 if limit is None or limit < 1 else min(limit, 1000)
        for field, wanted in [*self._filters(args.get("filters"), fields), *extra_filters]:
            rows = [r for r in rows if _matches(fields[field], value(r, field), wanted)]
        order = args.get("order") or "updatedAt-true,createdAt-true"
        rows = _ordered(rows, _order_keys(order, fields), fields, value)
        cursor = args.get("cursor") or ""
        offset = 0
        if "skip" in cursor:
            skipped = cursor.replace("skip", "", 1)
            if not skipped.isdigit():
                return self.error(400, "invalid cursor")
            offset = int(skipped)
        elif cursor:
            rows = [r for r in rows if str(value(r, "id")) > cursor]
        page = rows[offset : offset + limit]
        next_cursor = f"skip{offset + limit}" if len(page) == limit else None
        headers: dict[str, str] = {}
        if page and (next_cursor or link_short_page):
            headers["Link"] = f'<{_next_href(request, next_cursor or "undefined")}>; rel="next"'
        if page and args.get("count"):
            headers["X-Total-Count"] = str(len(rows))
        return self.json([show(r) for r in page], 200, headers)

    def _filters(self, raw: str | None, fields: dict[str, str]) -> list[tuple[str, Any]]:
        """``filters`` parsed as the server's ``parseFilters`` does (400 when it cannot)."""
        if not raw:
            return []

        def refuse(reason: str) -> Answer:
            return Answer(self.error(400, f"error parsing filters: {reason}"))

        try:
            text = _decode_uri_component(raw)
        except ValueError:
            raise refuse("URIError: URI malformed") from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise refuse(f"SyntaxError: {exc}") from None
        if not isinstance(data, list):
            raise refuse("Error: must be an array")
        out: list[tuple[str, Any]] = []
        for item in data:
            if item is None:
                raise refuse("TypeError: Cannot read properties of null (reading 'id')")
            if not isinstance(item, (dict, list)):
                raise refuse(
                    f"TypeError: Cannot use 'in' operator to search for 'value' in {_js_str(item)}"
                )
            entry: dict[str, Any] = item if isinstance(item, dict) else {}
            field = _js_str(entry["id"]) if "id" in entry else "undefined"
            if "value" not in entry:
                raise refuse(f'Error: missing filter value for id "{field}"')
            if field not in fields:
                raise refuse(f'Error: unknown field: "{field}"')
            wanted = entry["value"]
            if fields[field] == "int" and isinstance(wanted, dict):
                for key in wanted:
                    if key not in ("gt", "gte", "lt", "lte"):
                        raise refuse(f'Error: unknown comparison: "{key}"')
            out.append((field, wanted))
        return out

    # -- assets ------------------------------------------------------------------------------

    def on_list_assets(self, request: Request) -> Response:
        user = self._user(request)
        rows = [
            self.assets[i]
            for i in self.assets
            if self.assets[i]["userId"] == user and i not in self.deleted_assets
        ]
        shown: dict[str, dict[str, Any]] = {}

        def view(asset: dict[str, Any]) -> dict[str, Any]:
            if asset["id"] not in shown:
                shown[asset["id"]] = self.asset_view(asset)
            return shown[asset["id"]]

        def value(asset: dict[str, Any], field: str) -> Any:
            return _asset_field(view(asset), field)

        # playbackId, sourceUrl and phase may also come as query parameters of their own.
        extra = [
            (field, _decode_uri_component(request.args[field]))
            for field in ("playbackId", "sourceUrl", "phase")
            if field in request.args
        ]
        cid = request.args.get("cid")
        if cid:
            rows = [
                a
                for a in rows
                if value(a, "cid") == cid or value(a, "sourceUrl") == f"ipfs://{cid}"
            ]
        return self._find(request, rows, _ASSET_FIELDS, value, view, extra, link_short_page=False)

    def on_get_asset(self, request: Request, asset_id: str) -> Response:
        user = self._user(request)
        asset = self._live_asset(asset_id)
        if asset is None:
            return self.error(404, "Asset not found")
        if asset["userId"] != user:
            return self.error(404, "not found")
        return self.json(self.asset_view(asset))

    def on_update_asset(self, request: Request, asset_id: str) -> Response:
        user = self._user(request)
        body = self._payload(request, ASSET_PATCH)
        asset = self.assets.get(asset_id)
        if asset is None or asset["userId"] != user:
            return self.error(404, "asset not found")
        if self.asset_view(asset)["status"]["phase"] != "ready":
            return self.error(422, "asset is not ready")
        spec_changed: dict[str, Any] | None = None
        storage = _storage_state(body.get("storage"))
        if storage is not None and "ipfs" in storage:
            new_spec = storage["ipfs"]["spec"]
            current = (self._storage_view(asset) or {}).get("ipfs", {}).get("spec")
            if not _same_json(new_spec, current):
                if not new_spec and new_spec != {}:
                    return self.error(400, "Cannot remove asset from IPFS")
                self._capacity(user)
                spec_changed = new_spec
        policy = body.get("playbackPolicy")
        if policy is not None:
            if _private(policy) != _private(asset.get("playbackPolicy")):
                return self.error(
                    422, "cannot update playback policy from private to public or vice versa"
                )
            if isinstance(policy, dict) and policy.get("type") == "webhook":
                return self.error(400, f"webhook {policy.get('webhookId', 'undefined')} not found")
        if spec_changed is not None:
            task = self._new_task(user, "export", {"export": {"ipfs": spec_changed}}, "")
            task.input_asset = asset_id
            asset.setdefault("_exports", []).append(task.id)
        if body.get("name") is not None:
            asset["name"] = body["name"]
        if policy is not None:
            asset["playbackPolicy"] = policy
        if body.get("creatorId") is not None:
            asset["creatorId"] = _creator_id(body["creatorId"])
        return self.json(self.asset_view(asset), 200)

    def on_delete_asset(self, request: Request, asset_id: str) -> Response:
        user = self._user(request)
        asset = self.assets.get(asset_id)
        if asset is None:
            return self.error(404, "Asset not found")
        if asset["userId"] != user:
            return self.error(403, "users may only delete their own assets")
        if asset_id in self.deleted_assets:
            return self.error(400, "asset is already deleted")
        self.deleted_assets.add(asset_id)
        asset["deletedAt"] = self.now_ms()
        task = self.tasks.get(asset.get("_task", ""))
        if task is not None and self.status(task)["phase"] in ("pending", "waiting", "running"):
            task.failed_at = (self.now_ms(), DELETED)
        return Response(status=204)

    def on_upload_url(self, request: Request) -> Response:
        user = self._user(request)
        body = self._payload(request, NEW_ASSET_FROM_URL)
        if not isinstance(body, dict):  # an array passed the typeless schema
            return self.error(422, 'Must provide a "url" field for the asset contents')
        self._asset_checks(body, '"encryptedKey" must be valid base64')
        url = body["url"]
        duplicate = self._duplicate_import(user, url)
        if duplicate is not None:
            asset, task = duplicate
            return self.json({"asset": self.asset_view(asset), "task": {"id": task.id}}, 200)
        self._capacity(user)
        task = self._new_task(user, "upload", {"upload": self._upload_params(body, url)}, url)
        source: dict[str, Any] = {"type": "url", "url": url}
        if body.get("encryption"):
            source["encryption"] = _encryption_without_key()
        asset = self._new_asset(user, body, source, task)
        return self.json({"asset": self.asset_view(asset), "task": {"id": task.id}}, 201)

    def _duplicate_import(self, user: str, url: str) -> tuple[dict[str, Any], _Task] | None:
        """The earlier import a repeated ``url`` is answered with, by studio's
        ``findDuplicateUrlUpload``: not deleted, the same user and project, imported from the
        same URL, still ``waiting`` or ``processing``, created in the last 15 minutes; the
        first by id (``ORDER BY id``), and its task."""
        since = self.now_ms() - DUPLICATE_IMPORT_MS
        for asset_id in sorted(self.assets):
            asset = self.assets[asset_id]
            if (
                asset_id in self.deleted_assets
                or asset["userId"] != user
                or asset.get("projectId") != self.project
                or asset["source"].get("type") != "url"
                or asset["source"].get("url") != url
                or asset["createdAt"] <= since
                or self.asset_view(asset)["status"]["phase"] not in ("waiting", "processing")
            ):
                continue
            task = self.tasks.get(asset.get("_task", ""))
            if task is not None:  # an asset without its task: the server makes a new one
                return asset, task
        return None

    def on_request_upload(self, request: Request) -> Response:
        user = self._user(request)
        body = self._payload(request, NEW_ASSET)
        if not isinstance(body, dict):  # an array passed the typeless schema: no fields at all
            body = {}
        self._asset_checks(body, "encryptedKey must be valid base64")
        self._capacity(user)
        params = {"upload": self._upload_params(body, None)}
        task = self._new_task(user, "upload", params, body.get("name") or "", pending=True)
        source: dict[str, Any] = {"type": "directUpload"}
        if body.get("encryption"):
            source["encryption"] = _encryption_without_key()
        asset = self._new_asset(user, body, source, task)
        token = f"{self.rng.getrandbits(128):032x}"
        self.uploads[token] = task.id
        base = f"{self.root_url}{self.base_path}/asset/upload"
        return self.json(
            {
                "url": f"{base}/direct?token={token}",
                "tusEndpoint": f"{base}/tus?token={token}",
                "asset": self.asset_view(asset),
                "task": {"id": task.id},
            },
            200,
        )

    def _pending_upload(self, token: str | None) -> _Task:
        """The task a direct or tus upload token stands for, while it still awaits its bytes."""
        if not token:
            raise Answer(
                self.error(
                    403, "Invalid signed upload URL: JsonWebTokenError: jwt must be provided"
                )
            )
        task_id = self.uploads.get(token)
        if task_id is None:
            raise Answer(
                self.error(403, "Invalid signed upload URL: JsonWebTokenError: jwt malformed")
            )
        task = self.tasks[task_id]
        if task.output_asset not in self.assets or task.output_asset in self.deleted_assets:
            raise Answer(self.error(404, "asset not found"))
        if task.started is not None:
            raise Answer(self.error(422, "asset has already been uploaded"))
        return task

    def on_direct_upload(self, request: Request) -> Response:
        task = self._pending_upload(request.args.get("token"))
        request.get_data()  # the file; the object store would keep it
        task.started = self.now_ms()
        return Response(status=200)

    # -- resumable uploads: the tus 1.0.0 protocol at the request-upload's tusEndpoint -------

    def _tus_answer(self, status: int, text: str = "", headers: Any = None) -> Response:
        response = Response(text, status, headers=dict(headers or {}), content_type="text/plain")
        response.headers["Tus-Resumable"] = TUS_VERSION
        return response

    def _tus_version(self, request: Request) -> None:
        if request.headers.get("Tus-Resumable") != TUS_VERSION:
            raise Answer(
                self._tus_answer(412, "Unsupported version\n", {"Tus-Version": TUS_VERSION})
            )

    def on_tus_create(self, request: Request) -> Response:
        token = request.args.get("token")
        if not token:
            return self.error(401, "Missing uploadToken metadata from /request-upload API")
        task = self._pending_upload(token)
        self._tus_version(request)
        length = request.headers.get("Upload-Length", "")
        if not length.isdigit():
            return self._tus_answer(400, "Upload-Length or Upload-Defer-Length header required\n")
        upload_id = f"{self.rng.getrandbits(128):032x}"
        upload = _Upload(task.id, int(length))
        self.tus[upload_id] = upload
        headers = {"Location": f"{self.root_url}{self.base_path}/asset/upload/tus/{upload_id}"}
        data = request.get_data()
        if data and request.mimetype == "application/offset+octet-stream":  # creation-with-upload
            if len(data) > upload.length:
                return self._tus_answer(413, "upload's size exceeded\n")
            upload.offset = len(data)
            headers["Upload-Offset"] = str(upload.offset)
        self._tus_finish(upload)
        return self._tus_answer(201, "", headers)

    def on_tus_head(self, request: Request, upload_id: str) -> Response:
        self._tus_version(request)
        upload = self.tus.get(upload_id)
        if upload is None:
            return self._tus_answer(404)
        headers = {
            "Upload-Offset": str(upload.offset),
            "Upload-Length": str(upload.length),
            "Cache-Control": "no-store",
        }
        return self._tus_answer(200, "", headers)

    def on_tus_patch(self, request: Request, upload_id: str) -> Response:
        self._tus_version(request)
        upload = self.tus.get(upload_id)
        if upload is None:
            return self._tus_answer(404, "The file for this url was not found\n")
        if request.mimetype != "application/offset+octet-stream":
            return self._tus_answer(415, "Content-Type must be application/offset+octet-stream\n")
        offset = request.headers.get("Upload-Offset", "")
        if not offset.isdigit():
            return self._tus_answer(400, "Upload-Offset header required\n")
        if int(offset) != upload.offset:
            return self._tus_answer(409, "Upload-Offset conflict\n")
        data = request.get_data()
        if upload.offset + len(data) > upload.length:
            return self._tus_answer(413, "upload's size exceeded\n")
        upload.offset += len(data)
        self._tus_finish(upload)
        return self._tus_answer(204, "", {"Upload-Offset": str(upload.offset)})

    def _tus_finish(self, upload: _Upload) -> None:
        task = self.tasks[upload.task]
        if upload.offset == upload.length and task.started is None:
            task.started = self.now_ms()

    # -- transcode and clip ------------------------------------------------------------------

    def on_transcode(self, request: Request) -> Response:
        user = self._user(request)
        body = self._payload(request, TRANSCODE)
        self._capacity(user)
        if not isinstance(body, dict):  # an array passed the typeless schema
            # The handler reads ``params.input["url"]`` of it: a TypeError, unhandled.
            return self.error(500, "Internal server error: TypeError")
        source = body["input"]
        if "url" in source:
            input_url = mask_credentials(source["url"])
        else:
            input_url = self._object_store_url(source)
        storage = body["storage"]
        if storage["type"] == "web3.storage":
            storage_url = "w3s://***@/"  # the UCAN proof is the credential: never kept
        else:
            storage_url = self._object_store_url(storage)
        outputs = json.loads(json.dumps(body["outputs"]))
        for output in outputs.values():
            if not output["path"].startswith("/"):
                output["path"] = "/" + output["path"]
        params: dict[str, Any] = {
            "input": {"url": input_url},
            "storage": {"url": storage_url},
            "outputs": outputs,
        }
        for key in ("profiles", "targetSegmentSizeSecs", "creatorId", "c2pa"):
            if key in body:
                params[key] = body[key]
        task = self._new_task(user, "transcode-file", {"transcode-file": params}, input_url)
        first = self.view(task, task.created)
        first.pop("scheduledAt", None)
        first["status"] = {"phase": "pending", "updatedAt": task.created}
        return self.json(first, 200)

    def _object_store_url(self, storage: dict[str, Any]) -> str:
        """The server's ``toObjectStoreUrl``, kept masked; its refusals are unhandled (500)."""
        credentials = storage["credentials"]
        if not storage["bucket"] or not all(credentials.values()):
            raise Answer(self.error(500, "Internal server error: Error"))
        url = masked_object_store_url(storage)
        if url is None:  # an endpoint URL the server cannot parse
            raise Answer(self.error(500, "Internal server error: TypeError"))
        return url

    def on_clip(self, request: Request) -> Response:
        """``POST /clip``: a clip of a stream's session, checked in the server's order."""
        user = self._user(request)
        body = self._payload(request, CLIP)
        playback_id = body["playbackId"]
        stream = self._stream_by_playback_id(playback_id)
        if stream is None:
            if not self.implicit_streams:
                return self.error(404, "Content not found")
            stream = self._implicit_stream(user, playback_id, body.get("sessionId"))
        if stream["userId"] != user:
            return self.error(403, "You do not have permission to clip this stream")
        if body.get("sessionId"):
            session = self.sessions.get(body["sessionId"])
            if session is None:
                return self.error(404, "Session not found")
            if session["parentId"] != stream["id"]:
                return self.error(404, "The provided session id does not belong to this stream")
        else:
            session = self._last_session(stream["id"])
            if session is None:  # the server throws "Recording session not found", unhandled
                return self.error(500, "Internal server error: Error")
        end = body.get("endTime")
        if isinstance(end, (int, float)) and end <= body["startTime"]:
            return self.error(422, "endTime must occur after startTime")
        self._capacity(user)
        params = {
            "clipStrategy": {
                "playbackId": playback_id,
                "startTime": body["startTime"],
                **({"endTime": end} if end is not None else {}),
            },
            "sessionId": session["id"],
            "inputId": stream["id"],
        }
        task = self._new_task(user, "clip", {"clip": params}, str(playback_id))
        source = {"type": "clip", "playbackId": playback_id, "sessionId": session["id"]}
        asset = self._new_asset(user, {"name": body.get("name") or None}, source, task)
        return self.json({"task": {"id": task.id}, "asset": self.asset_view(asset)}, 200)

    # -- streams and sessions ------------------------------------------------------------------

    def on_create_stream(self, request: Request) -> Response:
        user = self._user(request)
        body = self._payload(request, NEW_STREAM)
        stream = self._new_stream(user, body)
        return self.json(self._stream_view(stream), 201)

    def on_get_stream(self, request: Request, stream_id: str) -> Response:
        user = self._user(request)
        stream = self.streams.get(stream_id)
        if stream is None or stream["userId"] != user:
            return self.error(404, "not found")
        return self.json(self._stream_view(stream))

    def on_stream_clips(self, request: Request, stream_id: str) -> Response:
        user = self._user(request)
        stream = self.streams.get(stream_id) or self._stream_by_playback_id(stream_id)
        if stream is None:
            return self.error(404, "Stream not found")
        sessions = {i for i, s in self.sessions.items() if s["parentId"] == stream["id"]}
        if not sessions:
            return self.json([])
        return self._clips(request, user, sessions)

    def on_get_session(self, request: Request, session_id: str) -> Response:
        user = self._user(request)
        session = self.sessions.get(session_id)
        if session is None or session["userId"] != user:
            return self.error(404, "not found")  # "do not reveal that session exists"
        return self.json({k: v for k, v in session.items() if k not in _SESSION_HIDDEN})

    def on_session_clips(self, request: Request, session_id: str) -> Response:
        user = self._user(request)
        if session_id not in self.sessions:
            return self.error(404, "Session not found")
        return self._clips(request, user, {session_id})

    def _clips(self, request: Request, user: str, sessions: set[str]) -> Response:
        """``getClips``: the caller's clip assets of these sessions, listed as assets are."""
        rows = [
            a
            for i, a in self.assets.items()
            if a["userId"] == user
            and i not in self.deleted_assets
            and (a.get("source") or {}).get("type") == "clip"
            and (a.get("source") or {}).get("sessionId") in sessions
        ]

        def value(asset: dict[str, Any], field: str) -> Any:
            return _asset_field(self.asset_view(asset), field)

        return self._find(
            request, rows, _CLIP_FIELDS, value, self.asset_view, [], link_short_page=False
        )

    def _stream_by_playback_id(self, playback_id: str) -> dict[str, Any] | None:
        return next((s for s in self.streams.values() if s["playbackId"] == playback_id), None)

    def _last_session(self, stream_id: str) -> dict[str, Any] | None:
        """``getLastSession``: the stream's most recently created session."""
        mine = [s for s in self.sessions.values() if s["parentId"] == stream_id]
        return max(mine, key=lambda s: s["createdAt"]) if mine else None

    def _key(self, shard: str) -> str:
        """``generateUniqueKey``: 16 base-36 characters in fours, the first four ``shard``'s."""
        chars = shard[:4] + "".join(self.rng.choice(_BASE36) for _ in range(12))
        return "-".join(chars[n : n + 4] for n in range(0, 16, 4))

    def _new_stream(self, user: str, body: dict[str, Any]) -> dict[str, Any]:
        """``handleCreateStream``: the checks after the schema, then the stream as stored."""
        if body.get("objectStoreId"):  # the simulator has no object stores
            message = f"object store {body['objectStoreId']} not found or disabled"
            raise Answer(self.error(400, message))
        recording = body.get("recordingSpec")
        if recording is not None:
            if not body.get("record"):
                raise Answer(self.error(400, "recordingSpec is only supported with record=true"))
            if not recording.get("profiles"):
                recording = {k: v for k, v in recording.items() if k != "profiles"}
        policy = body.get("playbackPolicy") or {}
        if (
            policy.get("type") == "lit_signing_condition"
            or policy.get("resourceId")
            or policy.get("unifiedAccessControlConditions")
        ):
            raise Answer(
                self.error(
                    400,
                    'playbackPolicy type "lit_signing_condition" with a resourceId or '
                    "unifiedAccessControlConditions is not supported for streams",
                )
            )
        if policy.get("type") == "webhook":  # no webhooks here
            raise Answer(self.error(400, f"webhook {policy.get('webhookId')} not found"))
        # ``payload.profiles || default``: null means the default; [] stays empty (JS truthy).
        profiles = body["profiles"] if body.get("profiles") is not None else None
        if profiles is None:
            profiles = json.loads(json.dumps(DEFAULT_STREAM_PROFILES))
        multistream = {"targets": self._targets(profiles, body.get("multistream") or {})}
        tags = body.get("userTags")
        if tags is not None and len(json.dumps(tags, separators=(",", ":"))) > 2048:
            raise Answer(
                self.error(400, "userTags object is too large. Max size is 2048 characters")
            )
        stream_id = str(self._uuid())
        stream_key = self._key(stream_id)
        stream: dict[str, Any] = {
            **{k: v for k, v in body.items() if k != "objectStoreId"},
            "kind": "stream",
            "profiles": profiles,
            "userId": user,
            "renditions": {},
            "id": stream_id,
            "projectId": self.project,
            "createdAt": self.now_ms(),
            "streamKey": stream_key,
            "playbackId": self._key(stream_id).replace("-", ""),
            "isActive": False,
            "lastSeen": 0,
            "multistream": multistream,
        }
        if recording is not None:
            stream["recordingSpec"] = recording
        if "creatorId" in body:
            stream["creatorId"] = _creator_id(body["creatorId"])
        self.streams[stream_id] = stream
        return stream

    def _targets(self, profiles: list[dict[str, Any]], multistream: dict[str, Any]) -> list[Any]:
        """``validateMultistreamOpts``: each target names a profile and one target (400s)."""
        names: list[str] = []
        for profile in profiles:
            name = profile.get("name")
            if not name:
                continue
            if name == "source":
                raise Answer(self.error(400, 'profile cannot be named "source"'))
            if name in names:
                raise Answer(self.error(400, f'duplicate profile name "{name}"'))
            names.append(name)
        names.append("source")
        targets = []
        for target in multistream.get("targets") or []:
            if target["profile"] not in names:
                available = json.dumps(names, separators=(",", ":"))
                message = (
                    f'multistream target profile not found: "{target["profile"]}". '
                    f"available: {available}"
                )
                raise Answer(self.error(400, message))
            if bool(target.get("spec")) == bool(target.get("id")):
                raise Answer(
                    self.error(400, 'multistream target must have either an "id" or a "spec"')
                )
            if target.get("id"):  # the simulator keeps no multistream targets
                raise Answer(self.error(400, f'multistream target not found: "{target["id"]}"'))
            created = {k: v for k, v in target.items() if k != "spec"}
            targets.append({**created, "id": str(self._uuid())})
        if len({f"{t['profile']} -> {t['id']}" for t in targets}) != len(targets):
            raise Answer(self.error(400, "multistream target {id,profile} must be unique"))
        return targets

    def _stream_view(self, stream: dict[str, Any]) -> dict[str, Any]:
        """``addDefaultFields(removePrivateFields(stream))``."""
        shown = {k: v for k, v in stream.items() if k not in _STREAM_HIDDEN}
        return {**_STREAM_DEFAULTS, **shown}

    def start_session(self, stream_id: str, *, name: str | None = None) -> str:
        """A broadcast to ``stream_id`` begins: its session (as the media server creates it).

        The real session comes from the ingest node (``POST /stream/{id}/stream``) once an
        encoder pushes to the stream key; this is that moment. The stream turns active.
        """
        stream = self.streams[stream_id]
        now = self.now_ms()
        session_id = str(stream["playbackId"])[:4] + str(self._uuid())[4:]
        record = stream.get("record")
        session: dict[str, Any] = {
            "id": session_id,
            "parentId": stream_id,
            "playbackId": stream["playbackId"],
            "userId": stream["userId"],
            "projectId": stream["projectId"],
            "kind": "session",
            "version": "v2",
            "name": name or stream["name"],
            "createdAt": now,
            "lastSeen": 0,
            "sourceSegments": 0,
            "transcodedSegments": 0,
            "sourceSegmentsDuration": 0,
            "transcodedSegmentsDuration": 0,
            "sourceBytes": 0,
            "transcodedBytes": 0,
            "ingestRate": 0,
            "outgoingRate": 0,
            "deleted": False,
            "profiles": stream["profiles"],
        }
        if record is not None:  # undefined on the stream: left out of the JSON
            session["record"] = record
        if stream.get("recordingSpec") is not None:
            session["recordingSpec"] = stream["recordingSpec"]
        if record:
            session["recordingStatus"] = "waiting"
        self.sessions[session_id] = session
        stream.update(isActive=True, lastSeen=now)
        return session_id

    def _implicit_stream(
        self, user: str, playback_id: str, session_id: str | None
    ) -> dict[str, Any]:
        """The live stream an unknown clip playback id stands for (``implicit_streams``)."""
        stream = self._new_stream(user, {"name": f"stream-{playback_id}"})
        stream["playbackId"] = playback_id
        made = self.start_session(stream["id"])
        if session_id:  # the clip names its session: that is the one that is live
            self.sessions[session_id] = {**self.sessions.pop(made), "id": session_id}
        return stream

    # -- for tests and demos -----------------------------------------------------------------

    def demo_spec(self) -> dict[str, Any]:
        return {
            "kind": "upload",
            "url": "https://media.example.com/big-buck-bunny.mp4",
            "name": "big-buck-bunny.mp4",
        }

    def bulk(self, count: int, *, user: str = "user-1", kind: str = "upload") -> list[str]:
        """Create ``count`` tasks at once, as if submitted just now (for load and benchmarks)."""
        ids = []
        for n in range(count):
            url = f"https://media.example.com/bulk-{n}.mp4"
            task = self._new_task(user, kind, {kind: {"url": url}}, url)
            ids.append(task.id)
        return ids

    def force_phase(self, task_id: str, phase: str, message: str | None = None) -> None:
        """Write a phase as an admin would (``cancelled`` is in the enum but no worker sets it)."""
        task = self.tasks[task_id]
        status: dict[str, Any] = {"phase": phase, "retries": 0}
        if message:
            status["errorMessage"] = message
        task.forced = (self.now_ms(), status)

    # -- webhooks -----------------------------------------------------------------------------

    def events(self, until: int | None = None) -> list[dict[str, Any]]:
        """Every task event up to ``until`` (default: now), in time order, as webhook bodies."""
        until = self.now_ms() if until is None else until
        out = []
        for task_id in self.order:
            task = self.tasks[task_id]
            for n, (at, status) in enumerate(self.segments(task)):
                if at > until:
                    break
                names = ["task.spawned"] if n == 0 else ["task.updated"]
                if status["phase"] == "completed":
                    names.append("task.completed")
                elif status["phase"] == "failed":
                    names.append("task.failed")
                for name in names:
                    event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{task.id}/{n}/{name}"))
                    snapshot = self.view(task, at)
                    payload: dict[str, Any] = {
                        "task": {"id": task.id, "type": task.type, "snapshot": snapshot}
                    }
                    if name in ("task.completed", "task.failed"):
                        payload = {"success": name == "task.completed", **payload}
                    out.append(
                        {
                            "id": event_id,
                            "webhookId": self.webhook_id,
                            "createdAt": task.created if n == 0 else at,
                            "event": name,
                            "payload": payload,
                        }
                    )
        return sorted(out, key=lambda e: e["createdAt"])

    def delivery(self, event: dict[str, Any], secret: str | None) -> tuple[bytes, dict[str, str]]:
        """One signed delivery of ``event``: the raw body and the headers, as Livepeer sends."""
        timestamp = self.now_ms()
        body = json.dumps({**event, "timestamp": timestamp}, separators=(",", ":")).encode()
        headers = {"content-type": "application/json", "user-agent": "livepeer.studio"}
        if secret:
            headers["Livepeer-Signature"] = sign(body, secret, timestamp)
        return body, headers

    def deliver(self, url: str, secret: str | None, since: int = 0) -> list[int]:
        """POST every event after index ``since`` to ``url``; return the HTTP statuses."""
        statuses = []
        for event in self.events()[since:]:
            body, headers = self.delivery(event, secret)
            statuses.append(requests.post(url, data=body, headers=headers, timeout=30).status_code)
        return statuses


# -- what the server's helpers do, in Python -----------------------------------------------------


def _js_int(text: str) -> int | None:
    """JavaScript's ``parseInt(text)``: leading digits (``2abc`` is 2), ``0x`` hex; else None."""
    match = re.match(r"\s*([+-]?)(?:0[xX]([0-9a-fA-F]+)|([0-9]+))", text)
    if match is None:
        return None
    sign, hexa, digits = match.groups()
    number = int(hexa, 16) if hexa else int(digits)
    return -number if sign == "-" else number


def _js_str(value: Any) -> str:
    """``String(value)`` in JavaScript, for the server's error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ",".join("" if v is None else _js_str(v) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return str(value)


def _decode_uri_component(text: str) -> str:
    """``decodeURIComponent``: ValueError on a stray ``%`` or bytes that are not UTF-8."""
    if re.search(r"%(?![0-9a-fA-F]{2})", text):
        raise ValueError("URI malformed")
    try:
        return unquote_to_bytes(text).decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("URI malformed") from None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _ilike(actual: str, pattern: str) -> bool:
    """SQL ``ILIKE``: ``%`` any run, ``_`` one character, case-blind."""
    parts = ("." if c == "_" else ".*" if c == "%" else re.escape(c) for c in pattern)
    return re.fullmatch("".join(parts), actual, re.IGNORECASE | re.DOTALL) is not None


def _matches(kind: str, actual: Any, wanted: Any) -> bool:
    """One ``filters`` entry against one row's value, as the server's SQL compares them."""
    if actual is None:
        return False
    if kind == "full-text":
        return _ilike(str(actual), f"%{_js_str(wanted)}%")
    if kind == "int":
        have = _number(actual)
        if isinstance(wanted, dict):
            ops: dict[str, Callable[[float, float], bool]] = {
                "gt": lambda a, b: a > b,
                "gte": lambda a, b: a >= b,
                "lt": lambda a, b: a < b,
                "lte": lambda a, b: a <= b,
            }
            limits = {k: _number(v) for k, v in wanted.items()}
            return have is not None and all(
                lim is not None and ops[k](have, lim) for k, lim in limits.items()
            )
        want = _number(wanted)
        return have is not None and want is not None and have == want
    if wanted is None or isinstance(wanted, (dict, list)):
        return False
    return _js_str(actual) == _js_str(wanted)


def _order_keys(order: str, fields: dict[str, str]) -> list[tuple[str, bool]]:
    """``parseOrder``: ``<field>-<true|false>`` parts; anything else is ignored; none: by id."""
    keys = []
    for part in order.split(","):
        bits = part.split("-")
        if len(bits) == 2 and bits[0] in fields:
            keys.append((bits[0], bits[1] == "true"))
    return keys or [("id", False)]


def _ordered(
    rows: list[Any],
    keys: list[tuple[str, bool]],
    fields: dict[str, str],
    value: Callable[[Any, str], Any],
) -> list[Any]:
    """Sorted as the server's SQL sorts: numbers with a missing value as 0, text nulls last.

    Rows that tie on every key (the simulated clock can stand still) stay in creation order,
    newest first when the first key is descending: SQL leaves ties unordered; this is stable.
    """
    if len(keys) == 1 and keys[0][0] == "createdAt":
        # Rows come in creation order, which the clock (never set back) keeps sorted: no need
        # to sort (or to look at) 100,000 tasks for every page of a walk.
        return rows[::-1] if keys[0][1] else list(rows)
    rows = rows[::-1] if keys[0][1] else list(rows)
    for field, descending in reversed(keys):
        if fields[field] == "int":
            rows.sort(key=lambda r: _number(value(r, field)) or 0.0, reverse=descending)
        elif descending:
            rows.sort(key=lambda r: _nulls_last(value(r, field), True), reverse=True)
        else:
            rows.sort(key=lambda r: _nulls_last(value(r, field), False))
    return rows


def _nulls_last(value: Any, descending: bool) -> tuple[bool, str]:
    present = value is not None
    return (
        (present, "" if value is None else str(value))
        if descending
        else (
            not present,
            "" if value is None else str(value),
        )
    )


def _next_href(request: Request, cursor: str) -> str:
    """``makeNextHREF``: the request URL with ``cursor`` set, the query re-serialized as a
    WHATWG URLSearchParams does."""
    parts = urlsplit(request.url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query: list[tuple[str, str]] = []
    placed = False
    for key, val in pairs:
        if key == "cursor":
            if not placed:
                query.append((key, cursor))
                placed = True
            continue
        query.append((key, val))
    if not placed:
        query.append(("cursor", cursor))
    encoded = "&".join(f"{_form(k)}={_form(v)}" for k, v in query)
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{encoded}"


def _form(text: str) -> str:
    return quote_plus(text, safe="*").replace("~", "%7E")


def _asset_field(asset: dict[str, Any], field: str) -> Any:
    """An asset's value for one of the asset list's ``order``/``filters`` fields."""
    source = asset.get("source") or {}
    ipfs = (asset.get("storage") or {}).get("ipfs") or {}
    return {
        "id": asset.get("id"),
        "name": asset.get("name"),
        "createdAt": asset.get("createdAt"),
        "updatedAt": (asset.get("status") or {}).get("updatedAt"),
        "userId": asset.get("userId"),
        "creatorId": (asset.get("creatorId") or {}).get("value"),
        "playbackId": asset.get("playbackId"),
        "projectId": asset.get("projectId"),
        "phase": (asset.get("status") or {}).get("phase"),
        "cid": ipfs.get("cid"),
        "nftMetadataCid": (ipfs.get("nftMetadata") or {}).get("cid"),
        "sourceUrl": source.get("url"),
        "sourceSessionId": source.get("sessionId"),
        "sourceAssetId": source.get("assetId"),
        "sourceType": source.get("type"),
        "sourcePlaybackId": source.get("playbackId"),
    }.get(field)


def _storage_state(storage: Any) -> dict[str, Any] | None:
    """``storageInputToState``: ``ipfs: true`` is ``{spec: {}}``, false or null ``{spec: null}``."""
    if not isinstance(storage, dict) or "ipfs" not in storage:
        return None
    ipfs = storage["ipfs"]
    if isinstance(ipfs, bool) or not ipfs:
        ipfs = {"spec": {} if ipfs else None}
    elif "spec" not in ipfs:
        ipfs = {"spec": {}}
    return {**storage, "ipfs": ipfs}


def _creator_id(value: Any) -> Any:
    """``mapInputCreatorId``: a plain string is an unverified creator id."""
    return {"type": "unverified", "value": value} if isinstance(value, str) else value


def _canonical_base64(text: str) -> bool:
    """``isValidBase64``: decoding and encoding again gives the same text."""
    try:
        return base64.b64encode(base64.b64decode(text, validate=True)).decode() == text
    except (binascii.Error, ValueError):
        return False


def _encryption_without_key() -> dict[str, Any]:
    """An encryption object as answers show it: the key replaced, ``encryptedKey`` (write-only)
    removed."""
    return {"key": "***"}


def _cid(task_id: str, what: str) -> str:
    digest = hashlib.sha256(f"{task_id}/{what}".encode()).digest()
    return "bafybei" + base64.b32encode(digest).decode().lower().rstrip("=")[:52]


def _ipfs_files(task_id: str) -> dict[str, Any]:
    """What an export task's output puts in ``asset.storage.ipfs``."""
    cid, metadata = _cid(task_id, "video"), _cid(task_id, "metadata")
    return {
        "cid": cid,
        "url": f"ipfs://{cid}",
        "gatewayUrl": IPFS_GATEWAY + cid,
        "nftMetadata": {
            "cid": metadata,
            "url": f"ipfs://{metadata}",
            "gatewayUrl": IPFS_GATEWAY + metadata,
        },
    }


def _same_json(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _private(policy: Any) -> bool:
    return isinstance(policy, dict) and policy.get("type") != "public"
