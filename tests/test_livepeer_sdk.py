"""The official ``livepeer`` SDK, unchanged, against the Livepeer simulator.

One test per SDK call that touches tasks or assets: ``task.get`` / ``get_all``,
``asset.create`` / ``create_via_url`` / ``get`` / ``get_all`` / ``update`` / ``delete``,
``transcode.create``, ``stream.create`` / ``get`` / ``create_clip`` / ``get_clips`` and
``session.get`` / ``get_clips`` (plus the async form of the task calls). Each
asserts the objects the SDK parsed: their model classes, enum members and field types, which
is what a pipeline written against the SDK relies on.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests

pytest.importorskip("livepeer")

from livepeer import Livepeer
from livepeer.models import components, errors, operations

from taskhub.testing import Simulation, simulate

URL = "https://media.example.com/in.mp4"
# Plain dicts as a pipeline would write them (the SDK turns them into its models).
S3: Any = {
    "type": "s3",
    "endpoint": "https://storage.example",
    "bucket": "out",
    "credentials": {"access_key_id": "AKIA-SDK", "secret_access_key": "sdk-s3cret"},
}


@pytest.fixture
def sim() -> Iterator[Simulation]:
    with simulate("livepeer") as running:
        yield running


@pytest.fixture
def client(sim: Simulation) -> Livepeer:
    return Livepeer(api_key=sim.simulator.api_key, server_url=sim.url)  # type: ignore[attr-defined]


def raw(response: Any) -> httpx.Response:
    """The HTTP answer behind an SDK response."""
    assert response.http_meta is not None and response.http_meta.response is not None
    answer: httpx.Response = response.http_meta.response
    return answer


def imported(client: Livepeer, url: str = URL, name: str = "in.mp4") -> Any:
    """An asset imported from ``url``: the SDK's parsed 201 answer."""
    created = client.asset.create_via_url(request={"name": name, "url": url})
    data = created.two_hundred_and_one_application_json_data
    assert data is not None
    return data


def test_task_get(sim: Simulation, client: Livepeer) -> None:
    task_id = imported(client).task.id
    sim.clock.advance(2)
    running = client.task.get(task_id=task_id)
    assert isinstance(running, operations.GetTaskResponse)
    task = running.task
    assert isinstance(task, components.Task)
    assert (task.id, task.type) == (task_id, components.TaskType.UPLOAD)
    assert isinstance(task.created_at, float) and isinstance(task.scheduled_at, float)
    assert isinstance(task.output_asset_id, str) and isinstance(task.project_id, str)
    assert isinstance(task.params, components.Params) and task.params.upload is not None
    assert task.params.upload.url == URL
    status = task.status
    assert isinstance(status, components.TaskStatus)
    assert status.phase is components.TaskPhase.RUNNING
    assert isinstance(status.updated_at, float) and status.retries == 0
    assert isinstance(status.progress, float) and 0 < status.progress < 1
    sim.clock.advance(10)
    done = client.task.get(task_id=task_id).task
    assert done is not None and done.status is not None
    assert done.status.phase is components.TaskPhase.COMPLETED
    assert (done.status.progress, done.status.retries, done.status.error_message) == (None,) * 3
    assert done.output is not None and done.output.upload is not None
    spec = done.output.upload.asset_spec
    assert isinstance(spec, components.Asset) and spec.id == done.output_asset_id
    assert isinstance(spec.source, components.Source1) and spec.source.url == URL
    with pytest.raises(errors.SDKError) as missing:
        client.task.get(task_id="3f0c2a8e-5d1b-4c7a-9e2f-0b6d8a4c1e77")
    assert missing.value.status_code == 404
    assert json.loads(missing.value.body) == {"errors": ["not found"]}


