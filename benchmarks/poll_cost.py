"""Where a cache-hit poll's time goes: each ASGI layer of the app, in process, no network.

    .venv/bin/cascade generate --companies 3000 --links 10000 --requests 8 --seed 1 \\
        --store sqlite:////tmp/poll.db
    .venv/bin/python benchmarks/poll_cost.py --store sqlite:////tmp/poll.db

Builds `create_app` on a filled store (the revision watch on, as served), runs its
lifespan, then calls the app directly with an HTTP scope for `GET /healthz`,
`GET /v1/gap-counts` (a cache hit: the body served from memory) and the same with
`If-None-Match` (a 304), --calls times each in each of --repeats rounds, the paths taking
turns every --chunk calls (so a change in the machine's load falls on all of them alike).
Each layer of the middleware stack is wrapped in a timer, so a layer's own cost is its
time minus the time of the layer inside it; the innermost row (the router) holds routing,
the dependencies (`authorize`: the key, the rate limit, the rule) and the endpoint.
Median µs per call of the rounds; the uvicorn/HTTP cost, the same for every path, is not
in these figures (`http_polling.py` measures it all over real HTTP).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import defaultdict
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.access.keys import Role, issue_key
from service.app import create_app
from service.config.settings import Settings
from service.store import build_store


class Totals:
    """Seconds spent per (path case, layer); `case` is the path being called."""

    def __init__(self) -> None:
        self.case = ""
        self.seconds: dict[tuple[str, str], float] = defaultdict(float)


class Timed:
    """An ASGI layer that adds the time spent in `app` (and everything inside it)."""

    def __init__(self, app: ASGIApp, name: str, totals: Totals) -> None:
        self.app, self.name, self.totals = app, name, totals

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.totals.seconds[self.totals.case, self.name] += time.perf_counter() - start


def instrument(stack: Any, totals: Totals) -> tuple[Timed, list[str]]:
    """Wrap every layer of the built middleware stack (each holds the next as `.app`)."""
    names: list[str] = []
    layer, outer = stack, None
    while layer is not None:
        name = type(layer).__name__
        names.append(name)
        timed = Timed(layer, name, totals)
        if outer is None:
            top = timed
        else:
            outer.app = timed
        inner = getattr(layer, "app", None)
        if not callable(inner) or type(layer).__name__ in {"Router", "APIRouter"}:
            break
        layer, outer = inner, layer
    return top, names


def scope_of(app: Any, path: str, headers: dict[str, str]) -> Scope:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
            "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
            "query_string": b"", "root_path": "", "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000), "app": app,
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}


async def call(app: ASGIApp, scope: Scope) -> int:
    status = 0

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(dict(scope), receive, send)
    return status


async def rounds(top: Timed, names: list[str], totals: Totals, cases: dict[str, Scope],
                 args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Per case, per layer: median over rounds of the layer's own µs per call."""
    own: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for _ in range(args.repeats):
        totals.seconds.clear()
        for _ in range(args.calls // args.chunk):
            for case, scope in cases.items():
                totals.case = case
                for _ in range(args.chunk):
                    status = await call(top, scope)
                    if status not in (200, 304):
                        raise RuntimeError(f"{case}: status {status}")
        calls = args.calls // args.chunk * args.chunk
        for case in cases:
            inclusive = [totals.seconds[case, n] for n in names]
            for i, name in enumerate(names):
                inner = inclusive[i + 1] if i + 1 < len(names) else 0.0
                own[case][name].append(1e6 * (inclusive[i] - inner) / calls)
            own[case]["total"].append(1e6 * inclusive[0] / calls)
    return {case: {n: statistics.median(v) for n, v in layers.items()}
            for case, layers in own.items()}


async def measure(args: argparse.Namespace) -> None:
    store = build_store(Settings(store=args.store))  # type: ignore[call-arg]
    store.init_schema()
    key = issue_key(store, role=Role.admin, name="poll-cost")[1]
    store.close()
    settings = Settings(store=args.store, rate_limit_per_minute=10**9)  # type: ignore[call-arg]
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        auth = {"authorization": f"Bearer {key}"}
        cases = {"GET /healthz": scope_of(app, "/healthz", {}),
                 "GET /v1/gap-counts": scope_of(app, "/v1/gap-counts", auth)}
        await call(app, cases["GET /v1/gap-counts"])  # builds the middleware stack
        await asyncio.sleep(0.2)  # the revision watch has looked at the store
        body = app.state.services.dashboard.cached_body()
        if body is None:
            raise RuntimeError("no cached body: is the revision watch off?")
        cases["GET /v1/gap-counts If-None-Match"] = scope_of(
            app, "/v1/gap-counts", {**auth, "if-none-match": body.etag})
        totals = Totals()
        top, names = instrument(app.middleware_stack, totals)
        figures = await rounds(top, names, totals, cases, args)
    print(f"median µs per call of {args.repeats} rounds of {args.calls} calls, in process")
    print(f"{'layer':28}" + "".join(f"{c.removeprefix('GET '):>34}" for c in figures))
    for name in [*names, "total"]:
        print(f"{name:28}" + "".join(f"{figures[c][name]:34.1f}" for c in figures))
    health = figures["GET /healthz"]["total"]
    for case in list(figures)[1:]:
        print(f"{case}: {figures[case]['total'] - health:+.1f} µs against /healthz")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="sqlite:///PATH or neo4j://HOST:PORT")
    parser.add_argument("--calls", type=int, default=2000, help="calls per round and path")
    parser.add_argument("--chunk", type=int, default=50, help="calls of a path in a turn")
    parser.add_argument("--repeats", type=int, default=7)
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
