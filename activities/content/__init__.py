"""Cadences and templates (worker): the data a touch is made of, and rendering it.

`registry.py` lists the activities this package gives the worker.
"""
