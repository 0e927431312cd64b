"""Result documents: their shape, and reading one back (or refusing it, with advice)."""

import json

import pytest

from bench.errors import BenchError
from bench.result_file import write_json_atomic
from bench.schema import SCHEMA_VERSION, build_document, load_result


def make_document() -> dict:
    return build_document(
        meta={
            "commit": "abc123",
            "clock": "virtual",
            "loop": "asyncio",
            "started_at": "2026-11-29T12:00:00+00:00",
        },
        config={"mode": "shared", "agents": 25, "duration": 20.0},
        metrics={"work": {"flashes": 124, "flashes_per_s": 6.2, "run_s": None}},
        series={"convergence": {"t_s": [0.0, 1.0], "r": [0.1, 0.25]}},
        interrupted=False,
        errors={"agents": [], "probes": {}},
    )


def test_build_document_has_the_schema_shape():
    document = make_document()

    assert list(document) == [
        "schema", "meta", "config", "metrics", "series", "interrupted", "status", "errors",
    ]  # fmt: skip
    assert document["schema"] == SCHEMA_VERSION == 3
    assert document["status"] == "complete"


def test_the_status_follows_interrupted_unless_given_and_must_be_known():
    base = make_document()
    del base["schema"], base["status"]
    assert build_document(**{**base, "interrupted": True})["status"] == "interrupted"
    assert build_document(**base, status="degraded")["status"] == "degraded"
    assert "workers" not in base
    assert build_document(**base, workers=[])["workers"] == []
    with pytest.raises(ValueError, match="status must be one of"):
        build_document(**base, status="fine")


def test_a_version_1_document_is_still_read(tmp_path):
    path = tmp_path / "old.json"
    old = make_document()
    old["schema"] = 1
    del old["status"]
    write(path, old)

    assert load_result(path) == old


def test_round_trip(tmp_path):
    path = tmp_path / "run.json"
    document = make_document()
    write_json_atomic(path, document)

    assert load_result(path) == document


def write(path, document) -> None:
    path.write_text(json.dumps(document), encoding="utf-8")


def test_refuses_a_newer_schema_with_upgrade_advice(tmp_path):
    path = tmp_path / "new.json"
    write(path, {**make_document(), "schema": SCHEMA_VERSION + 1})

    with pytest.raises(BenchError) as raised:
        load_result(path)

    assert str(raised.value) == (
        f"{path} has result schema 4, this harness reads schema 1, 2 or 3: "
        "upgrade this checkout (git pull) to read it"
    )


@pytest.mark.parametrize(
    ("schema", "shown"),
    [(0, "0"), ("1", "'1'"), (None, "None"), (1.5, "1.5")],
    ids=["older", "string", "null", "float"],
)
def test_refuses_an_older_or_unknown_schema_with_rerun_advice(tmp_path, schema, shown):
    path = tmp_path / "old.json"
    write(path, {**make_document(), "schema": schema})

    with pytest.raises(BenchError) as raised:
        load_result(path)

    assert str(raised.value) == (
        f"{path} has result schema {shown}, this harness reads schema 1, 2 or 3: "
        "re-run the measurement with this version"
    )


@pytest.mark.parametrize("document", [{"meta": {}}, [1, 2], "text", 1], ids=str)
def test_refuses_a_document_without_a_schema(tmp_path, document):
    path = tmp_path / "odd.json"
    write(path, document)

    with pytest.raises(BenchError) as raised:
        load_result(path)

    assert str(raised.value) == (
        f"{path} has result schema None, this harness reads schema 1, 2 or 3: "
        "re-run the measurement with this version"
    )


@pytest.mark.parametrize(
    "content",
    [b"", b"{not json", b'{"schema": 1', b"\xff\xfe\x00garbage"],
    ids=["empty", "invalid", "truncated", "not-utf8"],
)
def test_unparsable_file_is_a_bench_error(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_bytes(content)

    with pytest.raises(BenchError, match=r"^cannot read result .*bad\.json: ") as raised:
        load_result(path)

    assert raised.value.__suppress_context__  # raised "from None": no chained traceback


def test_missing_file_is_a_bench_error(tmp_path):
    path = tmp_path / "missing.json"

    with pytest.raises(BenchError) as raised:
        load_result(path)

    assert str(raised.value).startswith(f"cannot read result {path}: ")
    assert "No such file or directory" in str(raised.value)


def test_directory_is_a_bench_error(tmp_path):
    with pytest.raises(BenchError, match=r"^cannot read result .*Is a directory"):
        load_result(tmp_path)


def test_refuses_true_and_a_float_as_schema_1(tmp_path):
    path = tmp_path / "odd.json"
    for schema, shown in ((True, "True"), (1.0, "1.0")):
        write(path, {**make_document(), "schema": schema})
        with pytest.raises(BenchError) as raised:
            load_result(path)
        assert str(raised.value) == (
            f"{path} has result schema {shown}, this harness reads schema 1, 2 or 3: "
            "re-run the measurement with this version"
        )


def _set(document, key, value=None, delete=False):
    parent, _, name = key.rpartition(".")
    holder = document[parent] if parent else document
    if delete:
        del holder[name]
    else:
        holder[name] = value


@pytest.mark.parametrize(
    "key",
    [
        "meta",
        "config",
        "metrics",
        "series",
        "interrupted",
        "errors",
        "config.mode",
        "config.agents",
    ],
)
def test_refuses_a_document_without_a_key_every_reader_needs(tmp_path, key):
    document = make_document()
    _set(document, key, delete=True)
    path = tmp_path / "partial.json"
    write(path, document)

    with pytest.raises(BenchError) as raised:
        load_result(path)

    assert str(raised.value) == (
        f'{path} lacks "{key}", which result schema 3 requires: '
        "re-run the measurement with this version"
    )


def test_the_first_missing_key_is_named(tmp_path):
    path = tmp_path / "bare.json"
    write(path, {"schema": 1})
    with pytest.raises(
        BenchError, match=r'bare\.json lacks "meta", which result schema 1 requires'
    ):
        load_result(path)


@pytest.mark.parametrize(
    ("key", "value", "found", "required"),
    [
        ("meta", [], "a list", "an object"),
        ("config", None, "null", "an object"),
        ("metrics", "fast", "a string", "an object"),
        ("series", 3, "a number", "an object"),
        ("interrupted", 0, "a number", "true or false"),
        ("errors", [], "a list", "an object"),
        ("config.mode", 1, "a number", "a string"),
        ("config.agents", 2.5, "a number", "a whole number"),
        ("config.agents", True, "true or false", "a whole number"),
        ("config.agents", "25", "a string", "a whole number"),
        ("meta.started_at", None, "null", "a string"),
    ],
)
def test_refuses_a_document_with_a_key_of_the_wrong_kind(tmp_path, key, value, found, required):
    document = make_document()
    _set(document, key, value)
    path = tmp_path / "odd.json"
    write(path, document)

    with pytest.raises(BenchError) as raised:
        load_result(path)

    assert str(raised.value) == (
        f'{path} has "{key}" as {found}, result schema 3 requires {required}: '
        "re-run the measurement with this version"
    )
