"""The log compressor: errors, fatals and whole stack traces always survive; the rest folds into template markers.

Fixtures are realistic logs of several formats (python logging, klog/kubectl, JSON lines, log4j, Go, nginx, node)
built from a seeded generator, so each test reads like a real incident and runs in milliseconds.
"""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import folded

from headroom.compiler.catalog import COMPRESSORS
from headroom.runtime.compressors import Compressed, Context
from headroom.runtime.compressors import log as log_compressor
from headroom.runtime.compressors.lines import split
from headroom.runtime.compressors.log import level_of

DEFAULTS = {name: spec.default for name, spec in COMPRESSORS["log"].params.items()}
REF = "log-ref-1"
MARKER = folded.marker_pattern(REF)


def run(text: str, query: str = "", **params: object) -> Compressed | None:
    return log_compressor.compress(text, {**DEFAULTS, **params}, Context(query=query, kind="log", ref=REF))


def replay(text: str, result: Compressed) -> list[str]:
    """Folded as promised, and each marker's per-template counts add up to its total. Returns the markers."""
    markers = folded.replay(text, result.text, REF)
    for marker in markers:
        total = number(marker.split(" ", 1)[0])
        if re.match(r"[\d,]+ (?:more )?lines? like `", marker):  # a run of one template
            continue
        listed = [number(a or b) for a, b in re.findall(r"([\d,]+)\u00d7 `|([\d,]+) in [\d,]+ other", marker)]
        assert sum(listed) == total, marker
    return markers


def kept_rows(text: str, output: str) -> set[int]:
    """The rows of `text` that `output` shows as they are."""
    rows, row = set(), 0
    for line in output.split("\n"):
        marker = MARKER.fullmatch(line)
        if marker:
            row += number(marker.group(1).split(" ", 1)[0])
        else:
            rows.add(row)
            row += 1
    return rows


def error_templates(text: str) -> dict[int, list[int]]:
    """The rows of ERROR lines, per template."""
    scan = log_compressor._scan(split(text))
    templates: dict[int, list[int]] = {}
    for row, line in enumerate(text.split("\n")):
        if " ERROR " in line:
            templates.setdefault(scan.clusters[row], []).append(row)
    return templates


number = folded.number


def kept(result: Compressed) -> list[str]:
    return [line for line in result.text.split("\n") if not MARKER.fullmatch(line)]


# --- fixtures -----------------------------------------------------------------------------------------------------

WORDS = ["cart", "order", "user", "session", "invoice", "token", "queue", "shard", "report", "index"]


def python_logging(seed: int = 1, lines: int = 1500) -> tuple[str, list[str]]:
    """Python `logging` with the default-ish format; one ERROR with a chained traceback. Returns (log, needles)."""
    r = random.Random(seed)
    out, needles = [], []
    error_at = lines // 2
    for k in range(lines):
        ts = f"2026-03-04 10:{k // 60 % 60:02d}:{k % 60:02d},{r.randint(0, 999):03d}"
        roll = r.random()
        if k == error_at:
            needles += [
                f"{ts} ERROR [app.billing] charge failed for invoice INV-{k}",
                "Traceback (most recent call last):",
                '  File "/srv/app/billing/charge.py", line 88, in charge',
                "    response = gateway.post(payload)",
                '  File "/srv/app/billing/gateway.py", line 41, in post',
                "    raise GatewayTimeout(self.url)",
                "billing.gateway.GatewayTimeout: https://pay.example.com/v1/charges",
                "",
                "During handling of the above exception, another exception occurred:",
                "",
                "Traceback (most recent call last):",
                '  File "/srv/app/billing/worker.py", line 19, in run',
                "    self.charge(invoice)",
                "RuntimeError: invoice INV-750 left unpaid",
            ]
            out += needles
        elif roll < 0.75:
            out.append(
                f"{ts} INFO [app.worker] processed job {r.randint(1000, 9999)} for {r.choice(WORDS)} in "
                f"{r.randint(2, 90)}ms"
            )
        elif roll < 0.93:
            out.append(
                f"{ts} DEBUG [app.cache] cache {r.choice(['hit', 'miss'])} for key {r.choice(WORDS)}:"
                f"{r.randrange(16**6):06x}"
            )
        else:
            out.append(f"{ts} WARNING [app.db] slow query on {r.choice(WORDS)}s took {r.randint(900, 3000)}ms")
    return "\n".join(out), needles


