"""Activities and the code around them, one sub-package per concern.

Run by the worker (LeadWorkflow's activities):
- `content/`: cadence definitions and templates, and rendering one touch;
- `windows/`: moving a due touch into the lead's send window;
- `delivery/`: email (outbox, SES, SMTP), SMS (outbox, SNS) and rep tasks (file, SQS),
  never twice, never to a suppressed address.

Run by the ingest consumer (`touchpoint ingest`):
- `inbound/`: the SQS consumer, and the SES events, replies, inbound texts and clicks it
  judges and turns into the signals of the lead they belong to.

Shared by both sides:
- `stores/`: the send ledger (what was sent, to whom, who opted out);
- `common/`: AWS clients, signed tokens, SES tag encoding, phone keys, JSON-lines files.

`registry.py` assembles what the worker registers from each package's own list; each
concern's `config.py` is its settings model (workers/settings.py reads them all).
"""
