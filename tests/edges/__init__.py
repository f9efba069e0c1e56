"""Issue 12's corpus of bad input, sent through every way into Touchpoint, each outcome
counted: `python -m tests.edges` prints the counts; tests/integration/test_bad_input_everywhere.py
holds every case to a clear error."""