def klog(seed: int = 2, lines: int = 1200) -> tuple[str, list[str]]:
    """Kubernetes components (klog) as `kubectl logs` shows them."""
    r = random.Random(seed)
    out, needles = [], []
    for k in range(lines):
        ts = f"0304 11:{k // 60 % 60:02d}:{k % 60:02d}.{r.randint(0, 999999):06d}"
        pod = f"web-{r.randrange(16**9):09x}-{''.join(r.choice('bcdfghjklmnpqrstvwxz2456789') for _ in range(5))}"
        if k in (400, 401):
            line = (
                f'E{ts}       1 reflector.go:138] failed to watch *v1.Pod: Get "https://10.96.0.1:443/api": '
                f"dial tcp 10.96.0.1:443: connect: connection refused"
            )
            needles.append(line)
        elif k % 97 == 5:
            line = f"W{ts}       1 warnings.go:70] v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1"
        else:
            line = (
                f"I{ts}       1 controller.go:{r.choice([112, 245])}] Syncing pod default/{pod} "
                f"(resourceVersion {r.randint(10**5, 10**6)})"
            )
        out.append(line)
    return "\n".join(out), needles


def json_lines(seed: int = 3, lines: int = 1000) -> tuple[str, list[str]]:
    """Structured JSON logs (zap/pino style) with one error carrying the failing request id."""
    r = random.Random(seed)
    out, needles = [], []
    for k in range(lines):
        ts = f"2026-03-04T12:{k // 60 % 60:02d}:{k % 60:02d}.{r.randint(0, 999):03d}Z"
        req = f"{r.randrange(16**12):012x}"
        if k == 613:
            line = (
                f'{{"ts":"{ts}","level":"error","msg":"upstream returned 502","req_id":"{req}",'
                f'"upstream":"inventory:8080","err":"context deadline exceeded"}}'
            )
            needles.append(line)
        else:
            status = r.choice([200, 200, 200, 201, 204])
            line = (
                f'{{"ts":"{ts}","level":"info","msg":"request completed","req_id":"{req}",'
                f'"path":"/api/v1/{r.choice(WORDS)}/{r.randint(1, 9999)}","status":{status},'
                f'"dur_ms":{r.randint(1, 300)}}}'
            )
        out.append(line)
    return "\n".join(out), needles


def java_service(seed: int = 4, lines: int = 900) -> tuple[str, list[str]]:
    """log4j-style lines and an exception with `Caused by:` and `... N more`."""
    r = random.Random(seed)
    out, needles = [], []
    for k in range(lines):
        ts = f"2026-03-04 13:{k // 60 % 60:02d}:{k % 60:02d}.{r.randint(0, 999):03d}"
        if k == 300:
            needles += [
                f"{ts} ERROR [http-nio-8080-exec-7] c.e.orders.OrderController - Order placement failed",
                "org.springframework.dao.DataIntegrityViolationException: could not execute statement",
                "\tat org.hibernate.internal.ExceptionConverterImpl.convert(ExceptionConverterImpl.java:154)",
                "\tat com.example.orders.OrderService.place(OrderService.java:77)",
                "\tat com.example.orders.OrderController.create(OrderController.java:42)",
                "Caused by: org.postgresql.util.PSQLException: ERROR: duplicate key value violates unique "
                'constraint "orders_pkey"',
                "\tat org.postgresql.core.v3.QueryExecutorImpl.receiveErrorResponse(QueryExecutorImpl.java:2713)",
                "\t... 42 more",
            ]
            out += needles
        else:
            thread = f"http-nio-8080-exec-{r.randint(1, 10)}"
            out.append(
                f"{ts} INFO  [{thread}] c.e.orders.OrderController - GET /orders/{r.randint(1, 99999)} "
                f"completed in {r.randint(3, 80)} ms"
            )
    return "\n".join(out), needles


def go_panic(seed: int = 5, lines: int = 700) -> tuple[str, list[str]]:
    """Go's standard logger, then a panic with its goroutine dump ending the process."""
    r = random.Random(seed)
    out = [
        f"2026/03/04 14:{k // 60 % 60:02d}:{k % 60:02d} handled GET /healthz from 10.0.{r.randint(0, 255)}."
        f"{r.randint(0, 255)}:{r.randint(1024, 65535)} in {r.randint(50, 900)}µs"
        for k in range(lines)
    ]
    needles = [
        "panic: runtime error: invalid memory address or nil pointer dereference",
        "[signal SIGSEGV: segmentation violation code=0x1 addr=0x18 pc=0x6b1f2a]",
        "",
        "goroutine 42 [running]:",
        "main.(*Server).handleOrder(0xc0001a4000, {0x7f3c20, 0xc0002b6000}, 0xc000312100)",
        "\t/app/server.go:118 +0x8a",
        "net/http.HandlerFunc.ServeHTTP(0x0?, {0x7f3c20?, 0xc0002b6000?}, 0x0?)",
        "\t/usr/local/go/src/net/http/server.go:2166 +0x29",
        "exit status 2",
    ]
    return "\n".join(out[:600] + needles + out[600:610]), needles


def nginx_access(seed: int = 6, lines: int = 1100) -> tuple[str, list[str]]:
    """Combined-format access log: the one 502 is a different line from the 200s."""
    r = random.Random(seed)
    out, needles = [], []
    for k in range(lines):
        status = 502 if k == 808 else r.choice([200, 200, 200, 304])
        line = (
            f"10.1.{r.randint(0, 255)}.{r.randint(0, 255)} - - [04/Mar/2026:15:{k // 60 % 60:02d}:{k % 60:02d} "
            f'+0000] "GET /static/{r.choice(WORDS)}.{r.choice(["js", "css"])} HTTP/1.1" {status} '
            f'{r.randint(200, 90000)} "-" "Mozilla/5.0 (X11; Linux x86_64) Firefox/{r.randint(100, 130)}.0"'
        )
        if status == 502:
            needles.append(line)
        out.append(line)
    return "\n".join(out), needles


FORMATS = [python_logging, klog, json_lines, java_service, go_panic, nginx_access]


# --- the contract -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", FORMATS, ids=lambda make: make.__name__)
def test_output_is_input_lines_and_markers_that_add_up(make):
    text, _ = make()
    result = run(text)
    assert result is not None
    replay(text, result)
    assert len(result.text) < len(text) / 3
    assert result.summary.endswith(f"of {len(text.split(chr(10))):,} lines")


@pytest.mark.parametrize("make", FORMATS, ids=lambda make: make.__name__)
def test_errors_and_whole_traces_are_kept_in_one_piece(make):
    text, needles = make()
    result = run(text)
    assert "\n".join(needles) in result.text


@pytest.mark.parametrize("make", FORMATS, ids=lambda make: make.__name__)
def test_first_and_last_lines_are_kept(make):
    text, _ = make()
    lines = kept(run(text))
    assert lines[0] == text.split("\n")[0]
    assert lines[-1] == text.split("\n")[-1]


def test_a_failed_line_is_not_merged_into_its_succeeded_siblings():
    lines = [f"2026-03-04 10:00:{k % 60:02d} INFO order {1000 + k} payment succeeded via card" for k in range(400)]
    lines[250] = "2026-03-04 10:00:10 INFO order 1250 payment failed via card"
    assert lines[250] in kept(run("\n".join(lines)))


