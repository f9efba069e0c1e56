"""The Python client library (`starter.client.TouchpointClient`), the Temporal connection it
shares with every process (`starter.connection`), and the lead commands of the `touchpoint`
CLI. Imports activities and workflows, never workers."""
