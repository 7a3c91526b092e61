"""Unit tests of the grader's pure parts: reading submissions, restoring cells, the oracle."""

from __future__ import annotations

import base64
import io
import json

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from lstm_course.autograde import _transport, oracle
from lstm_course.autograde.load import load_submission
from lstm_course.autograde.restore import Template, restore, unrun_notebook
from lstm_course.autograde.verify import reference_use


def _meta(gid, **kw):
    meta = {"grade_id": gid, "grade": False, "solution": False, "locked": False}
    meta.update(kw)
    meta.setdefault("schema_version", 3)
    return {"nbgrader": meta}


def _template() -> Template:
    release = new_notebook()
    release.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    release.cells = [
        new_markdown_cell("# Title"),
        new_code_cell("import numpy as np", metadata=_meta("setup", locked=True)),
        new_code_cell(
            "def f(x):\n    raise NotImplementedError", metadata=_meta("f", solution=True)
        ),
        new_code_cell("print(f(1))"),
        new_code_cell("assert f(1) == 2", metadata=_meta("t1", grade=True, locked=True, points=1)),
        new_code_cell("assert f(2) == 4", metadata=_meta("t2", grade=True, locked=True, points=2)),
    ]
    for i, cell in enumerate(release.cells):
        cell["id"] = f"c{i}"
    hidden = "assert f(2) == 4\n### BEGIN HIDDEN TESTS\nassert f(5) == 10\n### END HIDDEN TESTS"
    source_cells = {
        "setup": {
            "cell_type": "code",
            "source": "import numpy as np",
            "checksum": "s",
            "locked": 1,
        },
        "f": {"cell_type": "code", "source": "def f(x): ...", "checksum": "f", "locked": 0},
        "t1": {"cell_type": "code", "source": "assert f(1) == 2", "checksum": "a", "locked": 1},
        "t2": {"cell_type": "code", "source": hidden, "checksum": "b", "locked": 1},
    }
    return Template("ex", "nb", release, source_cells, {"t1": 1.0, "t2": 2.0}, None)


def _student(template: Template) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(json.loads(json.dumps(template.release)))
    nb.cells[2].source = "def f(x):\n    return 2 * x"
    return nb


def _gids(nb):
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


# -- reading ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"  \n\t ", "empty"),
        (b'{"cells": [', "not valid JSON"),
        (b"[1, 2, 3]", "not a notebook"),
        (b'{"metadata": {}}', "not a notebook"),
    ],
)
def test_unreadable_files_get_a_reason(data, reason):
    nb, _notes, fatal = load_submission(data)
    assert nb is None and reason in fatal


def test_invalid_json_reason_says_where():
    _nb, _notes, fatal = load_submission(b'{\n "cells": [\n  {"cell_type": }\n ]\n}')
    assert "line 3" in fatal


def test_non_utf8_bytes_are_replaced_and_noted():
    nb = new_notebook(cells=[new_markdown_cell("caf\u00e9 MARK")])
    data = json.dumps(nb).encode().replace(b"MARK", b"\xff\xfe")
    got, notes, fatal = load_submission(data)
    assert fatal is None and "\ufffd" in got.cells[0].source
    assert any("UTF-8" in n for n in notes)


def test_broken_schema_is_rebuilt_from_its_cells():
    raw = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {"cell_type": "code", "source": ["x = ", "1"], "bogus": True},
            {"cell_type": "weird", "source": "?"},
            "not a cell",
        ],
    }
    nb, notes, fatal = load_submission(json.dumps(raw).encode())
    assert fatal is None
    assert [c.source for c in nb.cells] == ["x = 1"]
    assert any("2 unreadable cell(s) dropped" in n for n in notes)
    assert any("kernel information" in n for n in notes)


def test_old_format_is_converted():
    v3 = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {},
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "code", "input": "y = 2", "outputs": [], "language": "python"}
                ]
            }
        ],
    }
    nb, _notes, fatal = load_submission(json.dumps(v3).encode())
    assert fatal is None and nb.cells[0].source == "y = 2"


# -- restoring -----------------------------------------------------------------------------
def test_restore_puts_hidden_tests_back_and_keeps_the_answer():
    t = _template()
    r = restore(_student(t), t)
    assert _gids(r.notebook) == [None, "setup", "f", None, "t1", "t2"]
    assert "f(5) == 10" in r.notebook.cells[5].source
    assert r.notebook.cells[2].source == "def f(x):\n    return 2 * x"
    assert r.kinds == ["markdown", "release", "student", "student", "test", "test"]
    assert r.notebook.cells[5].metadata.nbgrader.points == 2.0
    assert r.notes == []


def test_restore_undoes_deletion_reordering_and_edits():
    t = _template()
    nb = _student(t)
    t1, t2 = nb.cells[4], nb.cells[5]
    t1.source = "pass"
    t1.metadata.nbgrader["points"] = 100
    nb.cells = [t1] + [c for c in nb.cells if c not in (t1, t2)]  # t2 deleted, t1 first
    r = restore(nb, t)
    assert _gids(r.notebook) == [None, "setup", "f", None, "t1", "t2"]
    assert r.notebook.cells[4].source == "assert f(1) == 2"
    assert r.notebook.cells[4].metadata.nbgrader.points == 1.0
    text = " ".join(r.notes)
    assert "missing" in text and "t2" in text and "restored" in text and "t1" in text