def test_prefixed_tracebacks_are_whole():
    text, needles = python_logging(lines=300)
    prefixed = "\n".join("web-1  | " + line for line in text.split("\n"))
    assert "\n".join("web-1  | " + line for line in needles) in run(prefixed).text


def test_deterministic():
    text, _ = python_logging(seed=9)
    assert run(text, query="why did billing fail") == run(text, query="why did billing fail")


def test_small_input_is_left_alone():
    assert run("2026-03-04 10:00:00 INFO started\n2026-03-04 10:00:01 ERROR boom\n") is None


def test_nothing_to_fold_gives_none():
    causes = ["out of memory", "disk full on /var/lib/app", "lost its lease to the scheduler", "exited with code 137"]
    text = "\n".join(f"2026-03-04 10:00:{k:02d} ERROR worker {k} failed: {causes[k % 4]}" for k in range(40))
    assert run(text) is None  # every line an error, no template repeated more than 10 times


def test_markers_name_templates_counts_and_time_range():
    text, _ = python_logging()
    markers = replay(text, run(text))
    longest = max(markers, key=lambda marker: number(marker.split(" ", 1)[0]))
    assert re.match(r"[\d,]+ lines \d\d:\d\d:\d\d,\d{3}\u2013\d\d:\d\d:\d\d,\d{3} \(", longest), longest
    assert "\u00d7 `INFO [app.worker] processed job <n> for <*> in <n>ms`" in longest


def test_every_template_keeps_an_exemplar():
    text, _ = klog()
    result = kept(run(text))
    assert any("warnings.go:70] v1 Endpoints is deprecated" in line for line in result)
    assert any("controller.go:112] Syncing pod" in line for line in result)
    assert any("controller.go:245] Syncing pod" in line for line in result)


def test_a_request_id_from_the_query_keeps_all_its_lines():
    text, _ = json_lines()
    source = text.split("\n")
    req = re.search(r'"req_id":"(\w+)"', source[250]).group(1)
    source[251] = source[251].replace(re.search(r'"req_id":"(\w+)"', source[251]).group(1), req)
    source[777] = source[777].replace(re.search(r'"req_id":"(\w+)"', source[777]).group(1), req)
    text = "\n".join(source)
    result = kept(run(text, query=f"What happened to request {req}?"))
    assert [line for line in source if req in line] == [line for line in result if req in line]
    assert len([line for line in source if req in line]) == 3


def test_a_query_term_finds_its_line_after_text_that_lowercases_longer():
    # "İ".lower() is two characters: rows must be counted by newlines in the lowered text, not by the line lengths
    lines = [f"2026-03-04 10:00:{k % 60:02d} INFO order shipped to İSTANBUL, req-{k * 7919:08x}" for k in range(300)]
    result = kept(run("\n".join(lines), query=f"what happened to req-{150 * 7919:08x}?"))
    assert lines[150] in result
    assert lines[156] not in result


def test_a_term_on_every_line_keeps_nothing_extra():
    text, _ = python_logging()
    assert len(run(text, query="what did app.worker do").text) == len(run(text).text)


def test_context_lines_surround_an_error():
    text, _ = java_service()
    source = text.split("\n")
    result = run(text, context=2).text
    assert "\n".join(source[298:310]) in result  # 2 before the error line, the trace, 2 after


WARNINGS = [  # five templates, each of its own length
    "retrying upload {}",
    "step {} is slow",
    "queue depth {} is above its limit",
    "certificate {} expires in under a week",
    "replica {} lags the primary by more than a minute",
]


