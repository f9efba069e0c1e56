"""Pieces the worker and the ingest consumer both use: AWS clients, signed tokens, SES
tag encoding, phone keys, JSON-lines files and activity loggers. Imports nothing else
of Touchpoint's but `workflows`."""
