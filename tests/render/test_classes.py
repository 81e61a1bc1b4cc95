"""The per-class view drawn: recall worst first and capped, the confusion matrix, and hostile class names escaped
in the panel's fragment, the static twin and every export."""

from __future__ import annotations

import json

from runs_by_hand import XSS, make_run  # tests/ is on sys.path under pytest

from stallmagic.diagnosis.per_class import PerClass
from stallmagic.diagnosis.report import Report
from stallmagic.render import classes, static
from stallmagic.render.export import class_markdown, html_document, json_document, markdown_document

SCRIPT = "<script>alert(1)</script>"


def hostile_view() -> PerClass:
    return PerClass(
        classes=[XSS, SCRIPT, "cat|dog"],
        confusion=[[5, 1, 0], [3, 1, 0], [0, 0, 2]],
        rows=12,
        val_recall=[5 / 6, 0.25, 1.0],
        train_recall=[0.9, 0.3, 1.0],
        train_rows=20,
    )


def test_recall_is_listed_worst_first_and_capped_with_the_rest_counted():
    view = PerClass(
        classes=[f"c{i}" for i in range(13)],
        confusion=[[10 if i == j else 0 for j in range(13)] for i in range(13)],
        rows=130,
        val_recall=[1.0 - i / 20 for i in range(13)],
    )
    page = classes.recall_html(view)
    assert page.count('class="stallmagic-class-row"') == classes.MAX_CLASSES
    assert page.index(">c12<") < page.index(">c11<")  # the lowest recall first
    assert ">c0<" not in page and "and 3 more classes" in page
    assert classes.recall_html(view, limit=None).count('class="stallmagic-class-row"') == 13
    assert classes.class_view_html(None) == "" and classes.recall_html(None) == ""


def test_the_confusion_matrix_has_a_row_per_true_class_and_a_limit():
    page = classes.confusion_html(hostile_view())
    assert page.count("<tr>") == 4  # the header and one row per class
    assert "font-weight:bold'>5<" in page  # the diagonal stands out
    big = PerClass(classes=[str(i) for i in range(30)], confusion=[[0] * 30] * 30, rows=0)
    assert "30 classes: the confusion matrix is in the JSON export" in classes.confusion_html(big)


def test_hostile_class_names_are_escaped_everywhere():
    view = hostile_view()
    for page in (classes.class_view_html(view), classes.class_section_html(view)):
        assert "<script" not in page and "<img" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    run = make_run(label="run 1")
    run.report = Report(run_label="run 1", metric="accuracy", per_class=view)
    twin = static.twin_html([run], uid="u1", selected=run)
    page = html_document([run])
    for text in (twin, page):
        assert "<script>alert" not in text and "<img" not in text
        assert 'class="stallmagic-confusion"' in text
    md = markdown_document([run])
    assert SCRIPT not in md and XSS not in md and "cat\\|dog" in md
    assert "\\<script\\>alert(1)\\</script\\>" in "\n".join(class_markdown(view))
    doc = json.loads(json.dumps(json_document([run])))
    assert doc["reports"]["0"]["per_class"]["classes"] == [XSS, SCRIPT, "cat|dog"]  # JSON keeps them as data
