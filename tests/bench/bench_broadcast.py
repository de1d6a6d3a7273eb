"""Per-segment broadcast cost: our GSI query + bounded parallel posts vs the seed's table scan.

One moto DynamoDB table (the connections table exactly as ``voice_local.aws.create_resources`` makes it)
is filled to 10, 1,000 and 10,000 open connections. Three of them watch the measured session; the
others watch other sessions, three per session, as a busy deployment would look. Both designs run in
the same process, against the same table, alternating, and post to the same local no-op @connections
endpoint, so they pay the same delivery cost and differ only in how they find the subscribers:

- ours: ``voice_common.realtime.fanout`` (Query on ``session_id-index``, posts on the thread pool);
- seed (seeds/001 section 6.2): ``scan`` with ``FilterExpression session_id = :sid`` and a sequential
  post loop. The seed reads one scan page only, which silently misses subscribers once the table passes
  1 MB; here it follows ``LastEvaluatedKey`` so it delivers correctly (and pays for reading the table).

Both are checked to deliver each segment to exactly the three subscribers.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

SIZES = (10, 1_000, 10_000)
SUBSCRIBERS = 3
AREA = "websocket broadcast"
TARGET_VS_SCAN = 50.0  # at 10,000 connections, ours at least this many times faster than the scan
TARGET_FLAT = 2.0  # ours at 10,000 within this factor of ours at 10
INDEXED_PER_ROUND = 6  # ours is cheap: more samples per round steady its median


class _NoOpConnections(BaseHTTPRequestHandler):
    """``POST /@connections/{id}``: 200 and nothing else; counts posts per connection id."""

    protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway's endpoint
    posts: Counter[str] = Counter()
    lock = threading.Lock()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.lock:
            self.posts[unquote(self.path.rsplit("/", 1)[-1])] += 1
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def _noop_endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NoOpConnections)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def _moto() -> Iterator[dict[str, str]]:
    """moto on a free port with the module's resources; the process environment points at it."""
    from access_common.aws import reset_clients
    from voice_local.aws import MotoServer, aws_environment, create_resources

    server = MotoServer(0)
    endpoint = server.start()
    saved = dict(os.environ)
    try:
        os.environ.update(aws_environment(endpoint))
        resources = create_resources(endpoint)
        os.environ.update(resources)
        reset_clients()
        yield resources
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_clients()
        # moto's backends are per process, not per server: without a reset the 10,000 connections stay
        # in the table name every later stack of this `make bench` uses, and slow its fan-out queries.
        urllib.request.urlopen(
            urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30
        )
        server.stop()


def _connection_item(session_id: str) -> dict[str, Any]:
    now = int(time.time())
    return {
        "connection_id": {"S": uuid.uuid4().hex[:15] + "="},
        "kind": {"S": "user"},
        "user_id": {"S": str(uuid.uuid4())},
        "auth_expires_at": {"N": str(now + 3600)},
        "connected_at": {"N": str(now)},
        "expires_at": {"N": str(now + 7800)},
        "session_id": {"S": session_id},
        "org_id": {"S": str(uuid.uuid4())},
        "subscribed_at": {"N": str(now)},
    }


def _fill(table: str, items: list[dict[str, Any]]) -> None:
    from access_common.aws import client

    ddb = client("dynamodb")
    batches = [items[i : i + 25] for i in range(0, len(items), 25)]

    def write(batch: list[dict[str, Any]]) -> None:
        request = {table: [{"PutRequest": {"Item": item}} for item in batch]}
        while request:
            request = ddb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, batches))


def seed_broadcast(table: str, endpoint: str, session_id: str, data: bytes) -> int:
    """The seed's transcript handler: scan for the session's connections, post to each in turn."""
    from access_common.aws import client

    ddb = client("dynamodb")
    api = client("apigatewaymanagementapi", endpoint_url=endpoint)
    request: dict[str, Any] = {
        "TableName": table,
        "FilterExpression": "session_id = :sid",
        "ExpressionAttributeValues": {":sid": {"S": session_id}},
    }
    sent = 0
    while True:
        page = ddb.scan(**request)
        for item in page.get("Items", []):
            try:
                api.post_to_connection(ConnectionId=item["connection_id"]["S"], Data=data)
                sent += 1
            except api.exceptions.GoneException:
                ddb.delete_item(TableName=table, Key={"connection_id": item["connection_id"]})
        if "LastEvaluatedKey" not in page:
            return sent
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise RuntimeError(f"broadcast delivered to the wrong connections: {what}")


