"""Code the tests share that is not a fixture (fixtures are registered in tests/conftest.py).

Not to be confused with tests/fixtures/, which holds data files.
"""
