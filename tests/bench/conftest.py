"""Fixtures shared by the harness's tests."""

import tempfile

import pytest


@pytest.fixture
def temporary_folder(tmp_path, monkeypatch):
    """Where a result's fallback copy goes: a folder of the test's own, not the real /tmp."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder
