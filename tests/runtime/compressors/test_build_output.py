"""The build_output compressor: diagnostics survive with their code frames and the final status; progress folds.

Fixtures are realistic builds (cargo, tsc, gcc/clang under make, maven, gradle, webpack) built by seeded
generators; each returns the build log and the lines an agent needs from it.
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
from headroom.runtime.compressors import build_output as build_compressor

DEFAULTS = {name: spec.default for name, spec in COMPRESSORS["build_output"].params.items()}
REF = "build-ref-1"
CRATES = [
    "serde",
    "tokio",
    "hyper",
    "rand",
    "regex",
    "clap",
    "anyhow",
    "thiserror",
    "tracing",
    "bytes",
    "futures",
    "mio",
    "libc",
    "syn",
    "quote",
]


def run(text: str, query: str = "", **params: object) -> Compressed | None:
    return build_compressor.compress(text, {**DEFAULTS, **params}, Context(query=query, kind="build_output", ref=REF))


def replay(text: str, result: Compressed) -> list[str]:
    """Folded as promised, and each marker's per-kind counts add up to its total."""
    markers = folded.replay(text, result.text, REF)
    for marker in markers:
        counts = re.findall(r"(?:\(|, )([\d,]+)(?:\u00d7 | in [\d,]+ other kinds?)", marker)
        assert sum(map(folded.number, counts)) == folded.number(marker.split(" ", 1)[0]), marker
    return markers


def kept(result: Compressed) -> list[str]:
    return folded.kept(result.text, REF)


# --- fixtures -----------------------------------------------------------------------------------------------------

RUST_WARNING = [
    "warning: unused variable: `retries`",
    "  --> src/client.rs:41:9",
    "   |",
    "41 |     let retries = 3;",
    "   |         ^^^^^^^ help: if this is intentional, prefix it with an underscore: `_retries`",
    "   |",
    "   = note: `#[warn(unused_variables)]` on by default",
    "",
]
RUST_ERROR = [
    "error[E0308]: mismatched types",
    "  --> src/billing.rs:88:24",
    "   |",
    "88 |     let total: u64 = invoice.amount * rate;",
    "   |                ---   ^^^^^^^^^^^^^^^^^^^^^ expected `u64`, found `f64`",
    "   |                |",
    "   |                expected due to this",
    "",
]


def cargo_build(seed: int = 1) -> tuple[str, list[str]]:
    r = random.Random(seed)
    lines = ["    Updating crates.io index", "     Locking 212 packages to latest compatible versions"]
    lines += [
        f"  Downloaded {c}-{k} v{r.randint(0, 2)}.{r.randint(0, 40)}.{r.randint(0, 9)}"
        for k, c in enumerate(CRATES * 3)
    ]
    lines.append("  Downloaded 45 crates (4.1 MB) in 1.02s")
    lines += [
        f"   Compiling {c}-{k} v{r.randint(0, 2)}.{r.randint(0, 40)}.{r.randint(0, 9)}"
        for k, c in enumerate(CRATES * 8)
    ]
    lines.append("   Compiling shop v0.3.0 (/srv/shop)")
    tail = [
        *RUST_WARNING,
        *RUST_ERROR,
        "For more information about this error, try `rustc --explain E0308`.",
        "warning: `shop` (lib) generated 1 warning",
        "error: could not compile `shop` (lib) due to 1 previous error; 1 warning emitted",
    ]
    return "\n".join(lines + tail), tail


