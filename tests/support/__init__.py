"""Code the tests share. Fixtures are registered in tests/conftest.py: its own, and those of
the modules it lists in `pytest_plugins` (aws.py).

Not to be confused with tests/fixtures/, which holds data files.
"""