def test_task_get_all(sim: Simulation, client: Livepeer) -> None:
    imported(client)
    client.stream.create_clip(request={"playback_id": "abcd1234", "start_time": 0})
    transcode: Any = {"input": {"url": URL}, "storage": S3, "outputs": {"hls": {"path": "/h"}}}
    client.transcode.create(request=transcode)
    sim.clock.advance(10)
    listed = client.task.get_all()
    assert isinstance(listed, operations.GetTasksResponse)
    assert listed.data is not None
    assert all(isinstance(t, components.Task) for t in listed.data)
    assert sorted(t.type.value for t in listed.data if t.type) == [
        "clip",
        "transcode-file",
        "upload",
    ]
    assert {t.status.phase for t in listed.data if t.status} == {components.TaskPhase.COMPLETED}
    assert 'cursor=undefined>; rel="next"' in raw(listed).headers["Link"]
    assert "sdk-s3cret" not in raw(listed).text


def test_task_calls_async(sim: Simulation, client: Livepeer) -> None:
    task_id = imported(client).task.id

    async def both() -> tuple[Any, Any]:
        return await client.task.get_async(task_id=task_id), await client.task.get_all_async()

    one, every = asyncio.run(both())
    assert one.task is not None and one.task.id == task_id
    assert one.task.status is not None
    assert one.task.status.phase is components.TaskPhase.WAITING
    assert every.data is not None and [t.id for t in every.data] == [task_id]


def test_asset_create(sim: Simulation, client: Livepeer) -> None:
    created = client.asset.create(request={"name": "direct.mp4", "static_mp4": True})
    assert isinstance(created, operations.RequestUploadResponse)
    data = created.data
    assert isinstance(data, operations.RequestUploadData)
    assert data.url.startswith(f"{sim.url}/asset/upload/direct?token=")
    assert data.tus_endpoint.startswith(f"{sim.url}/asset/upload/tus?token=")
    asset = data.asset
    assert isinstance(asset, components.Asset) and asset.name == "direct.mp4"
    assert isinstance(asset.source, components.Source3)
    assert asset.source.type is components.AssetSource3Type.DIRECT_UPLOAD
    assert asset.status is not None and asset.status.phase is components.AssetPhase.UPLOADING
    assert isinstance(data.task, operations.Task) and isinstance(data.task.id, str)
    pending = client.task.get(task_id=data.task.id).task
    assert pending is not None and pending.status is not None
    assert pending.status.phase is components.TaskPhase.PENDING
    assert pending.scheduled_at is None
    # The bytes go to the direct URL, as the SDK's documentation says: the task starts.
    assert requests.put(data.url, data=b"video bytes", timeout=5).status_code == 200
    started = client.task.get(task_id=data.task.id).task
    assert started is not None and started.status is not None
    assert started.status.phase is components.TaskPhase.WAITING
    uploaded = client.asset.get(asset_id=asset.id).asset
    assert uploaded is not None and uploaded.status is not None
    assert uploaded.status.phase is components.AssetPhase.WAITING


def test_asset_create_via_url(sim: Simulation, client: Livepeer) -> None:
    created = client.asset.create_via_url(
        request={"name": "in.mp4", "url": URL, "creator_id": "creator-7"}
    )
    assert isinstance(created, operations.UploadAssetResponse)
    new = created.two_hundred_and_one_application_json_data
    assert isinstance(new, operations.UploadAssetDataOutput)
    assert created.two_hundred_application_json_data is None
    assert isinstance(new.asset, components.Asset) and isinstance(new.task.id, str)
    assert isinstance(new.asset.source, components.Source1) and new.asset.source.url == URL
    assert new.asset.status is not None
    assert new.asset.status.phase is components.AssetPhase.WAITING
    assert isinstance(new.asset.creator_id, components.CreatorID1)
    assert new.asset.creator_id.value == "creator-7"
    # The same URL again: the server answers 200 with the asset and task it already has.
    again = client.asset.create_via_url(request={"name": "in.mp4", "url": URL})
    duplicate = again.two_hundred_application_json_data
    assert isinstance(duplicate, operations.UploadAssetData)
    assert again.two_hundred_and_one_application_json_data is None
    assert (duplicate.asset.id, duplicate.task.id) == (new.asset.id, new.task.id)
    with pytest.raises(errors.SDKError) as refused:
        client.asset.create_via_url(request={"name": "x", "url": "s3+https://k:s@h/b/x.mp4"})
    assert refused.value.status_code == 422
    problem = json.loads(json.loads(refused.value.body)["errors"][0])
    assert (problem["instancePath"], problem["keyword"]) == ("/url", "pattern")