def tsc_build(seed: int = 2) -> tuple[str, list[str]]:
    """`npm run build` running tsc, then webpack-ish progress around it."""
    r = random.Random(seed)
    lines = ["", "> shop-web@2.4.0 build", "> tsc -p tsconfig.json && webpack --mode production", ""]
    errors = [
        "src/cart/total.ts(14,7): error TS2322: Type 'string' is not assignable to type 'number'.",
        "src/api/client.ts(88,19): error TS2345: Argument of type '{ id: string; }' is not assignable to "
        "parameter of type 'OrderRequest'.",
        "  Property 'items' is missing in type '{ id: string; }' but required in type 'OrderRequest'.",
    ]
    progress = [
        f"<s> [webpack.Progress] {p}% building {r.randint(1, 400)}/{r.randint(400, 900)} entries "
        f"{r.randint(100, 3000)}/{r.randint(3000, 5000)} dependencies"
        for p in range(0, 100)
    ]
    text = (
        lines
        + progress[:50]
        + errors
        + progress[50:]
        + [
            "Found 2 errors in 2 files.",
            "",
            "Errors  Files",
            "     1  src/api/client.ts:88",
            "     1  src/cart/total.ts:14",
        ]
    )
    return "\n".join(text), [*errors, "Found 2 errors in 2 files."]


def make_gcc(seed: int = 3) -> tuple[str, list[str]]:
    r = random.Random(seed)
    lines = [f"[{p:3d}%] Building C object src/CMakeFiles/app.dir/{r.choice(CRATES)}_{p}.c.o" for p in range(0, 80)]
    error = [
        "/srv/app/src/ledger.c: In function 'ledger_post':",
        "/srv/app/src/ledger.c:212:17: error: 'balance' undeclared (first use in this function)",
        "  212 |     total += balance * rate;",
        "      |              ^~~~~~~",
        "/srv/app/src/ledger.c:212:17: note: each undeclared identifier is reported only once for each function "
        "it appears in",
        "/srv/app/src/ledger.c:230:5: warning: implicit declaration of function 'flush_all' "
        "[-Wimplicit-function-declaration]",
        "  230 |     flush_all(ctx);",
        "      |     ^~~~~~~~~",
        "make[2]: *** [src/CMakeFiles/app.dir/build.make:76: src/CMakeFiles/app.dir/ledger.c.o] Error 1",
        "make[1]: *** [CMakeFiles/Makefile2:83: src/CMakeFiles/app.dir/all] Error 2",
        "make: *** [Makefile:91: all] Error 2",
    ]
    return "\n".join(lines[:60] + error[:8] + lines[60:] + error[8:]), error


def clang_build(seed: int = 4) -> tuple[str, list[str]]:
    r = random.Random(seed)
    lines = [
        f"clang++ -std=c++20 -O2 -Iinclude -c src/{c}_{k}.cpp -o build/{c}_{k}.o" for k, c in enumerate(CRATES * 5)
    ]
    r.shuffle(lines)
    error = [
        "src/parser.cpp:41:12: error: no matching function for call to 'parse'",
        "    return parse(input, opts);",
        "           ^~~~~",
        "include/parser.h:9:6: note: candidate function not viable: requires 1 argument, but 2 were provided",
        "void parse(std::string_view input);",
        "     ^",
        "1 error generated.",
    ]
    return "\n".join(lines[:40] + error + lines[40:]), error


