"""What `headroom savings` and `headroom perf` print before any request has gone through a proxy.

A running proxy alone routes nothing: a client reaches it only once pointed at it, which is what `headroom wrap`
does (starting a proxy when none runs), and `headroom doctor` says which step is missing when nothing flows.
"""

NO_DATA = (
    "no requests through the proxy yet — run your agent through it with `headroom wrap claude` or "
    "`headroom wrap codex`; `headroom doctor` says why nothing flows"
)
