"""Processes: the Temporal worker, the ingest consumer, the unsubscribe server, the local
demo and the `touchpoint` console script, with what they share: settings, logging, and
how a process starts and ends. Imports starter; starter never imports this package."""
