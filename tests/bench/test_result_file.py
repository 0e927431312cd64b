"""Result files: writability checked up front, JSON written atomically (never half a file)."""

import errno
import json
import math
import os
import stat

import pytest

import bench.result_file
from bench.errors import BenchError
from bench.result_file import (
    check_writable,
    write_json_atomic,
    write_json_or_keep,
    write_text_atomic,
)

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


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "pipe"
    os.mkfifo(path)
    return path


NOT_REGULAR = "it exists and is not a regular file (a device, pipe or socket); give a file name"


def test_check_writable_refuses_a_fifo(fifo):
    with pytest.raises(BenchError) as raised:
        check_writable(fifo)

    assert str(raised.value) == f"cannot write --out {fifo}: {NOT_REGULAR}"
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_write_text_atomic_does_not_replace_a_fifo(fifo):
    with pytest.raises(BenchError) as raised:
        write_text_atomic(fifo, "{}\n")

    assert str(raised.value) == f"cannot write the result file {fifo}: {NOT_REGULAR}"
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert os.listdir(fifo.parent) == ["pipe"]


def test_check_writable_names_the_option_the_path_came_from(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("data")
    path = afile / "latest.json"

    with pytest.raises(BenchError) as raised:
        check_writable(path, "--results-dir")

    message = f"cannot write --results-dir {path}: {afile} is a file, not a folder"
    assert str(raised.value) == message


# --- keeping a result that cannot be written where it was asked --------------------------------


def full_disk(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_write_json_or_keep_writes_where_asked(tmp_path, temporary_folder):
    path = tmp_path / "run.json"

    assert write_json_or_keep(path, DOCUMENT) is None

    assert json.loads(path.read_text(encoding="utf-8")) == DOCUMENT
    assert list(temporary_folder.iterdir()) == []


def test_write_json_or_keep_keeps_the_document_in_the_temporary_folder(
    tmp_path, temporary_folder, monkeypatch
):
    path = tmp_path / "runs" / "run.json"
    real_write = bench.result_file.write_text_atomic
    monkeypatch.setattr(
        bench.result_file,
        "write_text_atomic",
        lambda p, text: full_disk() if p == path else real_write(p, text),
    )

    message = write_json_or_keep(path, DOCUMENT, "--out-dir")

    [kept] = temporary_folder.iterdir()
    assert message == (
        f"cannot write --out-dir {path}: No space left on device (the result needs 113 bytes); "
        f"kept it in {kept} instead"
    )
    assert (kept.name[:4], kept.suffix, kept.stat().st_size) == ("run-", ".json", 113)
    assert json.loads(kept.read_text(encoding="utf-8")) == DOCUMENT
    assert not path.parent.exists()


def test_write_json_or_keep_falls_back_to_stderr(tmp_path, temporary_folder, monkeypatch, capsys):
    path = tmp_path / "run.json"
    monkeypatch.setattr(os, "fsync", full_disk)

    message = write_json_or_keep(path, DOCUMENT)

    assert message == (
        f"cannot write --out {path}: No space left on device (the result needs 113 bytes), "
        f"nor in {temporary_folder}: No space left on device; the result is on stderr above"
    )
    assert capsys.readouterr() == ("", json.dumps(DOCUMENT) + "\n")
    assert list(tmp_path.iterdir()) == [temporary_folder]
    assert list(temporary_folder.iterdir()) == []


def test_write_json_or_keep_shows_a_big_result_in_mib(tmp_path, temporary_folder, monkeypatch):
    monkeypatch.setattr(bench.result_file, "write_text_atomic", full_disk)
    monkeypatch.setattr(bench.result_file, "_write_fallback", full_disk)
    document = {"padding": "x" * 3 * 2**20}
    size = len(json.dumps(document, indent=1)) + 1

    message = write_json_or_keep(tmp_path / "run.json", document)

    assert message is not None
    assert f"(the result needs 3.0 MiB ({size:,} bytes))" in message


def test_check_writable_names_a_folder_option_and_the_file_in_it(tmp_path):
    (tmp_path / "latest.json").mkdir()

    with pytest.raises(BenchError) as raised:
        check_writable(tmp_path / "latest.json", "--results-dir")

    assert str(raised.value) == (
        f"cannot write {tmp_path / 'latest.json'} in --results-dir {tmp_path}: it is a directory"
    )