def test_levels_not_asked_for_are_folded():
    text = "\n".join(
        f"2026-03-04 10:{k // 60:02d}:{k % 60:02d} "
        + (f"WARNING {WARNINGS[k // 15 % 5].format(k)}" if k % 15 == 0 else f"INFO step {k} done")
        for k in range(300)
    )
    warnings = [line for line in text.split("\n") if " WARNING " in line]
    assert [line for line in kept(run(text)) if " WARNING " in line] == warnings  # four of each template: all kept
    without = [line for line in kept(run(text, keep=("error", "fatal", "traceback"))) if " WARNING " in line]
    assert without == warnings[:5]  # an exemplar of each template


def test_info_kept_when_asked_for():
    text, _ = go_panic()
    assert len(kept(run(text, keep=("error", "fatal", "traceback", "info"), max_lines=10_000))) < 30  # no levels
    text, _ = python_logging(lines=300)
    infos = [line for line in text.split("\n") if " INFO " in line]
    result = run(text, keep=("error", "info"), max_lines=10_000)
    assert result is None or all(line in kept(result) for line in infos)


def test_max_lines_caps_everything_but_errors():
    text, needles = python_logging(lines=3000)
    result = run(text, max_lines=40)
    replay(text, result)
    assert "\n".join(needles) in result.text
    lines = split(text)
    scan = log_compressor._scan(lines)
    chosen = log_compressor._select(lines, scan, {**DEFAULTS, "max_lines": 40}, Context())
    assert sum(chosen) == 40


def test_errors_are_never_dropped_to_meet_max_lines():
    text = "\n".join(
        f"2026-03-04 10:{k // 60:02d}:{k % 60:02d} {'ERROR' if k % 30 == 0 else 'INFO'} step {k} of the migration"
        for k in range(300)
    )
    result = run(text, max_lines=5)  # 10 errors of one template: not capped as repeats
    errors = [line for line in text.split("\n") if " ERROR " in line]
    assert [line for line in kept(result) if " ERROR " in line] == errors


def test_crlf_and_colour_codes_are_kept_byte_identical():
    text, needles = python_logging(lines=400)
    coloured = "\r\n".join(line.replace(" ERROR ", " \x1b[31mERROR\x1b[0m ") for line in text.split("\n")) + "\r\n"
    result = run(coloured)
    assert result.text.endswith("\r\n")
    assert needles[0].replace(" ERROR ", " \x1b[31mERROR\x1b[0m ") + "\r" in result.text.split("\n")
    for line in kept(result)[:-1]:
        assert line in coloured.split("\n")


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("2026-03-04 10:00:00,123 ERROR [app] boom", "error"),
        ("ERROR:root:something broke", "error"),
        ("2026-03-04T10:00:00Z WARN  checkout slow", "warning"),
        ("E0304 11:00:00.123456       1 reflector.go:138] failed", "error"),
        ("F0304 11:00:00.123456       1 main.go:12] cannot start", "fatal"),
        ("W0304 11:00:00.123456       1 warnings.go:70] deprecated", "warning"),
        ('{"level":"error","msg":"x"}', "error"),
        ('{"level":50,"msg":"pino error"}', "error"),
        ('{"level":60,"msg":"pino fatal"}', "fatal"),
        ('{"severity":"WARNING","message":"x"}', "warning"),
        ("ts=2026-03-04T10:00:00Z level=error msg=boom", "error"),
        ('time="2026-03-04T10:00:00Z" level=warning msg="disk 91% full"', "warning"),
        ("2026/03/04 10:00:00 [error] 31#31: *5 connect() failed (111: Connection refused)", "error"),
        ("Mar  4 10:00:00 host sshd[812]: error: maximum authentication attempts exceeded", "error"),
        ("panic: runtime error: index out of range [3] with length 3", "fatal"),
        ("thread 'main' panicked at src/main.rs:4:5:", "fatal"),
        ("2026-03-04 10:00:00 CRITICAL [db] replica lost", "fatal"),
        ("  Warning  BackOff  3m (x12 over 5m)  kubelet  Back-off restarting failed container", "warning"),
        ("2026-03-04 10:00:00 INFO handled request, 0 errors", "info"),
        ("2026-03-04 10:00:00 INFO retrying after ERROR from upstream", "info"),
        ("GET /api/errors/ERRORS 200", ""),
        ("just a line of text", ""),
    ],
)
def test_level_detection(line, level):
    assert level_of(line) == level