def maven_build(seed: int = 5) -> tuple[str, list[str]]:
    r = random.Random(seed)
    lines = [
        "[INFO] Scanning for projects...",
        "[INFO] ",
        "[INFO] -----------------------< com.example:shop >-----------------------",
        "[INFO] Building shop 1.4.0-SNAPSHOT",
        "[INFO] --------------------------------[ jar ]---------------------------------",
    ]
    for k in range(120):
        artifact = f"org/{r.choice(CRATES)}/{r.choice(CRATES)}-{k}/1.{k}/{r.choice(CRATES)}-{k}-1.{k}"
        lines.append(f"[INFO] Downloading from central: https://repo.maven.apache.org/maven2/{artifact}.pom")
        lines.append(
            f"[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/{artifact}.pom "
            f"({r.randint(1, 40)} kB at {r.randint(100, 900)} kB/s)"
        )
    lines += [
        "[INFO] --- compiler:3.11.0:compile (default-compile) @ shop ---",
        "[INFO] Compiling 84 source files with javac [debug target 17] to target/classes",
    ]
    errors = [
        "[ERROR] COMPILATION ERROR : ",
        "[INFO] -------------------------------------------------------------",
        "[ERROR] /srv/shop/src/main/java/com/example/OrderService.java:[77,21] cannot find symbol",
        "  symbol:   method placeAll(java.util.List<com.example.Order>)",
        "  location: variable repository of type com.example.OrderRepository",
        "[INFO] 1 error",
        "[INFO] -------------------------------------------------------------",
        "[INFO] ------------------------------------------------------------------------",
        "[INFO] BUILD FAILURE",
        "[INFO] ------------------------------------------------------------------------",
        "[INFO] Total time:  14.212 s",
        "[INFO] Finished at: 2026-03-04T10:12:44Z",
        "[INFO] ------------------------------------------------------------------------",
        "[ERROR] Failed to execute goal org.apache.maven.plugins:maven-compiler-plugin:3.11.0:compile "
        "(default-compile) on project shop: Compilation failure",
    ]
    needles = [errors[0], *errors[2:5], errors[8], errors[10], errors[13]]
    return "\n".join(lines + errors), needles


def gradle_build(seed: int = 6) -> tuple[str, list[str]]:
    r = random.Random(seed)
    lines = [
        f"> Task :{module}:{task}"
        for module in ("core", "api", "web", "app")
        for task in (
            "checkKotlinGradlePluginConfigurationErrors",
            "processResources",
            "compileKotlin",
            "compileJava",
            "classes",
            "jar",
            "processTestResources",
            "compileTestJava",
            "testClasses",
            "test",
        )
    ]
    r.shuffle(lines)
    failure = [
        "> Task :app:compileJava",
        "/srv/shop/app/src/main/java/com/example/App.java:12: error: cannot find symbol",
        "        Order order = repository.findOrder(id);",
        "                                ^",
        "  symbol:   method findOrder(long)",
        "  location: variable repository of type OrderRepository",
        "1 error",
        "",
        "> Task :app:compileJava FAILED",
        "",
        "FAILURE: Build failed with an exception.",
        "",
        "* What went wrong:",
        "Execution failed for task ':app:compileJava'.",
        "> Compilation failed; see the compiler error output for details.",
        "",
        "* Try:",
        "> Run with --info option to get more log output.",
        "> Run with --scan to get full insights.",
        "",
        "BUILD FAILED in 7s",
        "38 actionable tasks: 9 executed, 29 up-to-date",
    ]
    needles = [*failure[1:6], failure[8], failure[10], *failure[12:15], failure[20]]
    return "\n".join(lines + failure), needles


def webpack_build(seed: int = 7) -> tuple[str, list[str]]:
    r = random.Random(seed)
    lines = [
        f"asset {c}.{r.randrange(16**8):08x}.js {r.randint(1, 900)} KiB [emitted] [immutable] (name: {c})"
        for c in CRATES
    ]
    lines += [
        "orphan modules 1.2 MiB [orphan] 412 modules",
        "runtime modules 3.1 KiB 7 modules",
        "cacheable modules 2.8 MiB",
    ]
    lines += [
        f"  ./src/{c}/{r.choice(CRATES)}_{k}.tsx {r.randint(1, 40)} KiB [built] [code generated]"
        for k, c in enumerate(CRATES * 4)
    ]
    error = [
        "ERROR in ./src/checkout/Checkout.tsx 14:0-42",
        "Module not found: Error: Can't resolve './PaymentForm' in '/srv/web/src/checkout'",
        "resolve './PaymentForm' in '/srv/web/src/checkout'",
        "  using description file: /srv/web/package.json (relative path: ./src/checkout)",
        "",
    ]
    status = ["webpack 5.91.0 compiled with 1 error in 8123 ms"]
    return "\n".join(lines + error + status), error[:4] + status


FORMATS = [cargo_build, tsc_build, make_gcc, clang_build, maven_build, gradle_build, webpack_build]


