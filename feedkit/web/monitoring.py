"""/healthz and /metrics: the service's health as JSON (503 when unhealthy) and its numbers in
the Prometheus text format, both read from the state database at each request. Only the
addresses in [alerts] monitoring_from may read them: they tell who is sending and how many
people subscribe.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from feedkit import operations
from feedkit.config import Config
from feedkit.monitoring import Numbers
from feedkit.web.pages import SECURITY_HEADERS, Pages
from feedkit.web.privacy import client_address

JOB_OUTCOME = ["job", "outcome"]
NO_STORE = {**SECURITY_HEADERS, "Cache-Control": "no-store"}


class Monitoring:
    """The two routes an outside monitor reads."""

    def __init__(self, config: Config, pages: Pages) -> None:
        self.config = config
        self.pages = pages
        self.allowed = tuple(
            ipaddress.ip_network(value, strict=False) for value in config.alerts.monitoring_from
        )

    async def healthz(self, request: Request) -> Response:
        """200 with the health as JSON; 503 with the same body when anything is wrong."""
        if not self._may_read(request):
            return self._refused()
        health = await run_in_threadpool(operations.health, self.config)
        status = 200 if health.healthy else 503
        return JSONResponse(health.as_json(), status_code=status, headers=NO_STORE)

    async def metrics(self, request: Request) -> Response:
        """The numbers, written by the Prometheus client library."""
        if not self._may_read(request):
            return self._refused()
        numbers = await run_in_threadpool(operations.numbers, self.config)
        registry = CollectorRegistry()
        registry.register(NumbersCollector(numbers))
        body = generate_latest(registry)
        return Response(body, headers={**NO_STORE, "Content-Type": CONTENT_TYPE_LATEST})

    def _may_read(self, request: Request) -> bool:
        try:
            client = ipaddress.ip_address(client_address(request))
        except ValueError:
            return False  # no address to go by (a test client, a Unix socket): no
        return any(client in network for network in self.allowed)

    def _refused(self) -> Response:
        message = "Only the addresses in [alerts] monitoring_from may read this."
        return self.pages.message(403, "Not for this address", message)


class NumbersCollector:
    """The numbers as metric families, made afresh for each scrape."""

    def __init__(self, numbers: Numbers) -> None:
        self.numbers = numbers

    def collect(self) -> Iterator[Metric]:
        yield from self._jobs()
        yield from self._newsletter()
        yield from self._service()

    def _jobs(self) -> Iterator[Metric]:
        jobs = self.numbers.jobs.values()
        runs = CounterMetricFamily(
            "feedkit_job_runs",
            "Runs of each scheduled job, by outcome.",
            labels=["job", "outcome"],
        )
        duration = SummaryMetricFamily(
            "feedkit_job_duration_seconds", "Time spent in each scheduled job.", labels=["job"]
        )
        in_a_row = _gauge("feedkit_job_failures_in_a_row", "Failed runs since the last success.")
        last_success = _gauge(
            "feedkit_job_last_success_timestamp_seconds", "When each job last went through."
        )
        for job in jobs:
            runs.add_metric([job.name, "ok"], job.runs - job.failures)
            runs.add_metric([job.name, "failed"], job.failures)
            duration.add_metric([job.name], job.runs, job.seconds_total)
            in_a_row.add_metric([job.name], job.failures_in_a_row)
            if job.last_success_at is not None:
                last_success.add_metric([job.name], job.last_success_at.timestamp())
        yield from (runs, duration, in_a_row, last_success)

    def _newsletter(self) -> Iterator[Metric]:
        numbers = self.numbers
        yield GaugeMetricFamily(
            "feedkit_reviews_published",
            "Reviews published, as of the last build.",
            value=numbers.reviews_published,
        )
        yield _counter("feedkit_feeds_written", "Feed files builds wrote.", numbers.feeds_written)
        yield _counter("feedkit_digests", "Digests made.", numbers.digests)
        yield _by(
            "feedkit_deliveries", "Deliveries of all digests, by status.", numbers.deliveries
        )
        yield _by("feedkit_subscribers", "Subscribers, by status.", numbers.subscribers)
        yield _counter("feedkit_bounces", "Bounces recorded.", numbers.bounces)
        yield _counter("feedkit_complaints", "Spam complaints recorded.", numbers.complaints)

    def _service(self) -> Iterator[Metric]:
        numbers = self.numbers
        yield GaugeMetricFamily(
            "feedkit_send_lock_held", "1 while a digest is being sent.", value=numbers.lock_held
        )
        if numbers.heartbeat_at is not None:
            yield GaugeMetricFamily(
                "feedkit_heartbeat_timestamp_seconds",
                "When the service last said it was alive.",
                value=numbers.heartbeat_at.timestamp(),
            )
        yield GaugeMetricFamily(
            "feedkit_healthy", "1 when /healthz answers 200.", value=numbers.healthy
        )


def _gauge(name: str, documentation: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=["job"])


def _counter(name: str, documentation: str, value: int) -> CounterMetricFamily:
    return CounterMetricFamily(name, documentation, value=value)


def _by(name: str, documentation: str, counts: dict[str, int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=["status"])
    for status, count in counts.items():
        family.add_metric([status], count)
    return family
