"""Listing walks that end: a server cannot keep a walk going forever.

Every walk over a vendor's pages goes through a :class:`PageGuard`. A cursor or link the
server already gave, an empty page that still points to another, a page identical to the one
before it (offset paging on a server that ignores the offset), or more pages than the
backend's ``max_pages`` ends the walk with :class:`MalformedResponse` instead of a loop that
sends thousands of requests.
"""

from __future__ import annotations

from collections.abc import Hashable

from taskhub.errors import MalformedResponse


class PageGuard:
    """Checks each page of one walk before the next one is asked for."""

    def __init__(self, vendor: str, operation: str, max_pages: int) -> None:
        self.vendor = vendor
        self.operation = operation
        self.max_pages = max_pages
        self.pages = 0
        self._cursors: set[str] = set()
        self._last: Hashable = None

    def turn(self, *, next: str | None, count: int, content: Hashable = None) -> bool:
        """Record a page of ``count`` items whose link or cursor to the next page is
        ``next`` (None or empty: it was the last); True when the walk should go on.

        ``content`` identifies the page's items (e.g. its first and last id) so a server
        that answers every offset with the same page is caught.
        """
        self.pages += 1
        if not next:
            return False
        if count == 0:
            raise self._error(
                "an empty page still pointed to a next page", "the server pages without end"
            )
        if next in self._cursors:
            raise self._error(
                "the server gave the same cursor or link twice", "the walk would never end"
            )
        if content is not None and content == self._last:
            raise self._error(
                "the server answered the same page twice", "the offset or cursor was ignored"
            )
        if self.pages >= self.max_pages:
            raise self._error(
                f"more than max_pages ({self.max_pages}) pages", "raise max_pages to walk further"
            )
        self._cursors.add(next)
        self._last = content
        return True

    def _error(self, what: str, why: str) -> MalformedResponse:
        return MalformedResponse(
            f"listing stopped after {self.pages} pages: {what} ({why})",
            vendor=self.vendor,
            operation=self.operation,
        )


def fingerprint(items: list[object]) -> Hashable:
    """What identifies a page's content for :meth:`PageGuard.turn` (its size and ends)."""
    if not items:
        return None
    return len(items), repr(items[0])[:500], repr(items[-1])[:500]
