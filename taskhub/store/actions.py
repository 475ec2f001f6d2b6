"""What ``taskhub serve``'s actions leave in the store: the audit trail and submit keys.

These are written at once, in their own short transactions (not through the writer's queue):
an action's record must exist before its answer is sent.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import attrs
import sqlalchemy as sa

from . import boundary
from .reader import decode_id_cursor, encode_id_cursor
from .rows import iso
from .schema import audit, idempotency

UTC = timezone.utc
#: The outcomes an audit row says.
OUTCOMES = ("ok", "refused", "failed", "unknown")


@attrs.frozen
class Claim:
    """What a submit key says: ``fresh`` (this request may submit), or the earlier request's
    ``ref`` and ``state`` (``done``, ``running``, ``unknown``)."""

    fresh: bool
    ref: str | None = None
    state: str | None = None
    job: str | None = None


class Actions:
    """The audit trail and the submit keys of one store."""

    def __init__(self, writer: sa.Engine, reader: sa.Engine) -> None:
        self.writer = writer
        self.reader = reader

    def record(
        self,
        *,
        who: str,
        action: str,
        target: str,
        params: Any,
        outcome: str,
        ref: str | None = None,
        detail: str | None = None,
    ) -> int:
        """Add one audit row (``params`` already masked); return its id."""
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
        row = {
            "at": datetime.now(UTC),
            "who": boundary.text(who, 128),
            "action": boundary.text(action, 32),
            "target": boundary.text(target, 512),
            "params": json.dumps(params, default=str),
            "outcome": outcome,
            "ref": boundary.text(ref, 512),
            "detail": boundary.text(detail, 2000),
        }
        with self.writer.begin() as conn:
            found = conn.execute(audit.insert().values(**row).returning(audit.c.id)).scalar_one()
        return int(found)

    def page(
        self, *, limit: int = 100, cursor: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The newest audit rows first, after ``cursor``; and the next page's cursor."""
        query = sa.select(audit).order_by(audit.c.id.desc()).limit(limit + 1)
        if cursor is not None:
            query = query.where(audit.c.id < decode_id_cursor(cursor))
        with self.reader.connect() as conn:
            rows = conn.execute(query).all()
        shown = rows[:limit]
        nxt = encode_id_cursor(shown[-1].id) if len(rows) > limit else None
        return [_audit_json(r) for r in shown], nxt

    def claim(self, who: str, key: str, job: str) -> Claim:
        """Take the submit key ``key`` for ``who``, or say what the earlier request did."""
        stored = boundary.text(key, 256) or ""
        try:
            with self.writer.begin() as conn:
                conn.execute(
                    idempotency.insert().values(
                        who=who,
                        key=stored,
                        job=job,
                        ref=None,
                        state="running",
                        at=datetime.now(UTC),
                    )
                )
            return Claim(True)
        except sa.exc.IntegrityError:
            pass
        with self.reader.connect() as conn:
            row = conn.execute(
                sa.select(idempotency).where(idempotency.c.who == who, idempotency.c.key == stored)
            ).first()
        if row is None:  # released between the two statements: try once more
            return self.claim(who, key, job)
        return Claim(False, row.ref, row.state, row.job)

    def settle(self, who: str, key: str, *, ref: str | None, state: str) -> None:
        """Say what the submit under ``key`` did: ``done`` (``ref``) or ``unknown``."""
        with self.writer.begin() as conn:
            conn.execute(
                idempotency.update()
                .where(idempotency.c.who == who, idempotency.c.key == boundary.text(key, 256))
                .values(ref=ref, state=state)
            )

    def release(self, who: str, key: str) -> None:
        """Forget ``key``: its submit was refused before any request, so it may come again."""
        with self.writer.begin() as conn:
            conn.execute(
                idempotency.delete().where(
                    idempotency.c.who == who, idempotency.c.key == boundary.text(key, 256)
                )
            )


def _audit_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": iso(row.at),
        "who": row.who,
        "action": row.action,
        "target": row.target,
        "params": json.loads(row.params),
        "outcome": row.outcome,
        "ref": row.ref,
        "detail": row.detail,
    }
