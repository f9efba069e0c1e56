"""Inbound events (ingest consumer, `touchpoint ingest`): SES events, replies, inbound
texts and clicks, parsed, judged and turned into the signal of the lead they belong to.
Nothing here runs in the worker."""
