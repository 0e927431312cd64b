import subprocess
from pathlib import Path

import pytest

GIT_CONFIG = (
    *("-c", "user.name=Gate Test", "-c", "user.email=gate@example.invalid"),
    *("-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null"),
)


def run_git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *GIT_CONFIG, *args], cwd=repo, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def write_version(repo: Path, version: str) -> None:
    """A tiny project: bench/ and cascade/ packages that say which version they are."""
    for package, name in (("bench", "HARNESS"), ("cascade", "VERSION")):
        (repo / package).mkdir(exist_ok=True)
        (repo / package / "__init__.py").write_text(f"{name} = {version!r}\n", encoding="utf-8")


def commit(repo: Path, message: str) -> str:
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "--quiet", "-m", message)
    return run_git(repo, "rev-parse", "HEAD")


@pytest.fixture
def make_repo(tmp_path, monkeypatch):
    """A git repo on main with one commit per version given: [(commit id), ...]."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))

    def make(*versions: str) -> tuple[Path, list[str]]:
        repo = tmp_path / "repo"
        repo.mkdir()
        run_git(repo, "init", "--quiet", "-b", "main")
        commits = []
        for version in versions:
            write_version(repo, version)
            commits.append(commit(repo, f"version {version}"))
        return repo, commits

    return make


@pytest.fixture
def git():
    """git(repo, *args) -> its output."""
    return run_git


@pytest.fixture
def commit_all():
    """commit_all(repo, message) -> the new commit's id."""
    return commit
