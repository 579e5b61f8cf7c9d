"""Benchmark: the proxy's added latency, at 4 connections on a 24 KB request, against direct calls to a stand-in.

    python tests/benchmarks/bench_proxy.py [--requests 300] [--delay-ms 0 25]

Starts a stand-in Anthropic upstream (waitress, on loopback, answering after `--delay-ms`) and `headroom-serve` in
front of it, then sends the same 24 KB agent request (a question and a service log as a tool result) from 4
keep-alive connections: first straight to the stand-in, then through the proxy, in one run. Prints p50 and p99 of
each, their ratios, and the count of non-2xx answers. Targets: p50 ≤ 2x direct, p99 ≤ 3x direct, zero non-2xx.
A stand-in that answers instantly makes the ratio the proxy's whole cost over a loopback round trip; a delay
closer to a real provider's shows what an agent notices. This is a benchmark: it prints numbers, asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from typing import Any

import waitress

ANSWER = json.dumps({
    "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
    "content": [{"type": "text", "text": "Found it."}], "stop_reason": "end_turn",
    "usage": {"input_tokens": 6000, "output_tokens": 4},
}).encode()  # fmt: skip


def request_body() -> bytes:
    log = "\n".join(f"2026-11-12T09:{k // 60 % 60:02d}:{k % 60:02d}Z INFO api [req-{k:08x}] GET /v1/items/{k} 200 "
                    f"{k % 90}ms" for k in range(330))  # fmt: skip
    body = {"model": "claude-sonnet-4-5", "max_tokens": 256, "messages": [
        {"role": "user", "content": "Why is the API slow?"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "Bash", "input": {"cmd": "logs"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": log}]},
    ]}  # fmt: skip
    return json.dumps(body).encode()


def stand_in(delay_s: float) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        if delay_s:
            time.sleep(delay_s)
        start_response("200 OK", [("content-type", "application/json"), ("content-length", str(len(ANSWER)))])
        return [ANSWER]

    return app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve_stand_in(delay_s: float) -> tuple[int, Any]:
    port = free_port()
    server = waitress.create_server(stand_in(delay_s), host="127.0.0.1", port=port, threads=16)
    threading.Thread(target=server.run, daemon=True).start()
    return port, server


def start_proxy(upstream_port: int) -> tuple[int, subprocess.Popen[bytes]]:
    port = free_port()
    env = dict(os.environ, ANTHROPIC_TARGET_API_URL=f"http://127.0.0.1:{upstream_port}",
               HEADROOM_STORE_PATH=os.path.join(tempfile.mkdtemp(), "store.db"))  # fmt: skip
    process = subprocess.Popen(["headroom-serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/livez", timeout=1).read()
            return port, process
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the proxy did not start")


def load(port: int, body: bytes, requests: int, connections: int = 4) -> tuple[list[float], int]:
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"content-type": "application/json", "x-api-key": "bench", "anthropic-version": "2023-06-01"}
        for _ in range(requests):
            started = time.perf_counter()
            connection.request("POST", "/v1/messages", body, headers)
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                failures[0] += not 200 <= response.status < 300

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failures[0]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def run(delay_ms: float, requests: int, body: bytes) -> None:
    upstream_port, server = serve_stand_in(delay_ms / 1000)
    proxy_port, proxy = start_proxy(upstream_port)
    try:
        load(upstream_port, body, 20)
        load(proxy_port, body, 20)  # warm: the first request compresses, later ones reuse the remembered result
        direct, direct_failures = load(upstream_port, body, requests)
        proxied, proxied_failures = load(proxy_port, body, requests)
    finally:
        proxy.terminate()
        proxy.wait(30)
        server.close()
    p50, p99 = percentile(direct, 0.5), percentile(direct, 0.99)
    q50, q99 = percentile(proxied, 0.5), percentile(proxied, 0.99)
    print(f"stand-in delay {delay_ms:g} ms, {len(body) / 1024:.0f} KB request, 4 connections x {requests} requests")
    print(f"  direct  p50 {p50:8.2f} ms  p99 {p99:8.2f} ms  non-2xx {direct_failures}")
    print(f"  proxy   p50 {q50:8.2f} ms  p99 {q99:8.2f} ms  non-2xx {proxied_failures}")
    mean = statistics.mean(direct) * 1000
    print(f"  ratio   p50 {q50 / p50:8.2f}x    p99 {q99 / p99:8.2f}x   (mean direct {mean:.2f} ms)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="requests per connection")
    parser.add_argument("--delay-ms", type=float, nargs="+", default=[0, 25], help="stand-in answer delays")
    args = parser.parse_args()
    body = request_body()
    for delay in args.delay_ms:
        run(delay, args.requests, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
