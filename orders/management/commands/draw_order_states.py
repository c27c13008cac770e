"""Print the order state machine as a Mermaid stateDiagram, generated from Order's FSM
transitions, for the README: `python manage.py draw_order_states`."""

from django.core.management.base import BaseCommand
from django_fsm import RETURN_VALUE

from orders.models import Order


def order_state_diagram() -> str:
    """Mermaid source for every transition declared on Order.status, in declaration order."""
    field = Order._meta.get_field("status")
    lines = ["stateDiagram-v2", "    direction LR"]
    for value, label in Order.Status.choices:
        lines.append(f"    {value} : {label}")
    lines.append(f"    [*] --> {Order.Status.ENQUIRY.value}")
    seen: set[tuple[str, str, str]] = set()
    declared = list(vars(Order))
    transitions = sorted(field.get_all_transitions(Order), key=lambda t: declared.index(t.name))
    for transition in transitions:
        sources = [s for s in _states(transition.source) if s != "*"] or [
            value for value, _ in Order.Status.choices
        ]
        targets = _states(transition.target)
        label = transition.custom.get("label", transition.name)
        if transition.custom.get("automatic"):
            label += " (automatic)"
        for source in sources:
            for target in targets:
                edge = (source, target, label)
                if edge not in seen:
                    seen.add(edge)
                    lines.append(f"    {source} --> {target} : {label}")
    for state in Order.CLOSED_STATES:
        lines.append(f"    {state} --> [*]")
    return "\n".join(lines) + "\n"


def _states(value) -> list[str]:
    if isinstance(value, RETURN_VALUE):
        return [str(s) for s in value.allowed_states]
    if isinstance(value, list | tuple | set):
        return [str(s) for s in value]
    return [str(value)]


class Command(BaseCommand):
    help = "Print the order state machine as a Mermaid diagram, generated from the code."

    def add_arguments(self, parser):
        parser.add_argument(
            "--fenced", action="store_true", help="Wrap it in a ```mermaid block for Markdown."
        )

    def handle(self, *args, **options):
        diagram = order_state_diagram()
        if options["fenced"]:
            diagram = f"```mermaid\n{diagram}```\n"
        self.stdout.write(diagram, ending="")
