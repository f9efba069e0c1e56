"""Pieces the worker and the ingest consumer both use: AWS clients, signed tokens, SES
tag encoding, phone keys, JSON-lines files, activity loggers, and what every concern's
settings model shares (`config.py`). Imports nothing else of Touchpoint's but `workflows`."""
