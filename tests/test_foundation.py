"""The foundation holds: migrations complete, production settings safe, a real worker works."""

import os
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x7#q2-production-like-secret-key-with-plenty-of-entropy-9f3b1c6e8d2a4",
    "ALLOWED_HOSTS": "oms.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://oms.example.com",
    "DATABASE_URL": "postgres://oms:secret@db:5432/oms",
    "REDIS_URL": "redis://redis:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
    "BEHIND_PROXY": "1",
}


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if key not in _SETTINGS_VARS}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


# Variables `make test` sets that must not leak into a production-like child process.
_SETTINGS_VARS = {
    "DEBUG",
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "SECURE_SSL_REDIRECT",
    "SECURE_COOKIES",
    "SECURE_HSTS_SECONDS",
    "ALLOWED_HOSTS",
    "DJANGO_SETTINGS_MODULE",
}


@pytest.mark.django_db
def test_migrations_are_complete():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
    except SystemExit:
        pytest.fail("Model changes without migrations:\n" + out.getvalue())


def test_deploy_check_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "SECRET_KEY"}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_development_key_only_with_debug_on():
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
        env={"DEBUG": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert "development-only" in result.stdout


# --- a real worker through real Redis ---------------------------------------------------


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(transactional_db, settings):
    """A Celery worker process on the test database and the test Redis database."""
    assert settings.REDIS_URL.startswith("redis://"), "make test runs the worker on real Redis"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "test-only-secret"),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "oms",
            "worker",
            "--pool",
            "solo",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    yield process
    if process.poll() is not None:
        return  # already stopped (a failing test read its output)
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _output(process: subprocess.Popen) -> str:
    os.killpg(process.pid, signal.SIGTERM)
    return process.communicate(timeout=20)[0]


@pytest.mark.worker
def test_worker_runs_relay_task_through_redis(worker, sales):
    """An event published by a service is relayed by a task that a separate worker process
    takes from Redis and runs against the same database."""
    from oms.outbox.models import OutboxEvent
    from oms.outbox.tasks import relay_outbox
    from orders.services import create_enquiry
    from tests.factories import CustomerFactory

    with transaction.atomic():
        order = create_enquiry(customer=CustomerFactory(), title="Worker check", by=sales)
    event = OutboxEvent.objects.get(kind="order.created", subject_id=order.pk)

    relay_outbox.delay()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and worker.poll() is None:
        event.refresh_from_db()
        if event.status == OutboxEvent.Status.DONE:
            break
        time.sleep(0.25)
    assert worker.poll() is None, worker.stdout.read()
    # The relay hands order.created's handler (webhook fan-out) to the worker through
    # Redis; the worker runs it and settles the event.
    assert event.status == OutboxEvent.Status.DONE, _output(worker)
    assert event.completed_at is not None


def test_email_goes_through_a_provider_when_email_backend_is_set():
    script = (
        "from django.core import mail; from django.core.mail import send_mail; "
        "send_mail('Hello', 'Body', 'orders@example.com', ['customer@example.com']); "
        "print(type(mail.get_connection()).__module__, len(mail.outbox))"
    )
    env = {
        "DEBUG": "1",
        "EMAIL_BACKEND": "anymail.backends.test.EmailBackend",
        "ANYMAIL_TEST_SAMPLE_SETTING": "x",
    }
    result = manage("shell", "-c", script, env=env)
    assert result.returncode == 0, result.stderr
    assert "anymail.backends.test 1" in result.stdout
