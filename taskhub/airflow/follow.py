"""What the provider's trigger, operators and sensor share about following a task.

The rules themselves — staleness, deadlines, a run of failed reads, the loop's one shared
subscription per refresher — are the core's (:mod:`taskhub.following`), the same for
``hub.wait``, the asyncio hub and the trigger.
"""

from __future__ import annotations

from taskhub.following import TRANSIENT

__all__ = ["TRANSIENT"]
