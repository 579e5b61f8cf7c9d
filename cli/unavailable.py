"""The answer of a command whose issue has not landed yet: said plainly, with its own exit code (2)."""

from __future__ import annotations

import sys

from headroom import __version__


def not_yet_available(command: str) -> int:
    print(f"{command}: not yet available in headroom {__version__}", file=sys.stderr)
    return 2
