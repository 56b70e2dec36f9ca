"""Closed-loop load: N client threads, each with its own keep-alive connection, each
sending its next request as soon as the last is answered, for a fixed time."""

import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit


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


# A request: (method, path, body or None), made from the client's index and its count.
Request = tuple[str, str, dict | None]


def run(
    base: str,
    headers: dict,
    make_request: Callable[[int, int], Request],
    *,
    clients: int,
    seconds: float,
    per_request: int = 1,
) -> Result:
    """Drive the service with `clients` threads for `seconds`; collect every latency."""
    return side_by_side(
        base,
        headers,
        {"all": make_request},
        clients=clients,
        seconds=seconds,
        per_request=per_request,
    )["all"]


def side_by_side(
    base: str,
    headers: dict,
    scenarios: dict[str, Callable[[int, int], Request]],
    *,
    clients: int,
    seconds: float,
    per_request: int = 1,
) -> dict[str, Result]:
    """Several scenarios at once, the clients dealt out between them in turn: each sees the
    same machine at the same moments, so a busy, shared machine skews none of them."""
    address = urlsplit(base)
    names = list(scenarios)
    stop_at = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(clients)]
    statuses: list[Counter] = [Counter() for _ in range(clients)]
    barrier = threading.Barrier(clients)

    def client(i: int) -> None:
        make_request = scenarios[names[i % len(names)]]
        conn = http.client.HTTPConnection(address.netloc, timeout=30)
        barrier.wait()
        n = 0
        while time.monotonic() < stop_at:
            method, path, body = make_request(i, n)
            payload = json.dumps(body) if body is not None else None
            started = time.perf_counter()
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            response.read()
            latencies[i].append((time.perf_counter() - started) * 1000)
            statuses[i][response.status] += 1
            n += 1
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    results = {}
    for k, name in enumerate(names):
        mine = range(k, clients, len(names))
        results[name] = Result(
            sum(len(latencies[i]) for i in mine),
            elapsed,
            [ms for i in mine for ms in latencies[i]],
            sum((statuses[i] for i in mine), Counter()),
            per_request,
        )
    return results
