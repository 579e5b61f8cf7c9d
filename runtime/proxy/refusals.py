"""waitress's own refusals, in the provider's error shape.

A few requests never reach the app: waitress answers them itself, in plain text, before the body is read — a
`Content-Length` of 1 GiB or more (its `max_request_body_size`; a chunked body is cut off there), a malformed
request line or header. An SDK cannot read plain text as an error, so the proxy's channels answer these with the
same JSON body the app gives its own refusals (`errors.error_body`), for the provider the request's path and
headers name. The body is never buffered for this: waitress decides from the headers, or as a chunked body passes
its limit.
"""

from __future__ import annotations

import json

from waitress.channel import HTTPChannel
from waitress.task import ErrorTask
from waitress.utilities import RequestEntityTooLarge

from headroom.runtime.proxy.errors import InvalidRequest, ProxyError, RequestTooLarge, error_body
from headroom.runtime.proxy.providers import provider_for


class ProviderShapedErrorTask(ErrorTask):
    """A refusal by waitress (4xx) as a provider-shaped JSON error; its server errors stay as waitress writes them."""

    def execute(self) -> None:
        error = self.request.error
        if not 400 <= error.code < 500:
            super().execute()
            return
        kind = RequestTooLarge if isinstance(error, RequestEntityTooLarge) else InvalidRequest
        refusal: ProxyError = kind(f"headroom proxy: {error.reason.lower()}: {error.body}")
        headers = {name.lower().replace("_", "-"): value for name, value in self.request.headers.items()}
        body = json.dumps(error_body(provider_for(self.request.path or "/", headers), refusal)).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class ProviderShapedChannel(HTTPChannel):
    """waitress's connection, with its refusals provider-shaped."""

    error_task_class = ProviderShapedErrorTask
