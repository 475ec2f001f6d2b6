"""The store's tables (SQLAlchemy Core), its schema version and the steps that upgrade it.

Every table is prefixed ``taskhub_`` so the store can share a database with other things.
The tables are meant to be read by BI tools as they are (docs/dashboards.md describes them):

- ``taskhub_tasks`` — one row per task, its last accepted status and its masked task JSON;
- ``taskhub_transitions`` — every accepted change of state, ``seq`` counting from 1 per task
  (unique per task, so a transition is never recorded twice);
- ``taskhub_webhook_events`` — the ids of webhook deliveries already accepted (replays are
  refused across processes);
- ``taskhub_counts`` — how many tasks are in each (backend, vendor, level, state), kept by the
  writer in the same transaction as the rows it counts, so a dashboard's counts cost one small
  read at any size (``level`` is ``task`` for a unit of work, ``subtask`` for one of its parts);
- ``taskhub_quarantine`` — observations the database refused, one row each: the masked task,
  the database's error and when, so one bad vendor string never stops the writer;
- ``taskhub_audit`` — every action taken through ``taskhub serve`` (submit, cancel, retry):
  who, what, on which ref or job, the parameters masked, when, the outcome;
- ``taskhub_idempotency`` — the ``Idempotency-Key`` of each submit and the task it made;
- ``taskhub_schema`` — one row: the schema version.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

#: The version this code writes; :func:`upgrade` brings an older database to it.
VERSION = 3

metadata = sa.MetaData()

schema_table = sa.Table(
    "taskhub_schema",
    metadata,
    sa.Column("version", sa.Integer, nullable=False),
)

tasks = sa.Table(
    "taskhub_tasks",
    metadata,
    sa.Column("ref", sa.String(512), primary_key=True),
    sa.Column("backend", sa.String(128), nullable=False),
    sa.Column("vendor", sa.String(64), nullable=False),
    sa.Column("task_id", sa.String(384), nullable=False),
    sa.Column("kind", sa.String(256)),
    sa.Column("parent_id", sa.String(384)),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("raw", sa.String(256)),
    sa.Column("reason", sa.String(128)),
    sa.Column("message", sa.Text),
    sa.Column("retryable", sa.Boolean),
    sa.Column("progress", sa.Float),
    sa.Column("retries", sa.Integer),
    sa.Column("status_updated_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
    # How many transitions the task has: the seq of its last one.
    sa.Column("seq", sa.Integer, nullable=False),
    # Added in version 2: the masked Task.to_dict() JSON.
    sa.Column("task_json", sa.Text),
    # Added in version 3: the parent's ref for a subtask (NULL for a unit of work).
    sa.Column("parent_ref", sa.String(512)),
)
# Version 3: a page filtered by backend or vendor and state comes in the page's order from
# these (version 2's indexes stopped at the state, so PostgreSQL sorted every match: half a
# second at a million tasks).
sa.Index(
    "taskhub_tasks_backend_state_observed", tasks.c.backend, tasks.c.state, tasks.c.observed_at
)
sa.Index("taskhub_tasks_vendor_state_observed", tasks.c.vendor, tasks.c.state, tasks.c.observed_at)
# Added in version 2: the page's default order.
sa.Index("taskhub_tasks_observed", tasks.c.observed_at)
# Added in version 3: keyset paging of the page's order, and a parent's subtasks.
sa.Index("taskhub_tasks_observed_ref", tasks.c.observed_at, tasks.c.ref)
sa.Index("taskhub_tasks_parent", tasks.c.parent_ref, tasks.c.observed_at)

transitions = sa.Table(
    "taskhub_transitions",
    metadata,
    sa.Column("ref", sa.String(512), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("backend", sa.String(128), nullable=False),
    sa.Column("vendor", sa.String(64), nullable=False),
    sa.Column("from_state", sa.String(16)),
    sa.Column("to_state", sa.String(16), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("change", sa.String(16), nullable=False),
    sa.Column("raw", sa.String(256)),
    sa.Column("reason", sa.String(128)),
    sa.Column("message", sa.Text),
    sa.Column("progress", sa.Float),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index("taskhub_transitions_at", transitions.c.at)

webhook_events = sa.Table(
    "taskhub_webhook_events",
    metadata,
    sa.Column("backend", sa.String(128), primary_key=True),
    sa.Column("event_id", sa.String(256), primary_key=True),
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
)


counts = sa.Table(
    "taskhub_counts",
    metadata,
    sa.Column("backend", sa.String(128), primary_key=True),
    sa.Column("vendor", sa.String(64), primary_key=True),
    sa.Column("level", sa.String(16), primary_key=True),
    sa.Column("state", sa.String(16), primary_key=True),
    sa.Column("n", sa.BigInteger, nullable=False),
)

quarantine = sa.Table(
    "taskhub_quarantine",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("backend", sa.String(128), nullable=False),
    sa.Column("ref", sa.String(512), nullable=False),
    # The masked task JSON (and the transition the Tracker saw), made storable.
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
sa.Index("taskhub_quarantine_at", quarantine.c.at)

audit = sa.Table(
    "taskhub_audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    # The name of the token that acted ("anonymous" on a service with no token).
    sa.Column("who", sa.String(128), nullable=False),
    # submit, cancel, retry.
    sa.Column("action", sa.String(32), nullable=False),
    # The ref acted on, or the job submitted.
    sa.Column("target", sa.String(512), nullable=False),
    # The parameters, masked, as JSON.
    sa.Column("params", sa.Text, nullable=False),
    # ok, refused, failed, unknown (the vendor may or may not have acted).
    sa.Column("outcome", sa.String(16), nullable=False),
    # The ref the action made or acted on, and what was said.
    sa.Column("ref", sa.String(512)),
    sa.Column("detail", sa.Text),
)
sa.Index("taskhub_audit_at", audit.c.at)

idempotency = sa.Table(
    "taskhub_idempotency",
    metadata,
    # A submit's Idempotency-Key, per token: a repeat returns the task the first one made.
    sa.Column("who", sa.String(128), primary_key=True),
    sa.Column("key", sa.String(256), primary_key=True),
    sa.Column("job", sa.String(256), nullable=False),
    # The task it made: NULL while the submit runs, or when its outcome is unknown.
    sa.Column("ref", sa.String(512)),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

#: The ``level`` of a task with no parent (a unit of work) and of one with a parent.
TASK, SUBTASK = "task", "subtask"


def _v1_to_v2(conn: sa.Connection) -> None:
    """Version 2 keeps each task's JSON and orders the page by when a task was observed."""
    conn.execute(sa.text("ALTER TABLE taskhub_tasks ADD COLUMN task_json TEXT"))
    conn.execute(sa.text("CREATE INDEX taskhub_tasks_observed ON taskhub_tasks (observed_at)"))


