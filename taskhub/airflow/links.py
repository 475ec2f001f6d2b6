"""The operators' extra links: "<Vendor> console", the vendor's own page for the task.

One link per vendor that has a page (:mod:`taskhub.airflow.console`); the operator and the
sensor declare them all, since which vendor a connection names is known only when the task
runs, and the one for the task's vendor gets its URL. As the dbt Cloud provider does with
its run URL, the operator keeps the URL in XCom as soon as the task is submitted (or read),
so the link works while the vendor still works and after a failure; Airflow reads it back
under the link's own key (``_link_<class name>``), as its UI does for every extra link.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from taskhub.airflow._compat import BaseOperatorLink, XCom
from taskhub.airflow.console import CONSOLES

log = logging.getLogger("taskhub.airflow")


class ConsoleLink(BaseOperatorLink):
    """A link to one vendor's console page for the Airflow task's vendor task."""

    #: The vendor whose console this is.
    vendor: ClassVar[str]

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        """The page the task recorded under this link's key, or "" (no page)."""
        value = XCom.get_value(ti_key=ti_key, key=self.xcom_key)
        return value if isinstance(value, str) else ""


class LivepeerConsoleLink(ConsoleLink):
    """Livepeer Studio's page of the asset the task made or read."""

    vendor = "livepeer"
    name = CONSOLES["livepeer"].name


class VeritoneConsoleLink(ConsoleLink):
    """Veritone CMS's page of the job's media (its target TDO)."""

    vendor = "veritone"
    name = CONSOLES["veritone"].name


class CogniteConsoleLink(ConsoleLink):
    """Cognite Data Fusion's page of the workflow, in the connection's project and cluster."""

    vendor = "cognite"
    name = CONSOLES["cognite"].name


#: What the operator and the sensor declare as ``operator_extra_links``.
LINKS: tuple[ConsoleLink, ...] = (
    LivepeerConsoleLink(),
    VeritoneConsoleLink(),
    CogniteConsoleLink(),
)


def record(context: Any, vendor: str, url: str | None) -> None:
    """Keep ``url`` where ``vendor``'s console link reads it, and "" (no page) for the
    other vendors' links, so that every link finds its value."""
    for link in LINKS:
        mine = link.vendor == vendor and url is not None
        context["ti"].xcom_push(key=link.xcom_key, value=url if mine else "")
        if mine:
            log.info("%s: %s", link.name, url)


__all__ = [
    "LINKS",
    "CogniteConsoleLink",
    "ConsoleLink",
    "LivepeerConsoleLink",
    "VeritoneConsoleLink",
    "record",
]
