"""Every GraphQL document the Veritone adapter sends. Values travel only as variables."""

from __future__ import annotations

import functools

TASK_FIELDS = """
fragment TaskFields on Task {
  id status jobId engineId engine { id name category { name } }
  createdDateTime modifiedDateTime queuedDateTime startedDateTime completedDateTime
  failureReason failureMessage payload output targetId
}
"""

JOB_FIELDS = """
fragment JobFields on Job { id status createdDateTime modifiedDateTime targetId clusterId }
"""

GET_JOB = (
    """
query GetJob($id: ID!, $offset: Int, $limit: Int) {
  job(id: $id) {
    ...JobFields
    tasks(offset: $offset, limit: $limit) { records { ...TaskFields } count offset limit }
  }
}
"""
    + JOB_FIELDS
    + TASK_FIELDS
)

#: The most jobs one ``job_batch`` document reads.
BATCH_MOST = 1000


@functools.lru_cache(maxsize=8)
def job_batch(count: int) -> str:
    """A query reading ``count`` jobs by id at once, each under its own alias:
    ``j0: job(id: $id0) { ...JobFields }`` ... (job status only, no tasks). Partial success
    is normal: a job that is not found is ``null`` beside a ``not_found`` error entry."""
    if not 1 <= count <= BATCH_MOST:
        raise ValueError(f"a batch reads 1 to {BATCH_MOST} jobs, not {count}")
    variables = ", ".join(f"$id{n}: ID!" for n in range(count))
    fields = "\n".join(f"  j{n}: job(id: $id{n}) {{ ...JobFields }}" for n in range(count))
    return f"query GetJobs({variables}) {{\n{fields}\n}}\n" + JOB_FIELDS


LIST_JOBS = (
    """
query ListJobs($offset: Int, $limit: Int, $status: [JobStatusFilter!]) {
  jobs(offset: $offset, limit: $limit, status: $status) {
    records { ...JobFields } count offset limit
  }
}
"""
    + JOB_FIELDS
)

CREATE_JOB = (
    """
mutation CreateJob($input: CreateJob) {
  createJob(input: $input) {
    ...JobFields
    tasks(limit: 1000) { records { ...TaskFields } count }
  }
}
"""
    + JOB_FIELDS
    + TASK_FIELDS
)

CANCEL_JOB = """
mutation CancelJob($id: ID!) { cancelJob(id: $id) { id message } }
"""

RETRY_JOB = (
    """
mutation RetryJob($id: ID!) {
  retryJob(id: $id) { ...JobFields tasks(limit: 1000) { records { ...TaskFields } count } }
}
"""
    + JOB_FIELDS
    + TASK_FIELDS
)

GET_TASK = (
    """
query GetTask($id: ID!) { task(id: $id) { ...TaskFields } }
"""
    + TASK_FIELDS
)

UPDATE_TASK = (
    """
mutation UpdateTask($input: UpdateTask) { updateTask(input: $input) { ...TaskFields } }
"""
    + TASK_FIELDS
)

ASSET_FIELDS = """
fragment AssetFields on Asset {
  id type contentType name signedUri createdDateTime fileData { size }
}
"""

TDO_ASSETS = (
    """
query Assets($tdo: ID!, $type: [String!], $offset: Int, $limit: Int) {
  temporalDataObject(id: $tdo) {
    id
    assets(type: $type, offset: $offset, limit: $limit) { records { ...AssetFields } count }
  }
}
"""
    + ASSET_FIELDS
)

CREATE_ASSET = (
    """
mutation CreateAsset($input: CreateAsset!) { createAsset(input: $input) { ...AssetFields } }
"""
    + ASSET_FIELDS
)
