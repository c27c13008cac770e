"""Audit the installed Python packages for known vulnerabilities (pip-audit).

The rule: a known vulnerability that has a fixed release fails the build (upgrade to the
fix); one with no fix yet is printed as a warning and does not fail. If any installed
package could not be checked (the advisory service is unreachable or does not know the
version), the audit fails loudly rather than report a clean bill of health it did not earn.

Usage: .venv/bin/python .ci/audit_dependencies.py   (AUDIT_SERVICE=pypi|osv, default pypi)
Exit codes: 0 clean or only unfixed warnings, 1 fixable vulnerabilities, 2 audit could not run,
3 packages could not be checked.
"""

import json
import os
import subprocess
import sys
from pathlib import Path


def run_pip_audit(service: str) -> dict:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    command = [
        str(pip_audit),
        "--format",
        "json",
        "--progress-spinner",
        "off",
        "--skip-editable",  # the project itself is not on PyPI
        "--vulnerability-service",
        service,
        "--desc",
        "on",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    # pip-audit exits 1 both when it finds vulnerabilities and when it fails; the JSON
    # report on stdout tells the two apart.
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        print("pip-audit could not run:", file=sys.stderr)
        print(result.stderr or result.stdout, file=sys.stderr)
        sys.exit(2)


def main() -> int:
    service = os.environ.get("AUDIT_SERVICE", "pypi")
    report = run_pip_audit(service)
    dependencies = report.get("dependencies", [])
    unchecked = [
        dep
        for dep in dependencies
        if dep.get("skip_reason") and "editable" not in dep["skip_reason"].lower()
    ]
    fixable, unfixed = [], []
    for dep in dependencies:
        for vuln in dep.get("vulns", []):
            (fixable if vuln.get("fix_versions") else unfixed).append((dep, vuln))

    for dep, vuln in unfixed:
        print(
            f"WARNING {dep['name']} {dep['version']}: {vuln['id']} has no fixed release yet. "
            f"{(vuln.get('description') or '').strip()[:200]}"
        )
    for dep, vuln in fixable:
        print(
            f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']}; "
            f"fixed in {', '.join(vuln['fix_versions'])}. "
            f"{(vuln.get('description') or '').strip()[:200]}"
        )
    if unchecked:
        names = ", ".join(f"{dep['name']}" for dep in unchecked[:10])
        print(
            f"AUDIT INCOMPLETE: {len(unchecked)} of {len(dependencies)} installed packages "
            f"could not be checked against the '{service}' advisory service (for example "
            f"{names}). First reason: {unchecked[0]['skip_reason']}",
            file=sys.stderr,
        )
        return 3
    if fixable:
        print(f"{len(fixable)} known vulnerabilities have a fix: upgrade those packages.")
        return 1
    print(
        f"Audited {len(dependencies)} packages: no fixable vulnerabilities"
        + (f" ({len(unfixed)} without a fix, warned above)." if unfixed else ".")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