# --- repeated warnings and errors ---------------------------------------------------------------------------------


def incident(seed: int = 8, lines: int = 2200) -> str:
    """An incident log: requests, cache lines and 110 scattered slow-query warnings of one template."""
    r = random.Random(seed)
    warn_at = set(r.sample(range(1, lines - 1), 110))
    out = []
    for k in range(lines):
        ts = f"2026-11-12T09:{k // 240 % 60:02d}:{k // 4 % 60:02d}.{r.randint(0, 999):03d}Z"
        req = f"req-{r.randrange(16**10):010x}"
        if k in warn_at:
            out.append(f"{ts} WARN  billing [{req}] slow query took {r.randint(900, 3000)}ms on db-primary-2")
        elif r.random() < 0.8:
            out.append(f"{ts} INFO  billing [{req}] GET /api/v2/{r.choice(WORDS)}/{r.randint(1, 99999)} 200 12ms")
        else:
            out.append(f"{ts} DEBUG billing [{req}] cache {r.choice(['hit', 'miss'])} key={r.choice(WORDS)}")
    return "\n".join(out)


def folded_counts(markers: list[str], template: str) -> int:
    """How many lines the markers say were of the template."""
    counts = re.findall(rf"([\d,]+)\u00d7 `{re.escape(template)}`", " ".join(markers))
    alone = [marker for marker in markers if re.match(rf"[\d,]+ (?:more )?lines? like `{re.escape(template)}`", marker)]
    return sum(map(number, counts)) + sum(number(marker.split(" ", 1)[0]) for marker in alone)


def test_repeated_warnings_keep_their_first_three_and_last_and_fold_the_rest_into_counts():
    text = incident()
    warnings = [line for line in text.split("\n") if " WARN " in line]
    result = run(text)
    markers = replay(text, result)
    assert [line for line in kept(result) if " WARN " in line] == warnings[:3] + warnings[-1:]
    assert len(markers) < 15  # not one marker between every two warnings
    assert folded_counts(markers, "WARN billing <*> slow query took <n>ms on db-primary-<n>") == 106


def test_a_warning_matching_the_query_is_kept():
    text = incident()
    warning = [line for line in text.split("\n") if " WARN " in line][50]
    req = re.search(r"req-\w+", warning).group()
    assert warning in kept(run(text, query=f"why was {req} slow?"))


def crash_loop() -> tuple[str, list[str]]:
    """A crash loop of one error, with lines that must survive it: a lone error, fatal lines that repeat, an error
    with its traceback. Returns (log, the lines that must be kept)."""
    r = random.Random(11)
    out = []
    for k in range(5000):
        ts = f"2026-03-04T10:{k // 600 % 60:02d}:{k // 10 % 60:02d}.{k % 10}00Z"
        out.append(f"{ts} ERROR api [req-{r.randrange(16**10):010x}] upstream reset by peer")
    out[1000] = "2026-03-04T10:01:40.000Z ERROR api [req-77] TLS handshake failed: certificate expired"
    for k in range(2000, 2040, 2):
        out[k] = f"2026-03-04T10:03:{k % 60:02d}.000Z FATAL api [req-{k}] worker {k % 7} out of memory"
    out[3000:3004] = [out[3000], *TRACE[:3]]
    out[3004] = TRACE[3]
    needles = [out[1000], *out[2000:2040:2], *out[3000:3005]]
    return "\n".join(out), needles


