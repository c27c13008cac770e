"""Mixed staff load with locust: 70% page reads, 20% edits (notes), 10% transitions
(hold and resume), at a fixed request rate, against the running web server.

Run as `python -m oms.bench.load --plan plan.json --rate 100 --seconds 120`; it prints one
JSON line with the rate achieved, p50/p95 and failures. Locust patches the standard library
for gevent, so this runs in its own process and imports nothing from Django.
"""

# isort: off
import locust  # noqa: F401  (first: gevent must patch before anything opens a socket)

# isort: on
import argparse
import itertools
import json
import math
import random

import gevent
from locust import FastHttpUser, constant_throughput, task
from locust.env import Environment

PLAN: dict = {}
PER_USER_RATE = 4.0  # requests a second each simulated person makes
_sessions = itertools.count()


class Staff(FastHttpUser):
    """One member of staff: reads queues and orders, leaves notes, holds and resumes."""

    wait_time = constant_throughput(PER_USER_RATE)

    def on_start(self) -> None:
        number = next(_sessions)
        self.cookie = f"{PLAN['cookie']}={PLAN['sessions'][number % len(PLAN['sessions'])]}; "
        self.cookie += f"csrftoken={PLAN['csrf']}"
        mine = PLAN["transition_orders"][number :: PLAN["users"]]
        self.held = {order: False for order in mine}
        self.rng = random.Random(number)

    def _headers(self, **extra) -> dict:
        return {"Cookie": self.cookie, **extra}

    @task(70)
    def read(self) -> None:
        name, url = self.rng.choice(PLAN["reads"])
        with self.client.get(
            url, headers=self._headers(), name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code not in (200, 302):
                response.failure(f"status {response.status_code}")

    @task(20)
    def note(self) -> None:
        number = self.rng.choice(PLAN["note_orders"])
        with self.client.post(
            f"/orders/{number}/job/notes/",
            data={"note": "Checked in with the customer.", "csrfmiddlewaretoken": PLAN["csrf"]},
            headers=self._headers(),
            name="edit: add note",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"status {response.status_code}")

    @task(10)
    def transition(self) -> None:
        if not self.held:
            return self.read()
        number = self.rng.choice(list(self.held))
        action = "resume" if self.held[number] else "hold"
        with self.client.post(
            f"/orders/{number}/actions/{action}/",
            data={"reason": "Waiting on the customer", "csrfmiddlewaretoken": PLAN["csrf"]},
            headers=self._headers(**{"HX-Request": "true", "X-CSRFToken": PLAN["csrf"]}),
            name=f"transition: {action}",
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                self.held[number] = not self.held[number]
            else:
                response.failure(f"status {response.status_code}")
        return None


def run(plan: dict, rate: float, seconds: float) -> dict:
    PLAN.clear()
    PLAN.update(plan)
    users = max(2, math.ceil(rate / PER_USER_RATE))
    PLAN["users"] = users
    Staff.wait_time = constant_throughput(rate / users)
    env = Environment(user_classes=[Staff], host=plan["host"])
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    gevent.sleep(min(3.0, seconds / 5))  # everyone logged in and warm before counting
    env.stats.reset_all()
    gevent.sleep(seconds)
    total = env.stats.total
    # No request finished in the window when every page takes longer than the window.
    last = total.last_request_timestamp or total.start_time
    result = {
        "target_rate": rate,
        "users": users,
        "seconds": round(max(last - total.start_time, 0), 1),
        "requests": total.num_requests,
        "failures": total.num_failures,
        "rate": round(total.num_requests / seconds, 1),
        "p50_ms": total.get_response_time_percentile(0.5),
        "p95_ms": total.get_response_time_percentile(0.95),
        "errors": {str(key): error.occurrences for key, error in env.stats.errors.items()},
    }
    runner.quit()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plan", required=True)
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--seconds", type=float, required=True)
    args = parser.parse_args()
    with open(args.plan) as handle:
        plan = json.load(handle)
    print(json.dumps(run(plan, args.rate, args.seconds)))


if __name__ == "__main__":
    main()
