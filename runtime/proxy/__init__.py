"""The compression proxy: a Falcon WSGI app served by waitress, between coding agents and their LLM providers.

`app.create_app` assembles it; `server.serve` runs it. One module, one job: `config` (settings and their flags),
`providers` (which provider a request is for), `bodies` (reading, checking and compressing request bodies),
`upstream` (the pooled client, retries, which headers cross), `streaming` (relaying answers as they arrive),
`resources` and `health` (the endpoints), `middleware` (request ids, the access log), `errors` (the proxy's own
errors and their one mapping to provider-shaped responses), `server` (waitress, graceful stop).
"""