# --- the contract -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", FORMATS, ids=lambda make: make.__name__)
def test_output_is_input_lines_and_markers_that_add_up(make):
    text, _ = make()
    result = run(text)
    assert result is not None
    replay(text, result)
    assert len(result.text) < len(text) / 2


@pytest.mark.parametrize("make", FORMATS, ids=lambda make: make.__name__)
def test_diagnostics_with_their_frames_and_the_status_are_kept(make):
    text, needles = make()
    lines = kept(run(text))
    for needle in needles:
        assert needle in lines, needle


def test_rust_diagnostics_are_kept_in_one_piece():
    text, _ = cargo_build()
    result = run(text)
    assert "\n".join(RUST_WARNING + RUST_ERROR) in result.text


def test_progress_is_counted_per_kind():
    text, _ = cargo_build()
    result = run(text)
    markers = replay(text, result)
    compiling = [line for line in text.split("\n") if line.startswith("   Compiling ")]
    counts = re.findall(r"([\d,]+)\u00d7 Compiling <crate> v<ver>", " ".join(markers))
    in_markers = sum(map(folded.number, counts))
    assert in_markers + sum(line in kept(result) for line in compiling) == len(compiling)
    assert re.fullmatch(
        r"[\d,]+ progress lines \([\d,]+\u00d7 Compiling <crate> v<ver>, [\d,]+\u00d7 Downloaded "
        r"<crate> v<ver>, .*\)",
        markers[0],
    )


def test_maven_downloads_fold_and_errors_stay():
    text, _ = maven_build()
    markers = replay(text, run(text))
    assert any("\u00d7 [INFO] Downloading from ..." in marker for marker in markers)


def test_warnings_fold_when_not_asked_for():
    text, _ = cargo_build()
    lines = kept(run(text, keep=("errors",), context=0))
    assert RUST_WARNING[0] not in lines
    assert RUST_ERROR[0] in lines
    text, _ = make_gcc()
    lines = kept(run(text, keep=("errors",), context=0))
    assert not any("warning: implicit declaration" in line for line in lines)


def test_context_lines_surround_a_diagnostic():
    text, needles = make_gcc()
    source = text.split("\n")
    at = source.index(needles[1])
    lines = kept(run(text, context=3))
    assert all(line in lines for line in source[at - 3 : at])
    assert source[at - 5] not in lines


def test_a_query_term_keeps_its_lines():
    text, _ = cargo_build()
    line = next(line for line in text.split("\n") if "Compiling tokio-16 " in line)
    assert line not in kept(run(text))
    assert line in kept(run(text, query="which tokio-16 version got built?"))


def test_docker_buildx_prefixes_are_seen_through():
    text, needles = cargo_build()
    prefixed = "\n".join(f"#12 {k / 10:.3f} {line}" for k, line in enumerate(text.split("\n")))
    result = run(prefixed)
    replay(prefixed, result)
    for needle in needles:
        assert any(line.endswith(" " + needle) for line in kept(result)), needle


def test_notes_about_other_files_are_not_part_of_an_error():
    notes = [
        f"src/shop/mod{k}.py:{k + 3}: note: By default the bodies of untyped functions are not checked"
        for k in range(30)
    ]
    error = (
        'src/shop/billing.py:88: error: Incompatible types in assignment (expression has type "float")  [assignment]'
    )
    text = "\n".join([*notes[:10], error, *notes[10:], "Found 1 error in 1 file (checked 212 source files)"])
    lines = kept(run(text, context=1))
    assert error in lines
    assert notes[10] in lines
    assert notes[12] not in lines


def test_go_module_downloads_fold():
    lines = [f"go: downloading github.com/acme/lib{k} v1.{k}.0" for k in range(40)]
    text = "\n".join([*lines, "# example.com/shop/billing", "billing/refund.go:41:9: undefined: roundHalfEven"])
    markers = replay(text, run(text))
    assert markers == ["38 progress lines (38\u00d7 go: downloading ...)"]  # 2 stay as context


