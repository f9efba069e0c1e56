"""Delivery (worker): email through the outbox, SES or SMTP; SMS through the outbox or
SNS; rep tasks to a file or SQS. Never twice (the send ledger), never to a suppressed
address, with provider errors typed for Temporal's retry policy (`errors.py`).

`registry.py` lists the activities this package gives the worker.
"""
