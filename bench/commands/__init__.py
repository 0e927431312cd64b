"""One module per command of `python -m bench`; each callable directly from tests."""