def test_a_crash_loop_keeps_the_first_five_and_last_two_of_its_error():
    text, needles = crash_loop()
    result = run(text)
    markers = replay(text, result)
    errors = [line for line in text.split("\n") if "upstream reset by peer" in line]
    shown = [line for line in kept(result) if "upstream reset by peer" in line]
    assert shown[:5] == errors[:5]
    assert shown[-2:] == errors[-2:]
    assert len(shown) < 30  # and the single lines between the fatal ones (a marker would not be shorter)
    assert all(needle in kept(result) for needle in needles)
    like = re.compile(r"[\d,]+ more lines like `ERROR api <\*> upstream reset by peer` \(10:0\d:.*\)")
    assert any(like.fullmatch(marker) for marker in markers)
    assert folded_counts(markers, "ERROR api <*> upstream reset by peer") == len(errors) - len(shown)
    assert len(result.text) < len(text) / 50


def test_a_crash_loop_line_matching_the_query_is_kept():
    text, _ = crash_loop()
    line = text.split("\n")[4321]
    req = re.search(r"req-\w+", line).group()
    assert line in kept(run(text, query=f"what happened to {req}?"))


def test_ten_repeats_of_an_error_are_all_kept():
    text, _ = crash_loop()
    assert run("\n".join(text.split("\n")[:10])) is None


# --- properties ---------------------------------------------------------------------------------------------------

LEVELS = ["DEBUG", "INFO", "INFO", "INFO", "WARN", "ERROR"]
TRACE = [
    "Traceback (most recent call last):",
    '  File "/srv/app/main.py", line 3, in <module>',
    "    main()",
    "ValueError: bad input",
]


@st.composite
def random_logs(draw: st.DrawFn) -> str:
    seed = draw(st.integers(0, 10**6))
    count = draw(st.integers(1, 400))
    r = random.Random(seed)
    out = []
    for k in range(count):
        if r.random() < 0.01:
            out += TRACE
            continue
        ts = f"2026-03-04T10:{k // 60 % 60:02d}:{k % 60:02d}.{r.randint(0, 999):03d}Z" if r.random() < 0.9 else ""
        req = f"req-{r.randrange(16**8):08x}"
        out.append(f"{ts} {r.choice(LEVELS)} {r.choice(WORDS)} [{req}] {r.choice(WORDS)} took {r.randint(1, 999)}ms")
    return "\n".join(out) + ("\n" if r.random() < 0.5 else "")


@given(random_logs(), st.integers(0, 5), st.integers(1, 300))
def test_structure_holds_for_any_mix(text, context_lines, max_lines):
    result = run(text, context=context_lines, max_lines=max_lines)
    if result is None:
        return
    body = text[:-1] if text.endswith("\n") else text
    replay(body, Compressed(result.text[: len(result.text) - (len(text) - len(body))], result.summary))
    source, rows = body.split("\n"), kept_rows(body, result.text[: len(result.text) - (len(text) - len(body))])
    assert all(row in rows for row, line in enumerate(source) if line in TRACE)
    for errors in error_templates(body).values():
        assert set(errors if len(errors) <= 10 else errors[:5] + errors[-2:]) <= rows
    assert result == run(text, context=context_lines, max_lines=max_lines)
    assert len(result.text) < len(text)


POOL = [
    "Traceback (most recent call last):",
    '  File "x.py", line 1, in f',
    "ValueError: x",
    "\tat a.b(C.java:1)",
    "Caused by: x",
    "panic: boom",
    "goroutine 1 [running]:",
    "2026-01-01T00:00:00Z INFO x 1",
    "2026-01-01T00:00:00Z ERROR y 2",
    '{"level":"error","msg":"x"}',
    "\x1b[31mERROR\x1b[0m x\r",
    "",
]


@given(st.lists(st.sampled_from(POOL) | st.text(st.characters(exclude_characters="\n"), max_size=30), max_size=150))
def test_any_lines_keep_the_contract(lines):
    text = "\n".join(lines)
    result = run(text, max_lines=5)
    if result is not None:
        replay(text, result)
        assert result == run(text, max_lines=5)
