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
