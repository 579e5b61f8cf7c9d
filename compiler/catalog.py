"""What a policy may name: settings, compressors and their parameters, content kinds, and the types of values.

This is the contract between the policy language and the engine: the compiler checks every name and value against
it, and the engine's compressors receive exactly these parameters, already converted (counts as int, percentages
as fractions, durations in seconds, sizes in bytes). A compressor added to the engine is declared here first.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from headroom.compiler import nodes as n
from headroom.compiler.diagnostics import did_you_mean


class BadValue(Exception):
    """A value that does not fit its type; `hint` says what would."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


def _describe(value: n.Value) -> str:
    if isinstance(value, n.Quantity):
        return f"{value.number}{value.unit if value.unit == '%' else (' ' + value.unit if value.unit else '')}"
    return f'"{value.text}"' if isinstance(value, n.Str) else value.text


@dataclass(frozen=True)
class Count:
    """A whole number, optionally written with its unit (`4 messages`)."""

    unit: str
    minimum: int = 0
    maximum: int = 1_000_000_000

    def convert(self, value: n.Value) -> int:
        if not isinstance(value, n.Quantity) or value.unit == "%":
            raise BadValue(f"expected a number of {self.unit}, got {_describe(value)}", f"write e.g. `5 {self.unit}`")
        if value.unit not in (None, self.unit):
            raise BadValue(f"wrong unit '{value.unit}': this counts {self.unit}", f"write `{value.number} {self.unit}`")
        if value.number != value.number.to_integral_value():
            raise BadValue(f"expected a whole number of {self.unit}, got {value.number}")
        return _in_range(int(value.number), self.minimum, self.maximum, self.unit)

    def describe(self) -> str:
        return f"a number of {self.unit} ({self.minimum}..{self.maximum})"

    def show(self, value: int) -> str:
        return f"{value} {self.unit}"


@dataclass(frozen=True)
class Percent:
    """A share written as a percentage (`30%`), converted to a fraction (0.3)."""

    def convert(self, value: n.Value) -> float:
        if not isinstance(value, n.Quantity) or value.unit != "%":
            hint = None
            if isinstance(value, n.Quantity) and value.unit is None and value.number <= 1:
                hint = f"write it as a percentage: `{_percent(value.number * 100)}%`"
            raise BadValue(f"expected a percentage like 30%, got {_describe(value)}", hint)
        if not Decimal(0) <= value.number <= Decimal(100):
            raise BadValue(f"{value.number}% is out of range (0%..100%)")
        return float(value.number / 100)

    def describe(self) -> str:
        return "a percentage (0%..100%)"

    def show(self, value: float) -> str:
        return f"{value * 100:g}%"


@dataclass(frozen=True)
class Flag:
    """on / off."""

    def convert(self, value: n.Value) -> bool:
        if isinstance(value, n.Word) and value.text in ("on", "true", "yes"):
            return True
        if isinstance(value, n.Word) and value.text in ("off", "false", "no"):
            return False
        raise BadValue(f"expected on or off, got {_describe(value)}")

    def describe(self) -> str:
        return "on or off"

    def show(self, value: bool) -> str:
        return "on" if value else "off"


@dataclass(frozen=True)
class Choice:
    """One word out of a fixed set."""

    options: tuple[str, ...]

    def convert(self, value: n.Value) -> str:
        text = value.text if isinstance(value, n.Word | n.Str) else None
        if text not in self.options:
            raise BadValue(
                f"expected one of {', '.join(self.options)}, got {_describe(value)}",
                did_you_mean(text, self.options) if text else None,
            )
        return text

    def describe(self) -> str:
        return "one of " + ", ".join(self.options)

    def show(self, value: str) -> str:
        return value


@dataclass(frozen=True)
class Words:
    """A list of words out of a fixed set: `keep: error, warning`."""

    options: tuple[str, ...]

    def convert_all(self, values: tuple[n.Value, ...]) -> tuple[str, ...]:
        return tuple(Choice(self.options).convert(value) for value in values)

    def describe(self) -> str:
        return "a list of " + ", ".join(self.options)

    def show(self, value: tuple[str, ...]) -> str:
        return ", ".join(value)