def test_duplicates_are_graded_once_and_copies_run_in_place():
    t = _template()
    nb = _student(t)
    copy = nbformat.from_dict(json.loads(json.dumps(nb.cells[2])))
    copy.source = "def f(x):\n    return 3 * x"
    copy["id"] = "dup"
    nb.cells.insert(3, copy)
    r = restore(nb, t)
    gids = _gids(r.notebook)
    assert gids.count("f") == 1 and gids.count("t1") == 1
    assert r.notebook.cells[3].source == "def f(x):\n    return 3 * x"  # the copy, right after
    assert r.kinds[3] == "student"
    assert any("duplicated" in n for n in r.notes)


def test_answer_without_metadata_is_matched_by_cell_id():
    t = _template()
    nb = _student(t)
    del nb.cells[2].metadata["nbgrader"]
    r = restore(nb, t)
    assert r.notebook.cells[2].source == "def f(x):\n    return 2 * x"
    assert r.notebook.cells[2].metadata.nbgrader.grade_id == "f"


def test_unrun_notebook_fails_every_test_with_the_reason():
    r = unrun_notebook(_template(), "the notebook file is empty")
    tests = [c for c, k in zip(r.notebook.cells, r.kinds, strict=True) if k == "test"]
    assert len(tests) == 2
    for cell in tests:
        assert cell.outputs[0].output_type == "error"
        assert "empty" in cell.outputs[0].evalue
    assert "empty" in r.notebook.cells[0].source


# -- using the reference -------------------------------------------------------------------
@pytest.mark.parametrize(
    "source",
    [
        "from lstm_ref.np_ref import sigmoid",
        "import lstm_ref.torch_ref as t",
        "from lstm_ref import np_ref",
        "m = __import__('lstm_ref.np_ref')",
        "import lstm_ref\ndef f(z):\n    return lstm_ref.np_ref.sigmoid(z)",
    ],
)
def test_reference_use_is_detected(source):
    assert reference_use(source, set())


@pytest.mark.parametrize(
    "source",
    [
        "from lstm_ref.data import sine_waves",
        "from lstm_ref import params, data",
        "def f(z):\n    return 1 / (1 + np.exp(-z))",
    ],
)
def test_allowed_imports_are_not_flagged(source):
    assert reference_use(source, set()) == []


def test_names_imported_from_the_reference_by_the_notebook_count_inside_functions():
    assert reference_use("def f(z):\n    return ref_sigmoid(z)", {"ref_sigmoid"})
    assert reference_use("print(ref_sigmoid(0))", {"ref_sigmoid"}) == []


# -- the oracle ----------------------------------------------------------------------------
def test_plan_covers_functions_with_a_reference_namesake_only():
    names = ["sigmoid", "forget_gate", "forget", "lstm_backward"]
    calls = {c.name: c for c in oracle.plan(names, "s")}
    assert set(calls) == {"sigmoid", "forget_gate"}
    args = calls["forget_gate"].args
    assert args["W_f"].shape == (oracle.H, oracle.H + oracle.D)
    assert args["x_t"].shape == (oracle.N, oracle.D)
    again = oracle.plan(names, "s")[1].args["W_f"]
    assert np.array_equal(again, args["W_f"])  # the same inputs for the same submission


def _report(value) -> dict:
    def enc(v):
        if isinstance(v, tuple):
            return {"t": "seq", "items": [enc(x) for x in v]}
        return {"t": "array", "npy": _transport.encode_array(np.asarray(v, dtype=float))}

    return {"result": enc(value), "error": None, "reference_calls": []}


def test_judge_accepts_the_right_values_and_rejects_others():
    from lstm_ref import np_ref

    (call,) = oracle.plan(["forget_gate"], "judge")
    right = np_ref.forget_gate(**call.args)
    assert oracle.judge(call, _report(right)).wrong is None
    assert "max error" in oracle.judge(call, _report(right + 1e-3)).wrong
    assert "shape" in oracle.judge(call, _report(right.T)).wrong
    failed = oracle.judge(call, {"result": None, "error": "NameError: x", "reference_calls": []})
    assert failed.failed.startswith("NameError") and failed.wrong is None


def test_judge_compares_every_array_of_a_tuple_result():
    from lstm_ref import np_ref

    (call,) = oracle.plan(["lstm_cell_forward"], "tuple")
    h_t, c_t, _cache = np_ref.lstm_cell_forward(**call.args)
    assert oracle.judge(call, _report((h_t, c_t, h_t))).wrong is None
    assert "[1]" in oracle.judge(call, _report((h_t, c_t * 2, h_t))).wrong


def test_arrays_travel_without_pickles():
    with pytest.raises(ValueError):
        _transport.encode_array(np.array([object()], dtype=object))
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):
        _transport.decode_array(base64.b64encode(buf.getvalue()).decode())


# -- the guard -----------------------------------------------------------------------------
def test_guard_accepts_what_python_caches_on_a_class_and_flags_the_rest(monkeypatch):
    """copy.copy caches __slotnames__ on a class the first time (lstm_ref copies a checker in a
    backward pass): not a change by the notebook. Anything else added to a class is."""
    import builtins
    import copy
    import sys
    import types

    from lstm_course.autograde._guard import _Guard

    module = types.ModuleType("guarded.fake")
    exec("class Plain:\n    pass\n", module.__dict__)  # noqa: S102
    monkeypatch.setitem(sys.modules, "guarded.fake", module)
    guard = _Guard(["guarded"])
    guard.take()
    ns = {"__builtins__": builtins}
    copy.copy(module.Plain())
    assert "__slotnames__" in vars(module.Plain)
    assert guard.check_and_restore(ns) == []
    module.Plain.extra = 1
    assert guard.check_and_restore(ns) == ["guarded.fake.Plain.extra was added"]
    module.Plain.__slotnames__ = ["forged"]
    assert guard.check_and_restore(ns) == ["guarded.fake.Plain.__slotnames__ was added"]
