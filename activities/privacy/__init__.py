"""Privacy: the payload codec (AES-256-GCM, a data key per lead), its keys, erasure and export.

Both the worker and every client use the codec (starter/connection.py builds it into the
Temporal client); `touchpoint erase` and `touchpoint export` use erasure.py.
"""