_SECONDS = {
    "ms": Decimal("0.001"),
    "seconds": Decimal(1),
    "minutes": Decimal(60),
    "hours": Decimal(3600),
    "days": Decimal(86400),
}
_BYTES = {"bytes": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}


@dataclass(frozen=True)
class Duration:
    """A time span with its unit (`250 ms`, `7 days`), converted to seconds."""

    minimum_seconds: float = 0.0
    maximum_seconds: float = 365 * 86400.0

    def convert(self, value: n.Value) -> float:
        if not isinstance(value, n.Quantity) or value.unit not in _SECONDS:
            raise BadValue(
                f"expected a duration like `250 ms` or `7 days`, got {_describe(value)}",
                "units: ms, seconds, minutes, hours, days",
            )
        seconds = float(value.number * _SECONDS[value.unit])
        if not self.minimum_seconds <= seconds <= self.maximum_seconds:
            raise BadValue(
                f"{_describe(value)} is out of range ({self.minimum_seconds:g} s..{self.maximum_seconds:g} s)"
            )
        return seconds

    def describe(self) -> str:
        return "a duration (ms, seconds, minutes, hours, days)"

    def show(self, value: float) -> str:
        return _largest_unit(Decimal(str(value)), _SECONDS)


@dataclass(frozen=True)
class Size:
    """A size with its unit (`500 MB`), converted to bytes."""

    def convert(self, value: n.Value) -> int:
        if not isinstance(value, n.Quantity) or value.unit not in _BYTES:
            raise BadValue(f"expected a size like `500 MB`, got {_describe(value)}", "units: bytes, KB, MB, GB")
        return int(value.number * _BYTES[value.unit])

    def describe(self) -> str:
        return "a size (bytes, KB, MB, GB)"

    def show(self, value: int) -> str:
        return _largest_unit(Decimal(value), _BYTES)


ValueType = Count | Percent | Flag | Choice | Words | Duration | Size


def convert(value_type: ValueType, values: tuple[n.Value, ...]) -> Any:
    """Convert what was written for one setting or parameter; raises `BadValue` when it does not fit."""
    if isinstance(value_type, Words):
        return value_type.convert_all(values)
    if len(values) != 1:
        raise BadValue(f"expected a single value ({value_type.describe()}), got a list of {len(values)}")
    return value_type.convert(values[0])


def _largest_unit(amount: Decimal, units: dict[str, Decimal | int]) -> str:
    """`604800` seconds → `7 days`: the largest unit the amount is a whole number of."""
    for unit, size in sorted(units.items(), key=lambda item: item[1], reverse=True):
        if amount % Decimal(size) == 0:
            return f"{(amount / Decimal(size)).normalize():f} {unit}"
    return f"{amount} {next(iter(units))}"


def _in_range(number: int, minimum: int, maximum: int, unit: str) -> int:
    if not minimum <= number <= maximum:
        raise BadValue(f"{number} {unit} is out of range ({minimum}..{maximum})")
    return number


def _percent(number: Decimal) -> str:
    return format(number.normalize(), "f")


# --- settings -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingSpec:
    type: ValueType
    default: Any
    doc: str


SETTINGS: dict[str, SettingSpec] = {
    "min_tokens": SettingSpec(Count("tokens"), 0, "blocks with fewer tokens are never compressed"),
    "min_chars": SettingSpec(Count("chars"), 0, "blocks with fewer characters are never compressed"),
    "cache": SettingSpec(
        Choice(("stable", "fresh")),
        "stable",
        "stable: a message's decision never changes once sent (prompt cache keeps hitting); "
        "fresh: every turn is decided anew with the whole conversation (more saved, cache breaks)",
    ),
    "store_ttl": SettingSpec(Duration(60.0), 7 * 86400.0, "how long dropped content stays retrievable"),
    "store_max_size": SettingSpec(Size(), 512 * 1024**2, "the reversible store's size cap"),
    "time_budget": SettingSpec(Duration(0.001, 60.0), 2.0, "a compressor running longer leaves its block untouched"),
}


# --- compressors --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamSpec:
    type: ValueType
    default: Any


@dataclass(frozen=True)
class CompressorSpec:
    kinds: tuple[str, ...]  # content kinds it is made for (`code` covers every language)
    params: dict[str, ParamSpec]
    doc: str


