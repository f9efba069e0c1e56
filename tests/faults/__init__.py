"""Fault runs: Touchpoint loses and duplicates nothing when its processes die (`make faults`)."""
