"""Send windows (worker): a due touch moved into the lead's local business hours,
clear of weekends, holidays and SMS quiet hours (`plan_send`, a local activity).

`registry.py` lists the activities this package gives the worker.
"""
