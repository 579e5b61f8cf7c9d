"""Content detection: which kind of content a block is (`json_array`, `log`, `code:python`, ...).

Fast structural checks decide first — a JSON parse, line statistics, the markers of test runners, compilers and
diffs, the file name in the tool call — because they are cheap and exact where they apply. magika (a small ONNX
model shipped inside its wheel) is asked only about what they leave open: is this prose or code, and in which
language. Its first load is bounded by `HEADROOM_MAGIKA_INIT_TIMEOUT_SECS` (default 5); if it times out or cannot
import, detection goes on with the structural checks alone for the life of the process and the log says so once.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import threading
from dataclasses import dataclass

from headroom.runtime.memo import by_digest

log = logging.getLogger(__name__)

_EXTENSIONS = {
    "py": "python", "pyi": "python", "js": "javascript", "mjs": "javascript", "cjs": "javascript", "jsx": "javascript",
    "ts": "typescript", "tsx": "typescript", "go": "go", "rs": "rust", "java": "java", "c": "c", "h": "c",
    "cc": "cpp", "cpp": "cpp", "cxx": "cpp", "hpp": "cpp", "hh": "cpp", "cs": "csharp", "rb": "ruby", "php": "php",
    "sh": "shell", "bash": "shell", "sql": "sql", "kt": "kotlin", "swift": "swift", "scala": "scala", "lua": "lua",
    "yaml": "yaml", "yml": "yaml", "toml": "toml",
}  # fmt: skip
_MAGIKA_LANGUAGES = {"cs": "csharp", "shell": "shell", "batch": "shell", "powershell": "shell"}
_MAGIKA_LANGUAGES.update({name: name for name in set(_EXTENSIONS.values())})
_MAGIKA_KINDS = {"markdown": "markdown", "html": "html", "csv": "csv", "tsv": "tsv", "diff": "diff", "json": "json",
                 "jsonl": "jsonl", "txt": "text", "xml": "html"}  # fmt: skip

_PATH_IN_INPUT = re.compile(r"[\w./-]+\.([A-Za-z0-9]{1,5})\b")
_TIMESTAMP = re.compile(  # ISO dates, clock times, syslog dates, glog prefixes
    r"^\s*(\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\[?\d{2}:\d{2}:\d{2}"
    r"|[A-Z][a-z]{2} +\d+ \d{2}:\d{2}:\d{2}|[IWEF]\d{4} \d{2}:\d{2})"
)
_LEVEL = re.compile(r"\b(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|PANIC)\b|\"level\"\s*:")
_TEST_LINE = re.compile(
    r"(PASSED|FAILED|XFAIL|SKIPPED|\bPASS\b|\bFAIL\b|^ok\s|^---\s(PASS|FAIL)|^=== RUN|test session starts|"
    r"^test \S+ \.\.\. (ok|FAILED|ignored)|^\s*[✓✔✕✗\u00d7]\s|Tests?:\s+\d|\d+ (passed|failed)|test result:)"
)
_BUILD_LINE = re.compile(
    r"^\s*(Compiling|Checking|Downloading|Downloaded|Fresh|Finished|Building|Linking|Running|Installing) |"
    r"^(error|warning)(\[\w+\])?: |^\s*--> |^\[(INFO|WARNING|ERROR)\] |^> Task |npm (ERR|WARN)!|"
    r": (error|warning) TS\d+|"
    r":\d+:\d+: (error|warning|note): |BUILD (SUCCESS|FAILED|FAILURE)|^make(\[\d+\])?: "
)
_DIFF_START = re.compile(
    r"^(diff --git |--- a/|\+\+\+ b/|@@ -\d+(,\d+)? \+\d+(,\d+)? @@|commit [0-9a-f]{7,40}\b)", re.M
)
_HTML = re.compile(r"<(!doctype html|html|head|body|div|p|span|a|table|script|meta|link)\b", re.I)
_MARKDOWN = re.compile(r"^(#{1,6} \S|[-*+] \S|\d+\. \S|```|> \S|\|.*\|\s*$)", re.M)
_CODE_HINTS = re.compile(r"^\s*(def |class |import |from \S+ import |func |fn |package |#include|public |"
                         r"private |const |let |var |function |return\b|if \(|for \(|}\s*$)", re.M)  # fmt: skip


# Lines that give a language away, tried before asking magika (and by the code compressor when it must guess).
_SIGNS = {
    "python": r"(?:def \w+\(.*\):|class \w+[(:]|from [\w.]+ import |import [\w.]+$|if __name__ ==|@\w+)",
    "go": r"(?:package \w+$|func (?:\(\w+ \*?\w+\) )?\w+\(|import \($|type \w+ (?:struct|interface) \{)",
    "rust": r"(?:(?:pub(?:\(crate\))? )?fn \w+|use \w+(?:::\w+)+|impl\b|let mut |#\[derive|mod \w+;)",
    "java": r"(?:package [\w.]+;|import (?:static )?[\w.]+;|(?:public|private|protected) (?:static |final |abstract )*"
    r"(?:class|interface|enum|void|[\w<>\[\]]+ \w+\())",
    "c": r"(?:#include|#define|typedef |struct \w+ \{|static \w+ \*?\w+\()",
    "cpp": r"(?:#include|namespace \w+|template ?<|class \w+|\w+::\w+|using namespace|public:|private:)",
    "javascript": r"(?:(?:export )?(?:async )?function\b|(?:const|let) \w+ = (?:require\(|(?:async )?\(.*\) =>)"
    r"|module\.exports|import .* from ['\"]|export (?:default|const))",
    "typescript": r"(?:(?:export )?(?:interface|type|enum) \w+|\w+\??: (?:string|number|boolean|void)\b|"
    r"import .* from ['\"]|export (?:default|const)|(?:private|public|protected|readonly) (?:readonly )?\w+[?!]?:)",
}
_SIGN_PATTERNS = {language: re.compile(r"^\s*" + sign, re.MULTILINE) for language, sign in _SIGNS.items()}
_GUESS_PREFIX = 8000


@dataclass(frozen=True)
class Detected:
    kind: str
    items: int = 0  # records: array items, JSONL lines, table rows


def detect(text: str, tool_input: str = "", digest: str | None = None) -> Detected:
    """The kind of `text`; `tool_input` (the tool call's input as JSON text) may name the file it came from;
    `digest`: the text's (memo.text_digest), when the caller has it."""
    return _detect(text, _language_from_input(tool_input), digest=digest)


@by_digest(maxsize=16384)
def _detect(text: str, language_hint: str | None) -> Detected:
    stripped = text.strip()
    if not stripped:
        return Detected("text")
    structured = _json_kind(stripped)
    if structured is not None:
        return structured
    lines = [line for line in stripped.split("\n") if line.strip()]
    for check in (_diff_kind, _html_kind, _test_kind, _build_kind, _log_kind, _table_kind):
        kind = check(stripped, lines)
        if kind is not None:
            return kind
    language = language_hint or guess_language(stripped, minimum=3, margin=2.0)
    if language is not None:
        return Detected(f"code:{language}")
    return _model_kind(stripped, lines)


def guess_language(text: str, minimum: int = 1, margin: float = 1.0) -> str | None:
    """The language with the most telltale lines in the text's head (the first of equals: dicts keep their
    order), if it has at least `minimum` of them and `margin` times as many as the runner-up."""
    head = text[:_GUESS_PREFIX]
    counted = [(len(pattern.findall(head)), language) for language, pattern in _SIGN_PATTERNS.items()]
    ranked = sorted(counted, key=lambda entry: -entry[0])  # stable: equals keep the dict's order
    (best, language), (second, _) = ranked[0], ranked[1]
    return language if best >= minimum and best >= margin * second else None


def _language_from_input(tool_input: str) -> str | None:
    """`cat app/models.py` → python: the file a tool read says what language its output is."""
    for extension in reversed(_PATH_IN_INPUT.findall(tool_input)):
        language = _EXTENSIONS.get(extension.lower())
        if language is not None:
            return language
    return None


def _json_kind(text: str) -> Detected | None:
    if text[0] in "[{":
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        else:
            return Detected("json_array", len(value)) if isinstance(value, list) else Detected("json")
    lines = text.split("\n")
    if len(lines) >= 3 and all(line.lstrip()[:1] in ("{", "[") for line in lines[:20] if line.strip()):
        try:
            records = [json.loads(line) for line in lines if line.strip()]
        except ValueError:
            return None
        return Detected("jsonl", len(records))
    return None


def _share(lines: list[str], pattern: re.Pattern[str]) -> float:
    sample = lines[:400]
    return sum(1 for line in sample if pattern.search(line)) / len(sample)


def _diff_kind(text: str, lines: list[str]) -> Detected | None:
    starts = len(_DIFF_START.findall(text))
    changed = sum(1 for line in lines[:400] if line[:1] in "+-")
    return Detected("diff") if starts >= 2 and changed >= 2 else None


def _html_kind(text: str, lines: list[str]) -> Detected | None:
    if text[:1] == "<" and len(_HTML.findall(text[:20000])) >= 3:
        return Detected("html")
    return None


def _test_kind(text: str, lines: list[str]) -> Detected | None:
    return Detected("test_output") if _share(lines, _TEST_LINE) >= 0.3 else None


def _build_kind(text: str, lines: list[str]) -> Detected | None:
    return Detected("build_output") if _share(lines, _BUILD_LINE) >= 0.3 else None


def _log_kind(text: str, lines: list[str]) -> Detected | None:
    stamped = _share(lines, _TIMESTAMP)
    levelled = _share(lines, _LEVEL)
    return Detected("log") if max(stamped, levelled) >= 0.5 and len(lines) >= 5 else None


def _table_kind(text: str, lines: list[str]) -> Detected | None:
    if len(lines) < 3:
        return None
    for delimiter, kind in (("\t", "tsv"), (",", "csv"), (";", "csv"), ("|", "csv")):
        counts = [line.count(delimiter) for line in lines[:200]]
        width = counts[0]
        if width >= 1 and sum(1 for c in counts if c == width) >= 0.9 * len(counts):
            return Detected(kind, len(lines) - 1)
    return None


def _model_kind(text: str, lines: list[str]) -> Detected:
    """Prose or code, and which language: magika's call when it is available, else line heuristics."""
    label = _magika_label(text)
    if label in _MAGIKA_LANGUAGES:
        return Detected(f"code:{_MAGIKA_LANGUAGES[label]}")
    if label in _MAGIKA_KINDS:
        return Detected(_MAGIKA_KINDS[label])
    if _share(lines, _MARKDOWN) >= 0.2:
        return Detected("markdown")
    if _share(lines, _CODE_HINTS) >= 0.3:
        return Detected("code")
    return Detected("text")


# --- magika -------------------------------------------------------------------------------------------------------


class _Magika:
    """magika, loaded once in the background; `label` waits for the load at most the configured time."""

    def __init__(self) -> None:
        self._model = None
        self._failed = False
        self._loaded = threading.Event()
        threading.Thread(target=self._load, name="headroom-magika-load", daemon=True).start()

    def _load(self) -> None:
        try:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from magika import Magika

            self._model = Magika()
        except Exception as error:  # any failure means: structural checks only
            self._failed = True
            log.warning("content detection without magika (%s): structural checks only", error)
        finally:
            self._loaded.set()

    def status(self) -> str:
        if self._failed:
            return "unavailable"
        return "ready" if self._loaded.is_set() else "loading"

    def label(self, text: str) -> str | None:
        if self._failed:
            return None
        if not self._loaded.wait(_init_timeout()):
            self._failed = True
            log.warning("magika did not load within %.1f s: content detection uses structural checks only",
                        _init_timeout())  # fmt: skip
            return None
        if self._model is None:
            return None
        result = self._model.identify_bytes(text[:4096].encode("utf-8", "replace"))
        return result.output.label if result.score >= 0.5 else None


def _init_timeout() -> float:
    try:
        return float(os.environ.get("HEADROOM_MAGIKA_INIT_TIMEOUT_SECS", "5"))
    except ValueError:
        return 5.0


@functools.cache
def _magika() -> _Magika:
    return _Magika()


def _magika_label(text: str) -> str | None:
    return _magika().label(text)


def magika_status() -> str:
    """'ready', 'loading' or 'unavailable' — for health checks."""
    return _magika().status()
