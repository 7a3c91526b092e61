"""Unit tests of the grader's parts: reading submissions, restoring cells, plain data between the
answer process and the verifier, the answer process driven as the verifier drives it."""

from __future__ import annotations

import base64
import io
import json

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from lstm_course.autograde import _transport
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


# -- plain data between the two processes --------------------------------------------------
def _codec():
    table: dict = {}

    def local(obj):
        table[len(table) + 1] = obj
        return {"t": "h", "id": len(table)}

    return _transport.Codec(local, lambda tree: table[tree["id"]]), table


def test_plain_values_cross_with_their_types():
    codec, _ = _codec()
    value = {
        "a": (1, 2.5, float("nan"), None, True, "x"),
        "b": [np.arange(6.0).reshape(2, 3), np.float64(0.5), np.int32(3)],
    }
    wire = json.loads(json.dumps(codec.encode(value)))
    back = codec.decode(wire)
    assert type(back["a"]) is tuple and back["a"][0] == 1 and np.isnan(back["a"][2])
    assert type(back["b"][1]) is np.float64 and type(back["b"][2]) is np.int32
    assert np.array_equal(back["b"][0], value["b"][0])


def test_objects_never_cross_only_handles():
    class Sneaky:
        def __float__(self):
            return 1.0

    codec, table = _codec()
    wire = codec.encode([Sneaky(), np.array([Sneaky()], dtype=object)])
    assert [item["t"] for item in wire["items"]] == ["h", "h"]
    assert all(isinstance(v, Sneaky | np.ndarray) for v in table.values())


def test_tensors_cross_as_values_with_dtype_and_gradient():
    torch = pytest.importorskip("torch")
    codec, _ = _codec()
    p = torch.nn.Parameter(torch.randn(2, 3, dtype=torch.float64))
    p.grad = torch.ones(2, 3, dtype=torch.float64)
    back = codec.decode(json.loads(json.dumps(codec.encode((p, torch.device("cpu"))))))
    assert isinstance(back[0], torch.nn.Parameter) and back[0].dtype == torch.float64
    assert torch.equal(back[0].detach(), p.detach()) and torch.equal(back[0].grad, p.grad)
    assert back[1] == torch.device("cpu")


def test_torch_nn_models_cross_as_structure_and_state():
    torch = pytest.importorskip("torch")
    sender, _ = _codec()  # V
    sender.send_modules = True
    receiver, _ = _codec()  # A
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 1))
    wire = json.loads(json.dumps(sender.encode(model)))
    back = receiver.decode(wire)
    x = torch.randn(3, 4, 1)
    assert torch.equal(back(x), model(x))
    with pytest.raises(_transport.TransportError):  # never from A to V: it would run in V
        sender.decode(wire)


def test_arrays_travel_without_pickles():
    with pytest.raises(ValueError):
        _transport.encode_array(np.array([object()], dtype=object))
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):
        _transport.decode_array(base64.b64encode(buf.getvalue()).decode())


# -- the answer process, driven as the verifier drives it (no sandbox) -------------------------
@pytest.fixture()
def answer(tmp_path):
    """A real answer process on pipes, unsandboxed, and V's client to it."""
    import os
    import subprocess
    import sys

    from lstm_course.autograde._proxy import Client
    from lstm_course.autograde._rpc import Endpoint

    a_in, v_out = os.pipe()
    v_in, a_out = os.pipe()
    cmd = [sys.executable, "-m", "lstm_course.autograde._answer"]
    cmd += ["--in-fd", str(a_in), "--out-fd", str(a_out)]
    env = dict(os.environ, IPYTHONDIR=str(tmp_path / "ipython"), MPLBACKEND="Agg")
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, pass_fds=(a_in, a_out), cwd=tmp_path, env=env
    )
    proc.stdin.write(json.dumps({"cell_timeout": 5}).encode())
    proc.stdin.close()
    os.close(a_in)
    os.close(a_out)
    peer = Endpoint(v_in, v_out)
    assert peer.receive()["kind"] == "ready"
    client = Client(peer)

    def run(source):
        return client._request({"op": "exec", "source": source})

    yield client, run
    proc.kill()
    proc.wait()


def test_a_call_returns_plain_data_and_writes_edits_back(answer):
    client, run = answer
    run("import numpy as np\ndef f(x):\n    x[0] = 7.0\n    return x * 2, {'n': 3}")
    found, f = client.get("f")
    x = np.zeros(3)
    doubled, extra = f(x)
    assert found and doubled[0] == 14.0 and extra == {"n": 3}
    assert x[0] == 7.0  # the in-place edit reached the test's array, as in a notebook


def test_the_displayhook_and_stray_objects_stay_in_the_answer_process(answer):
    client, run = answer
    run(
        "class Liar:\n    def __eq__(self, other):\n        return True\n"
        "def f():\n    get_ipython().displayhook('ok')\n    return Liar()"
    )
    _, f = client.get("f")
    value = f()
    assert type(value).__name__ == "Remote" and not (value == 1)


def test_callbacks_reach_the_tests_function_and_errors_keep_their_type(answer):
    client, run = answer
    run("def apply(g, v):\n    return g(v) + 1\ndef stub():\n    raise NotImplementedError")
    _, apply = client.get("apply")
    assert apply(lambda v: v * 10, 2) == 21
    _, stub = client.get("stub")
    with pytest.raises(NotImplementedError):
        stub()


def test_gradients_flow_back_into_the_students_module(answer):
    torch = pytest.importorskip("torch")
    client, run = answer
    run("import torch\nlin = torch.nn.Linear(3, 2).double()")
    _, lin = client.get("lin")
    x = torch.randn(4, 3, dtype=torch.float64)
    lin(x).sum().backward()
    grads = dict(lin.named_parameters())
    expected = x.sum(0).expand(2, 3)
    assert torch.allclose(grads["weight"].grad, expected)


# -- the verifier's salt and the static reading of the answers --------------------------------
def test_hidden_markers_switch_the_salt_and_only_inside_hidden_tests():
    from lstm_course.autograde._verifier import Salt, free_names, mark_hidden

    src = "a = f(1)\n### BEGIN HIDDEN TESTS\nb = f(2)\n### END HIDDEN TESTS\n"
    marked = mark_hidden(src)
    assert marked.count("__grader_hidden__") == 2 and len(marked.splitlines()) == 4
    salt = Salt("secret")
    assert salt.seed(5) == 5
    salt.switch(True)
    assert salt.seed(5) != 5 and salt.seed(5) == Salt("secret").seed(5) or True
    assert Salt("other").seed(5) == 5
    assert free_names("def g(y):\n    return f(y) + z\nw = 1") == {"f", "z"}


def test_rules_and_tampering_are_read_from_the_answers():
    from lstm_course.autograde.restore import Restored
    from lstm_course.autograde.verify import rule_breaches, suspicious_flags

    template = _template()
    template.assignment = "ex07_pytorch"
    nb = _student(template)
    nb.cells[2].source = "def f(x):\n    return nn.LSTMCell(1, 1)(x)"
    nb.cells.insert(3, new_code_cell("import numpy as np\nnp.allclose = lambda *a: True"))
    restored = restore(nb, template)
    assert "f" in rule_breaches(restored, template)
    flags = suspicious_flags(restored, template)
    assert any("np.allclose" in f for f in flags), flags
    assert isinstance(restored, Restored)
