"""The HTTP API (/v1) for services without a Temporal SDK: enroll, events, commands,
state and list, with API keys, rate limits, idempotent POSTs and RFC 9457 errors."""