def test_asset_get(sim: Simulation, client: Livepeer) -> None:
    asset_id = imported(client).asset.id
    sim.clock.advance(2)
    processing = client.asset.get(asset_id=asset_id)
    assert isinstance(processing, operations.GetAssetResponse)
    asset = processing.asset
    assert isinstance(asset, components.Asset) and asset.id == asset_id
    assert asset.status is not None and asset.status.phase is components.AssetPhase.PROCESSING
    assert isinstance(asset.status.progress, float)
    sim.clock.advance(10)
    ready = client.asset.get(asset_id=asset_id).asset
    assert ready is not None and ready.status is not None
    assert ready.status.phase is components.AssetPhase.READY
    assert isinstance(ready.size, float) and ready.type is components.AssetType.VIDEO
    assert isinstance(ready.video_spec, components.VideoSpec)
    assert isinstance(ready.hash, list) and isinstance(ready.hash[0], components.Hash)
    assert isinstance(ready.playback_id, str) and isinstance(ready.created_at, float)
    with pytest.raises(errors.SDKError) as missing:
        client.asset.get(asset_id="nope")
    assert (missing.value.status_code, json.loads(missing.value.body)) == (
        404,
        {"errors": ["Asset not found"]},
    )


def test_asset_get_all(sim: Simulation, client: Livepeer) -> None:
    ids = [imported(client, f"https://m.example/{n}.mp4").asset.id for n in range(3)]
    client.stream.create_clip(request={"playback_id": "abcd1234", "start_time": 0})
    sim.clock.advance(10)
    listed = client.asset.get_all()
    assert isinstance(listed, operations.GetAssetsResponse)
    assert listed.data is not None and len(listed.data) == 4
    assert all(isinstance(a, components.Asset) for a in listed.data)
    assert set(ids) < {a.id for a in listed.data}
    assert {a.status.phase for a in listed.data if a.status} == {components.AssetPhase.READY}
    clips = [a for a in listed.data if isinstance(a.source, components.Source3)]
    assert [c.source.type for c in clips] == [components.AssetSource3Type.CLIP]
    assert "Link" not in raw(listed).headers


def test_asset_update(sim: Simulation, client: Livepeer) -> None:
    asset_id = imported(client).asset.id
    sim.clock.advance(10)
    updated = client.asset.update(
        asset_id=asset_id,
        asset_patch_payload={"name": "renamed.mp4", "storage": {"ipfs": {"spec": {}}}},
    )
    assert isinstance(updated, operations.UpdateAssetResponse)
    asset = updated.asset
    assert isinstance(asset, components.Asset) and asset.name == "renamed.mp4"
    assert asset.storage is not None and asset.storage.status is not None
    assert asset.storage.status.phase is components.Phase.WAITING
    export_id = asset.storage.status.tasks.pending
    assert isinstance(export_id, str)
    export = client.task.get(task_id=export_id).task
    assert export is not None and export.type is components.TaskType.EXPORT
    assert export.input_asset_id == asset_id
    assert export.params is not None
    assert isinstance(export.params.export, components.ExportTaskParams2)
    sim.clock.advance(10)
    finished = client.task.get(task_id=export_id).task
    assert finished is not None and finished.output is not None
    assert finished.output.export is not None
    ipfs = finished.output.export.ipfs
    assert isinstance(ipfs, components.TaskIpfs)
    cid = ipfs.video_file_cid
    assert isinstance(cid, str) and ipfs.video_file_url == f"ipfs://{cid}"
    stored = client.asset.get(asset_id=asset_id)
    assert stored.asset is not None and stored.asset.storage is not None
    assert stored.asset.storage.status is not None
    assert stored.asset.storage.status.phase is components.Phase.READY
    assert stored.asset.storage.status.tasks.last == export_id
    assert raw(stored).json()["storage"]["ipfs"]["cid"] == cid
    with pytest.raises(errors.SDKError) as missing:
        client.asset.update(asset_id="nope", asset_patch_payload={"name": "x"})
    assert missing.value.status_code == 404


