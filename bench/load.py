"""Closed-loop load from wrk: `clients` keep-alive connections, each sending its next
request as soon as the last is answered, for a fixed time. wrk is C, as lean a client as
the ceiling's pgbench, so the load's own CPU and pauses stay out of what is measured.

wrk cannot call Python, so a scenario is described rather than coded (`Scenario`):
bench/load.lua makes its requests and counts their statuses. Durations are whole seconds
(wrk counts no finer), rounded as the ceiling's are.
"""

import json
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent / "load.lua"
# wrk threads (event loops) in all, shared out between side-by-side scenarios: two keep up
# with the service on this machine.
THREADS = 2


@dataclass
class Result:
    """What one scenario measured; `per_request` is the work each request did (e.g. items)."""

    requests: int
    seconds: float
    latencies_ms: list[float]
    statuses: Counter
    per_request: int = 1

    @property
    def throughput(self) -> float:
        return self.requests * self.per_request / self.seconds

    def __add__(self, other: "Result") -> "Result":
        """Two runs of the same scenario as one."""
        return Result(
            self.requests + other.requests,
            self.seconds + other.seconds,
            self.latencies_ms + other.latencies_ms,
            self.statuses + other.statuses,
            self.per_request,
        )

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else 0.0


@dataclass(frozen=True)
class Scenario:
    """Requests of one kind. Each takes the next of `paths` in turn (wrapping round); in
    `body`, "{id}" becomes an id no other request has. With `batch` set, the body is
    {"deductions": [body, ...]}: `batch` items, each with an id of its own."""

    method: str
    paths: Sequence[str]
    body: dict | None = None
    batch: int = 0


def run(
    base: str,
    headers: dict,
    scenario: Scenario,
    *,
    clients: int,
    seconds: float,
    per_request: int = 1,
) -> Result:
    """Drive the service with `clients` connections for `seconds`."""
    return side_by_side(
        base,
        headers,
        {"all": scenario},
        clients=clients,
        seconds=seconds,
        per_request=per_request,
    )["all"]


def side_by_side(
    base: str,
    headers: dict,
    scenarios: dict[str, Scenario],
    *,
    clients: int,
    seconds: float,
    per_request: int = 1,
) -> dict[str, Result]:
    """Several scenarios at once, one wrk each, the clients dealt out between them: each
    sees the same machine at the same moments, so a busy, shared machine skews none."""
    with tempfile.TemporaryDirectory(prefix="load-") as scratch:
        runs = {}
        for k, (name, scenario) in enumerate(scenarios.items()):
            connections = len(range(k, clients, len(scenarios)))
            # wrk gives each thread connections // threads: they must share evenly.
            threads = max(1, THREADS // len(scenarios))
            if connections % threads:
                threads = 1
            path = Path(scratch) / f"{k}.lua"
            path.write_text(_lua(scenario, threads))
            command = [
                "wrk",
                f"--threads={threads}",
                f"--connections={connections}",
                f"--duration={max(1, round(seconds))}s",
                "--timeout=30s",
                f"--script={SCRIPT}",
                *(f"--header={key}: {value}" for key, value in headers.items()),
                base,
                "--",
                str(path),
            ]
            process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: S603
            runs[name] = (process, connections)
        return {
            name: _result(process, connections, per_request)
            for name, (process, connections) in runs.items()
        }


def _lua(scenario: Scenario, threads: int) -> str:
    """The scenario as the Lua table bench/load.lua reads (JSON's strings of ASCII text,
    as these are, are Lua's too)."""
    fields = {
        "method": json.dumps(scenario.method),
        "paths": "{" + ", ".join(json.dumps(path) for path in scenario.paths) + "}",
        "threads": str(threads),
        # Order ids of this run apart from every other run's on the same database.
        "nonce": json.dumps(f"{time.monotonic_ns():x}"),
    }
    if scenario.body is not None:
        head, tail = ('{"deductions": [', "]}") if scenario.batch else ("", "")
        fields |= {
            "head": json.dumps(head),
            "item": json.dumps(json.dumps(scenario.body)),
            "items": str(scenario.batch or 1),
            "tail": json.dumps(tail),
        }
    return "return {" + ", ".join(f"{key} = {value}" for key, value in fields.items()) + "}\n"


def _result(process: subprocess.Popen, connections: int, per_request: int) -> Result:
    out, _ = process.communicate()
    if process.returncode != 0 or "--- load.lua ---" not in out:
        raise RuntimeError(f"wrk failed ({process.returncode}): {out[-2000:]}")
    run = json.loads(out.rpartition("--- load.lua ---")[2])
    statuses = Counter({int(status): count for status, count in run["statuses"].items()})
    if run["no_answer"]:
        statuses[0] = run["no_answer"]  # socket errors and timeouts: no status at all
    # wrk corrects for coordinated omission: each latency n also counts at n - e, n - 2e,
    # ... (while above e), e being the run's mean time between a connection's requests,
    # as if clients meant to send at a fixed rate. This loop is closed, as pgbench's is:
    # what was measured at m is its count less the count at m + e.
    seen = dict(run["latency_us"])
    rounds = run["requests"] // connections
    if rounds:
        e = run["duration_us"] // rounds
        seen = {m: count - seen.get(m + e, 0) if m > e else count for m, count in seen.items()}
    return Result(
        run["requests"],
        run["duration_us"] / 1e6,
        [us / 1000 for us, count in seen.items() for _ in range(count)],
        statuses,
        per_request,
    )
