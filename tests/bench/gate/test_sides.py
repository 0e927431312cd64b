"""The two sides from git: refs, the default base, worktrees and run folders."""

import subprocess
import sys

import pytest

from bench.errors import BenchError
from bench.gate.sides import (
    checked_out,
    default_base,
    is_dirty,
    repo_root,
    resolve,
    run_folder,
)

SHOW = "import bench, cascade; print(cascade.VERSION, bench.HARNESS, bench.__file__)"


def run_in(folder):
    done = subprocess.run(
        [sys.executable, "-c", SHOW], cwd=folder, capture_output=True, text=True, check=True
    )
    engine, harness, harness_file = done.stdout.split()
    return engine, harness, harness_file


def test_resolve_gives_full_commit_ids(make_repo):
    repo, (first, second) = make_repo("1", "2")
    assert resolve(repo, "HEAD") == second
    assert resolve(repo, "main") == second
    assert resolve(repo, "HEAD~1") == first
    assert resolve(repo, first[:10]) == first


def test_resolve_follows_an_annotated_tag_to_its_commit(make_repo, git):
    repo, (first, _) = make_repo("1", "2")
    git(repo, "tag", "-a", "v1", "-m", "release", first)
    assert git(repo, "rev-parse", "v1") != first  # the tag object itself
    assert resolve(repo, "v1") == first


def test_a_ref_that_does_not_resolve_is_named(make_repo):
    repo, _ = make_repo("1")
    with pytest.raises(BenchError, match="git ref 'no-such-ref' does not resolve") as error:
        resolve(repo, "no-such-ref")
    assert "fetch" in str(error.value)


def test_a_tree_is_not_a_commit(make_repo):
    repo, _ = make_repo("1")
    with pytest.raises(BenchError, match="does not resolve to a commit"):
        resolve(repo, "HEAD^{tree}")


@pytest.mark.parametrize("ref", ["--output=/tmp/x", "-h", ""])
def test_an_option_like_ref_is_refused(make_repo, ref):
    repo, _ = make_repo("1")
    with pytest.raises(BenchError, match="is not a git ref"):
        resolve(repo, ref)


def test_a_single_commit_has_no_default_base(make_repo):
    repo, _ = make_repo("1")
    with pytest.raises(BenchError, match="no base to compare with") as error:
        default_base(repo)
    assert "--base REF" in str(error.value) and "--baseline FILE" in str(error.value)


def test_on_main_the_default_base_is_the_parent(make_repo):
    repo, (first, _) = make_repo("1", "2")
    assert default_base(repo) == ("HEAD~1", first)


def test_on_a_branch_the_default_base_is_the_merge_base_with_main(make_repo, git, commit_all):
    repo, (_, second) = make_repo("1", "2")
    git(repo, "checkout", "--quiet", "-b", "feature")
    (repo / "cascade" / "new.py").write_text("X = 1\n")
    commit_all(repo, "feature work")
    (repo / "cascade" / "new.py").write_text("X = 2\n")
    commit_all(repo, "more feature work")
    assert default_base(repo) == ("merge-base with main", second)


def test_is_dirty_looks_at_tracked_files_only(make_repo):
    repo, _ = make_repo("1")
    assert not is_dirty(repo)
    (repo / "notes.txt").write_text("untracked\n")
    assert not is_dirty(repo)
    (repo / "cascade" / "__init__.py").write_text("VERSION = 'edited'\n")
    assert is_dirty(repo)


def test_repo_root_finds_the_top(make_repo):
    repo, _ = make_repo("1")
    assert repo_root(repo / "cascade").resolve() == repo.resolve()


def test_repo_root_without_git_suggests_baseline(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(BenchError, match="no git history at") as error:
        repo_root(plain)
    assert "--baseline FILE" in str(error.value)


def test_checked_out_is_a_temporary_worktree_at_the_commit(make_repo, git):
    repo, (first, _) = make_repo("1", "2")
    with checked_out(repo, first) as tree:
        assert tree.resolve() != repo.resolve()
        assert (tree / "cascade" / "__init__.py").read_text() == "VERSION = '1'\n"
        assert git(tree, "rev-parse", "HEAD") == first
        assert len(git(repo, "worktree", "list").splitlines()) == 2
    assert not tree.exists()
    assert len(git(repo, "worktree", "list").splitlines()) == 1
    assert (repo / "cascade" / "__init__.py").read_text() == "VERSION = '2'\n"
    assert not is_dirty(repo)


def test_checked_out_is_removed_after_an_error(make_repo, git):
    repo, (first, _) = make_repo("1", "2")
    with pytest.raises(RuntimeError), checked_out(repo, first) as tree:
        raise RuntimeError("boom")
    assert not tree.exists()
    assert len(git(repo, "worktree", "list").splitlines()) == 1


def test_run_folder_pairs_one_sides_harness_with_the_others_engine(make_repo):
    repo, (first, _) = make_repo("1", "2")
    with checked_out(repo, first) as old:
        with run_folder(harness=repo, engine=old) as folder:
            engine, harness, harness_file = run_in(folder)
            assert (engine, harness) == ("1", "2")
            assert harness_file.startswith(str(folder))
        assert not folder.exists()
        with run_folder(harness=old, engine=repo) as folder:
            assert run_in(folder)[:2] == ("2", "1")
    assert (repo / "bench" / "__init__.py").is_file()  # the links went, not their targets


@pytest.mark.parametrize("missing", ["bench", "cascade"])
def test_run_folder_needs_both_packages(make_repo, tmp_path, missing):
    repo, _ = make_repo("1")
    other = tmp_path / "other"
    other.mkdir()
    harness, engine = (other, repo) if missing == "bench" else (repo, other)
    with pytest.raises(BenchError, match=f"has no {missing}/ package"), run_folder(harness, engine):
        pytest.fail("run_folder accepted a folder without the package")
