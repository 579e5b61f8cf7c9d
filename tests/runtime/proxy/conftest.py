"""Fixtures for the proxy tests: the stand-in provider, and proxies pointed at it (see `support.proxy_fixtures`)."""

from support.proxy_fixtures import proxy, stand_in, start_proxy

__all__ = ["proxy", "stand_in", "start_proxy"]
