"""Exported reports: self-contained HTML with the plots, strict JSON, markdown; every user string escaped."""

from __future__ import annotations

import json
import re

import pytest
from runs_by_hand import XSS, make_run  # tests/ is on sys.path under pytest

from stallmagic.diagnosis.report import Finding, Report
from stallmagic.record import ErrorRecord, Session
from stallmagic.render import export, html, table


@pytest.fixture()
def session():
    s = Session(label=XSS)
    baseline = make_run(label=XSS, extra_key=XSS)
    baseline.error = ErrorRecord("ValueError", XSS)
    baseline.end = "error"
    baseline.logs["val_loss"][2] = float("nan")
    baseline.report = Report(
        run_label=XSS,
        metric="accuracy",
        findings=[
            Finding(
                code="overfitting",
                title="Overfitting",
                explanation=f"memorizes {XSS}",
                evidence={f"layer {XSS}": 2.0, "values": [1.0, float("nan")]},
                confidence=0.8,
            )
        ],
        summary={"val_key": "val_accuracy", "best_val": 0.9, "best_epoch": 3, "epochs_done": 20},
        notes=[XSS],
    )
    s.add(baseline)
    rerun = make_run(label=f"{XSS} + fix")
    rerun.index, rerun.parent = 1, baseline
    s.add(rerun)
    return s


def test_html_is_self_contained_and_escapes_every_user_string(session, tmp_path):
    written = export.write_report(tmp_path / "r.html", session, source=f"# {XSS}\nmodel.fit(x, y)", kept=XSS)
    page = written[0].read_text()
    assert "<img src=x" not in page
    assert page.count("&lt;img src=x onerror=alert(1)&gt;") >= 5
    curves = re.search(r'<div class="stallmagic-curves"><svg .*?</svg>', page, re.S)  # inline, theme-aware
    assert curves and curves.group(0).count("<polyline") >= 4 and 'stroke="currentColor"' in curves.group(0)
    assert "data:image/png" not in page
    assert "http://" not in page and "https://" not in page  # nothing to fetch: the page stands alone
    assert "<script" not in page


def test_json_is_strict_and_complete(session, tmp_path):
    path = export.write_report(tmp_path / "r.json", session)[0]

    def no_constants(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    doc = json.loads(path.read_text(), parse_constant=no_constants)
    assert [r["label"] for r in doc["runs"]] == [XSS, f"{XSS} + fix"]
    assert doc["reports"]["0"]["findings"][0]["code"] == "overfitting"
    assert len(doc["comparison"]) == 2


def test_markdown_escapes_and_embeds_the_curves(session, tmp_path):
    written = export.write_report(tmp_path / "r.md", session, source="model.fit(x, y)")
    assert written == [tmp_path / "r.md"]
    text = written[0].read_text()
    assert re.search(r"!\[training curves\]\(data:image/png;base64,[A-Za-z0-9+/=]{1000,}\)", text)
    assert re.search(r"(?<!\\)<img", text) is None  # every < of a user string is escaped
    assert "\\<img src=x onerror=alert(1)\\>" in text
    assert "```python\nmodel.fit(x, y)\n```" in text


def test_markdown_export_writes_no_file_the_user_did_not_name(session, tmp_path):
    """Issue 12, item 10: ``%stall export mine.md`` replaced a ``mine_curves.png`` the user never named."""
    theirs = tmp_path / "mine_curves.png"
    theirs.write_bytes(b"the user's own picture")
    (tmp_path / "mine.md").write_text("an older report")  # the file the user names may be replaced
    written = export.write_report(tmp_path / "mine.md", session)
    assert written == [tmp_path / "mine.md"] and "training curves" in written[0].read_text()
    assert theirs.read_bytes() == b"the user's own picture"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.md", "mine_curves.png"]


def test_a_backtick_fence_in_the_cell_cannot_end_the_code_block(session, tmp_path):
    """Issue 12, item 10: a line of four backticks in the cell closed the export's code fence, so the rest of the
    cell was read as markdown and its HTML rendered raw."""
    markdown_it = pytest.importorskip("markdown_it")
    source = f"x = 1\n````\n{XSS}\n`````````\ny = 2"
    text = export.write_report(tmp_path / "r.md", session, source=source, kept=f"````\n{XSS}")[0].read_text()
    page = markdown_it.MarkdownIt("commonmark").render(text)  # CommonMark passes raw HTML through
    assert "<img src=x" not in page
    blocks = re.findall(r'<pre><code class="language-python">(.*?)</code></pre>', page, flags=re.S)
    assert len(blocks) == 2 and "````" in blocks[0] and "y = 2" in blocks[0]
    assert export.md_code_block("no backticks") == ["```python", "no backticks", "```"]


def test_unknown_suffix_and_missing_folder_are_one_sentence(session, tmp_path):
    with pytest.raises(ValueError, match=r"must end in \.html, \.json or \.md \(got '\.txt'\)"):
        export.write_report(tmp_path / "r.txt", session)
    with pytest.raises(ValueError, match="does not exist"):
        export.write_report(tmp_path / "missing" / "r.html", session)


def test_a_write_the_system_refuses_is_one_sentence_naming_the_path_and_the_reason(session, tmp_path):
    """Issue 12, item 9: exporting to an existing folder named ``x.html`` (or an unwritable path) showed a raw
    pathlib traceback; now it is one ExportError sentence (a ValueError, which ``%stall export`` shows as a
    UsageError, and an OSError, as before)."""
    (tmp_path / "x.html").mkdir()
    (tmp_path / "a_file").write_text("")
    cases = {
        tmp_path / "x.html": "a folder of that name is in the way",
        tmp_path / "a_file" / "r.html": "is a file, not a folder",
        tmp_path / ("n" * 300 + ".html"): "name too long",  # refused by the system itself, whoever runs the test
    }
    for path, reason in cases.items():
        with pytest.raises(ValueError) as caught:
            export.write_report(path, session)
        message = str(caught.value)
        assert isinstance(caught.value, (OSError, export.ExportError))
        assert message.startswith(f"Cannot export to {str(path)!r}: ") and reason in message.lower()
        assert "\n" not in message
    with pytest.raises(ValueError, match=r"must be a file name \(str or os\.PathLike\)\. Got 3 instead"):
        export.write_report(3, session)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file", "x.html"]  # nothing half-written


def test_a_session_that_is_not_runs_is_one_sentence_and_writes_nothing(tmp_path):
    for wrong in ("abc", None, [1, 2]):
        with pytest.raises(TypeError, match=r"must be a Session or a list of Runs\. Got .* instead"):
            export.write_report(tmp_path / "r.md", wrong)
    assert list(tmp_path.iterdir()) == []


def test_comparison_rows_have_the_table_columns(session):
    rows = table.comparison_rows(session.runs)
    keys = {k for k, _ in table.COLUMNS}
    assert all(keys <= set(row) for row in rows)
    assert rows[0]["remedy"] is None and rows[0]["error"] == f"ValueError: {XSS}"
    page = html.runs_table_html(rows, selected=1)
    assert page.count('class="stallmagic-run-row"') == 2 and "<img" not in page
    assert "font-weight:bold" in page


def test_safe_filename():
    assert export.safe_filename(XSS) == "img_src_x_onerror_alert_1"
    assert export.safe_filename("///") == "run"