def test_asset_delete(sim: Simulation, client: Livepeer) -> None:
    data = imported(client)
    sim.clock.advance(2)
    deleted = client.asset.delete(asset_id=data.asset.id)
    assert isinstance(deleted, operations.DeleteAssetResponse)
    assert raw(deleted).status_code == 204
    # The task still producing the asset fails; the asset is gone.
    task = client.task.get(task_id=data.task.id).task
    assert task is not None and task.status is not None
    assert task.status.phase is components.TaskPhase.FAILED
    assert task.status.error_message == "task cancelled, asset has been deleted"
    with pytest.raises(errors.SDKError) as gone:
        client.asset.get(asset_id=data.asset.id)
    assert gone.value.status_code == 404
    with pytest.raises(errors.SDKError) as twice:
        client.asset.delete(asset_id=data.asset.id)
    assert (twice.value.status_code, json.loads(twice.value.body)) == (
        400,
        {"errors": ["asset is already deleted"]},
    )


def test_transcode_create(sim: Simulation, client: Livepeer) -> None:
    request: Any = {
        "input": {
            "type": "s3",
            "endpoint": "https://in.example",
            "bucket": "src",
            "path": "/a.mp4",
            "credentials": {"access_key_id": "AKIN", "secret_access_key": "in-s3cret"},
        },
        "storage": S3,
        "outputs": {"hls": {"path": "/h"}, "mp4": {"path": "/m"}},
        "profiles": [{"bitrate": 3_000_000, "width": 1280, "height": 720, "name": "720p"}],
    }
    created = client.transcode.create(request=request)
    assert isinstance(created, operations.TranscodeVideoResponse)
    task = created.task
    assert isinstance(task, components.Task) and isinstance(task.id, str)
    assert task.type is components.TaskType.TRANSCODE_FILE
    assert task.status is not None and task.status.phase is components.TaskPhase.PENDING
    assert task.scheduled_at is None
    params = task.params.transcode_file if task.params else None
    assert isinstance(params, components.TranscodeFile)
    assert params.input is not None and params.storage is not None
    assert params.input.url == "s3+https://***:***@in.example/src/a.mp4"
    assert params.storage.url == "s3+https://***:***@storage.example/out"
    assert params.profiles is not None
    assert isinstance(params.profiles[0], components.TranscodeProfile)
    web3_request: Any = {
        "input": {"url": URL},
        "storage": {"type": "web3.storage", "credentials": {"proof": "UCAN-proof-secret"}},
        "outputs": {"hls": {"path": "/h"}},
    }
    web3 = client.transcode.create(request=web3_request)
    assert web3.task is not None and web3.task.params is not None
    assert web3.task.params.transcode_file is not None
    assert web3.task.params.transcode_file.storage is not None
    assert web3.task.params.transcode_file.storage.url == "w3s://***@/"
    sim.clock.advance(10)
    done = client.task.get(task_id=task.id)
    assert done.task is not None and done.task.status is not None
    assert done.task.status.phase is components.TaskPhase.COMPLETED
    seen = [raw(r).text for r in (created, web3, done, client.task.get_all())]
    for secret in ("sdk-s3cret", "in-s3cret", "UCAN-proof-secret", "AKIA-SDK"):
        assert not any(secret in text for text in seen), secret


def test_stream_create_clip(sim: Simulation, client: Livepeer) -> None:
    created = client.stream.create_clip(
        request={"playback_id": "abcd1234", "start_time": 1000, "end_time": 5000, "name": "c"}
    )
    assert isinstance(created, operations.CreateClipResponse)
    data = created.data
    assert isinstance(data, operations.CreateClipData)
    assert isinstance(data.asset, components.Asset) and data.asset.name == "c"
    assert isinstance(data.asset.source, components.Source3)
    assert data.asset.source.type is components.AssetSource3Type.CLIP
    assert data.asset.source.playback_id == "abcd1234"
    assert isinstance(data.task, operations.CreateClipTask) and isinstance(data.task.id, str)
    task = client.task.get(task_id=data.task.id).task
    assert task is not None and task.type is components.TaskType.CLIP
    assert task.params is not None and task.params.clip is not None
    strategy = task.params.clip.clip_strategy
    assert strategy is not None
    assert (strategy.playback_id, strategy.start_time, strategy.end_time) == (
        "abcd1234",
        1000,
        5000,
    )
    unnamed = client.stream.create_clip(request={"playback_id": "abcd1234", "start_time": 0})
    assert unnamed.data is not None and unnamed.data.asset.name.startswith("clip-")
    with pytest.raises(errors.SDKError) as refused:
        client.stream.create_clip(
            request={"playback_id": "abcd1234", "start_time": 5000, "end_time": 1000}
        )
    assert refused.value.status_code == 422


