"""The compression engine: for every block of a conversation, ask the compiled policy what to do, and do it.

One pass over the text slots (`messages.py`): the facts about each block go to the policy's router
(`policy.py`), which decides keep or compress-with-what; content is detected only when the router asks for the
kind (`detect.py`); the chosen compressor (`compressors/`) runs within the policy's time budget; the original is
stored under its reference and the result remembered (`store.py`), so the same block compresses to the same bytes
on every later turn, whatever the machine's load. A compressor that fails, overruns its budget or saves nothing
leaves its block untouched, and `transforms_applied` says so.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from headroom.runtime import messages as conversation
from headroom.runtime.compressors import Context, compressor
from headroom.runtime.deadline import Workers
from headroom.runtime.detect import Detected, detect
from headroom.runtime.policy import Router, load_router
from headroom.runtime.routing import Decision
from headroom.runtime.store import Store, reference
from headroom.runtime.tokens import count_tokens

_NEVER_CHANGED = ("system", "developer")  # the system prompt is the caller's, whatever the policy says
_TIMED_OUT = "left untouched: exceeded its time budget"


@dataclass(frozen=True)
class BlockRecord:
    """What happened to one block, for the proxy's numbers by tool and by content kind."""

    tool: str  # "" for a block that is not a tool result
    kind: str  # "" when nothing asked for the kind (detecting it only to count it would cost every block)
    tokens_before: int
    tokens_after: int
    ms: float = 0.0  # time spent on the block: counting, routing, detecting, compressing (or recalling), storing


@dataclass
class CompressResult:
    messages: list[Any]
    tokens_before: int
    tokens_after: int
    tokens_saved: int
    compression_ratio: float  # tokens_after / tokens_before: 0.25 means a quarter of the tokens are left
    transforms_applied: list[str] = field(default_factory=list)
    ccr_hashes: list[str] = field(default_factory=list)  # references of the stored originals (for retrieve)
    blocks: list[BlockRecord] = field(default_factory=list)  # one per text block, in order


COMPRESSOR_WORKERS = 16  # compressors running at once, across requests; a call finding all busy waits its turn


class BlockFacts:
    """The `Block` the router reads, computing the content kind only if the router asks for it."""

    __slots__ = ("_detected", "age", "chars", "is_error", "lines", "model", "provider", "ref", "role", "slot",
                 "tokens", "tool", "user_text")  # fmt: skip

    def __init__(self, slot: conversation.Slot, ref: str, tokens: int, model: str, provider: str, age: int,
                 user_text: str) -> None:  # fmt: skip
        self.slot = slot
        self.ref = ref  # the text's reference (its digest), computed once per block and turn
        self.tokens = tokens
        self.chars = len(slot.text)
        self.lines = slot.text.count("\n") + 1
        self.tool = slot.tool
        self.model = model
        self.provider = provider
        self.role = slot.role
        self.age = age
        self.is_error = slot.is_error
        self.user_text = user_text.lower()
        self._detected: Detected | None = None

    @property
    def detected(self) -> Detected:
        if self._detected is None:
            self._detected = detect(self.slot.text, self.slot.tool_input, digest=self.ref)
        return self._detected

    @property
    def kind(self) -> str:
        return self.detected.kind

    @property
    def kind_if_detected(self) -> str:
        return self._detected.kind if self._detected is not None else ""

    @property
    def items(self) -> int:
        return self.detected.items


