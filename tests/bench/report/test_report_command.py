"""`python -m bench report`: one self-contained HTML page and a Markdown twin, from a suite."""

import base64
import json
import re
import shutil
import struct
import subprocess
from html import escape
from html.parser import HTMLParser

import pytest

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
    from_runs = metric_tables(suite.documents, suite.modes, suite.agents)
    assert render_markdown([t for t in from_runs if t.metric.path in suite.values]) in markdown
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


def test_chromium_renders_it(single, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium not installed: the headless rendering check needs it")
    text = html_of(single[1]).replace(
        "default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';"
    )
    probe = tmp_path / "probe.html"
    probe.write_text(text.replace("<head>", "<head>" + _PROBE, 1), encoding="utf-8")
    done = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000",
         "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'data-probe="([^"]*)"', done.stdout)
    assert found, done.stdout[:500]
    probe_data = json.loads(found.group(1).replace("&quot;", '"'))
    assert probe_data["errors"] == []  # no script error, nothing blocked by the CSP
    assert len(probe_data["sizes"]) == len(SUITE_PLOTS)
    assert all(width > 0 and height > 0 for width, height in probe_data["sizes"])