# -- streams and sessions: what the clip flow needs ----------------------------------------------


def live_stream(sim: Simulation, client: Livepeer, name: str = "live", **fields: Any) -> Any:
    """A stream created through the SDK, with an encoder pushing to it (one session)."""
    request: Any = {"name": name, **fields}
    stream = client.stream.create(request=request).stream
    assert stream is not None and stream.id is not None
    simulator: Any = sim.simulator
    simulator.start_session(stream.id)
    return stream


def test_stream_create(sim: Simulation, client: Livepeer) -> None:
    created = client.stream.create(
        request={
            "name": "live",
            "record": True,
            "creator_id": "creator-7",
            "user_tags": {"team": "news", "rank": 2},
            "multistream": {
                "targets": [{"profile": "720p0", "spec": {"url": "rtmps://live.example/app/k"}}]
            },
        }
    )
    assert isinstance(created, operations.CreateStreamResponse)
    assert raw(created).status_code == 201
    stream = created.stream
    assert isinstance(stream, components.Stream)
    assert stream.name == "live" and isinstance(stream.id, str)
    assert isinstance(stream.stream_key, str) and len(stream.stream_key.split("-")) == 4
    assert isinstance(stream.playback_id, str) and len(stream.playback_id) == 16
    assert stream.playback_id[:4] == stream.stream_key[:4] == stream.id[:4]  # the shard key
    assert (stream.is_active, stream.record, stream.suspended, stream.last_seen) == (
        False,
        True,
        False,
        0,
    )
    assert stream.created_at == sim.clock.now_ms()
    # No profiles given: the server's default ladder.
    assert stream.profiles is not None
    assert all(isinstance(p, components.FfmpegProfile) for p in stream.profiles)
    assert [p.name for p in stream.profiles] == ["240p0", "360p0", "480p0", "720p0"]
    assert isinstance(stream.creator_id, components.CreatorID1)
    assert stream.creator_id.value == "creator-7"
    assert stream.multistream is not None and stream.multistream.targets is not None
    (target,) = stream.multistream.targets
    assert (target.profile, isinstance(target.id, str)) == ("720p0", True)
    assert "spec" not in raw(created).json()["multistream"]["targets"][0]  # write-only
    # The published schema (422, Ajv's errors), then the server's own checks (400).
    small: Any = {"name": "p", "width": 100, "height": 360, "bitrate": 800_000, "fps": 0}
    with pytest.raises(errors.SDKError) as invalid:
        client.stream.create(request={"name": "x", "profiles": [small]})
    assert invalid.value.status_code == 422
    problem = json.loads(json.loads(invalid.value.body)["errors"][0])
    assert (problem["instancePath"], problem["keyword"], problem["params"]) == (
        "/profiles/0/width",
        "minimum",
        {"comparison": ">=", "limit": 128},
    )
    refusals = [
        ({"name": "x", "recording_spec": {}}, "recordingSpec is only supported with record=true"),
        (
            {
                "name": "x",
                "profiles": [
                    {"name": "source", "width": 640, "height": 360, "bitrate": 800_000, "fps": 0}
                ],
            },
            'profile cannot be named "source"',
        ),
        (
            {"name": "x", "multistream": {"targets": [{"profile": "4k", "id": "t"}]}},
            'multistream target profile not found: "4k". '
            'available: ["240p0","360p0","480p0","720p0","source"]',
        ),
    ]
    for request, message in refusals:
        with pytest.raises(errors.SDKError) as refused:
            client.stream.create(request=request)  # type: ignore[arg-type]
        assert (refused.value.status_code, json.loads(refused.value.body)) == (
            400,
            {"errors": [message]},
        )


