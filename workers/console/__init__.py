"""The staff console: server-rendered pages (jinja2, plain forms, no script) for support
staff and sales ops, mounted by `touchpoint web` at /console."""
