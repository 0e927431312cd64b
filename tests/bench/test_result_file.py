"""Result files: writability checked up front, JSON written atomically (never half a file)."""

import json
import math
import os

import pytest

from bench.errors import BenchError
from bench.result_file import check_writable, write_json_atomic

DOCUMENT = {"schema": 1, "metrics": {"work": {"flashes": 124, "run_s": 20.0}}, "name": "µ ·"}


def test_writes_valid_json_and_no_temporary_file(tmp_path):
    path = tmp_path / "run.json"

    write_json_atomic(path, DOCUMENT)

    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == DOCUMENT
    assert text.endswith("}\n")
    assert os.listdir(tmp_path) == ["run.json"]


def test_creates_missing_folders(tmp_path):
    path = tmp_path / "results" / "runs" / "run.json"

    write_json_atomic(path, DOCUMENT)

    assert json.loads(path.read_text(encoding="utf-8")) == DOCUMENT
    assert os.listdir(path.parent) == ["run.json"]


def test_replaces_an_existing_file(tmp_path):
    path = tmp_path / "run.json"
    write_json_atomic(path, {"old": True})

    write_json_atomic(path, DOCUMENT)

    assert json.loads(path.read_text(encoding="utf-8")) == DOCUMENT
    assert os.listdir(tmp_path) == ["run.json"]


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        pytest.param(object(), TypeError, id="not-serialisable"),
        pytest.param(math.nan, ValueError, id="nan"),
        pytest.param(math.inf, ValueError, id="infinity"),
    ],
)
def test_failed_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path, bad, error):
    path = tmp_path / "run.json"
    write_json_atomic(path, DOCUMENT)
    before = path.read_bytes()

    # The bad value comes after plenty of good output, so the temporary file was half written.
    with pytest.raises(error):
        write_json_atomic(path, {"padding": ["x" * 100] * 100, "bad": bad})

    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["run.json"]


def test_interrupted_write_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "run.json"

    def interrupted_fsync(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted_fsync)
    with pytest.raises(KeyboardInterrupt):
        write_json_atomic(path, DOCUMENT)

    assert os.listdir(tmp_path) == []


def test_check_writable_accepts_a_new_file_and_creates_its_folder(tmp_path):
    path = tmp_path / "results" / "runs" / "run.json"

    check_writable(path)

    assert path.parent.is_dir()
    assert not path.exists()


def test_check_writable_refuses_a_directory(tmp_path):
    with pytest.raises(BenchError) as raised:
        check_writable(tmp_path)

    assert str(raised.value) == (
        f"--out {tmp_path} is a directory; give a file name such as {tmp_path}/run.json"
    )


def test_check_writable_refuses_a_path_under_a_file(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("data")

    with pytest.raises(BenchError) as raised:
        check_writable(afile / "x.json")

    assert (
        str(raised.value)
        == f"cannot write --out {afile / 'x.json'}: {afile} is a file, not a folder"
    )
    assert afile.read_text() == "data"


def test_check_writable_refuses_a_path_deeper_under_a_file(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("data")
    path = afile / "sub" / "x.json"

    with pytest.raises(BenchError) as raised:
        check_writable(path)

    assert str(raised.value) == f"cannot write --out {path}: {afile} is a file, not a folder"


def deny(monkeypatch, denied):
    """Make os.access refuse writing to `denied` (chmod does not stop root, so fake it)."""
    real_access = os.access

    def access(path, mode, *args, **kwargs):
        if os.fspath(path) == os.fspath(denied) and mode & os.W_OK:
            return False
        return real_access(path, mode, *args, **kwargs)

    monkeypatch.setattr(os, "access", access)


def test_check_writable_refuses_a_read_only_folder(tmp_path, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    deny(monkeypatch, folder)

    with pytest.raises(BenchError) as raised:
        check_writable(folder / "x.json")

    assert str(raised.value) == (
        f"cannot write --out {folder / 'x.json'}: folder {folder} is not writable"
    )


def test_check_writable_refuses_a_read_only_existing_file(tmp_path, monkeypatch):
    path = tmp_path / "x.json"
    path.write_text("{}")
    deny(monkeypatch, path)

    with pytest.raises(BenchError) as raised:
        check_writable(path)

    assert str(raised.value) == f"cannot write --out {path}: the existing file is read-only"


def test_written_files_get_the_usual_mode_not_mkstemps_owner_only(tmp_path):
    path = tmp_path / "run.json"
    previous = os.umask(0o022)
    try:
        write_json_atomic(path, DOCUMENT)
    finally:
        os.umask(previous)
    assert path.stat().st_mode & 0o777 == 0o644
