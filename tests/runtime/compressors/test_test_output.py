"""The test_output compressor: every failure with its details and the summary survive; passing tests are counted.

Fixtures are realistic runs of pytest (verbose and quiet), unittest, jest, go test, cargo test and mocha, built by
seeded generators; each returns the run and the lines an agent needs from it.
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
from headroom.runtime.compressors import test_output as test_compressor

DEFAULTS = {name: spec.default for name, spec in COMPRESSORS["test_output"].params.items()}
REF = "tests-ref-1"
WORDS = ["cart", "order", "user", "session", "invoice", "token", "queue", "shard", "report", "index", "cache", "parser"]


def run(text: str, query: str = "", **params: object) -> Compressed | None:
    return test_compressor.compress(text, {**DEFAULTS, **params}, Context(query=query, kind="test_output", ref=REF))


def replay(text: str, result: Compressed) -> list[str]:
    return folded.replay(text, result.text, REF)


def kept(result: Compressed) -> list[str]:
    return folded.kept(result.text, REF)


def passing_in_markers(markers: list[str]) -> int:
    return sum(folded.number(n) for n in re.findall(r"([\d,]+) passing tests?\b", " ".join(markers)))


# --- fixtures -----------------------------------------------------------------------------------------------------


def pytest_verbose(seed: int = 1, tests: int = 300, failing: int = 3) -> tuple[str, list[str]]:
    r = random.Random(seed)
    lines = [
        "============================= test session starts ==============================",
        "platform linux -- Python 3.12.4, pytest-8.3.2, pluggy-1.5.0 -- /usr/bin/python3",
        "cachedir: .pytest_cache",
        "rootdir: /srv/app",
        "configfile: pyproject.toml",
        "plugins: hypothesis-6.100.1, cov-5.0.0",
        f"collecting ... collected {tests} items",
        "",
    ]
    fails = sorted(r.sample(range(tests), failing))
    failed, needles = [], list(lines[:7])
    for k in range(tests):
        test = f"tests/test_{WORDS[k // 25 % len(WORDS)]}.py::test_{r.choice(WORDS)}_{k}"
        verdict = "FAILED" if k in fails else "PASSED"
        line = f"{test} {verdict}{' ' * 10}[{100 * (k + 1) // tests:3d}%]"
        lines.append(line)
        if k in fails:
            failed.append(test)
            needles.append(line)
    lines += ["", "=================================== FAILURES ==================================="]
    needles.append(lines[-1])
    for test in failed:
        name = test.split("::")[1]
        got, want = r.randint(10, 99), r.randint(100, 999)
        block = [
            f"_________________________________ {name} _________________________________",
            "",
            f"    def {name}():",
            "        cart = make_cart(items=3)",
            f">       assert compute_total(cart) == {want}",
            f"E       AssertionError: assert {got} == {want}",
            f"E        +  where {got} = compute_total(<Cart n=3>)",
            "",
            f"{test.split('::')[0]}:{r.randint(10, 300)}: AssertionError",
        ]
        lines += block
        needles += block
    lines.append("=========================== short test summary info ============================")
    needles.append(lines[-1])
    for test in failed:
        lines.append(f"FAILED {test} - AssertionError: assert ...")
        needles.append(lines[-1])
    lines.append(
        f"========================= {failing} failed, {tests - failing} passed in 4.21s ========================="
    )
    needles.append(lines[-1])
    return "\n".join(lines), needles


def pytest_quiet(seed: int = 2) -> tuple[str, list[str]]:
    """`pytest -q`: one line of dots per file, a warnings summary, a skip."""
    r = random.Random(seed)
    lines = []
    files = 40
    for k in range(files):
        dots = "." * r.randint(20, 60)
        if k == 4:
            dots = dots[:7] + "F" + dots[8:]
        if k == 7:
            dots = dots[:3] + "sss" + dots[6:]
        name = "invoice" if k == 4 else "shard" if k == 7 else f"{WORDS[k % len(WORDS)]}_{k}"
        lines.append(f"tests/test_{name}.py {dots}{' ' * 5}[{100 * (k + 1) // files:3d}%]")
    failing_line = lines[4]
    lines += [
        "",
        "=================================== FAILURES ===================================",
        "_____________________________ test_refund_rounding _____________________________",
        "",
        "    def test_refund_rounding():",
        ">       assert refund(Decimal('10.005')) == Decimal('10.01')",
        "E       AssertionError: assert Decimal('10.00') == Decimal('10.01')",
        "",
        "tests/test_invoice.py:88: AssertionError",
        "=============================== warnings summary ===============================",
        "tests/test_cache.py::test_cache_expiry",
        "  /srv/app/cache.py:12: DeprecationWarning: datetime.utcnow() is deprecated",
        "    now = datetime.utcnow()",
        "",
        "-- Docs: https://docs.pytest.org/en/stable/how-to/capture-warnings.html",
        "=========================== short test summary info ============================",
        "FAILED tests/test_invoice.py::test_refund_rounding - AssertionError: assert Decimal('10.00') == Deci...",
        "SKIPPED [1] tests/test_shard.py:40: needs a cluster",
        "SKIPPED [1] tests/test_shard.py:58: needs a cluster",
        "SKIPPED [1] tests/test_shard.py:71: needs a cluster",
        "============= 1 failed, 402 passed, 3 skipped, 1 warning in 3.02s ==============",
    ]
    needles = [failing_line, *lines[files + 1 : files + 9], lines[-5], lines[-1]]
    return "\n".join(lines), needles


def unittest_verbose(seed: int = 3, tests: int = 200) -> tuple[str, list[str]]:
    r = random.Random(seed)
    lines, needles = [], []
    for k in range(tests):
        module = f"tests.test_{WORDS[k // 40]}"
        case = f"test_{r.choice(WORDS)}_{k} ({module}.{WORDS[k // 40].title()}Tests.test_{r.choice(WORDS)}_{k})"
        verdict = "FAIL" if k == 77 else "ERROR" if k == 150 else "ok"
        lines.append(f"{case} ... {verdict}")
        if verdict != "ok":
            needles.append(lines[-1])
    block = [
        "",
        "======================================================================",
        "ERROR: test_queue_150 (tests.test_report.ReportTests.test_queue_150)",
        "----------------------------------------------------------------------",
        "Traceback (most recent call last):",
        '  File "/srv/app/tests/test_report.py", line 31, in test_queue_150',
        "    render(None)",
        "TypeError: 'NoneType' object is not iterable",
        "",
        "======================================================================",
        "FAIL: test_token_77 (tests.test_invoice.InvoiceTests.test_token_77)",
        "----------------------------------------------------------------------",
        "Traceback (most recent call last):",
        '  File "/srv/app/tests/test_invoice.py", line 12, in test_token_77',
        "    self.assertEqual(total, 42)",
        "AssertionError: 41 != 42",
        "",
        "----------------------------------------------------------------------",
        f"Ran {tests} tests in 0.412s",
        "",
        "FAILED (failures=1, errors=1)",
    ]
    return "\n".join(lines + block), needles + block[2:8] + block[10:16] + [block[-3], block[-1]]


def jest_run(seed: int = 4) -> tuple[str, list[str]]:
    r = random.Random(seed)
    lines: list[str] = []
    for word in WORDS[:8]:
        lines.append(f"PASS src/{word}/{word}.test.ts ({r.uniform(1, 5):.3f} s)")
        lines.append(f"  {word.title()}")
        lines += [f"    \u2713 handles {r.choice(WORDS)} case {k} ({r.randint(1, 40)} ms)" for k in range(12)]
        lines.append("")
    failure = [
        "FAIL src/cart/total.test.ts",
        "  Cart total",
        "    \u2713 adds items (3 ms)",
        "    \u2715 applies the discount (5 ms)",
        "",
        "  \u25cf Cart total \u203a applies the discount",
        "",
        "    expect(received).toBe(expected) // Object.is equality",
        "",
        "    Expected: 90",
        "    Received: 100",
        "",
        "      12 |   const cart = makeCart();",
        "      13 |   cart.applyDiscount(0.1);",
        "    > 14 |   expect(cart.total()).toBe(90);",
        "         |                        ^",
        "      15 | });",
        "",
        "      at Object.<anonymous> (src/cart/total.test.ts:14:24)",
        "",
    ]
    summary = [
        "Test Suites: 1 failed, 8 passed, 9 total",
        "Tests:       1 failed, 97 passed, 98 total",
        "Snapshots:   0 total",
        "Time:        6.251 s",
        "Ran all test suites.",
    ]
    text = "\n".join(lines[:60] + failure + lines[60:] + summary)
    return text, [failure[0], failure[3], *failure[5:19], *summary[:2]]


def go_test(seed: int = 5) -> tuple[str, list[str]]:
    """`go test -v ./...` over two packages, a failing subtest and a plain failure."""
    r = random.Random(seed)
    lines = []
    for k in range(60):
        name = f"Test{r.choice(WORDS).title()}{k}"
        lines += [f"=== RUN   {name}", f"--- PASS: {name} (0.{r.randint(0, 99):02d}s)"]
    failing = [
        "=== RUN   TestRefund",
        "=== RUN   TestRefund/partial",
        "    refund_test.go:41: refund(10.005) = 10.00, want 10.01",
        "=== RUN   TestRefund/full",
        "--- FAIL: TestRefund (0.00s)",
        "    --- FAIL: TestRefund/partial (0.00s)",
        "    --- PASS: TestRefund/full (0.00s)",
    ]
    tail = ["FAIL", "FAIL\texample.com/shop/billing\t0.213s"]
    second = []
    for k in range(40):
        name = f"TestShard{k}"
        second += [f"=== RUN   {name}", f"--- PASS: {name} (0.00s)"]
    second += ["PASS", "ok  \texample.com/shop/shard\t0.034s"]
    text = "\n".join(lines[:50] + failing + lines[50:] + tail + second + ["FAIL"])
    return text, [*failing[:6], *tail, second[-1]]


def cargo_test(seed: int = 6) -> tuple[str, list[str]]:
    r = random.Random(seed)
    lines = [
        "   Compiling shop v0.3.0 (/srv/shop)",
        "    Finished `test` profile [unoptimized + debuginfo] target(s) in 4.02s",
        "     Running unittests src/lib.rs (target/debug/deps/shop-5b2c0f5c1d6e7a8f)",
        "",
        "running 150 tests",
    ]
    for k in range(150):
        verdict = "FAILED" if k == 90 else "ignored" if k == 120 else "ok"
        lines.append(f"test {r.choice(WORDS)}::tests::{r.choice(WORDS)}_{k} ... {verdict}")
    failed = lines[5 + 90].split()[1]
    details = [
        "",
        "failures:",
        "",
        f"---- {failed} stdout ----",
        f"thread '{failed}' panicked at src/billing.rs:212:9:",
        "assertion `left == right` failed",
        "  left: 1000",
        " right: 1001",
        "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
        "",
        "",
        "failures:",
        f"    {failed}",
        "",
        "test result: FAILED. 148 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.05s",
        "",
        "error: test failed, to rerun pass `--lib`",
    ]
    return "\n".join(lines + details), [lines[5 + 90], *details[3:9], details[-3], details[-1]]


def mocha_run(seed: int = 7) -> tuple[str, list[str]]:
    r = random.Random(seed)
    lines = [""]
    for word in WORDS[:6]:
        lines.append(f"  {word.title()}")
        lines += [f"    \u2714 should {r.choice(WORDS)} the {r.choice(WORDS)} {k}" for k in range(15)]
        lines.append("")
    lines[40] = "    1) should reject an expired token"
    details = [
        "",
        "  89 passing (412ms)",
        "  1 failing",
        "",
        "  1) Token",
        "       should reject an expired token:",
        "     AssertionError [ERR_ASSERTION]: expected true to equal false",
        "      at Context.<anonymous> (test/token.test.js:44:12)",
        "",
    ]
    return "\n".join(lines + details), [lines[40], *details[1:8]]


def vitest_run(seed: int = 8) -> tuple[str, list[str]]:
    r = random.Random(seed)
    lines = [f" \u2713 src/mod{k}.test.ts ({r.randint(2, 9)} tests) {r.randint(1, 40)}ms" for k in range(40)]
    failing = [" \u276f src/cart.test.ts (3 tests | 1 failed) 8ms", "   \u00d7 Cart > applies discount 5ms"]
    details = [
        "",
        "\u23af\u23af\u23af\u23af\u23af\u23af Failed Tests 1 \u23af\u23af\u23af\u23af\u23af\u23af",
        "",
        " FAIL  src/cart.test.ts > Cart > applies discount",
        "AssertionError: expected 100 to be 90 // Object.is equality",
        "",
        " \u276f src/cart.test.ts:14:24",
        "     14|   expect(cart.total()).toBe(90);",
        "       |                        ^",
        "",
        "\u23af" * 40 + "[1/1]\u23af",
        "",
        " Test Files  1 failed | 40 passed (41)",
        "      Tests  1 failed | 201 passed (202)",
    ]
    return "\n".join(lines[:20] + failing + lines[20:] + details), [*failing, *details[3:9], *details[-2:]]


def rspec_run(seed: int = 9) -> tuple[str, list[str]]:
    r = random.Random(seed)
    lines = ["Randomized with seed 1234", ""] + ["".join(r.choice("....") for _ in range(80)) for _ in range(20)]
    lines.append("." * 30 + "F" + "." * 10)
    details = [
        "",
        "Failures:",
        "",
        "  1) Cart applies discount",
        "     Failure/Error: expect(cart.total).to eq(90)",
        "",
        "       expected: 90",
        "            got: 100",
        "     # ./spec/cart_spec.rb:14:in `block (2 levels) in <top (required)>'",
        "",
        "Finished in 0.51234 seconds (files took 1.2 seconds to load)",
        "1641 examples, 1 failure",
        "",
        "Failed examples:",
        "",
        "rspec ./spec/cart_spec.rb:12 # Cart applies discount",
    ]
    return "\n".join(lines + details), [lines[-1], *details[1:9], details[11], details[-1]]


def dotnet_run(seed: int = 10) -> tuple[str, list[str]]:
    r = random.Random(seed)
    lines = [f"  Passed Shop.Tests.CartTests.Case{k} [{r.randint(1, 9)} ms]" for k in range(120)]
    failure = [
        "  Failed Shop.Tests.CartTests.AppliesDiscount [5 ms]",
        "  Error Message:",
        "   Assert.Equal() Failure",
        "Expected: 90",
        "Actual:   100",
        "  Stack Trace:",
        "     at Shop.Tests.CartTests.AppliesDiscount() in /src/Shop.Tests/CartTests.cs:line 14",
    ]
    summary = "Failed!  - Failed:     1, Passed:   120, Skipped:     0, Total:   121, Duration: 120 ms - Shop.Tests.dll"
    return "\n".join([*lines[:60], *failure, *lines[60:], "", summary]), [*failure, summary]


def go_json(seed: int = 11) -> tuple[str, list[str]]:
    event = '{{"Time":"2026-03-04T10:00:00Z","Action":"{}","Package":"example.com/shop","Test":"{}"{}}}'
    lines = []
    for k in range(70):
        lines += [event.format("run", f"TestCase{k}", ""), event.format("pass", f"TestCase{k}", ',"Elapsed":0')]
    failing = [
        event.format("output", "TestRefund", ',"Output":"    refund_test.go:41: refund(10.005) = 10.00\\n"'),
        event.format("output", "TestRefund", ',"Output":"--- FAIL: TestRefund (0.00s)\\n"'),
        event.format("fail", "TestRefund", ',"Elapsed":0'),
    ]
    return "\n".join(lines[:70] + failing + lines[70:]), failing


FORMATS = [
    pytest_verbose,
    pytest_quiet,
    unittest_verbose,
    jest_run,
    go_test,
    cargo_test,
    mocha_run,
    vitest_run,
    rspec_run,
    dotnet_run,
    go_json,
]


# --- the contract -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", FORMATS, ids=lambda make: make.__name__)
def test_output_is_input_lines_and_markers_that_add_up(make):
    text, _ = make()
    result = run(text)
    assert result is not None
    replay(text, result)
    assert len(result.text) < len(text) / 2


@pytest.mark.parametrize("make", FORMATS, ids=lambda make: make.__name__)
def test_failures_their_details_and_the_summary_are_kept(make):
    text, needles = make()
    lines = kept(run(text))
    for needle in needles:
        assert needle in lines, needle


def test_pytest_failure_blocks_are_whole_and_in_order():
    text, _ = pytest_verbose()
    result = run(text)
    start = text.index("=================================== FAILURES")
    end = text.index("=========================== short test summary")
    assert text[start:end] in result.text


def test_passing_tests_are_counted_per_file():
    text, _ = pytest_verbose(tests=400, failing=2)
    result = run(text)
    markers = replay(text, result)
    passed = [line for line in text.split("\n") if line.endswith("%]") and " PASSED " in line]
    assert passing_in_markers(markers) + sum(" PASSED " in line for line in kept(result)) == len(passed)
    biggest = max(markers, key=lambda marker: folded.number(marker.split(" ", 1)[0]))
    assert re.fullmatch(r"[\d,]+ passing tests \(tests/test_\w+\.py: 25, .*, [\d,]+ in \d+ other files?\)", biggest)


def test_dots_count_one_test_each():
    text, _ = pytest_quiet()
    result = run(text)
    markers = replay(text, result)
    progress = [line for line in text.split("\n")[:40] if "F" not in line.split(" ")[1]]
    shown = [line for line in progress if line in kept(result)]
    assert passing_in_markers(markers) == sum(line.split(" ")[1].count(".") for line in progress if line not in shown)
    assert re.match(r"\d+ lines: [\d,]+ passing tests \(tests/test_\w+\.py", markers[0])


def test_go_failure_keeps_its_output_and_package_counts():
    text, _ = go_test()
    markers = replay(text, run(text, context=0))
    assert any("(example.com/shop/billing: " in marker for marker in markers)
    assert any("(example.com/shop/shard: 40)" in marker for marker in markers)


def test_cargo_and_jest_passes_are_grouped_by_target_and_file():
    text, _ = cargo_test()
    assert any("(src/lib.rs: " in marker for marker in replay(text, run(text)))
    text, _ = jest_run()
    assert any("src/cart/cart.test.ts: 12" in marker for marker in replay(text, run(text)))


def test_skipped_and_warnings_only_when_asked_for():
    text, _ = pytest_quiet()
    default = kept(run(text))
    assert "SKIPPED [1] tests/test_shard.py:40: needs a cluster" not in default
    assert "  /srv/app/cache.py:12: DeprecationWarning: datetime.utcnow() is deprecated" not in default
    everything = kept(run(text, keep=("failures", "errors", "summary", "skipped", "warnings")))
    assert "SKIPPED [1] tests/test_shard.py:40: needs a cluster" in everything
    assert "  /srv/app/cache.py:12: DeprecationWarning: datetime.utcnow() is deprecated" in everything


def test_summary_dropped_when_not_asked_for():
    text, _ = jest_run()
    lines = kept(run(text, keep=("failures",)))
    assert not any(line.startswith(("Tests:", "Test Suites:")) for line in lines)
    assert "    Received: 100" in lines


def test_context_lines_around_a_failing_test():
    text, _ = unittest_verbose()
    source = text.split("\n")
    lines = kept(run(text, context=2))
    assert source[75:80] == [line for line in lines if line in source[75:80]]
    assert source[73] not in lines


def test_a_test_named_in_the_query_is_kept_even_when_passing():
    text, _ = pytest_verbose()
    line = text.split("\n")[50]
    name = line.split("::")[1].split(" ")[0]
    assert line not in kept(run(text))
    assert line in kept(run(text, query=f"Is {name} flaky?"))


def test_vitest_file_lines_count_their_tests():
    text, _ = vitest_run()
    result = run(text)
    markers = replay(text, result)
    folded = [line for line in text.split("\n") if line.startswith(" \u2713") and line not in kept(result)]
    assert passing_in_markers(markers) == sum(int(re.search(r"\((\d+) tests\)", line).group(1)) for line in folded)


def test_ci_line_prefixes_are_seen_through():
    text, needles = cargo_test()
    prefix = "test\tRun cargo test\t2026-03-04T10:00:00.1234567Z "
    prefixed = "\n".join(prefix + line for line in text.split("\n"))
    lines = kept(run(prefixed))
    assert all(prefix + needle in lines for needle in needles)
    assert any("(src/lib.rs: " in marker for marker in replay(prefixed, run(prefixed)))


def test_deterministic():
    text, _ = jest_run()
    assert run(text, query="discount") == run(text, query="discount")


def test_small_input_is_left_alone():
    assert run("tests/test_a.py::test_x PASSED\n1 passed in 0.01s\n") is None


def test_all_failures_gives_none():
    text = "\n".join(f"tests/test_a.py::test_{k} FAILED" for k in range(30))
    assert run(text) is None


# --- properties ---------------------------------------------------------------------------------------------------


@st.composite
def random_sessions(draw: st.DrawFn) -> tuple[str, list[str], int]:
    """A pytest -v run with random verdicts; returns the run, its failing lines and its PASSED count."""
    verdicts = draw(st.lists(st.sampled_from(["PASSED"] * 8 + ["FAILED", "SKIPPED", "ERROR"]), max_size=300))
    lines = ["============================= test session starts ==============================", "collected items"]
    failing = []
    for k, verdict in enumerate(verdicts):
        lines.append(f"tests/test_{WORDS[k % len(WORDS)]}.py::test_case_{k} {verdict}")
        if verdict in ("FAILED", "ERROR"):
            failing.append(lines[-1])
            lines += [f"    log line {k} of the failing test", ""] if draw(st.booleans()) else []
    lines.append(f"==== {len(failing)} failed, {verdicts.count('PASSED')} passed in 1.00s ====")
    return "\n".join(lines), failing, verdicts.count("PASSED")


@given(random_sessions(), st.integers(0, 4))
def test_structure_holds_for_any_session(session, context_lines):
    text, failing, passed = session
    result = run(text, context=context_lines)
    if result is None:
        return
    markers = replay(text, result)
    lines = kept(result)
    assert all(line in lines for line in failing)
    assert text.split("\n")[-1] in lines
    assert passing_in_markers(markers) + sum(line.endswith(" PASSED") for line in lines) == passed
    assert result == run(text, context=context_lines)


POOL = [
    "=== FAILURES ===",
    "==== 1 failed in 1s ====",
    "tests/a.py::t PASSED",
    "tests/a.py::t FAILED",
    "tests/a.py ..F.",
    "---- a stdout ----",
    "failures:",
    "  \u25cf x",
    "--- FAIL: TestX (0.00s)",
    "=== RUN   TestX",
    "    \u2713 a",
    "",
]


@given(st.lists(st.sampled_from(POOL) | st.text(st.characters(exclude_characters="\n"), max_size=30), max_size=150))
def test_any_lines_keep_the_contract(lines):
    text = "\n".join(lines)
    result = run(text)
    if result is not None:
        replay(text, result)
        assert result == run(text)
