"""`python -m bench report`: one self-contained HTML page and a Markdown twin, from a suite."""

import base64
import io
import json
import re
import shutil
import struct
import subprocess
from html import escape
from html.parser import HTMLParser

import numpy as np
import pyperf
import pytest
from markdown_it import MarkdownIt
from matplotlib.image import imread

from bench.cli import main
from bench.commands.report import ReportOptions, report_command, write_report
from bench.report.build import Report
from bench.report.data import load_suite
from bench.report.summary import summary_sentences
from bench.suite.table import metric_tables, render_markdown

HOSTILE = "<script>alert('x')</script>"
SUITE_PLOTS = ["plot-scaling", "plot-lag_cdf", "plot-memory", "plot-timeline"]


class Page(HTMLParser):
    """The tags, attributes and images of a page, as html.parser sees them."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.attributes, self.images, self.ids = [], [], [], []
        self.open = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs]
        found = dict(attrs)
        if tag == "img":
            self.images.append(found["src"])
        if "id" in found:
            self.ids.append(found["id"])
        if tag not in ("meta", "img", "br"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1:]}>"
        self.open.pop()


def png_size(uri):
    """(width, height) of a data: PNG, read from its IHDR chunk."""
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix)
    data = base64.b64decode(uri[len(prefix) :], validate=True)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.fixture(scope="module")
def single(tmp_path_factory, suite_writer):
    folder = tmp_path_factory.mktemp("single")
    path = suite_writer(
        folder, meta={"pyperf_system_advice": HOSTILE}, command=f"run {HOSTILE}",
        cpu_model="<img src=http://example.com/x.png>",
    )  # fmt: skip
    assert main(["report", str(path), "--out-dir", str(folder / "out"), "--quiet"]) == 0
    return path, folder / "out"


@pytest.fixture(scope="module")
def pair(tmp_path_factory, suite_writer):
    old = suite_writer(tmp_path_factory.mktemp("old"))
    new = suite_writer(tmp_path_factory.mktemp("new"), scale=1.5, meta={"suite_profile": "default"})
    out = tmp_path_factory.mktemp("pair")
    assert report_command(ReportOptions([old, new], out, quiet=True)) == 0
    return out


def html_of(out):
    return (out / "report.html").read_text(encoding="utf-8")


def test_one_page_with_every_plot_embedded_as_a_png(single):
    page = Page(html_of(single[1]))
    assert page.open == []
    assert [i for i in page.ids if i.startswith("plot-")] == SUITE_PLOTS
    assert len(page.images) == len(SUITE_PLOTS)
    for uri in page.images:
        width, height = png_size(uri)
        assert width > 100 and height > 100


def test_summary_and_tables_are_the_suites(single):
    path, out = single
    suite = load_suite(path)
    text = html_of(out)
    for sentence in summary_sentences(suite.tables):
        assert f"<li>{escape(sentence)}</li>" in text
    assert "Event-loop lag p99 at 36 agents is 45.23 ms with the shared engine vs 90.45 ms" in text
    markdown = (out / "report.md").read_text(encoding="utf-8")
    # the same tables `bench suite` writes into latest.md from the same runs, except a metric
    # that was 0 in every run: pyperf cannot store it, and the report says so
    # (report.md escapes them: "per\\_agent"; without the backslashes they are the same)
    from_runs = metric_tables(suite.documents, suite.modes, suite.agents)
    unescaped = re.sub(r"\\(.)", r"\1", markdown)
    assert render_markdown([t for t in from_runs if t.metric.path in suite.values]) in unescaped
    assert (
        escape("0 in every run, so not in the pyperf suite (it keeps values > 0): agent errors.")
        in text
    )


def test_strings_from_results_are_escaped(single):
    text = html_of(single[1])
    assert HOSTILE not in text and escape(HOSTILE) in text
    assert "<img src=http" not in text and "&lt;img src=http://example.com/x.png&gt;" in text
    markdown = (single[1] / "report.md").read_text(encoding="utf-8")
    assert "<script>" not in markdown and "<img" not in markdown


def test_nothing_is_loaded_from_anywhere(single):
    text = html_of(single[1])
    page = Page(text)
    assert not {"script", "link", "iframe", "object", "embed", "base"} & set(page.tags)
    for tag, name, value in page.attributes:
        if name in ("src", "href", "srcset", "action", "poster"):
            assert value.startswith("data:image/png;base64,"), (tag, name, value[:40])
    assert not re.search(r"url\(|@import", text)
    assert "default-src 'none'; img-src data:" in text  # the CSP forbids it even so


def test_markdown_links_its_pngs(single):
    out = single[1]
    markdown = (out / "report.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((report_files/[a-z_]+\.png)\)", markdown)
    assert links == [f"report_files/{name[5:]}.png" for name in SUITE_PLOTS]
    for link in links:
        assert (out / link).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert markdown.startswith("# Benchmark report: abc1234\n") and "## Summary" in markdown


def test_the_comparison_appears_only_with_two_suites(single, pair):
    assert 'id="comparison"' not in html_of(single[1])
    text = html_of(pair)
    page = Page(text)
    assert "comparison" in page.ids and "plot-comparison" in page.ids
    assert len(page.images) == len(SUITE_PLOTS) + 1
    assert "Set-ups differ: suite_profile differs: quick (old) vs default (new)" in text
    assert re.search(r"<li>Of \d+ benchmarks in both suites, 0 got significantly better", text)
    assert '<td class="worse">worse</td>' in text
    assert (pair / "report_files" / "comparison.png").exists()


def test_missing_runs_still_give_a_report_with_a_note(tmp_path, suite_writer):
    path = suite_writer(tmp_path)
    shutil.rmtree(tmp_path / "runs")
    assert report_command(ReportOptions([path], tmp_path / "out", quiet=True)) == 0
    text = html_of(tmp_path / "out")
    assert "The lag distribution and the timeline need the raw run documents" in text
    assert [i for i in Page(text).ids if i.startswith("plot-")] == ["plot-scaling", "plot-memory"]


def test_stale_plots_of_an_earlier_report_are_removed(tmp_path):
    (tmp_path / "report_files").mkdir()
    (tmp_path / "report_files" / "comparison.png").write_bytes(b"old")
    write_report(Report("t", [], [], [], [], []), tmp_path)
    assert list((tmp_path / "report_files").iterdir()) == []
    assert (tmp_path / "report.html").exists() and (tmp_path / "report.md").exists()


def test_bad_input_is_one_line_and_status_2(tmp_path, capsys):
    assert main(["report", "a.json", "b.json", "c.json"]) == 2
    assert capsys.readouterr().err == "error: give one suite, or two to compare (OLD NEW); got 3\n"
    assert main(["report", str(tmp_path / "none.json"), "--out-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(
        f"error: cannot read suite {tmp_path / 'none.json'}: "
    )


def _error(capsys, *args):
    status = main(["report", *map(str, args), "--quiet"])
    return status, capsys.readouterr().err


_NOT_A_SUITE = (
    'is not a pyperf suite: expected a JSON object with a "benchmarks" list of objects '
    "(as `bench suite` writes), found "
)


@pytest.mark.parametrize(
    ("content", "found"),
    [("[]", "a list"), ("null", "null"), ('{"benchmarks":[5]}', 'a number in "benchmarks"')],
)
def test_a_json_that_is_not_a_suite_is_refused(tmp_path, capsys, content, found):
    path = tmp_path / "x.json"
    path.write_text(content)
    assert _error(capsys, path, "--out-dir", tmp_path) == (
        2,
        f"error: {path} {_NOT_A_SUITE}{found}\n",
    )


def test_a_run_document_is_refused(tmp_path, capsys, suite_writer):
    suite_writer(tmp_path)
    run = next((tmp_path / "runs" / "suite-test").glob("*.json"))
    assert _error(capsys, run, "--out-dir", tmp_path / "out") == (
        2,
        f"error: {run} is the result document of one run (`bench run`), not a suite: give a "
        "suite written by `bench suite` (results/latest.json)\n",
    )


def test_another_tools_pyperf_file_is_refused(tmp_path, capsys):
    path = tmp_path / "other.json"
    run = pyperf.Run([0.5], metadata={"name": "json_dumps"}, collect_metadata=False)
    pyperf.BenchmarkSuite([pyperf.Benchmark([run])]).dump(str(path))
    assert _error(capsys, path, "--out-dir", tmp_path / "out") == (
        2,
        f"error: {path} holds no benchmark of this harness (named like "
        "loop_lag.p99_ms/shared/2500; its first is 'json_dumps'): is it another tool's pyperf "
        "file? Give a suite written by `bench suite`\n",
    )
    assert not (tmp_path / "out" / "report.html").exists()


def test_a_partial_run_document_among_the_runs_is_skipped_with_a_note(tmp_path, suite_writer):
    path = suite_writer(tmp_path)
    partial = tmp_path / "runs" / "suite-test" / "partial.json"
    partial.write_text('{"schema": 1}')
    assert main(["report", str(path), "--out-dir", str(tmp_path / "out"), "--quiet"]) == 0
    note = (
        f'skipped partial.json: {partial} lacks "meta", which result schema 1 requires: '
        "re-run the measurement with this version"
    )
    assert escape(note) in html_of(tmp_path / "out")


HOSTILE_MODE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def odd_names(tmp_path_factory, suite_writer):
    """A report of a suite whose mode names and metadata hold HTML, pipes and emphasis."""
    folder = tmp_path_factory.mktemp("odd")
    path = suite_writer(
        folder,
        names={"shared": HOSTILE_MODE, "raw": "a|b"},
        meta={"note": f"{HOSTILE_MODE} a|b *x* _y_ `z` [l](u)", "suite_elapsed_s": "<i>"},
        command=f"run {HOSTILE_MODE}\n# a heading | a cell",
    )
    assert main(["report", str(path), "--out-dir", str(folder / "out"), "--quiet"]) == 0
    return folder / "out"


def test_markdown_escapes_every_string_from_results(odd_names):
    markdown = (odd_names / "report.md").read_text(encoding="utf-8")
    assert "<img" not in markdown and "&lt;img src=x onerror=alert(1)&gt;" in markdown
    assert "- **suite took:** &lt;i&gt;\n" in markdown  # metadata as is, not a number
    assert "| a\\|b |" in markdown and "\\*x\\* \\_y\\_ \\`z\\` \\[l\\](u)" in markdown
    html = MarkdownIt("commonmark").enable("table").render(markdown)
    tags = re.findall(r"<([a-z0-9]+)[ />]", html)
    images = re.findall(r'<img src="([^"]*)"', html)
    assert images == [f"report_files/{name[5:]}.png" for name in SUITE_PLOTS]
    assert not {"em", "strong", "code", "a", "h1"} & set(tags[tags.index("table") :])
    for table in re.findall(r"<table>.*?</table>", html, re.S):
        rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
        widths = {len(re.findall(r"<t[hd][ >]", row)) for row in rows}
        assert len(widths) == 1, table[:300]  # no row broken or widened by a pipe


def test_mode_names_are_literal_text_in_the_plots(tmp_path, suite_writer):
    # as matplotlib math text "$\\frac{$" raises ParseFatalException; literal, it is drawn
    path = suite_writer(tmp_path, names={"shared": "$\\frac{$", "raw": "$x^2$"})
    assert main(["report", str(path), "--out-dir", str(tmp_path / "out"), "--quiet"]) == 0
    drawn = sorted(p.name for p in (tmp_path / "out" / "report_files").iterdir())
    assert drawn == sorted(f"{name[5:]}.png" for name in SUITE_PLOTS)


# Chromium may forbid scripts in the page itself (its CSP does): the probe copy allows one
# inline script, and still no network; it records each image's decoded size into the DOM.
_PROBE = """<script>
window.addEventListener("load", () => {
  const sizes = [...document.images].map(i => [i.naturalWidth, i.naturalHeight]);
  document.body.setAttribute("data-probe", JSON.stringify({sizes, errors: window.probeErrors}));
});
window.probeErrors = [];
window.addEventListener("error", e => window.probeErrors.push(String(e.message)));
document.addEventListener("securitypolicyviolation", e => window.probeErrors.push(e.blockedURI));
</script>"""


@pytest.fixture
def chromium(tmp_path):
    """Headless Chromium's command line, as root too, with a fresh profile; skip without it."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium not installed: apt-get install chromium (.ci/run does)")
    profile = tmp_path / "chromium-profile"
    return [
        browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}",
    ]  # fmt: skip


