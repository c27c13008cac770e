"""Every environment variable the settings read is documented where operators look."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = (ROOT / "oms" / "settings.py").read_text()
READ_BY_SETTINGS = sorted(set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z][A-Z0-9_]+)"', SETTINGS)))


def test_the_settings_read_variables_at_all():
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"} <= set(READ_BY_SETTINGS)


def test_every_variable_has_a_row_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    assert [name for name in READ_BY_SETTINGS if f"`{name}`" not in readme] == []


def test_every_variable_is_in_the_example_environment():
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    assert [name for name in READ_BY_SETTINGS if name not in listed] == []
