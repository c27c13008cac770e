"""Cell text survives an export and an import unchanged, and nothing an export writes can
run as a formula."""

from hypothesis import given
from hypothesis import strategies as st

from oms.imports.exports import FORMULA_TRIGGERS, neutralise
from oms.imports.fields import literal

cell_text = st.text(min_size=1, max_size=40).filter(lambda s: not s.startswith("'"))


@given(cell_text)
def test_export_then_import_gives_back_the_same_text(text):
    assert literal(neutralise(text), "Name") == text


@given(cell_text)
def test_an_exported_cell_never_starts_like_a_formula(text):
    assert not neutralise(text).startswith(FORMULA_TRIGGERS)


# Any cell text at all: each row is planned or refused with a reason, never a crash.
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

from oms.imports.fields import fields_for  # noqa: E402
from oms.imports.files import Table  # noqa: E402
from oms.imports.plans import build_plan  # noqa: E402

awkward = st.one_of(
    # Files never hand on a NUL or a lone surrogate (UTF-8 decoding and files.py refuse
    # them); any other text may come.
    st.text(
        alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
        max_size=12,
    ),
    st.sampled_from(["", "0", "-1", "1e9", "NaN", "Infinity", "12,50", "=1+1", "'=x", "@a"]),
    st.sampled_from(["in progress", "delivered", "paid", "P1", "ACC-1", "31/02/2030"]),
)


@pytest.mark.django_db
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from(["customers", "products", "orders"]),
    cells=st.lists(st.lists(awkward, min_size=19, max_size=19), max_size=6),
)
def test_any_cells_are_planned_or_refused_with_a_reason(manager, kind, cells):
    headers = [field.label for field in fields_for(kind)]
    mapping = {field.name: field.label for field in fields_for(kind)}
    rows = [(n, row[: len(headers)]) for n, row in enumerate(cells, start=2)]
    plan = build_plan(kind, Table("csv", headers, rows), mapping, by=manager)
    assert plan.total_rows == len(rows)
    assert all(error.message for error in plan.errors)
    planned = sum(len(unit.rows) for unit in plan.units)
    assert planned + plan.error_rows == len(rows)