def test_stream_get(sim: Simulation, client: Livepeer) -> None:
    created = client.stream.create(request={"name": "live"}).stream
    assert created is not None and created.id is not None
    got = client.stream.get(id=created.id)
    assert isinstance(got, operations.GetStreamResponse)
    assert isinstance(got.stream, components.Stream)
    assert got.stream == created
    simulator: Any = sim.simulator
    sim.clock.advance(5)
    simulator.start_session(created.id)  # an encoder starts pushing
    live = client.stream.get(id=created.id).stream
    assert live is not None and live.is_active is True
    assert live.last_seen == created.created_at + 5000  # type: ignore[operator]
    with pytest.raises(errors.SDKError) as missing:
        client.stream.get(id="nope")
    assert (missing.value.status_code, json.loads(missing.value.body)) == (
        404,
        {"errors": ["not found"]},
    )
    other = Livepeer(api_key=simulator.other_api_key, server_url=sim.url)
    with pytest.raises(errors.SDKError) as foreign:
        other.stream.get(id=created.id)
    assert foreign.value.status_code == 404  # another user's stream is not revealed


def test_stream_create_clip_of_a_created_stream(sim: Simulation, client: Livepeer) -> None:
    stream = live_stream(sim, client)
    simulator: Any = sim.simulator
    (session_id,) = simulator.sessions
    made = client.stream.create_clip(request={"playback_id": stream.playback_id, "start_time": 0})
    assert made.data is not None
    source = made.data.asset.source
    assert isinstance(source, components.Source3)
    assert (source.playback_id, source.session_id) == (stream.playback_id, session_id)
    assert made.data.task.id is not None
    task = client.task.get(task_id=made.data.task.id).task
    assert task is not None and task.params is not None and task.params.clip is not None
    assert (task.params.clip.session_id, task.params.clip.input_id) == (session_id, stream.id)
    refusals = [
        (client, {"session_id": "nope"}, 404, "Session not found"),
        (
            Livepeer(api_key=simulator.other_api_key, server_url=sim.url),
            {},
            403,
            "You do not have permission to clip this stream",
        ),
    ]
    other = live_stream(sim, client, "other")
    refusals.append(
        (
            client,
            {"session_id": simulator._last_session(other.id)["id"]},
            404,
            "The provided session id does not belong to this stream",
        )
    )
    for who, extra, status, message in refusals:
        request: Any = {"playback_id": stream.playback_id, "start_time": 0, **extra}
        with pytest.raises(errors.SDKError) as refused:
            who.stream.create_clip(request=request)
        assert (refused.value.status_code, json.loads(refused.value.body)) == (
            status,
            {"errors": [message]},
        )
    # Never live: no session to clip (the server's unhandled "Recording session not found").
    idle = client.stream.create(request={"name": "idle"}).stream
    assert idle is not None
    with pytest.raises(errors.SDKError) as unrecorded:
        client.stream.create_clip(request={"playback_id": str(idle.playback_id), "start_time": 0})
    assert unrecorded.value.status_code == 500


def test_stream_create_clip_needs_a_stream_when_not_implicit() -> None:
    with simulate("livepeer", implicit_streams=False) as sim:
        simulator: Any = sim.simulator
        client = Livepeer(api_key=simulator.api_key, server_url=sim.url)
        with pytest.raises(errors.SDKError) as missing:
            client.stream.create_clip(request={"playback_id": "abcd1234", "start_time": 0})
        assert (missing.value.status_code, json.loads(missing.value.body)) == (
            404,
            {"errors": ["Content not found"]},
        )
        stream = live_stream(sim, client)
        made = client.stream.create_clip(
            request={"playback_id": stream.playback_id, "start_time": 0}
        )
        assert made.data is not None