def test_chromium_renders_it(single, chromium, tmp_path):
    """A screenshot of the page is not blank and shows the plots; every plot PNG decodes."""
    page, shot = single[1] / "report.html", tmp_path / "page.png"
    done = subprocess.run(
        [*chromium, f"--screenshot={shot}", "--window-size=1280,1600", page.as_uri()],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    pixels = (imread(shot)[:, :, :3] * 255).round().astype(np.uint8)
    assert pixels.shape[:2] == (1600, 1280)
    assert (pixels < 245).any(axis=2).mean() > 0.02  # not blank: text and plots (~8 %)
    colours = pixels.astype(np.uint32) @ np.array([1 << 16, 1 << 8, 1], dtype=np.uint32)
    assert len(np.unique(colours)) > 500  # anti-aliased plots (~2,600 colours), not flat
    red = np.array([0xD6, 0x27, 0x28])  # per_agent's lines: only the plots hold this colour
    assert (np.abs(pixels.astype(int) - red).sum(axis=2) < 30).sum() > 200
    for uri in Page(html_of(single[1])).images:
        data = base64.b64decode(uri.removeprefix("data:image/png;base64,"), validate=True)
        image = imread(io.BytesIO(data), format="png")
        assert image.shape[0] > 100 and image.shape[1] > 100 and image.std() > 0.01


def test_chromium_loads_every_image_and_nothing_is_blocked(single, chromium, tmp_path):
    text = html_of(single[1]).replace(
        "default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';"
    )
    probe = tmp_path / "probe.html"
    probe.write_text(text.replace("<head>", "<head>" + _PROBE, 1), encoding="utf-8")
    done = subprocess.run(
        [*chromium, "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'data-probe="([^"]*)"', done.stdout)
    assert found, done.stdout[:500]
    probe_data = json.loads(found.group(1).replace("&quot;", '"'))
    assert probe_data["errors"] == []  # no script error, nothing blocked by the CSP
    assert len(probe_data["sizes"]) == len(SUITE_PLOTS)
    assert all(width > 0 and height > 0 for width, height in probe_data["sizes"])
