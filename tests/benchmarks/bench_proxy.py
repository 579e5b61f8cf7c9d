"""Benchmark: the proxy's added latency, at 4 connections on a 24 KB request, against direct calls to a stand-in.

    python tests/benchmarks/bench_proxy.py [--duration 10] [--delay-ms 0 25] [--load wrk|python]

Starts a stand-in Anthropic upstream (waitress, in a process of its own, answering after `--delay-ms`) and
`headroom-serve` in front of it, then sends the same 24 KB agent request (a question and a service log as a tool
result) from 4 keep-alive connections: straight to the stand-in, through a bare forwarder (waitress + urllib3 and
nothing else: the floor of the stack the proxy is built on), and through the proxy, in one run. Prints p50 and p99
of each, their ratios to direct, and the count of non-2xx answers. Targets: p50 ≤ 2x direct, p99 ≤ 3x direct,
zero non-2xx. The load comes from wrk (Debian's `wrk` package) when it is installed, else from a Python load
generator in this process. A stand-in that answers instantly makes the ratio the proxy's whole cost over a
loopback round trip; a delay closer to a real provider's shows what an agent notices. This is a benchmark: it
prints numbers, asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import urllib3
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


def bare_forwarder(upstream_port: int) -> Any:
    """The floor of the stack the proxy is built on: a WSGI app on waitress that forwards the body with urllib3 and
    returns the answer, with nothing else (no Falcon, no parsing, no compression, no accounting)."""
    pool = urllib3.PoolManager(maxsize=16)

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        answer = pool.request("POST", f"http://127.0.0.1:{upstream_port}{environ['PATH_INFO']}", body=body,
                              headers={"content-type": "application/json"}, retries=False)  # fmt: skip
        start_response(f"{answer.status} OK", [("content-type", "application/json"),
                                               ("content-length", str(len(answer.data)))])  # fmt: skip
        return [answer.data]

    return app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(port: int, path: str = "/livez") -> None:
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1).read()
            return
        except urllib.error.HTTPError:
            return  # answering, if not this path
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing answered on port {port}")


def start_server(*argv: str) -> tuple[int, subprocess.Popen[bytes]]:
    """The stand-in (`--serve-stand-in DELAY_MS`) or the bare forwarder (`--serve-bare UPSTREAM_PORT`) in a process
    of its own, so it shares no interpreter lock with the load generator."""
    port = free_port()
    process = subprocess.Popen([sys.executable, __file__, *argv, str(port)])
    wait_until_up(port)
    return port, process


def start_proxy(upstream_port: int) -> tuple[int, subprocess.Popen[bytes]]:
    port = free_port()
    env = dict(os.environ, ANTHROPIC_TARGET_API_URL=f"http://127.0.0.1:{upstream_port}",
               HEADROOM_STORE_PATH=os.path.join(tempfile.mkdtemp(), "store.db"))  # fmt: skip
    process = subprocess.Popen(["headroom-serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL)
    wait_until_up(port)
    return port, process


HEADERS = {"content-type": "application/json", "x-api-key": "bench", "anthropic-version": "2023-06-01"}


class Result:
    def __init__(self, p50: float, p99: float, requests: int, failures: int) -> None:
        self.p50, self.p99, self.requests, self.failures = p50, p99, requests, failures


def python_load(port: int, body: bytes, seconds: float, connections: int = 4) -> Result:
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while time.monotonic() < stop:
            started = time.perf_counter()
            connection.request("POST", "/v1/messages", body, HEADERS)
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
    ordered = sorted(latencies)
    at = lambda share: ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000  # noqa: E731
    return Result(at(0.5), at(0.99), len(ordered), failures[0])


def wrk_load(port: int, body: bytes, seconds: float, connections: int = 4) -> Result:
    folder = Path(tempfile.mkdtemp())
    (folder / "body.json").write_bytes(body)
    script = folder / "post.lua"
    lines = ['wrk.method = "POST"', f'local f = io.open("{folder / "body.json"}", "rb")', "wrk.body = f:read('*a')",
             "f:close()", *(f'wrk.headers["{name}"] = "{value}"' for name, value in HEADERS.items())]  # fmt: skip
    script.write_text("\n".join(lines) + "\n")
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(script),
               f"http://127.0.0.1:{port}/v1/messages"]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failures = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, errors.groups())) if errors else 0)
    return Result(_wrk_ms(out, "50%"), _wrk_ms(out, "99%"), int(re.search(r"(\d+) requests in", out).group(1)),
                  failures)  # fmt: skip


def _wrk_ms(out: str, share: str) -> float:
    value, unit = re.search(rf"{share}\s+([\d.]+)(us|ms|s)", out).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run(delay_ms: float, seconds: float, body: bytes, load: Any) -> None:
    upstream_port, stand_in_process = start_server("--serve-stand-in", str(delay_ms))
    bare_port, bare = start_server("--serve-bare", str(upstream_port))
    proxy_port, proxy = start_proxy(upstream_port)
    ports = {"direct": upstream_port, "bare": bare_port, "proxy": proxy_port}
    try:
        for port in ports.values():  # warm: the proxy compresses once, later requests reuse the remembered result
            load(port, body, 1)
        results = {name: load(port, body, seconds) for name, port in ports.items()}
    finally:
        for process in (proxy, bare, stand_in_process):
            process.terminate()
            process.wait(30)
    print(f"stand-in delay {delay_ms:g} ms, {len(body) / 1024:.0f} KB request, 4 connections, {seconds:g} s each")
    direct = results["direct"]
    for name, result in results.items():
        ratios = f"p50 {result.p50 / direct.p50:5.2f}x  p99 {result.p99 / direct.p99:5.2f}x"
        print(f"  {name:<6}  p50 {result.p50:8.2f} ms  p99 {result.p99:8.2f} ms  requests {result.requests:6d}  "
              f"non-2xx {result.failures:3d}  vs direct {ratios}")  # fmt: skip


def main() -> int:
    if sys.argv[1] in ("--serve-stand-in", "--serve-bare"):
        value, port = float(sys.argv[2]), int(sys.argv[3])
        app = stand_in(value / 1000) if sys.argv[1] == "--serve-stand-in" else bare_forwarder(int(value))
        waitress.serve(app, host="127.0.0.1", port=port, threads=16, _quiet=True)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds of load on each side")
    parser.add_argument("--delay-ms", type=float, nargs="+", default=[0, 25], help="stand-in answer delays")
    parser.add_argument("--load", choices=["wrk", "python"], default="wrk" if shutil.which("wrk") else "python",
                        help="the load generator (default: wrk when installed)")  # fmt: skip
    args = parser.parse_args()
    print(f"load generator: {args.load}")
    body = request_body()
    for delay in args.delay_ms:
        run(delay, args.duration, body, wrk_load if args.load == "wrk" else python_load)
    return 0


if __name__ == "__main__":
    sys.exit(main())
