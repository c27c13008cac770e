"""The dependency audit's rule (.ci/audit_dependencies.py): fixable vulnerabilities fail,
unfixed ones warn, and packages it could not check fail loudly instead of passing."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "audit_dependencies.py"


@pytest.fixture
def audit(monkeypatch):
    spec = importlib.util.spec_from_file_location("audit_dependencies", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def with_report(report: dict) -> int:
        monkeypatch.setattr(module, "run_pip_audit", lambda service: report)
        return module.main()

    return with_report


def _dep(name: str, *vulns: dict) -> dict:
    return {"name": name, "version": "1.0", "vulns": list(vulns)}


def test_a_clean_report_passes(audit, capsys):
    assert audit({"dependencies": [_dep("django"), _dep("celery")]}) == 0
    assert "no fixable vulnerabilities" in capsys.readouterr().out


def test_a_vulnerability_with_a_fix_fails(audit, capsys):
    vuln = {"id": "PYSEC-1", "fix_versions": ["1.1"], "description": "bad"}
    assert audit({"dependencies": [_dep("django", vuln)]}) == 1
    assert "VULNERABLE django 1.0: PYSEC-1; fixed in 1.1" in capsys.readouterr().out


def test_a_vulnerability_without_a_fix_only_warns(audit, capsys):
    vuln = {"id": "GHSA-x", "fix_versions": [], "description": "no fix yet"}
    assert audit({"dependencies": [_dep("pillow", vuln)]}) == 0
    assert "WARNING pillow 1.0: GHSA-x has no fixed release yet" in capsys.readouterr().out


def test_packages_that_could_not_be_checked_fail_loudly(audit, capsys):
    report = {
        "dependencies": [
            _dep("django"),
            {
                "name": "amqp",
                "skip_reason": "Dependency not found on PyPI and could not be audited",
            },
        ]
    }
    assert audit(report) == 3
    assert "AUDIT INCOMPLETE: 1 of 2" in capsys.readouterr().err


def test_the_project_itself_being_skipped_as_editable_is_fine(audit):
    report = {"dependencies": [_dep("django"), {"name": "oms", "skip_reason": "editable"}]}
    assert audit(report) == 0
