"""Counting tokens, offline.

tiktoken downloads its BPE files on first use unless `TIKTOKEN_CACHE_DIR` names a folder that has them; the litellm
wheel carries them, so that folder is pointed at before tiktoken loads (found without importing litellm, which
is slow). OpenAI models are counted with their own encoding; everything else (Claude included) with cl100k_base as
an estimate. If no encoding can load, a character-based estimate is used and the log says so once.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
from collections.abc import Callable
from pathlib import Path

from headroom.runtime.memo import by_digest

log = logging.getLogger(__name__)

_O200K_MODELS = ("gpt-4o", "gpt-4.1", "gpt-5", "o1", "o3", "o4", "chatgpt-4o")


def bundled_bpe_folder() -> Path | None:
    """The folder of BPE files inside the installed litellm wheel, if there is one."""
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "litellm_core_utils" / "tokenizers"
    return folder if folder.is_dir() else None


def encoding_name(model: str) -> str:
    name = model.lower().rsplit("/", 1)[-1]
    return "o200k_base" if name.startswith(_O200K_MODELS) else "cl100k_base"


@functools.cache
def counter(encoding: str) -> Callable[[str], int]:
    """A function counting tokens of text with the named encoding (or the estimate when it cannot load)."""
    if not os.environ.get("TIKTOKEN_CACHE_DIR"):
        folder = bundled_bpe_folder()
        if folder is not None:
            os.environ["TIKTOKEN_CACHE_DIR"] = str(folder)
    try:
        import tiktoken

        codec = tiktoken.get_encoding(encoding)
        codec.encode("warm up")
    except Exception as error:  # any failure (missing file, no network) means: estimate
        if encoding != "cl100k_base":
            return counter("cl100k_base")
        log.warning("no tokenizer could load (%s); token counts are estimates (4 characters a token)", error)
        return estimate
    return lambda text: len(codec.encode(text, disallowed_special=()))


def estimate(text: str) -> int:
    return (len(text) + 3) // 4


def count_tokens(text: str, model: str = "", digest: str | None = None) -> int:
    """`text`'s tokens for `model`; `digest`: the text's (memo.text_digest), when the caller has it."""
    return _count(text, encoding_name(model), digest=digest)


@by_digest(maxsize=65536)
def _count(text: str, encoding: str) -> int:
    return counter(encoding)(text)
