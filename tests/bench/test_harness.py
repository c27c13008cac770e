"""`make bench` at toy scale: every section of the report is measured and written."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = {"meta", "pages", "load", "lifecycles", "automation", "due_scan", "memory", "targets"}
PAGES = {
    "quotes awaiting response",
    "operations queue",
    "draft invoice review",
    "overdue invoices",
    "pipeline dashboard",
    "order page, 50-event timeline",
    "search by customer name",
    "search by order number",
}


@pytest.fixture
def bench_database_url():
    """A database of the bench's own beside the test database, dropped afterwards."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    name = f"{parts.path.lstrip('/')}_harness"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.serial
def test_quick_bench_reports_every_section(bench_database_url, tmp_path):
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "oms.bench.run",
            "--orders",
            "200",
            "--quick",
            "--database-url",
            bench_database_url,
            "--out",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads((tmp_path / "latest.json").read_text())
    assert set(report) >= SECTIONS
    assert len(list(tmp_path.glob("2*.json"))) == 1  # the timestamped copy
    assert report["meta"]["orders"] == 200

    assert set(report["pages"]) >= PAGES
    for name, page in report["pages"].items():
        assert page["status"] in (200, 302), name
        assert page["p95_ms"] >= page["p50_ms"] > 0
        assert page["queries"] > 0
    assert report["pages"]["search by order number"]["status"] == 302  # straight to the order

    stages = report["load"]["stages"]
    assert stages and all(stage["requests"] > 0 for stage in stages)
    # Whether a rate held depends on the machine's other tenants; the stage must report it.
    assert "sustained" in report["load"]

    life = report["lifecycles"]
    assert life["one_process"]["lifecycles"] > 0 and life["two_processes"]["per_second"] > 0
    assert life["floor"]["ms_per_step"] > 0 and life["ratio_to_floor"] > 1

    automation = report["automation"]
    assert automation["events_per_s"] > 0
    assert automation["emails_logged"] == automation["paced_transitions"] > 0
    assert automation["email_delay_p99_ms"] >= automation["email_delay_p50_ms"] > 0

    scan = report["due_scan"]
    assert scan["next due follow-up or reminder"]["p95_ms"] > 0
    assert any("scheduled_pending_due_idx" in line for line in scan["plan"])

    assert report["memory"]["web_worker_peak_rss_mb"] > 0
    assert report["memory"]["celery_worker_peak_rss_mb"] > 0
    assert "OMS benchmark" in run.stdout and "Written to" in run.stdout
