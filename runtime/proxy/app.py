"""The proxy as a Falcon WSGI app, assembled from its collaborators so tests can give it their own."""

from __future__ import annotations

import falcon

from headroom.runtime.engine import Engine, engine_for
from headroom.runtime.proxy import errors
from headroom.runtime.proxy.access import InboundAuth, LoopbackCors, warn_if_exposed
from headroom.runtime.proxy.accounting import Accounting
from headroom.runtime.proxy.bodies import Compression
from headroom.runtime.proxy.config import ProxyConfig
from headroom.runtime.proxy.health import Health, Livez, Readyz
from headroom.runtime.proxy.metering import budgeted, ledger_for
from headroom.runtime.proxy.middleware import RequestLog
from headroom.runtime.proxy.prices import load_litellm_in_background
from headroom.runtime.proxy.ratelimit import RateLimit, TokenBuckets
from headroom.runtime.proxy.reload import LiveEngine
from headroom.runtime.proxy.reports import add_reports
from headroom.runtime.proxy.requestlog import request_log
from headroom.runtime.proxy.resources import ANTHROPIC_MESSAGES, CHAT_COMPLETIONS, RESPONSES, Conversation, Passthrough
from headroom.runtime.proxy.retrieval import Retrieval
from headroom.runtime.proxy.savings import Savings, default_path
from headroom.runtime.proxy.sdk import Compress, Retrieve
from headroom.runtime.proxy.stats import Stats
from headroom.runtime.proxy.upstream import Upstream


def create_app(config: ProxyConfig, engine: Engine | None = None, upstream: Upstream | None = None,
               savings: Savings | None = None) -> falcon.App:  # fmt: skip
    """The app for a configuration. `engine` defaults to the one for `config.rules`, `upstream` to a pooled
    client for the configured providers, `savings` to the lifetime savings file. The engine is loaded even with
    `optimize` off: health reports its policy, and readiness its store."""
    engine = (engine or engine_for(str(config.rules) if config.rules is not None else None)).protecting(
        config.protect_tool_results
    )
    engine = LiveEngine(engine)  # recompiled rules are picked up without a restart
    ledger = ledger_for(config)
    upstream = budgeted(upstream or Upstream(config), ledger)
    load_litellm_in_background()  # savings are priced as requests are counted
    stats = Stats(savings or Savings(default_path()), ledger)
    accounting = Accounting(stats, request_log(config))
    compression = Compression(engine if config.optimize else None, config.compression_timeout, config.threads)
    warn_if_exposed(config)
    limit = [RateLimit(TokenBuckets(config.rpm))] if config.rpm else []
    # CORS first, so preflights are answered and refusals carry its headers; the limit before the token check,
    # so guessing tokens is limited too.
    app = falcon.App(middleware=[RequestLog(), accounting, LoopbackCors(), *limit, InboundAuth(config.proxy_token)])
    errors.register(app)
    retrieval = Retrieval(engine)
    app.add_route("/v1/messages", Conversation(ANTHROPIC_MESSAGES, compression, upstream, config, retrieval))
    app.add_route("/v1/chat/completions", Conversation(CHAT_COMPLETIONS, compression, upstream, config, retrieval))
    app.add_route("/v1/responses", Conversation(RESPONSES, compression, upstream, config, retrieval))
    app.add_route("/v1/compress", Compress(engine, config))
    app.add_route("/v1/retrieve", Retrieve(engine, config))
    app.add_route("/v1/retrieve/{hash}", Retrieve(engine, config), suffix="hash")
    app.add_route("/livez", Livez())
    app.add_route("/readyz", Readyz(engine))
    app.add_route("/health", Health(engine, config, ledger))
    add_reports(app, stats)
    app.add_sink(Passthrough(upstream), prefix="/")  # routes above take precedence over the sink
    return app
