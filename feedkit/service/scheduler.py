"""`feedkit run`: the long-running service that builds feeds and sends digests on their cron.

Jobs only call `pipeline.build` and `campaigns.deliver`, the same code as the CLI. A digest missed
while the service was down runs once at start; SIGTERM/SIGINT stop cleanly, SIGHUP reloads config.
"""

from __future__ import annotations

import functools
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Concatenate, ParamSpec

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from feedkit import alerts, operations, pipeline
from feedkit.config import Config, load_config
from feedkit.errors import FeedkitError, LockedError
from feedkit.newsletter import campaigns, history
from feedkit.schedule import check_schedule
from feedkit.service.watcher import ContentWatcher

log = logging.getLogger("feedkit")

HEARTBEAT_SECONDS = 60
# A job whose time came while the previous run of it was still going is run late rather than
# dropped if it is at most this late; longer downtime is handled by the catch-up at start.
MISFIRE_GRACE_SECONDS = {"build": 300, "digest": 3600}
JobArguments = ParamSpec("JobArguments")
Job = Callable[Concatenate[Config, JobArguments], bool]


def monitored(name: str) -> Callable[[Job[JobArguments]], Job[JobArguments]]:
    """A job whose every run is recorded for /healthz, /metrics and alerts, quoting the error it
    logged. A digest that found another send under way was skipped: neither success nor failure.
    """

    def decorate(job: Job[JobArguments]) -> Job[JobArguments]:
        @functools.wraps(job)
        def run(
            config: Config, /, *args: JobArguments.args, **kwargs: JobArguments.kwargs
        ) -> bool:
            errors = _ErrorLines(name)
            log.addHandler(errors)
            started = time.monotonic()
            try:
                ok = job(config, *args, **kwargs)
            except LockedError as error:
                log.warning("%s: skipped: %s", name, error)
                return False
            finally:
                log.removeHandler(errors)
            _after_job(config, name, ok, time.monotonic() - started, errors.last)
            return ok

        return run

    return decorate


class _ErrorLines(logging.Handler):
    """The last error line one job logs from its own thread: the words an alert quotes."""

    def __init__(self, job: str) -> None:
        super().__init__(logging.ERROR)
        self.prefix = f"{job}: "
        self.thread = threading.get_ident()
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.last = record.getMessage().removeprefix(self.prefix)


def _after_job(config: Config, name: str, ok: bool, seconds: float, error: str) -> None:
    try:
        alerts.after_job(config, name, ok=ok, seconds=seconds, error=error)
    except FeedkitError as problem:
        log.error("alerts: %s", problem)


@monitored("build")
def build_job(config: Config) -> bool:
    """Build the feeds; one log line says what happened. True if the build went through."""
    try:
        report = pipeline.build(config)
        operations.record_build_numbers(config, report.published, len(report.written))
    except FeedkitError as error:
        log.error("build: %s", error)
        return False
    for problem in report.problems:
        log.warning("build: %s", problem)
    for note in report.notes:
        log.info("build: note: %s", note)
    log.info("build: %s", report.summary(str(config.output_dir)))
    return True


@monitored("digest")
def digest_job(config: Config, stop: threading.Event, *, create: bool = True) -> bool:
    """Finish any unfinished digest, then (if `create`) send what is new; one log line per digest.

    Only a run that went through is recorded as the last digest run: a failed one is not, so the
    catch-up at the next start still sees the digest as due. True if the run went through.
    """
    try:
        run = campaigns.deliver(config, stop=stop, create=create)
    except LockedError:
        raise  # skipped, not failed: `monitored` says so
    except FeedkitError as error:
        log.error("digest: %s", error)
        return False
    if not run.reports:
        log.info("digest: nothing new since the last digest; nothing sent")
    pending = history.pending_count(config) if run.reports else 0
    for report in run.reports:
        log.info("digest: %s; %d still pending", report.summary(), pending)
    if run.failure is not None:
        log.error("digest: %s", run.failure)
        return False
    if create:
        operations.record_digest_run(config)
    return True


def heartbeat_job(config: Config) -> None:
    """The service is alive; and a digest that came due but never went is found here."""
    operations.record_heartbeat(config)
    try:
        alerts.look(config)
    except FeedkitError as problem:
        log.error("alerts: %s", problem)


def digest_was_missed(config: Config, trigger: BaseTrigger, now: datetime) -> bool:
    """True if the digest's cron came due after the last digest run (or the service's first
    start)."""
    return operations.digest_due(
        config, lambda moment: trigger.get_next_fire_time(None, moment), now
    )