_LOG_LEVELS = ("error", "fatal", "warning", "traceback", "info", "debug")

COMPRESSORS: dict[str, CompressorSpec] = {
    "crusher": CompressorSpec(
        ("json_array", "jsonl", "json"),
        {
            "max_items": ParamSpec(Count("items", 1), 15),
            "min_items": ParamSpec(Count("items"), 5),
            "keep_first": ParamSpec(Percent(), 0.3),
            "keep_last": ParamSpec(Percent(), 0.15),
            "tabular": ParamSpec(Flag(), True),
        },
        "JSON arrays: keep first/last shares, anomalies and query matches; fold the rest",
    ),
    "log": CompressorSpec(
        ("log",),
        {
            "context": ParamSpec(Count("lines", 0, 100), 2),
            "keep": ParamSpec(Words(_LOG_LEVELS), ("error", "fatal", "warning", "traceback")),
            "max_lines": ParamSpec(Count("lines", 1), 200),
        },
        "logs: cluster repeated templates, keep errors, warnings and stack traces with context",
    ),
    "test_output": CompressorSpec(
        ("test_output",),
        {
            "context": ParamSpec(Count("lines", 0, 100), 3),
            "keep": ParamSpec(
                Words(("failures", "errors", "warnings", "skipped", "summary")), ("failures", "errors", "summary")
            ),
        },
        "test runs: keep every failure and the summary, fold passing tests into counts",
    ),
    "build_output": CompressorSpec(
        ("build_output",),
        {
            "context": ParamSpec(Count("lines", 0, 100), 3),
            "keep": ParamSpec(Words(("errors", "warnings")), ("errors", "warnings")),
        },
        "builds: keep errors and warnings with their code frames, fold progress lines",
    ),
    "diff": CompressorSpec(
        ("diff",),
        {
            "context": ParamSpec(Count("lines", 0, 100), 1),
        },
        "diffs and git log -p: keep headers and changed lines, fold unchanged context",
    ),
    "html": CompressorSpec(
        ("html",),
        {
            "keep": ParamSpec(
                Words(("headings", "text", "code", "tables", "links")), ("headings", "text", "code", "tables")
            ),
        },
        "web pages: drop scripts, styles, navigation and boilerplate",
    ),
    "csv": CompressorSpec(
        ("csv", "tsv"),
        {
            "max_rows": ParamSpec(Count("rows", 1), 20),
            "keep_first": ParamSpec(Percent(), 0.3),
            "keep_last": ParamSpec(Percent(), 0.15),
        },
        "tables: keep the header, anomalous rows and a per-column summary",
    ),
    "code": CompressorSpec(
        ("code",),
        {
            "max_body_lines": ParamSpec(Count("lines", 0), 3),
            "docstrings": ParamSpec(Flag(), True),
        },
        "source code: keep imports, signatures and docstring first lines; cut bodies",
    ),
    "text": CompressorSpec(
        ("text", "markdown"),
        {
            "head": ParamSpec(Count("lines", 0), 40),
            "tail": ParamSpec(Count("lines", 0), 20),
        },
        "plain text and markdown: keep the head and the tail",
    ),
}

# Every parameter name a profile may set, with the compressors that take it.
PROFILE_PARAMS: dict[str, tuple[str, ...]] = {}
for _compressor, _spec in COMPRESSORS.items():
    for _param in _spec.params:
        PROFILE_PARAMS[_param] = (*PROFILE_PARAMS.get(_param, ()), _compressor)

# --- content kinds, measures, roles -------------------------------------------------------------------------------

CONTENT_KINDS = (
    "json_array",
    "json",
    "jsonl",
    "log",
    "test_output",
    "build_output",
    "diff",
    "html",
    "csv",
    "tsv",
    "markdown",
    "text",
    "code",
)
CODE_LANGUAGES = (
    "python",
    "javascript",
    "typescript",
    "go",
    "rust",
    "java",
    "c",
    "cpp",
    "csharp",
    "ruby",
    "php",
    "shell",
    "sql",
    "kotlin",
    "swift",
    "scala",
    "lua",
    "yaml",
    "toml",
)
MEASURE_UNITS = {"tokens": "tokens", "chars": "chars", "items": "items", "lines": "lines", "age": "messages"}
ROLES = ("user", "assistant", "tool", "system")
