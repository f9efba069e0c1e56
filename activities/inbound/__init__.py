"""Inbound events (ingest consumer, `touchpoint ingest`): SES events, replies, inbound
texts and clicks, parsed, judged and turned into the signal of the lead they belong to.
`consumer` reads the queues, `judge` turns one message into an outcome, `matching` finds
the lead a reply belongs to. Nothing here runs in the worker."""
