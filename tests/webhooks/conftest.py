"""A real receiver on 127.0.0.1 that checks every request as a customer's tool would."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from oms.webhooks.services import create_endpoint

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_verifier():
    """The verifier the README gives integrators, taken from the README itself, so the
    documentation is proven against real deliveries."""
    section = README.read_text().split("## Webhooks", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 (our own README, as an integrator would paste it)
    return namespace["verify"]


verify = _readme_verifier()


@pytest.fixture(autouse=True)
def _receivers_on_this_machine(settings):
    """The test receiver listens on 127.0.0.1, which production refuses by default."""
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True


class Receiver:
    """Records each request, checks its signature against `secret`, and answers with the
    next queued status (200 once the queue is empty, or `always` when set)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[int] = []
        self.always: int | None = None
        self.secret = ""
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signed = verify(receiver.secret, self.headers, body)
                receiver.requests.append(
                    {"headers": dict(self.headers), "body": body, "signed": signed}
                )
                status = receiver.next_status()
                if not signed:
                    status = 401
                reply = json.dumps({"ok": 200 <= status < 300}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        return Handler

    def next_status(self) -> int:
        if self.always is not None:
            return self.always
        return self.answers.pop(0) if self.answers else 200

    @property
    def events(self) -> list[dict]:
        return [json.loads(request["body"]) for request in self.requests]


@pytest.fixture
def receiver():
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def endpoint(receiver, manager):
    """An endpoint at the receiver, for the order events the tests move through."""
    endpoint = create_endpoint(
        url=receiver.url,
        description="Scheduling tool",
        event_types=["order.created", "order.confirmed", "order.delivered"],
        by=manager,
    )
    receiver.secret = endpoint.secret
    return endpoint