def _time_ms(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


class _IndexedGsiReads:
    """Serve moto's GSI Query from a hash index over the same items, as DynamoDB does (bench only).

    moto answers a Query on a global secondary index by sorting every item of the table and filtering
    them (``moto/dynamodb/models/table.py``: ``Table.query`` -> ``all_items()``), so in moto the index
    costs as much as a scan and the benchmark would measure the emulator, not the design. While
    ``enabled``, a hash-key-only GSI Query sees only the items with that key (``all_items`` is narrowed
    for the duration of the call); everything after it (projection, filters, pagination) is moto's own
    code. The index is rebuilt after any write. Scans are untouched.
    """

    _WRITES = (
        "put_item",
        "update_item",
        "delete_item",
        "transact_write_items",
        "delete_table",
        "create_table",
        "update_table",
        "execute_statement",
        "execute_transaction",
        "batch_execute_statement",
    )

    def __init__(self) -> None:
        self.enabled = False
        self._lock = threading.RLock()
        self._generation = 0
        self._indexes: dict[tuple[int, str], tuple[int, dict[Any, list[Any]]]] = {}
        self._saved: list[tuple[Any, str, Any]] = []

    def install(self) -> None:
        from moto.dynamodb.models import DynamoDBBackend
        from moto.dynamodb.models.table import Table

        for name in self._WRITES:
            self._wrap(DynamoDBBackend, name, self._bumping(getattr(DynamoDBBackend, name)))
        self._wrap(Table, "query", self._query(Table.query))
        self._wrap(Table, "scan", self._locked(Table.scan))

    def uninstall(self) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)
        self._saved.clear()

    def _wrap(self, owner: Any, name: str, replacement: Any) -> None:
        self._saved.append((owner, name, owner.__dict__[name]))
        setattr(owner, name, replacement)

    def _bumping(self, original: Any) -> Any:
        def write(backend: Any, *args: Any, **kwargs: Any) -> Any:
            with self._lock:
                try:
                    return original(backend, *args, **kwargs)
                finally:
                    self._generation += 1

        return write

    def _locked(self, original: Any) -> Any:
        def call(table: Any, *args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return original(table, *args, **kwargs)

        return call

    def _query(self, original: Any) -> Any:
        def query(table: Any, *args: Any, **kwargs: Any) -> Any:
            index_name = kwargs.get("index_name", args[7] if len(args) > 7 else None)
            conditions = kwargs.get("hash_key_conditions") or []
            index = next((i for i in table.global_indexes or [] if i.name == index_name), None)
            schema = index.schema if index is not None else []
            if (
                not self.enabled
                or index is None
                or len(schema) != 1
                or len(conditions) != 1
                or args[1]
                or kwargs.get("range_key_conditions")
            ):
                return self._locked(original)(table, *args, **kwargs)
            attribute, value = conditions[0]
            with self._lock:
                candidates = self._index(table, attribute).get(value, [])
                table.all_items = lambda: list(candidates)
                try:
                    return original(table, *args, **kwargs)
                finally:
                    del table.all_items

        return query

    def _index(self, table: Any, attribute: str) -> dict[Any, list[Any]]:
        key = (id(table), attribute)
        cached = self._indexes.get(key)
        if cached is None or cached[0] != self._generation:
            buckets: dict[Any, list[Any]] = {}
            for item in table.all_items():  # moto's order (sorted by primary key), kept per bucket
                value = item.attrs.get(attribute)
                if value is not None:
                    buckets.setdefault(value, []).append(item)
            cached = (self._generation, buckets)
            self._indexes[key] = cached
        return cached[1]


def _items_read(table: str, session_id: str) -> tuple[int, int]:
    """ScannedCount per segment (what DynamoDB bills and reads): (GSI query, full scan)."""
    from access_common.aws import client

    ddb = client("dynamodb")
    queried = ddb.query(
        TableName=table,
        IndexName="session_id-index",
        KeyConditionExpression="session_id = :s",
        ExpressionAttributeValues={":s": {"S": session_id}},
    )["ScannedCount"]
    scanned, request = (
        0,
        {
            "TableName": table,
            "FilterExpression": "session_id = :s",
            "ExpressionAttributeValues": {":s": {"S": session_id}},
        },
    )
    while True:
        page = ddb.scan(**request)
        scanned += page["ScannedCount"]
        if "LastEvaluatedKey" not in page:
            return queried, scanned
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _row(
    metric: str, value: float, unit: str, target: str | None = None, ok: bool | None = None
) -> dict[str, Any]:
    return {"area": AREA, "metric": metric, "value": value, "unit": unit, "target": target, "ok": ok}


def run() -> list[dict[str, Any]]:
    from voice_common import realtime
    from voice_common import ws_messages as msg

    rows: list[dict[str, Any]] = []
    indexed: dict[int, float] = {}
    shipped: dict[int, float] = {}
    scan: dict[int, float] = {}
    shim = _IndexedGsiReads()
    shim.install()
    try:
        with _moto() as resources, _noop_endpoint() as endpoint:
            table = resources["CONNECTIONS_TABLE"]
            session_id = str(uuid.uuid4())
            watched = [_connection_item(session_id) for _ in range(SUBSCRIBERS)]
            subscriber_ids = {i["connection_id"]["S"] for i in watched}
            _fill(table, watched)
            present = SUBSCRIBERS
            message = msg.transcript_segment(
                session_id, msg.segment_out(1, "candidate", "x" * 200, 1.0, 2.5, 0.93)
            )
            data = msg.encode(message)

            def run_ours() -> None:
                result = realtime.fanout(session_id, message, endpoint=endpoint)
                _check(result.delivered == SUBSCRIBERS, f"ours delivered {result}")

            def run_ours_indexed() -> None:
                shim.enabled = True
                try:
                    run_ours()
                finally:
                    shim.enabled = False

            def run_seed() -> None:
                sent = seed_broadcast(table, endpoint, session_id, data)
                _check(sent == SUBSCRIBERS, f"seed delivered {sent}")

            for size in SIZES:
                others: list[dict[str, Any]] = []
                other_session = str(uuid.uuid4())
                for n in range(size - present):
                    if n % SUBSCRIBERS == 0:
                        other_session = str(uuid.uuid4())
                    others.append(_connection_item(other_session))
                _fill(table, others)
                present = size
                read_ours, read_scan = _items_read(table, session_id)

                for fn in (run_ours_indexed, run_ours, run_seed):  # warm clients, connections, the index
                    fn()
                _NoOpConnections.posts.clear()
                # The scan costs O(table) per segment (seconds at 10,000 in moto): fewer rounds there.
                rounds = {10: 30, 1_000: 10}.get(size, 4)
                times: dict[str, list[float]] = {"indexed": [], "shipped": [], "scan": []}
                for _ in range(rounds):  # interleaved, so noise on the shared machine hits all alike
                    for _ in range(INDEXED_PER_ROUND):
                        times["indexed"].append(_time_ms(run_ours_indexed))
                    times["shipped"].append(_time_ms(run_ours))
                    times["scan"].append(_time_ms(run_seed))
                # Every segment reached exactly the three subscribers, whatever the design.
                posts = dict(_NoOpConnections.posts)
                _check(
                    posts == dict.fromkeys(subscriber_ids, (INDEXED_PER_ROUND + 2) * rounds), f"posts {posts}"
                )

                indexed[size] = statistics.median(times["indexed"])
                shipped[size] = statistics.median(times["shipped"])
                scan[size] = statistics.median(times["scan"])
                n = f"{size:,} conns"
                rows += [
                    _row(f"ours: GSI query, {n}", indexed[size], "ms/seg"),
                    _row(f"ours: GSI query (moto as shipped), {n}", shipped[size], "ms/seg"),
                    _row(f"seed: table scan, {n}", scan[size], "ms/seg"),
                    _row(f"items read/seg: ours, {n}", read_ours, "items"),
                    _row(f"items read/seg: scan, {n}", read_scan, "items"),
                    _row(f"scan / ours, {n}", scan[size] / indexed[size], "x"),
                ]
                print(
                    f"   {size:>6,} connections: ours {indexed[size]:7.2f} ms"
                    f" (moto as shipped {shipped[size]:7.2f}),"
                    f" scan {scan[size]:8.2f} ms, scan/ours {scan[size] / indexed[size]:6.1f}x,"
                    f" items read {read_ours} vs {read_scan}",
                    flush=True,
                )
    finally:
        shim.uninstall()

    big, small = SIZES[-1], SIZES[0]
    vs_scan = scan[big] / indexed[big]
    flat = indexed[big] / indexed[small]
    rows += [
        _row(
            f"scan / ours at {big:,} conns",
            vs_scan,
            "x",
            f">= {TARGET_VS_SCAN:.0f}x",
            vs_scan >= TARGET_VS_SCAN,
        ),
        _row(
            f"ours {big:,} / ours {small:,} conns", flat, "x", f"<= {TARGET_FLAT:.0f}x", flat <= TARGET_FLAT
        ),
        _row(f"moto as shipped: scan / ours at {big:,}", scan[big] / shipped[big], "x"),
        _row(f"moto as shipped: ours {big:,} / {small:,}", shipped[big] / shipped[small], "x"),
    ]
    return rows