def test_pip_install_progress_folds_and_its_error_stays():
    lines = []
    for k in range(30):
        lines += [f"Collecting lib{k}==1.{k}.0", f"  Downloading lib{k}-1.{k}.0-py3-none-any.whl (62 kB)"]
    error = [
        "ERROR: Could not find a version that satisfies the requirement shopkit==9.9 (from versions: 1.0, 1.1)",
        "ERROR: No matching distribution found for shopkit==9.9",
    ]
    text = "\n".join(lines + error)
    result = run(text)
    assert error == kept(result)[-2:]
    assert replay(text, result) == ["57 progress lines (29\u00d7 pip: Collecting ..., 28\u00d7 Downloading ...)"]


def test_deterministic():
    text, _ = gradle_build()
    assert run(text, query="compileJava") == run(text, query="compileJava")


def test_small_input_is_left_alone():
    assert run("   Compiling shop v0.3.0\n    Finished dev [unoptimized] target(s) in 1.2s\n") is None


def test_a_clean_build_keeps_its_status():
    text = "\n".join(
        [f"   Compiling {c} v1.0.{k}" for k, c in enumerate(CRATES * 4)]
        + ["    Finished `release` profile [optimized] target(s) in 41.20s"]
    )
    result = run(text)
    assert result.text.split("\n")[-1] == "    Finished `release` profile [optimized] target(s) in 41.20s"
    assert len(result.text.split("\n")) <= 3


# --- properties ---------------------------------------------------------------------------------------------------

NOISE = [
    "   Compiling {c} v1.{k}.0",
    "  Downloaded {c} v0.{k}.1",
    "[INFO] Downloading from central: {c}/{k}.pom",
    "> Task :{c}:compileJava",
    "[{k:3d}%] Building CXX object {c}.o",
    "asset {c}.js {k} KiB [emitted]",
]
DIAGNOSTICS = [
    ["src/{c}.rs:{k}:1: error: expected one of `;`, found `}}`"],
    [
        "error[E0425]: cannot find value `{c}` in this scope",
        "  --> src/main.rs:{k}:5",
        "   |",
        "",
    ],
    ["src/{c}.ts({k},3): error TS2304: Cannot find name '{c}'."],
    ["[ERROR] /src/{c}.java:[{k},1] ';' expected"],
]


@st.composite
def random_builds(draw: st.DrawFn) -> tuple[str, list[str]]:
    seed, count = draw(st.integers(0, 10**6)), draw(st.integers(1, 300))
    r = random.Random(seed)
    lines, errors = [], []
    for k in range(count):
        if r.random() < 0.03:
            block = [line.format(c=r.choice(CRATES), k=k) for line in r.choice(DIAGNOSTICS)]
            errors.append(block[0])
            lines += block
        else:
            lines.append(r.choice(NOISE).format(c=r.choice(CRATES), k=k % 100))
    return "\n".join(lines), errors


@given(random_builds(), st.integers(0, 4))
def test_structure_holds_for_any_build(build, context_lines):
    text, errors = build
    result = run(text, context=context_lines)
    if result is None:
        return
    replay(text, result)
    lines = kept(result)
    assert all(error in lines for error in errors)
    assert result == run(text, context=context_lines)


POOL = [
    "error[E0308]: x",
    "  --> a.rs:1:1",
    "   |",
    "   Compiling a v1.0.0",
    "[ERROR] x",
    "[INFO] Downloading from c: x",
    "a.c:1:1: error: x",
    "    int x;",
    "        ^",
    "ERROR in x",
    "#1 0.1 x",
    "",
]


@given(st.lists(st.sampled_from(POOL) | st.text(st.characters(exclude_characters="\n"), max_size=30), max_size=150))
def test_any_lines_keep_the_contract(lines):
    text = "\n".join(lines)
    result = run(text)
    if result is not None:
        replay(text, result)
        assert result == run(text)
