"""Every GraphQL document the Veritone adapter sends. Values travel only as variables."""

from __future__ import annotations

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
