"""headroom: a context-compression proxy for coding agents, driven by policies written in `.hrules` files."""

__version__ = "0.1.0"
