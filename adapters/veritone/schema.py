"""The GraphQL schema the Veritone simulator executes, written to Veritone's names.

It covers every document taskhub sends and the documented examples (jobs, tasks, TDOs, assets,
the engine flow): type, field, argument and enum names follow aiWARE's ``/v3/graphql`` API, so
a document that would fail there (a quoted enum, an unknown field, an undeclared variable)
fails here the same way.

Every type here is the published production SDL's (veritone/docs ``schema.graphql``, September
2019) with the same field types, argument lists, defaults and enum values, and every input
type has all of its published fields. ``Job``, ``Task``, ``TemporalDataObject``, ``Engine``,
``Asset``, ``AssetSourceData``, ``EngineCategory``, ``EngineResult`` and ``LoginInfo`` have every
published field; the other output types keep the fields the simulator serves, and the types
only those reach are one-field stubs (always answered null or empty).
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
  template: JobTemplate
  scheduledJobId: ID
  scheduledJob: ScheduledJob
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
  completedDateTime: DateTime
  startedDateTime: DateTime
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
  build: Build
  sourceAsset: Asset
  sourceAssetId: ID
  mediaLengthSec: Int
  mediaStorageBytes: Int
  mediaFileName: String
  payload: JSON
  output: JSON
  payloadString: String
  outputString: String
  log: TaskLog
  taskPayload: JSON
  taskOutput: JSON
  testTask: Boolean
  parentTaskId: ID
  parentTask: Task
  childTaskIds: [ID!]
  childTasks: [Task!]
  standbyTask: Task
  standbyForTask: Task
  runtimePayload: JSON
  failureReason: TaskFailureReason
  failureMessage: String
  engineConfiguration: EngineConfiguration
  engineConfigurationId: ID
  executionLocation: ExecutionLocation
  executionLocationId: ID
  templateId: ID
  template: TaskTemplate
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
  ownerOrganizationId: ID!
  isPublic: Boolean
  logoPath: String
  iconPath: String
  signedIconPath: String
  signedLogoPath: String
  name: String
  ownerOrganization: Organization
  description: String
  categoryId: String
  state: EngineState
  price: Int
  asset: String
  displayName: String
  validateUri: String
  executeUri: String
  applicationId: ID
  createsTDO: Boolean
  website: String
  rating: Int
  createdDateTime: DateTime
  modifiedDateTime: DateTime
  createdBy: String
  modifiedBy: String
  libraryRequired: Boolean
  deploymentModel: DeploymentModel
  tasks(status: [String], offset: Int = 0, limit: Int = 30, id: ID,
        dateTimeFilter: [TaskDateTimeFilter], hasSourceAsset: Boolean): TaskList
  builds(buildStatus: [BuildStatus!], status: [String], offset: Int = 0, limit: Int = 30,
         id: ID): BuildList
  dependency: EngineDependency
  fields: [EngineField!]
  category: EngineCategory
  validStateActions: [EngineStateAction]
  preferredInputFormat: String
  supportedInputFormats: [String!]
  outputFormats: [String!]
  supportedSourceTypes: [String!]
  hasScanPhase: Boolean
  deployedVersion: Int
  mode: EngineMode
  runtimeType: String
  oauth: String
  isConductor: Boolean
  supportedScheduleTypes: [EngineScheduleType!]
  taskMetrics(fromDateTime: DateTime, toDateTime: DateTime): EngineTaskMetrics
}

type EngineCategory {
  id: ID!
  name: String
  description: String
  type: EngineType
  createdDateTime: DateTime
  modifiedDateTime: DateTime
  createdBy: String
  modifiedBy: String
  engineIds: [ID!]
  totalEngines: Int
  iconClass: String
  editable: Boolean
  videoOnly: Boolean
  color: String
  engines(offset: Int = 0, limit: Int = 30, filter: EngineFilter,
          orderBy: [EngineSortField]): EngineList
  libraryEntityIdentifierTypeIds: [ID!]
  libraryEntityIdentifierTypes: EntityIdentifierTypeList
  categoryType: String
  categoryMetadataKey: String
  dependencies: [EngineDependency!]
  searchConfiguration: EngineSearchConfiguration
  exportFormats: [ExportFormat]!
}

type TaskList implements Page { records: [Task] offset: Int! limit: Int! count: Int }
type JobList implements Page { records: [Job] offset: Int! limit: Int! count: Int }
type AssetList implements Page { records: [Asset] offset: Int! limit: Int! count: Int }

type TemporalDataObject {
  createdDateTime: DateTime
  modifiedDateTime: DateTime
  id: ID!
  createdBy: String
  modifiedBy: String
  description: String
  name: String
  mediaId: ID
  thumbnailUrl: String
  previewUrl: String
  sourceImageUrl: String
  metadata: [Metadata]
  jsondata: JSON
  details(path: String): JSON
  assets(id: ID, type: [String!], assetType: [String!], sourceTaskId: ID, offset: Int = 0,
         limit: Int = 30, orderBy: AssetOrderBy = createdDateTime,
         orderDirection: OrderDirection = desc, includeVirtualMediaAsset: Boolean = true): AssetList
  assetCount: Int!
  primaryAsset(assetType: String!): Asset
  security: Security
  startDateTime: DateTime!
  stopDateTime: DateTime!
  source: String
  applicationId: ID!
  status: String
  tasks(id: ID, offset: Int = 0, limit: Int = 30, hasSourceAsset: Boolean,
        dateTimeFilter: [TaskDateTimeFilter]): TaskList
  jobs: JobList
  folders: [Folder!]
  sourceData: TDOSourceData
  streams: [TDOStreamData!]!
  engineRuns(offset: Int = 0, limit: Int = 100): EngineRunList
  streamManifest: TDOStreamManifest
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
  jsonstring(indent: Int = 2): String
  fileData: AssetFileData
  sourceData: AssetSourceData
  transform(transformFunction: TransformFunction!): String
  isUserEdited: Boolean
}

type AssetFileData { md5sum: String size: Int originalFileUri: String }
type AssetSourceData {
  name: String
  taskId: ID
  task: Task
  engineId: ID
  engine: Engine
  sourceId: ID
  schemaId: ID
  schema: Schema
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
  tdo: TemporalDataObject
}

type LoginInfo {
  apiToken: String
  token: String
  lastLoggedIn: String
  applications: [ID]
  applicationPlatforms: [ApplicationPlatform]
  groups: [Group]
  hasPassword: Boolean
  organization: Organization
  passwordResetRequired: Boolean
  providerId: String
  providerScreenName: String
  providerUserId: String
  user: User
}

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

# Types the simulator has no data of: every field that returns one answers null (or an empty
# list where the field is non-null). Each keeps one field of the published type (its id, or
# the Page fields of a list), so a selection of it validates.
type ApplicationPlatform { id: ID }
type Build { id: ID! }
type BuildList implements Page { offset: Int! limit: Int! count: Int }
type EngineConfiguration { id: ID! }
type EngineDependency { dependencyType: String! }
type EngineField { max: Float }
type EngineList implements Page { offset: Int! limit: Int! count: Int! }
type EngineRunList implements Page { offset: Int! limit: Int! count: Int }
type EngineSearchConfiguration { isSearchEnabled: Boolean }
type EngineTaskMetrics { cancelledCount: Int }
type EngineType { name: String }
type EntityIdentifierTypeList implements Page { offset: Int! limit: Int! count: Int }
type ExecutionLocation { id: ID! }
type ExportFormat { format: String! }
type Folder { id: ID! }
type Group { id: ID! }
type JobTemplate { id: ID! }
interface Metadata { name: String! }
type Organization { id: ID! }
type ScheduledJob { id: ID! }
type Schema { id: ID! }
type Security { global: Boolean }
type TDOSourceData { taskId: ID }
type TDOStreamData { uri: String! }
type TDOStreamManifest { segments: [JSON!] }
type TaskTemplate { id: ID! }
type User { id: ID! }

enum BuildStatus {
  approved
  available
  deleted
  deploying
  deployed
  fetching
  invalid
  paused
  pending
  uploaded
  deployFailed
}

enum ClusterSize {
  small
  medium
  large
}

enum DeploymentModel {
  FullyNetworkIsolated
  MostlyNetworkIsolated
  NonNetworkIsolated
  HumanReview
}

enum EngineMode {
  Chunk
  Stream
  Batch
}

enum EngineOrderField {
  name
  id
  state
  price
  rating
  order
  createdDateTime
  modifiedDateTime
}

enum EngineScheduleType {
  Now
  OnDemand
  Recurring
  Continuous
}

enum EngineStateAction {
  edit
  delete
  disable
  enable
  undelete
}

enum EngineTypeFilter {
  Cognition
  Ingestion
  Aggregator
}

enum SupportedGPU {
  G2
  G3
  P2
}

enum TransformFunction {
  XML2JSON
  Transcript2JSON
  JSON
}

input EngineFilter {
  language: String
  category: [String]
  type: [EngineTypeFilter!]
  rating: [Int]
  deploymentModel: DeploymentModel
  priceMin: Int
  priceMax: Int
  fedRampImpactLevelMin: Int
  fedRampImpactLevelMax: Int
  trainableViaApi: Boolean
  clusterSize: ClusterSize
  gpuSupported: SupportedGPU
  mode: [EngineMode!]
  runtimeType: [String!]
}

input EngineSortField {
  field: EngineOrderField!
  direction: OrderDirection
}
"""


def schema() -> GraphQLSchema:
    """Build the schema (once per simulator)."""
    return build_schema(SDL)
