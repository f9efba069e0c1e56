"""Processes: the Temporal worker, the local demo, settings, logging and the client connection."""