def test_stream_get_clips(sim: Simulation, client: Livepeer) -> None:
    stream = live_stream(sim, client)
    simulator: Any = sim.simulator
    first_session = simulator._last_session(stream.id)["id"]
    ids = []
    for n in range(2):
        made = client.stream.create_clip(
            request={"playback_id": stream.playback_id, "start_time": n * 1000, "name": f"c{n}"}
        )
        assert made.data is not None
        ids.append(made.data.asset.id)
        sim.clock.advance(1)
    sim.clock.advance(60)
    simulator.start_session(stream.id)  # the stream goes live again: a second session
    later = client.stream.create_clip(request={"playback_id": stream.playback_id, "start_time": 0})
    assert later.data is not None
    ids.append(later.data.asset.id)
    elsewhere = live_stream(sim, client, "other")
    client.stream.create_clip(request={"playback_id": elsewhere.playback_id, "start_time": 0})
    listed = client.stream.get_clips(id=stream.id)
    assert isinstance(listed, operations.GetClipsResponse)
    assert listed.data is not None
    assert all(isinstance(a, components.Asset) for a in listed.data)
    # Every clip of every session of the stream, newest first (updatedAt, createdAt).
    assert [a.id for a in listed.data] == ids[::-1]
    sources = [a.source for a in listed.data]
    assert all(isinstance(s, components.Source3) for s in sources)
    assert {s.session_id for s in sources if isinstance(s, components.Source3)} == {
        first_session,
        simulator._last_session(stream.id)["id"],
    }
    assert [a.id for a in (client.stream.get_clips(id=stream.playback_id).data or [])] == ids[::-1]
    idle = client.stream.create(request={"name": "idle"}).stream
    assert idle is not None and idle.id is not None
    assert client.stream.get_clips(id=idle.id).data == []
    with pytest.raises(errors.SDKError) as missing:
        client.stream.get_clips(id="nope")
    assert (missing.value.status_code, json.loads(missing.value.body)) == (
        404,
        {"errors": ["Stream not found"]},
    )


def test_session_get(sim: Simulation, client: Livepeer) -> None:
    stream = live_stream(sim, client, record=True)
    simulator: Any = sim.simulator
    session_id = simulator._last_session(stream.id)["id"]
    got = client.session.get(id=session_id)
    assert isinstance(got, operations.GetSessionResponse)
    session = got.session
    assert isinstance(session, components.Session)
    assert (session.id, session.parent_id, session.playback_id) == (
        session_id,
        stream.id,
        stream.playback_id,
    )
    assert session.name == "live" and session.created_at == sim.clock.now_ms()
    assert (session.record, session.recording_status) == (
        True,
        components.RecordingStatus.WAITING,
    )
    assert session.profiles is not None and len(session.profiles) == 4
    assert not {"version", "deleted", "recordObjectStoreId"} & set(raw(got).json())
    with pytest.raises(errors.SDKError) as missing:
        client.session.get(id="nope")
    assert (missing.value.status_code, json.loads(missing.value.body)) == (
        404,
        {"errors": ["not found"]},
    )


def test_session_get_clips(sim: Simulation, client: Livepeer) -> None:
    stream = live_stream(sim, client)
    simulator: Any = sim.simulator
    first = simulator._last_session(stream.id)["id"]
    sim.clock.advance(60)
    second = simulator.start_session(stream.id)
    # A clip of the earlier session names it; without a name, the latest session is clipped.
    old = client.stream.create_clip(
        request={"playback_id": stream.playback_id, "start_time": 0, "session_id": first}
    )
    new = client.stream.create_clip(request={"playback_id": stream.playback_id, "start_time": 0})
    assert old.data is not None and new.data is not None
    listed = client.session.get_clips(id=first)
    assert isinstance(listed, operations.GetSessionClipsResponse)
    assert listed.data is not None
    (clip,) = listed.data
    assert isinstance(clip, components.Asset) and clip.id == old.data.asset.id
    assert isinstance(clip.source, components.Source3) and clip.source.session_id == first
    assert [a.id for a in client.session.get_clips(id=second).data or []] == [new.data.asset.id]
    # Clips are the caller's own: another user sees none of them.
    other = Livepeer(api_key=simulator.other_api_key, server_url=sim.url)
    assert other.session.get_clips(id=first).data == []
    client.asset.delete(asset_id=old.data.asset.id)
    assert client.session.get_clips(id=first).data == []  # deleted clips are left out
    with pytest.raises(errors.SDKError) as missing:
        client.session.get_clips(id="nope")
    assert (missing.value.status_code, json.loads(missing.value.body)) == (
        404,
        {"errors": ["Session not found"]},
    )
