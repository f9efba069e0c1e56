"""`touchpoint web`: the project's one HTTP application (FastAPI on uvicorn).

One router per area, each in its own module: the codec endpoint for the Temporal UI and
CLI (`codec.py`), the one-click unsubscribe links (`unsubscribe.py`), health
(`health.py`). `app.create_app` assembles them around collaborators it is handed;
`server.py` serves the app and is the process. Kept free of imports, so that
workers/settings.py can compose `config.WebConfig` without loading the app.
"""
