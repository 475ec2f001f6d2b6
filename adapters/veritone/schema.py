"""The GraphQL schema the Veritone simulator executes, written to Veritone's names.

It covers every document taskhub sends and the documented examples (jobs, tasks, TDOs, assets,
the engine flow): type, field, argument and enum names follow aiWARE's ``/v3/graphql`` API, so
a document that would fail there (a quoted enum, an unknown field, an undeclared variable)
fails here the same way.

Every type here is the published production SDL's (veritone/docs ``schema.graphql``, September
2019) with the same field types, argument lists, defaults and enum values, and every input
type has all of its published fields; output types keep only the fields the simulator serves.
The only differences are what later documentation adds: TaskStatus ``paused``, JobStatus
``failed``, createJob ``target`` / ``routes``, CreateTask ``ioFolders`` /
``executionPreferences``, and the ``Task.ioFolders`` / ``Job.routes`` that aiWARE 3 examples
select (tests/test_veritone_schema.py diffs the two when the reference file is present).
"""

from __future__ import annotations

from graphql import GraphQLSchema, build_schema

SDL = """
scalar DateTime
scalar JSON
scalar UploadedFile

interface Page {
  offset: Int!
  limit: Int!
  count: Int
}

enum TaskStatus {
  pending running complete queued accepted failed cancelled standby_pending waiting resuming
  aborted paused
}
enum JobStatus { pending complete running cancelled queued failed }
enum JobStatusFilter { pending running complete cancelled queued }
enum UpdateTaskStatus { running failed complete waiting }
enum TaskFailureReason {
  internal_error unknown url_not_found url_not_allowed url_timeout url_connection_refused
  url_error invalid_data rate_limited api_not_allowed api_authentication_error api_not_found
  api_error file_write_error system_dependency_missing system_error other
}
enum AssetCreationMode { create append replace }
enum AssetOrderBy { createdDateTime assetType contentType }
enum OrderDirection { asc desc }
enum JobOrderField { createdDateTime modifiedDateTime }
enum JobDateTimeField { createdDateTime modifiedDateTime }
enum TaskDateTimeField { createdDateTime modifiedDateTime }
enum IOFolderMode { stream chunk }
enum IOFolderType { input output }
enum EngineState { active disabled pending deleted draft ready }

type Query {
  job(id: ID!): Job
  jobs(
    hasTargetTDO: Boolean, id: ID, status: [JobStatusFilter!], applicationStatus: String,
    offset: Int = 0, limit: Int = 30, applicationId: ID, targetId: ID, clusterId: ID,
    scheduledJobIds: [ID!], hasScheduledJobId: Boolean, orderBy: [JobSortField!],
    dateTimeFilter: [JobDateTimeFilter!], applicationIds: [ID], engineIds: [ID!],
    engineCategoryIds: [ID!]
  ): JobList
  task(id: ID!): Task
  temporalDataObject(id: ID!): TemporalDataObject
  asset(id: ID!): Asset
  engineResults(
    tdoId: ID, sourceId: ID, engineIds: [ID!], engineCategoryIds: [ID!], jobId: ID,
    mentionId: ID, startOffsetMs: Int, stopOffsetMs: Int, startDate: DateTime,
    stopDate: DateTime, ignoreUserEdited: Boolean = false, fallbackTdoId: ID
  ): EngineResultList
}

type Mutation {
  updateTask(input: UpdateTask): Task
  createJob(input: CreateJob): Job
  cancelJob(id: ID!): DeletePayload
  retryJob(id: ID!): Job
  createAsset(input: CreateAsset!): Asset
  uploadEngineResult(input: UploadEngineResult!): Asset
  userLogin(input: UserLogin): LoginInfo
  createTDO(input: CreateTDO): TemporalDataObject
  deleteTDO(id: ID!): DeletePayload
}

type Job {
  id: ID!
  name: String
  description: String
  createdDateTime: DateTime
  modifiedDateTime: DateTime
  createdBy: String
  modifiedBy: String
  targetId: ID
  sourceAssetId: ID
  status: TaskStatus
  tasks(status: [TaskStatus!], offset: Int = 0, limit: Int = 30, id: ID, targetId: [ID],
        hasSourceAsset: Boolean): TaskList
  applicationId: ID
  target: TemporalDataObject
  clusterId: ID
  jobConfig: JSON
  templateId: ID
  scheduledJobId: ID
  routes: [JobRoute]
}

type JobRoute {
  parentIoFolderReferenceId: String
  childIoFolderReferenceId: String
  options: JSON
}

type Task {
  id: ID!
  name: String
  description: String
  createdDateTime: DateTime
  modifiedDateTime: DateTime
  createdBy: String
  modifiedBy: String
  queuedDateTime: DateTime
  startedDateTime: DateTime
  completedDateTime: DateTime
  status: TaskStatus
  order: Int
  isClone: Boolean
  applicationId: String
  targetId: ID
  target: TemporalDataObject
  engineId: ID
  engine: Engine
  jobId: ID
  job: Job
  buildId: ID
  sourceAssetId: ID
  mediaLengthSec: Int
  mediaStorageBytes: Int
  mediaFileName: String
  payload: JSON
  payloadString: String
  output: JSON
  outputString: String
  taskPayload: JSON
  taskOutput: JSON
  log: TaskLog
  testTask: Boolean
  parentTaskId: ID
  childTaskIds: [ID!]
  standbyTask: Task
  standbyForTask: Task
  runtimePayload: JSON
  failureReason: TaskFailureReason
  failureMessage: String
  ioFolders: [TaskIOFolder]
}

type TaskIOFolder {
  referenceId: String
  type: IOFolderType
  mode: IOFolderMode
}

type TaskLog { uri: String text: String jsondata: JSON }

type Engine {
  id: ID!
  name: String
  displayName: String
  categoryId: String
  category: EngineCategory
  state: EngineState
}

type EngineCategory { id: ID! name: String description: String }

type TaskList implements Page { records: [Task] offset: Int! limit: Int! count: Int }
type JobList implements Page { records: [Job] offset: Int! limit: Int! count: Int }
type AssetList implements Page { records: [Asset] offset: Int! limit: Int! count: Int }

type TemporalDataObject {
  id: ID!
  name: String
  description: String
  source: String
  createdBy: String
  modifiedBy: String
  status: String
  startDateTime: DateTime!
  stopDateTime: DateTime!
  createdDateTime: DateTime
  modifiedDateTime: DateTime
  applicationId: ID!
  assets(id: ID, type: [String!], assetType: [String!], sourceTaskId: ID, offset: Int = 0,
         limit: Int = 30, orderBy: AssetOrderBy = createdDateTime,
         orderDirection: OrderDirection = desc,
         includeVirtualMediaAsset: Boolean = true): AssetList
  assetCount: Int!
  primaryAsset(assetType: String!): Asset
  tasks(id: ID, offset: Int = 0, limit: Int = 30, hasSourceAsset: Boolean,
        dateTimeFilter: [TaskDateTimeFilter]): TaskList
  jobs: JobList
  details(path: String): JSON
  jsondata: JSON
}

type Asset {
  id: ID!
  name: String
  contentType: String
  description: String
  createdDateTime: DateTime
  modifiedDateTime: DateTime
  jsondata: JSON
  containerId: ID!
  container: TemporalDataObject
  uri: String
  signedUri: String
  type: String!
  assetType: String
  details(path: String): JSON
  fileData: AssetFileData
  sourceData: AssetSourceData
  isUserEdited: Boolean
}

type AssetFileData { md5sum: String size: Int originalFileUri: String }
type AssetSourceData {
  name: String taskId: ID engineId: ID sourceId: ID schemaId: ID
}

type DeletePayload { id: ID! message: String }

type EngineResultList { sourceId: ID records: [EngineResult] }
type EngineResult {
  tdoId: ID!
  engineId: ID!
  jsondata: JSON
  startOffsetMs: Int
  stopOffsetMs: Int
  assetId: String
  userEdited: Boolean
}

type LoginInfo { token: String apiToken: String }

input UpdateTask {
  id: ID!
  status: TaskStatus!
  jobId: ID
  output: JSON
  outputString: String
  outputJsonKey: String
  taskOutput: JSON
  payload: JSON
  executionLocationData: JSON
  clientTimestamp: DateTime
  failureReason: TaskFailureReason
  failureMessage: String
}

input CreateJob {
  targetId: ID
  target: CreateJobTarget
  tasks: [CreateTask!]
  routes: [CreateJobRoute!]
  clusterId: ID
  status: String
  retries: Int = 0
  scheduledJobId: ID
  jobTemplateId: ID
  skipDecider: Boolean
  isReprocessJob: Boolean
  jobConfig: JSON
}

input CreateJobTarget { startDateTime: DateTime! stopDateTime: DateTime! name: String }

input CreateJobRoute {
  parentIoFolderReferenceId: String!
  childIoFolderReferenceId: String!
  options: JSON
}

input CreateTask {
  engineId: ID
  taskType: String
  payload: JSON
  payloadString: String
  isClone: Boolean
  testTask: Boolean
  buildId: String
  standbyTask: CreateTask
  ioFolders: [CreateTaskIOFolder!]
  executionPreferences: TaskExecutionPreferences
}

input CreateTaskIOFolder { referenceId: String! mode: IOFolderMode! type: IOFolderType! }

input TaskExecutionPreferences {
  parentCompleteBeforeStarting: Boolean
  priority: Int
  maxEngines: Int
}

input CreateAsset {
  containerId: ID!
  contentType: String
  type: String
  assetType: String
  uri: String
  file: UploadedFile
  md5sum: String
  description: String
  name: String
  fileData: SetAssetFileData
  sourceData: SetAssetSourceData
  details: JSON
  jsondata: JSON
  setAsPrimary: Boolean = false
  isUserEdited: Boolean = false
  updateContainerStopDateTime: Boolean = false
}

input SetAssetFileData {
  md5sum: String size: Int originalFileUri: String mode: AssetCreationMode = create
}

input SetAssetSourceData {
  name: String taskId: ID engineId: ID sourceId: ID scheduledJobId: ID assetId: ID
}

input UploadEngineResult {
  taskId: ID!
  outputString: String
  output: JSON
  file: UploadedFile
  fileData: SetAssetFileData
  uri: String
  filename: String
  assetType: String
  contentType: String
  completeTask: Boolean = true
  outputJsonKey: String = "data"
  setAsPrimary: Boolean = false
  skipIndexing: Boolean = false
  setTaskOutput: Boolean = true
}

input UserLogin { userName: String! password: String! }

input CreateTDO {
  startDateTime: DateTime!
  stopDateTime: DateTime!
  source: String
  status: String = "downloaded"
  name: String
  description: String
  isPublic: Boolean
  parentFolderId: ID
  sourceData: SetTDOSourceData
  details: JSON
  applicationId: ID
  contentTemplates: [CreateTDOContentTemplateWithTDO!]
  addToIndex: Boolean = false
  thumbnailUrl: String
  previewUrl: String
  sourceImageUrl: String
}

input SetTDOSourceData { taskId: ID sourceId: ID scheduledJobId: ID }
input CreateTDOContentTemplateWithTDO { schemaId: ID! sdoId: ID data: JSON }

input JobSortField { field: JobOrderField! direction: OrderDirection = desc }
input JobDateTimeFilter { toDateTime: DateTime fromDateTime: DateTime field: JobDateTimeField! }
input TaskDateTimeFilter { toDateTime: DateTime fromDateTime: DateTime field: TaskDateTimeField! }
"""


def schema() -> GraphQLSchema:
    """Build the schema (once per simulator)."""
    return build_schema(SDL)
