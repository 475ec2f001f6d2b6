"""Prometheus metrics for ``taskhub serve`` (prometheus-client), with no task ids in labels.

- ``taskhub_tasks{backend,vendor,state}`` gauge: units of work in the store (tasks with no
  parent: a job, an execution, a Livepeer or Vionlabs task), and
  ``taskhub_subtasks{backend,vendor,state}`` their parts, read at scrape time from the
  counts the store keeps;
- ``taskhub_transitions_total{backend,vendor,from_state,to_state}`` counter: transitions of
  units of work this process recorded (``from_state="none"`` for the first sighting);
- ``taskhub_task_duration_seconds{backend,vendor,state}`` histogram: creation (or first
  sighting) to the final state, per final state;
- ``taskhub_vendor_requests_total{vendor,operation,status_class}`` counter (``2xx`` ... ``5xx``,
  or ``error`` for a request that got no answer) and
  ``taskhub_vendor_request_duration_seconds{vendor,operation}`` histogram;
- ``taskhub_unknown_status_words_total{vendor}`` counter;
- ``taskhub_refresh_cycle_seconds{backend,vendor}`` histogram and
  ``taskhub_refresh_errors_total{backend,vendor}`` counter;
- ``taskhub_store_up``, ``taskhub_store_pending_writes`` gauges,
  ``taskhub_store_quarantined_total{backend}`` counter (observations the database refused),
  ``taskhub_vendor_rows_skipped_total{vendor}`` counter (rows whose id fails the vendor's
  id rule), ``taskhub_webhooks_total{backend,outcome}`` counter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from taskhub import signals as hooks
from taskhub.store import SUBTASK, TASK, Recorded, Store

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

DURATION_BUCKETS = (1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400)
CYCLE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


def status_class(outcome: object) -> str:
    """``2xx`` ... ``5xx`` for an HTTP status code, ``error`` for anything else."""
    if isinstance(outcome, int) and not isinstance(outcome, bool) and 100 <= outcome < 600:
        return f"{outcome // 100}xx"
    return "error"


class _TaskGauge(Collector):
    """``taskhub_tasks`` (units of work) and ``taskhub_subtasks`` (their parts), read at
    scrape time from the counts the store's writer keeps."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        for name, level, what in (
            ("taskhub_tasks", TASK, "Units of work (tasks with no parent)"),
            ("taskhub_subtasks", SUBTASK, "Parts of units of work (tasks with a parent)"),
        ):
            family = GaugeMetricFamily(
                name,
                f"{what} in the store by backend, vendor and normalized state.",
                labels=["backend", "vendor", "state"],
            )
            try:
                counts = self.store.counts(level=level)
            except Exception:  # the database is away: the other metrics still answer
                counts = []
            for backend, vendor, state, n in counts:
                family.add_metric([backend, vendor, state], n)
            yield family