class Engine:
    def __init__(self, router: Router, store: Store | None, protected_tools: tuple[str, ...] = (),
                 workers: Workers | None = None) -> None:  # fmt: skip
        self.router = router
        self.store = store
        # Tool-name globs (fnmatch, case-sensitive, like the policy's `exclude tools`) whose results are kept
        # whatever the policy says: the proxy's `--protect-tool-results`, checked before the router is asked.
        self.protected_tools = protected_tools
        # The threads compressors run on, each call within the policy's time budget; shared by the engines made
        # from this one (`protecting`, a reloaded policy).
        self.workers = workers or Workers(COMPRESSOR_WORKERS, "headroom-compressor")

    def protecting(self, tools: tuple[str, ...]) -> Engine:
        """This engine (same router, same store) with the results of `tools` protected as well."""
        return Engine(self.router, self.store, (*self.protected_tools, *tools), self.workers) if tools else self

    def compress(self, messages: list[Any], model: str = "", system: Any = None) -> CompressResult:
        """Compress a conversation; `system` is never changed (it is accepted so callers can pass a whole body)."""
        provider = _provider(messages, model)
        settings = self.router.settings(model, provider)
        queries = conversation.user_texts(messages)
        replacements: dict[tuple[int, conversation.Path], str] = {}
        transforms: list[str] = []
        references: list[str] = []
        blocks: list[BlockRecord] = []
        before = after = sum(count_tokens(text, model) for text in conversation.tool_inputs_texts(messages))
        for slot in conversation.slots(messages):
            started = time.perf_counter()
            ref = reference(slot.text)
            tokens = count_tokens(slot.text, model, digest=ref)
            age = 0 if settings["cache"] == "stable" else len(messages) - 1 - slot.message
            facts = BlockFacts(slot, ref, tokens, model, provider, age, queries[slot.message])
            outcome = self._decide(facts, queries[slot.message], settings)
            tokens_after = tokens if outcome is None or outcome.text is None else outcome.tokens
            before += tokens
            after += tokens_after
            ms = (time.perf_counter() - started) * 1000
            blocks.append(BlockRecord(slot.tool, facts.kind_if_detected, tokens, tokens_after, ms))
            if outcome is not None:
                transforms.append(outcome.note)
            if outcome is not None and outcome.text is not None:
                replacements[(slot.message, slot.path)] = outcome.text
                references.append(outcome.ref)
        new_messages = conversation.rewrite(messages, replacements) if replacements else list(messages)
        ratio = after / before if before else 1.0
        return CompressResult(new_messages, before, after, before - after, ratio, transforms, references, blocks)

    def _decide(self, facts: BlockFacts, query: str, settings: Mapping[str, Any]) -> _Outcome | None:
        """None when the policy keeps the block; otherwise what compressing it gave."""
        if facts.role in _NEVER_CHANGED or self._protected(facts.tool):
            return None
        decision = self.router.route(facts)
        return self._apply(decision, facts, query, settings) if decision.action == "compress" else None

    def _protected(self, tool: str) -> bool:
        return bool(tool) and any(fnmatch.fnmatchcase(tool, glob) for glob in self.protected_tools)

    def retrieve(self, ref: str, query: str | None = None) -> str | None:
        """The original text stored under a reference, or only its lines that mention the query's words."""
        original = self.store.original(ref) if self.store else None
        if original is None or not query:
            return original
        words = [word.lower() for word in query.split() if word.strip()]
        return "\n".join(line for line in original.split("\n") if any(word in line.lower() for word in words))

    def _apply(self, decision: Decision, facts: BlockFacts, query: str, settings: Mapping[str, Any]) -> _Outcome:
        slot, ref = facts.slot, facts.ref
        context = Context(query=query, tool_input=slot.tool_input, kind=facts.kind, ref=ref)
        key = _result_key(ref, decision, context)
        remembered = self.store.result(key) if self.store else None
        if remembered is None:
            text, summary = self._run(decision, slot.text, context, facts.tokens, facts.model, settings["time_budget"])
            if self.store and not summary.startswith(_TIMED_OUT):  # a timeout says more of the load than the block
                self.store.put_result(key, text, summary)
        else:
            text, summary = remembered
        note = f"{decision.compressor}: {summary} [{decision.reason}, {decision.origin}]"
        if text is None:
            return _Outcome(None, 0, note, ref)
        if self.store:
            self.store.put_original(slot.text, ref)
        return _Outcome(text, count_tokens(text, facts.model), note, ref)

    def _run(self, decision: Decision, text: str, context: Context, tokens: int, model: str,
             budget: float) -> tuple[str | None, str]:  # fmt: skip
        """(compressed text, or None to leave the block untouched; what happened)."""
        try:
            run = compressor(decision.compressor or "")
            result = self.workers.run_within(budget, lambda: run(text, decision.params, context))
        except TimeoutError:
            return None, f"{_TIMED_OUT} of {budget:g} s"
        except Exception as error:  # a failing compressor leaves its block untouched
            return None, f"left untouched: failed ({type(error).__name__}: {error})"
        if result is None:
            return None, "left untouched: nothing to compress"
        if count_tokens(result.text, model) >= tokens:
            return None, "left untouched: the result was not smaller"
        return result.text, result.summary


@dataclass(frozen=True)
class _Outcome:
    text: str | None
    tokens: int
    note: str
    ref: str


def _result_key(ref: str, decision: Decision, context: Context) -> str:
    """Everything a compression result depends on, hashed: equal keys give equal bytes."""
    params = json.dumps(dict(decision.params), sort_keys=True)
    parts = [compressors_fingerprint(), ref, decision.compressor or "", params, context.query, context.tool_input,
             context.kind]  # fmt: skip
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


@functools.cache
def compressors_fingerprint() -> str:
    """A hash of the engine's and the compressors' code: a remembered result is reused only by the code that made
    it, so a new version (or a fix) compresses afresh instead of serving results it would no longer produce."""
    digest = hashlib.sha256()
    folder = Path(__file__).parent
    for path in sorted([*folder.glob("compressors/*.py"), folder / "detect.py", folder / "engine.py"]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _provider(messages: list[Any], model: str) -> str:
    name = model.lower().rsplit("/", 1)[-1]
    if name.startswith("claude"):
        return "anthropic"
    if name.startswith(("gpt", "o1", "o3", "o4", "chatgpt", "codex")):
        return "openai"
    if any(isinstance(m, Mapping) and (m.get("role") == "tool" or m.get("tool_calls")) for m in messages):
        return "openai"
    return "anthropic"


# --- the library's entry points ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def engine_for(rules: str | None) -> Engine:
    """One engine per policy, kept for the life of the process (the router and the store are reused)."""
    router = load_router(Path(rules) if rules is not None else None)
    settings = router.settings()
    return Engine(router, Store(ttl_seconds=settings["store_ttl"], max_bytes=settings["store_max_size"]))


def compress(
    messages: list[Any], model: str = "", rules: str | Path | None = None, system: Any = None
) -> CompressResult:
    """Compress a conversation (Anthropic or OpenAI chat messages) under a policy (a `.hrules` file or folder;
    None for the shipped default)."""
    return engine_for(str(rules) if rules is not None else None).compress(messages, model, system)


def retrieve(ref: str, query: str | None = None, rules: str | Path | None = None) -> str | None:
    """The original text stored under a reference, or only its lines that mention the query's words."""
    return engine_for(str(rules) if rules is not None else None).retrieve(ref, query)
