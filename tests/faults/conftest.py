"""Real processes for fault tests: a private redis-server on a free port and a Celery
worker (with embedded beat) pointed at it and at the pytest database."""

import contextlib
import importlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from django.db import connection

from oms.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], object], *, timeout: float, what: str, every=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"Timed out after {timeout:.0f} s waiting for {what}.")


class RedisServer:
    """A redis-server that forgets everything when stopped (no RDB, no AOF)."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._pong, timeout=10, what="redis-server to start")

    def _pong(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        """SHUTDOWN NOSAVE: every queued message is gone."""
        if self.process is None:
            return
        with contextlib.suppress(redis.ConnectionError):
            self.client().shutdown(nosave=True)
        self.process.wait(timeout=10)
        self.process = None


class Worker:
    def __init__(self, broker: RedisServer, workdir: Path, **env: str):
        self.broker = broker
        self.workdir = workdir
        self.env = env
        self.log = workdir / "worker.log"
        self.process: subprocess.Popen | None = None

    def start(self, *, concurrency: int = 2) -> None:
        db = connection.settings_dict
        database_url = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": self.broker.url,
            "DEBUG": "0",
            "SECRET_KEY": os.environ.get("SECRET_KEY", "test-only-secret"),
            "EMAIL_URL": f"filemail:///{self.workdir / 'mail'}",  # absolute path
            "OUTBOX_RELAY_INTERVAL": "1",
            "OUTBOX_REDISPATCH_AFTER": "3",
            "CONN_MAX_AGE": "0",
            "LOG_LEVEL": "WARNING",
            **self.env,
        }
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "celery"),
                "-A",
                "oms",
                "worker",
                "-B",
                "--scheduler",
                "celery.beat:PersistentScheduler",
                "--schedule",
                str(self.workdir / "beat-schedule"),
                "--pool",
                "prefork",
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"faults{self.broker.port}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(lambda: b"ready." in self.log.read_bytes(), timeout=30, what="the worker")

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None:
            return
        if self.alive:
            # The test is over: no need for a warm shutdown, and the relay never minds.
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def emails_to(self, address: str) -> int:
        folder = self.workdir / "mail"
        if not folder.exists():
            return 0
        return sum(f"To: {address}".encode() in path.read_bytes() for path in folder.iterdir())


@pytest.fixture
def reference_data(transactional_db):
    """Roles and the shipped rules, as the migrations left them; other transactional tests
    flush every table, so they are put back (not deserialised, which clashes with the
    content types Django recreates after a flush)."""
    from django.apps import apps

    importlib.import_module("oms.accounts.migrations.0002_roles").create_roles(apps, None)
    importlib.import_module("oms.automation.migrations.0002_default_rules").add_rules(apps, None)


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def broker(redis_server):
    """Point this test process's Celery client at the private Redis, as the web process
    would be; the make-test Redis comes back afterwards."""
    previous = celery_app.conf.broker_url
    _switch(redis_server.url)
    yield redis_server
    _switch(previous)


def _switch(url: str) -> None:
    conf = celery_app.conf
    conf.broker_url = conf.broker_write_url = conf.broker_read_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def worker(broker, tmp_path, reference_data):
    """worker() starts one; it stops before the test database is flushed."""
    started: list[Worker] = []

    def start(concurrency: int = 2, **env: str) -> Worker:
        process = Worker(broker, tmp_path, **env)
        process.start(concurrency=concurrency)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