class Metrics:
    """The service's metrics in their own registry; :meth:`install` hooks them to the core."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.registry.register(_TaskGauge(store))
        self.transitions = Counter(
            "taskhub_transitions",
            "Transitions recorded, by the state left and the state reached.",
            ["backend", "vendor", "from_state", "to_state"],
            registry=r,
        )
        self.durations = Histogram(
            "taskhub_task_duration_seconds",
            "Seconds from a task's creation (or first sighting) to its final state.",
            ["backend", "vendor", "state"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.requests = Counter(
            "taskhub_vendor_requests",
            "HTTP requests to vendors, by operation and status class.",
            ["vendor", "operation", "status_class"],
            registry=r,
        )
        self.request_seconds = Histogram(
            "taskhub_vendor_request_duration_seconds",
            "Seconds per HTTP request to a vendor.",
            ["vendor", "operation"],
            buckets=CYCLE_BUCKETS,
            registry=r,
        )
        self.unknown = Counter(
            "taskhub_unknown_status_words",
            "Status words a vendor sent that its table does not know.",
            ["vendor"],
            registry=r,
        )
        self.cycles = Histogram(
            "taskhub_refresh_cycle_seconds",
            "Seconds per refresh cycle of a backend's shared refresher.",
            ["backend", "vendor"],
            buckets=CYCLE_BUCKETS,
            registry=r,
        )
        self.cycle_errors = Counter(
            "taskhub_refresh_errors",
            "Refresh cycles that failed.",
            ["backend", "vendor"],
            registry=r,
        )
        self.webhooks = Counter(
            "taskhub_webhooks",
            "Webhook deliveries by outcome (accepted, rejected, duplicate, malformed).",
            ["backend", "outcome"],
            registry=r,
        )
        self.quarantined = Counter(
            "taskhub_store_quarantined",
            "Observations the database refused, kept in taskhub_quarantine instead.",
            ["backend"],
            registry=r,
        )
        self.skipped = Counter(
            "taskhub_vendor_rows_skipped",
            "Rows of a vendor's answer skipped because their id fails the vendor's id rule.",
            ["vendor"],
            registry=r,
        )
        up = Gauge("taskhub_store_up", "1 when the store can be written.", registry=r)
        up.set_function(lambda: 1.0 if store.healthy else 0.0)
        pending = Gauge(
            "taskhub_store_pending_writes", "Observations queued for the store.", registry=r
        )
        pending.set_function(lambda: float(store.pending))
        self._hooks: list[tuple[list[Any], Callable[..., None]]] = [
            (hooks.on_request, self._on_request),
            (hooks.on_unknown_status, self._on_unknown),
            (hooks.on_refresh_cycle, self._on_cycle),
            (hooks.on_skipped_row, self._on_skipped),
        ]

    def install(self) -> None:
        """Start counting: listen to the core's hooks and to the store's commits."""
        for listeners, fn in self._hooks:
            if fn not in listeners:
                listeners.append(fn)
        if self._on_recorded not in self.store.on_recorded:
            self.store.on_recorded.append(self._on_recorded)
        if self._on_quarantined not in self.store.on_quarantined:
            self.store.on_quarantined.append(self._on_quarantined)

    def uninstall(self) -> None:
        """Stop counting."""
        for listeners, fn in self._hooks:
            if fn in listeners:
                listeners.remove(fn)
        if self._on_recorded in self.store.on_recorded:
            self.store.on_recorded.remove(self._on_recorded)
        if self._on_quarantined in self.store.on_quarantined:
            self.store.on_quarantined.remove(self._on_quarantined)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)

    # -- listeners ---------------------------------------------------------------------------

    def _on_request(self, vendor: str, operation: str, outcome: object, seconds: float) -> None:
        self.requests.labels(vendor, operation, status_class(outcome)).inc()
        self.request_seconds.labels(vendor, operation).observe(seconds)

    def _on_unknown(self, vendor: str, _word: str) -> None:
        self.unknown.labels(vendor).inc()

    def _on_cycle(self, backend: str, vendor: str, _ids: int, seconds: float, failed: bool) -> None:
        self.cycles.labels(backend, vendor).observe(seconds)
        if failed:
            self.cycle_errors.labels(backend, vendor).inc()

    def _on_skipped(self, vendor: str, _why: str) -> None:
        self.skipped.labels(vendor).inc()

    def _on_quarantined(self, backend: str) -> None:
        self.quarantined.labels(backend).inc()

    def _on_recorded(self, batch: list[Recorded]) -> None:
        # Units of work only, as every count here: a job's engine tasks would count on the
        # vendors that report parts and not on the others.
        for rec in batch:
            if rec.level != TASK:
                continue
            before = rec.before.value if rec.before is not None else "none"
            self.transitions.labels(rec.backend, rec.vendor, before, rec.after.value).inc()
            if rec.duration is not None:
                self.durations.labels(rec.backend, rec.vendor, rec.after.value).observe(
                    rec.duration
                )
