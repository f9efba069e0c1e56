"""Stores shared by the worker and the ingest consumer: the send ledger (SQLite or
DynamoDB), which delivery writes and inbound events reconcile."""
