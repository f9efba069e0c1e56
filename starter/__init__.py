"""The Python client library (`starter.client.TouchpointClient`) and the `touchpoint` CLI."""