@dataclass
class Service:
    """The scheduler and what it needs to stop and reload."""

    config_path: Path
    config: Config
    stop: threading.Event = field(default_factory=threading.Event)
    reload_requested: threading.Event = field(default_factory=threading.Event)
    scheduler: BackgroundScheduler = field(init=False)
    # One build at a time, whether the cron or a saved file started it.
    build_lock: threading.Lock = field(default_factory=threading.Lock)
    stop_watching: threading.Event = field(default_factory=threading.Event)
    watching: str = ""  # the content folder whose saves start a build, if any

    def __post_init__(self) -> None:
        self.scheduler = BackgroundScheduler(timezone=self.config.schedule_zone)

    def build_now(self, config: Config) -> bool:
        with self.build_lock:
            return build_job(config)

    def start(self) -> None:
        self._schedule(self.config)
        self.scheduler.start()
        if (
            self.config.schedule.build
        ):  # the feeds are fresh from the start, not from the next tick
            self.scheduler.add_job(self.build_now, args=(self.config,), id="first-build")
        self._watch(self.config)
        if self._catch_up_needed():
            log.info("digest: one was due while the service was down; sending it now")
            self.scheduler.add_job(digest_job, args=(self.config, self.stop), id="catch-up")
        elif self.config.schedule.digest and history.pending_count(self.config):
            # An earlier run was stopped mid-send: finish it now, not at the next digest time.
            log.info("digest: an interrupted digest has messages pending; finishing it now")
            arguments = (self.config, self.stop)
            self.scheduler.add_job(
                digest_job, args=arguments, kwargs={"create": False}, id="resume"
            )
        log.info("feedkit is running: %s", "; ".join(self.describe_jobs()))

    def _watch(self, config: Config) -> None:
        """Rebuild on every save, while the build job is on and `[schedule] watch` too."""
        self.stop_watching.set()
        self.stop_watching = threading.Event()
        self.watching = ""
        if not (config.schedule.build and config.schedule.watch):
            return
        watcher = ContentWatcher(
            str(config.content_dir), lambda: self.build_now(self.config), self.stop_watching
        )
        watcher.start()
        self.watching = config.content.dir

    def _catch_up_needed(self) -> bool:
        trigger = check_schedule(self.config).get("digest")
        return bool(trigger and self.config.schedule.catch_up) and digest_was_missed(
            self.config, trigger, datetime.now(UTC)
        )

    def describe_jobs(self) -> list[str]:
        jobs = [job for job in self.scheduler.get_jobs() if job.id in ("build", "digest")]
        described = [
            f"{job.id} next at {job.next_run_time:%a %d %b %Y %H:%M %Z}"
            for job in jobs
            if job.next_run_time
        ]
        if self.watching:
            described.append(f"and whenever a review in {self.watching}/ is saved")
        return described

    def _schedule(self, config: Config) -> None:
        triggers = check_schedule(config)
        jobs: dict[str, tuple[Callable[..., object], tuple[object, ...]]] = {
            "build": (self.build_now, (config,)),
            "digest": (digest_job, (config, self.stop)),
        }
        for name, trigger in triggers.items():
            function, arguments = jobs[name]
            # max_instances=1: a job never overlaps itself; coalesce: a backlog of runs is one run.
            self.scheduler.add_job(
                function,
                trigger,
                args=arguments,
                id=name,
                replace_existing=True,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=MISFIRE_GRACE_SECONDS[name],
            )
        heartbeat = IntervalTrigger(seconds=HEARTBEAT_SECONDS)
        self.scheduler.add_job(
            heartbeat_job, heartbeat, args=(config,), id="heartbeat", replace_existing=True
        )

    def reload(self) -> None:
        """Re-read config.toml; a broken one is logged and the running schedule kept."""
        try:
            config = load_config(self.config_path)
            check_schedule(config)
        except FeedkitError as error:
            log.error("reload: %s; keeping the configuration already running", error)
            return
        for job_id in ("build", "digest"):
            if self.scheduler.get_job(job_id):
                self.scheduler.remove_job(job_id)
        self.config = config
        self._schedule(config)
        self._watch(config)
        log.info("reload: %s re-read; %s", self.config_path.name, "; ".join(self.describe_jobs()))

    def wait(self) -> None:
        """Block until SIGTERM or SIGINT; SIGHUP reloads. Running jobs finish their message in
        flight."""
        while not self.stop.wait(0.5):
            if self.reload_requested.is_set():
                self.reload_requested.clear()
                self.reload()
        log.info("stopping: finishing the job in flight")
        self.stop_watching.set()
        self.scheduler.shutdown(wait=True)
        log.info("stopped")


def run_service(config_path: Path) -> None:
    """Start the scheduler and serve until a stop signal."""
    service = Service(config_path, load_config(config_path))
    install_signal_handlers(service)
    heartbeat_job(service.config)
    service.start()
    service.wait()


def check_ready(config: Config) -> None:
    """The schedule, and everything its enabled jobs need, before anything starts."""
    triggers = check_schedule(config)
    operations.check_ready(config, build="build" in triggers, digest="digest" in triggers)


def run_once(config: Config, now: datetime | None = None) -> list[str]:
    """What the service would do at this moment, once: for cron or systemd timers.

    Builds if the build job is on; if the digest job is on, finishes an interrupted digest and
    sends a new one only when its cron time has come since the last digest. A job that is off
    never runs. Returns the names of the jobs that failed.
    """
    moment = now or datetime.now(UTC)
    triggers = check_schedule(config)
    operations.record_heartbeat(config)  # run from cron, this is the service's sign of life
    failed = []
    if "build" in triggers and not build_job(config):
        failed.append("build")
    if "digest" in triggers and not _digest_once(config, triggers["digest"], moment):
        failed.append("digest")
    return failed


def _digest_once(config: Config, trigger: BaseTrigger, now: datetime) -> bool:
    due = digest_was_missed(config, trigger, now)
    if due or history.pending_count(config):
        return digest_job(config, threading.Event(), create=due)
    upcoming_time = trigger.get_next_fire_time(None, now)
    log.info("digest: not due; next at %s", f"{upcoming_time:%a %d %b %Y %H:%M %Z}")
    return True


def install_signal_handlers(service: Service) -> None:
    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        service.stop.set()

    def reload(_signum: int, _frame: FrameType | None) -> None:
        service.reload_requested.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, reload)
