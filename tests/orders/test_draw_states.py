"""The README's state-machine picture is generated from the code."""

from io import StringIO

from django.core.management import call_command

from tests.orders.test_transitions import ALLOWED


def test_draw_order_states_prints_every_allowed_transition():
    out = StringIO()
    call_command("draw_order_states", stdout=out)
    diagram = out.getvalue()
    assert diagram.startswith("stateDiagram-v2")
    edges = {
        tuple(line.strip().split(" : ")[0].split(" --> "))
        for line in diagram.splitlines()
        if " --> " in line and "[*]" not in line
    }
    expected = {(source, target) for _, source, target in ALLOWED} | {("on_hold", "in_progress")}
    assert edges == expected


def test_draw_order_states_can_fence_for_markdown():
    out = StringIO()
    call_command("draw_order_states", "--fenced", stdout=out)
    assert out.getvalue().startswith("```mermaid\nstateDiagram-v2")
    assert out.getvalue().endswith("```\n")