def _v2_to_v3(conn: sa.Connection) -> None:
    """Version 3 links subtasks to their parent, pages by keyset, keeps counts, a
    quarantine, an audit trail and submit keys. Counts start from the rows already there."""
    conn.execute(sa.text("ALTER TABLE taskhub_tasks ADD COLUMN parent_ref VARCHAR(512)"))
    conn.execute(
        sa.text(
            "UPDATE taskhub_tasks SET parent_ref = backend || ':' || parent_id "
            "WHERE parent_id IS NOT NULL"
        )
    )
    for name in ("taskhub_tasks_backend_state", "taskhub_tasks_vendor_state"):
        conn.execute(sa.text(f"DROP INDEX IF EXISTS {name}"))
    for index in (
        "taskhub_tasks_observed_ref",
        "taskhub_tasks_parent",
        "taskhub_tasks_backend_state_observed",
        "taskhub_tasks_vendor_state_observed",
    ):
        next(i for i in tasks.indexes if i.name == index).create(conn)
    for table in (counts, quarantine, audit, idempotency):
        table.create(conn)
    level = sa.case((tasks.c.parent_id.is_(None), TASK), else_=SUBTASK)
    conn.execute(
        counts.insert().from_select(
            ["backend", "vendor", "level", "state", "n"],
            sa.select(
                tasks.c.backend, tasks.c.vendor, level, tasks.c.state, sa.func.count()
            ).group_by(tasks.c.backend, tasks.c.vendor, level, tasks.c.state),
        )
    )


#: version -> the step that brings a database at that version to the next one.
STEPS: dict[int, Callable[[sa.Connection], None]] = {1: _v1_to_v2, 2: _v2_to_v3}


def current_version(conn: sa.Connection) -> int | None:
    """The database's schema version; None for a database with no taskhub tables."""
    if not sa.inspect(conn).has_table("taskhub_schema"):
        return None
    version = conn.execute(sa.select(schema_table.c.version)).scalar()
    return None if version is None else int(version)


def upgrade(conn: sa.Connection) -> int:
    """Create the tables, or upgrade them step by step to :data:`VERSION`; return the version
    found (0 for a new database). A database newer than this code is refused."""
    found = current_version(conn)
    if found is None:
        metadata.create_all(conn)
        conn.execute(schema_table.insert().values(version=VERSION))
        return 0
    if found > VERSION:
        raise RuntimeError(
            f"the store's schema is version {found}, newer than this taskhub knows ({VERSION}); "
            "upgrade taskhub"
        )
    version = found
    while version < VERSION:
        STEPS[version](conn)
        version += 1
        conn.execute(schema_table.update().values(version=version))
    metadata.create_all(conn)  # tables added in a later version (none yet)
    return found
