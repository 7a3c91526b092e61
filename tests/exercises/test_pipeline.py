"""The whole nbgrader cycle on every assignment, in a temporary copy of the course directory.

For each assignment, these submissions go through the real commands (generate_assignment,
autograde, generate_feedback, export):

- ``solution``: the instructor's notebook itself (solutions, visible and hidden tests): full marks;
- ``blank``: the released notebook, unchanged: zero, every graded cell failing on the stub's
  NotImplementedError (not on an error of the test);
- one student per row of MUTATIONS: the solution with one classic mistake planted (a line of a
  solution cell replaced): partial credit, and the feedback names the mistake.

The assignments are split over two course copies, each with its own SQLite gradebook, graded at
the same time (never two processes on one gradebook).
"""

from __future__ import annotations

import copy
import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ALL_ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir())
ASSIGNMENTS = ALL_ASSIGNMENTS
# While writing an exercise: LSTM_EXERCISES=ex02_lstm_cell pytest tests/exercises
if os.environ.get("LSTM_EXERCISES"):
    ASSIGNMENTS = [a for a in ASSIGNMENTS if a in os.environ["LSTM_EXERCISES"].split(",")]
# Notebooks that import torch start slower and train: spread them over the two workers.
COST = {"ex07_pytorch": 3, "ex10_project": 4, "ex06_bptt": 2}
WORKERS = 2

# The classic mistakes, planted one at a time: (student id, solution cell, old text, new text,
# what the feedback must say). The old text must occur exactly once in that cell.
MUTATIONS: dict[str, list[tuple[str, str, str, str, str]]] = {
    "ex01_rnn": [
        ("xh-order", "rnn_step", "[h_prev, x_t]", "[x_t, h_prev]", "[x_t, h_prev] instead of [h_prev, x_t]"),
        ("sigmoid-state", "rnn_step", "np.tanh(z @ W_h.T + b_h)", "1 / (1 + np.exp(-(z @ W_h.T + b_h)))", "a sigmoid where tanh belongs"),
        ("no-bias", "rnn_step", "W_h.T + b_h)", "W_h.T)", "the bias is missing"),
        ("state-not-carried", "rnn_forward", "h = rnn_step(h, x[:, t], W_h, b_h)\n        hs[:, t] = h", "hs[:, t] = rnn_step(h, x[:, t], W_h, b_h)", "the state is not carried"),
        ("no-tanh-derivative", "state_gradients", "da = grads[:, k] * (1 - states[:, k] ** 2)", "da = grads[:, k]", "the derivative of tanh is missing"),
        ("derivative-wrong-step", "state_gradients", "(1 - states[:, k] ** 2)", "(1 - states[:, k - 1] ** 2)", "the tanh derivative is taken at the wrong step"),
        ("transposed-W", "state_gradients", "grads[:, k - 1] = da @ W_hh", "grads[:, k - 1] = da @ W_hh.T", "a transposed weight"),
    ],
    "ex03_forget_gate": [
        ("xh-order", "forget_gate", "[h_prev, x_t]", "[x_t, h_prev]", "[x_t, h_prev] instead of [h_prev, x_t]"),
        ("tanh-gate", "forget_gate", "return sigmoid(z", "return np.tanh(z", "tanh where a sigmoid belongs"),
        ("no-bias", "forget_gate", "W_f.T + b_f)", "W_f.T)", "the bias is missing"),
        ("bias-twice", "forget_gate", "W_f.T + b_f)", "W_f.T + b_f + b_f)", "the bias is added twice"),
        ("naive-sigmoid", "sigmoid", "return np.where(z >= 0, 1 / (1 + e), e / (1 + e))", "return 1 / (1 + np.exp(-z))", "an unstable sigmoid"),
        ("one-minus-f", "forget", "return f_t * c_prev", "return (1 - f_t) * c_prev", "(1 - f_t) where f_t belongs"),
        ("matmul-forget", "forget", "return f_t * c_prev", "return f_t @ c_prev.T", "a matrix product where an element-wise product (*) belongs"),
        ("weight-untransposed", "forget_gate", "z @ W_f.T", "z @ W_f", "a transposed weight"),
    ],
    "ex04_input_gate": [
        ("xh-order", "input_gate", "[h_prev, x_t]", "[x_t, h_prev]", "[x_t, h_prev] instead of [h_prev, x_t]"),
        ("tanh-gate", "input_gate", "return sigmoid(", "return np.tanh(", "tanh where a sigmoid belongs"),
        ("sigmoid-candidate", "candidate", "return np.tanh(", "return sigmoid(", "a sigmoid where tanh belongs"),
        ("no-bias", "candidate", "W_c.T + b_c)", "W_c.T)", "the bias is missing"),
        ("swap-f-i", "cell_update", "f_t * c_prev + i_t * c_tilde", "i_t * c_prev + f_t * c_tilde", "f_t and i_t are swapped"),
        ("no-forget", "cell_update", "f_t * c_prev + i_t * c_tilde", "i_t * c_tilde", "the old memory is dropped"),
    ],
    "ex05_output_gate": [
        ("xh-order", "output_gate", "[h_prev, x_t]", "[x_t, h_prev]", "[x_t, h_prev] instead of [h_prev, x_t]"),
        ("tanh-gate", "output_gate", "return sigmoid(", "return np.tanh(", "tanh where a sigmoid belongs"),
        ("c-not-tanh-c", "hidden_state", "o_t * np.tanh(c_t)", "o_t * c_t", "c_t where tanh(c_t) belongs"),
        ("tanh-of-product", "hidden_state", "o_t * np.tanh(c_t)", "np.tanh(o_t * c_t)", "tanh(o_t * c_t) instead of o_t * tanh(c_t)"),
        ("head-no-bias", "linear_head", "h @ W_y.T + b_y", "h @ W_y.T", "the bias is missing"),
        ("head-transposed", "linear_head", "h @ W_y.T + b_y", "W_y @ h.T + b_y[:, None]", "a transposed weight"),
        ("head-activation", "linear_head", "h @ W_y.T + b_y", "np.tanh(h @ W_y.T + b_y)", "an activation on the linear head"),
    ],
    "ex02_lstm_cell": [
        ("xh-order", "lstm_cell_forward", "[h_prev, x_t]", "[x_t, h_prev]", "[x_t, h_prev] instead of [h_prev, x_t]"),
        ("sigmoid-candidate", "lstm_cell_forward", "c_tilde = np.tanh(", "c_tilde = sigmoid(", "a sigmoid where tanh belongs"),
        ("c-not-tanh-c", "lstm_cell_forward", "h_t = o_t * np.tanh(c_t)", "h_t = o_t * c_t", "c_t where tanh(c_t) belongs"),
        ("c-not-carried", "lstm_forward", "h, c = lstm_cell_forward(", "h, _ = lstm_cell_forward(", "the state is not carried"),
        ("initial-state-ignored", "lstm_forward", "h = np.zeros((N, H)) if h0 is None else h0\n    c = np.zeros((N, H)) if c0 is None else c0", "h = np.zeros((N, H))\n    c = np.zeros((N, H))", "the initial state is ignored"),
        ("stack-order", "stack_params", 'params["W_i"], params["W_f"]', 'params["W_f"], params["W_i"]', "gates in the wrong order"),
        ("split-order", "lstm_cell_forward_fast", "a_i, a_f, a_g, a_o = np.split", "a_f, a_i, a_g, a_o = np.split", "gates in the wrong order"),
        ("c0-tied-to-h0", "lstm_forward", "c = np.zeros((N, H)) if c0 is None else c0", "c = np.zeros((N, H)) if h0 is None else c0", "h0 and c0 fall back to zeros together"),
    ],
    "ex06_bptt": [
        ("no-dh-into-dc", "lstm_cell_backward", "dc = dc_t + dh_t * o_t * (1 - tanh_c**2)", "dc = dc_t", "the path through h_t into C_t is missing"),
        ("tanh-derivative-of-c", "lstm_cell_backward", "(1 - tanh_c**2)", '(1 - cache["c_t"] ** 2)', "the derivative of tanh(C_t) is 1 - tanh(C_t)², not 1 - C_t²"),
        ("dc-prev-missing-f", "lstm_cell_backward", "dc_prev = dc * f_t", "dc_prev = dc", "dC_{t-1} = dC_t * f_t"),
        ("sigmoid-derivative", "lstm_cell_backward", '"o": do_t * o_t * (1 - o_t)', '"o": do_t * o_t', "the derivative of a sigmoid gate s is s * (1 - s) (in the output gate)"),
        ("transposed-dW", "lstm_cell_backward", "da_gate.T @ z", "z.T @ da_gate", "a transposed weight"),
        ("recurrent-grad-dropped", "lstm_backward", "dhs[:, t] + dh_next, dc_next, caches[t]", "dhs[:, t], dc_next, caches[t]", "the gradient coming back from step t + 1 is dropped"),
        ("params-not-summed", "lstm_backward", "dparams[key] += grads[key]", "dparams[key] = grads[key]", "the parameter gradients are overwritten"),
        ("forward-difference", "numerical_gradient", "x[idx] = old - eps\n        f_minus = f(x)\n        x[idx] = old  # put it back\n        grad[idx] = (f_plus - f_minus) / (2 * eps)", "x[idx] = old  # put it back\n        grad[idx] = (f_plus - f(x)) / eps", "a one-sided difference"),
        ("x-not-restored", "numerical_gradient", "        x[idx] = old  # put it back\n", "", "x is not restored"),
    ],
    "ex07_pytorch": [
        ("gate-order", "lstm_cell_module", "i, f, g, o = gates.chunk(4, dim=1)", "f, i, g, o = gates.chunk(4, dim=1)", "gates in the wrong order"),
        ("one-bias", "lstm_cell_module", " + h @ self.weight_hh.T + self.bias_hh", " + h @ self.weight_hh.T", "one of the two biases is missing"),
        ("sigmoid-candidate", "lstm_cell_module", "torch.tanh(g)", "torch.sigmoid(g)", "a sigmoid where tanh belongs"),
        ("c-not-tanh-c", "lstm_cell_module", "h_t = o * torch.tanh(c_t)", "h_t = o * c_t", "c_t where tanh(c_t) belongs"),
        ("normal-init", "lstm_cell_module", "nn.init.uniform_(p, -bound, bound)", "nn.init.normal_(p)", "the initialisation is not PyTorch's"),
        ("state-not-carried", "run_sequence", "state = cell(x[:, t], state)\n        hs.append(state[0])", "h_t, c_t = cell(x[:, t], state)\n        hs.append(h_t)", "the state is not carried"),
    ],
    "ex08_variants": [
        ("gru-update-swapped", "gru_cell_forward", "return (1 - z_t) * n_t + z_t * h_prev", "return z_t * n_t + (1 - z_t) * h_prev", "z_t and 1 - z_t are swapped"),
        ("gru-reset-inside", "gru_cell_forward", 'r_t * (h_prev @ p["W_hn"].T + p["b_hn"])', '(r_t * h_prev) @ p["W_hn"].T + p["b_hn"]', "the reset gate is applied before W_hn"),
        ("gru-bias-outside", "gru_cell_forward", 'r_t * (h_prev @ p["W_hn"].T + p["b_hn"])', 'r_t * (h_prev @ p["W_hn"].T) + p["b_hn"]', "b_hn is outside the reset gate"),
        ("gru-xh-order", "gru_cell_forward", "[h_prev, x_t]", "[x_t, h_prev]", "[x_t, h_prev] instead of [h_prev, x_t]"),
        ("peephole-o-c-prev", "peephole_cell_forward", 'p["p_o"] * c_t', 'p["p_o"] * c_prev', "the output gate peeks at C_{t-1}"),
        ("peephole-missing-f", "peephole_cell_forward", ' + p["p_f"] * c_prev', "", "a peephole term is missing"),
        ("peephole-c-not-tanh-c", "peephole_cell_forward", "h_t = o_t * np.tanh(c_t)", "h_t = o_t * c_t", "c_t where tanh(c_t) belongs"),
    ],
    "ex10_project": [
        ("target-in-window", "make_windows", "y = series[window:, None]", "y = series[window - 1 : -1, None]", "the target is the last value inside the window"),
        ("test-leak", "prepare_data", "mean, std = train.mean(), train.std()", "mean, std = series.mean(), series.std()", "the test set leaks into training"),
        ("first-step", "forecaster", "self.head(out[:, -1])", "self.head(out[:, 0])", "the prediction uses the first step's hidden state"),
        ("batch-first-missing", "forecaster", "nn.LSTM(1, hidden_size, batch_first=True)", "nn.LSTM(1, hidden_size)", "the batch was read as time"),
        ("no-zero-grad", "train", "        optimizer.zero_grad()\n", "", "the gradients accumulate across epochs"),
        ("loss-sum", "train", "nn.functional.mse_loss(model(X), y)", 'nn.functional.mse_loss(model(X), y, reduction="sum")', "the loss is summed, not averaged"),
        ("rmse-no-sqrt", "rmse", "float(torch.sqrt(nn.functional.mse_loss(model(X), y)))", "float(nn.functional.mse_loss(model(X), y))", "the square root is missing"),
    ],
}  # fmt: skip


# Wrong answers written independently of the solutions: the whole solution cell is replaced.
# (student id, solution cell, the student's cell, what the feedback must say)
REWRITES: dict[str, list[tuple[str, str, str, str]]] = {
    "ex01_rnn": [
        ("own-no-bias", "rnn_step", """
def rnn_step(h_prev, x_t, W_h, b_h):
    H = h_prev.shape[1]
    return np.tanh(h_prev @ W_h[:, :H].T + x_t @ W_h[:, H:].T)
""", "the bias is missing"),
    ],
    "ex04_input_gate": [
        ("own-sigmoid-candidate", "candidate", """
def candidate(h_prev, x_t, W_c, b_c):
    a = np.hstack((h_prev, x_t)).dot(W_c.T) + b_c
    return 1 / (1 + np.exp(-a))
""", "a sigmoid where tanh belongs"),
    ],
    "ex02_lstm_cell": [
        ("own-swapped-outputs", "lstm_cell_forward", """
def lstm_cell_forward(x_t, h_prev, c_prev, params):
    z = np.hstack([h_prev, x_t])
    gate = {k: z @ params["W_" + k].T + params["b_" + k] for k in "fico"}
    c_t = sigmoid(gate["f"]) * c_prev + sigmoid(gate["i"]) * np.tanh(gate["c"])
    return c_t, sigmoid(gate["o"]) * np.tanh(c_t)
""", "h_t and c_t are returned in the wrong order"),
        ("own-candidate-from-W_i", "lstm_cell_forward", """
def lstm_cell_forward(x_t, h_prev, c_prev, params):
    z = np.hstack([h_prev, x_t])
    f = sigmoid(z @ params["W_f"].T + params["b_f"])
    i = sigmoid(z @ params["W_i"].T + params["b_i"])
    g = np.tanh(z @ params["W_i"].T + params["b_i"])
    o = sigmoid(z @ params["W_o"].T + params["b_o"])
    c_t = f * c_prev + i * g
    return o * np.tanh(c_t), c_t
""", "gates in the wrong order"),
    ],
    "ex07_pytorch": [
        ("own-one-bias", "lstm_cell_module", """
class LSTMCellScratch(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        k = 1 / math.sqrt(hidden_size)
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size).uniform_(-k, k))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size).uniform_(-k, k))
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size).uniform_(-k, k))
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size).uniform_(-k, k))

    def forward(self, x, state=None):
        if state is None:
            state = (x.new_zeros(len(x), self.hidden_size), x.new_zeros(len(x), self.hidden_size))
        h, c = state
        a = nn.functional.linear(x, self.weight_ih, self.bias_ih) + nn.functional.linear(h, self.weight_hh)
        i, f, g, o = a.chunk(4, 1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c
""", "one of the two biases is missing"),
    ],
    "ex10_project": [
        ("own-test-own-stats", "prepare_data", """
def prepare_data(series, window, train_fraction=0.8):
    s = int(len(series) * train_fraction)
    train, test = series[:s], series[s:]
    X_train, y_train = make_windows((train - train.mean()) / train.std(), window)
    X_test, y_test = make_windows((test - test.mean()) / test.std(), window)
    return X_train, y_train, X_test, y_test, (train.mean(), train.std())
""", "the test part is scaled with its own statistics"),
    ],
}  # fmt: skip


# Answers whose values are right but which edit an input in place: the feedback names the edit,
# and never shows numbers computed from the edited input. (student id, cell, the student's cell,
# what the feedback must say)
IN_PLACE: dict[str, list[tuple[str, str, str, str]]] = {
    "ex03_forget_gate": [
        ("in-place-h-prev", "forget_gate", """
def forget_gate(h_prev, x_t, W_f, b_f):
    z = np.concatenate([h_prev, x_t], axis=1)
    h_prev *= 0  # "free" the old state
    return sigmoid(z @ W_f.T + b_f)
""", "Your forget_gate changed its argument h_prev in place"),
    ],
}  # fmt: skip

# A sequence test whose failure comes from the student's own cell says so: (assignment, student of
# MUTATIONS with a wrong cell, what the sequence tests' feedback must say).
CAUSES = [
    ("ex01_rnn", "no-bias", "Your rnn_step is wrong"),
    ("ex02_lstm_cell", "xh-order", "Your lstm_cell_forward is wrong"),
    ("ex06_bptt", "dc-prev-missing-f", "Your lstm_cell_backward is wrong"),
]


def notebook_path(base: Path, assignment: str) -> Path:
    (path,) = (base / assignment).glob("*.ipynb")
    return path


def nbgrader(course: Path, *args: str) -> None:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    result = subprocess.run(
        [str(BIN / "nbgrader"), *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stderr[-3000:]}"


def strip_solution_markers(source: str) -> str:
    lines = source.split("\n")
    return "\n".join(line for line in lines if "### BEGIN SOLUTION" not in line and
                     "### END SOLUTION" not in line)  # fmt: skip


def submission(released: dict, solution: dict, mutation=None) -> dict:
    """The released notebook with each solution cell filled in as a student would."""
    bodies = {cell["id"]: "".join(cell["source"]) for cell in solution["cells"]}
    nb = copy.deepcopy(released)
    for cell in nb["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("solution"):
            cell["source"] = strip_solution_markers(bodies[cell["id"]])
    if mutation is not None and len(mutation) == 4:  # a rewrite of the whole cell
        student, cell_id, new, _ = mutation
        (cell,) = [c for c in nb["cells"] if c["id"] == cell_id]
        cell["source"] = new.strip("\n")
    elif mutation is not None:
        student, cell_id, old, new, _ = mutation
        (cell,) = [c for c in nb["cells"] if c["id"] == cell_id]
        count = cell["source"].count(old)
        assert count == 1, f"{student}: {old!r} occurs {count} times in cell {cell_id}"
        cell["source"] = cell["source"].replace(old, new)
    return nb


def grade_group(course: Path, assignments: list[str]) -> None:
    """Release, submit, autograde, feed back and export ``assignments`` in one course copy."""
    course.mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for assignment in assignments:
        shutil.copytree(ROOT / "solutions" / assignment, course / "solutions" / assignment)
    nbgrader(course, "generate_assignment", "*", "--force")
    for assignment in assignments:
        source = notebook_path(course / "solutions", assignment)
        released = json.loads(notebook_path(course / "exercises", assignment).read_text())
        solution = json.loads(source.read_text())
        students = {"solution": solution, "blank": released}
        rows = MUTATIONS.get(assignment, []) + REWRITES.get(assignment, [])
        for mutation in rows + IN_PLACE.get(assignment, []):
            students[mutation[0]] = submission(released, solution, mutation)
        for student, nb in students.items():
            target = course / "submitted" / student / assignment / source.name
            target.parent.mkdir(parents=True)
            target.write_text(json.dumps(nb))
    nbgrader(course, "autograde", "*")
    nbgrader(course, "generate_feedback", "*")
    nbgrader(course, "export", "--to=grades.csv")


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """Grade every assignment; returns {assignment: course directory it was graded in}."""
    base = tmp_path_factory.mktemp("course")
    groups: list[list[str]] = [[] for _ in range(WORKERS)]
    for assignment in sorted(ASSIGNMENTS, key=lambda a: -COST.get(a, 1)):
        cheapest = min(groups, key=lambda g: sum(COST.get(a, 1) * 7 for a in g))
        cheapest.append(assignment)
    courses = [base / f"copy{k}" for k in range(WORKERS)]
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = [
            pool.submit(grade_group, c, g) for c, g in zip(courses, groups, strict=True) if g
        ]
        for future in futures:
            future.result()
    return {a: course for course, group in zip(courses, groups, strict=True) for a in group}


def scores(course: Path, assignment: str) -> dict[str, tuple[float, float]]:
    with open(course / "grades.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["assignment"] == assignment]
    return {r["student_id"]: (float(r["score"]), float(r["max_score"])) for r in rows}


def feedback_text(course: Path, assignment: str, student: str) -> str:
    (path,) = (course / "feedback" / student / assignment).glob("*.html")
    text = html.unescape(re.sub(r"<[^>]+>", "", path.read_text()))
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return re.sub(r"\s+", " ", text)


def graded_cells(course: Path, assignment: str, student: str, every=False) -> list[dict]:
    nb = json.loads(notebook_path(course / "autograded" / student, assignment).read_text())
    return [
        c
        for c in nb["cells"]
        if c["cell_type"] == "code" and (every or c["metadata"].get("nbgrader", {}).get("grade"))
    ]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_has_no_drift(graded, assignment):
    """exercises/ is exactly what `make release` makes from solutions/."""
    fresh = notebook_path(graded[assignment] / "exercises", assignment)
    committed = ROOT / "exercises" / assignment / fresh.name
    assert committed.exists(), f"{committed} is missing: run `make release` and commit exercises/"
    assert fresh.read_text() == committed.read_text(), (
        f"{committed.relative_to(ROOT)} differs from what `make release` makes from "
        f"solutions/{assignment}: run `make release` and commit exercises/"
    )
    others = sorted(p.name for p in (ROOT / "exercises" / assignment).iterdir())
    assert others == [fresh.name], f"exercises/{assignment} holds more than the notebook: {others}"


def test_exercises_and_solutions_match():
    exercises = sorted(p.name for p in (ROOT / "exercises").iterdir() if p.is_dir())
    assert exercises == ALL_ASSIGNMENTS


@pytest.mark.parametrize("path", sorted((ROOT / "solutions").glob("*/*.ipynb")) +
                         sorted((ROOT / "exercises").glob("*/*.ipynb")), ids=lambda p: p.name)  # fmt: skip
def test_committed_notebooks_carry_no_outputs(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{path.name}: cell {cell['id']} has outputs"
            assert cell["execution_count"] is None, f"{path.name}: cell {cell['id']} was run"


TORCH_ASSIGNMENTS = {"ex07_pytorch", "ex10_project"}


@pytest.mark.parametrize("assignment", sorted(set(ALL_ASSIGNMENTS) - TORCH_ASSIGNMENTS))
def test_numpy_assignments_do_not_import_torch(assignment):
    for base in (ROOT / "solutions", ROOT / "exercises"):
        nb = json.loads(notebook_path(base, assignment).read_text())
        for cell in nb["cells"]:
            source = "".join(cell["source"])
            assert not re.search(r"^\s*(import torch|from torch)", source, re.M), (
                f"{base.name}/{assignment}: cell {cell['id']} imports torch"
            )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_runs_and_gets_full_marks(graded, assignment):
    course = graded[assignment]
    score, max_score = scores(course, assignment)["solution"]
    failing = [
        f"{c['id']}: {o.get('ename')}: {o.get('evalue', o.get('text'))}"
        for c in graded_cells(course, assignment, "solution", every=True)
        for o in c["outputs"]
        if o["output_type"] == "error" or o.get("name") == "stderr"
    ]
    assert not failing, "the solution fails:\n" + "\n".join(failing)
    assert score == max_score > 0


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_blank_release_scores_zero_on_the_stubs(graded, assignment):
    course = graded[assignment]
    assert scores(course, assignment)["blank"][0] == 0
    cells = graded_cells(course, assignment, "blank")
    assert cells
    for cell in cells:
        errors = [o.get("ename") for o in cell["outputs"] if o["output_type"] == "error"]
        assert errors == ["NotImplementedError"], (
            f"graded cell {cell['metadata']['nbgrader']['grade_id']} of the blank release "
            f"fails with {errors or 'no error'}, not with the stub's NotImplementedError"
        )


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_assignment_plants_at_least_five_mistakes(assignment):
    assert len(MUTATIONS.get(assignment, [])) >= 5


WRONG = [
    (a, m)
    for table in (MUTATIONS, REWRITES)
    for a, rows in table.items()
    if a in ASSIGNMENTS
    for m in rows
]


@pytest.mark.parametrize(("assignment", "mutation"), WRONG, ids=[f"{a}-{m[0]}" for a, m in WRONG])
def test_mistake_gets_partial_credit_and_is_named(graded, assignment, mutation):
    student, phrase = mutation[0], mutation[-1]
    course = graded[assignment]
    score, max_score = scores(course, assignment)[student]
    assert 0 < score < max_score, f"{student} scored {score} / {max_score}"
    text = feedback_text(course, assignment, student)
    assert "Likely mistake: " + phrase in text, f"the feedback of {student} does not say {phrase!r}"


IN_PLACE_ROWS = [(a, m) for a, rows in IN_PLACE.items() if a in ASSIGNMENTS for m in rows]


@pytest.mark.parametrize(
    ("assignment", "row"), IN_PLACE_ROWS, ids=[f"{a}-{m[0]}" for a, m in IN_PLACE_ROWS]
)
def test_an_in_place_edit_is_named_and_never_gives_false_numbers(graded, assignment, row):
    student, cell_id, _, phrase = row
    course = graded[assignment]
    score, max_score = scores(course, assignment)[student]
    assert 0 < score < max_score, f"{student} scored {score} / {max_score}"
    text = feedback_text(course, assignment, student)
    assert phrase in text
    # the values it returned were right: no test may say they were wrong
    assert "is wrong: the largest error" not in text


@pytest.mark.parametrize(
    ("assignment", "student", "phrase"), [c for c in CAUSES if c[0] in ASSIGNMENTS]
)
def test_a_sequence_test_names_the_students_own_cell_when_it_is_wrong(
    graded, assignment, student, phrase
):
    course = graded[assignment]
    nb = json.loads(notebook_path(course / "autograded" / student, assignment).read_text())
    errors = {
        c["metadata"]["nbgrader"]["grade_id"]: o.get("evalue", "")
        for c in nb["cells"]
        if c["metadata"].get("nbgrader", {}).get("grade")
        for o in c["outputs"]
        if o["output_type"] == "error"
    }
    blamed = [grade_id for grade_id, message in errors.items() if phrase in message]
    assert blamed, f"no test of {student} says {phrase!r}"
    for grade_id in blamed:  # the loop is not blamed for the cell's mistake
        assert "Likely mistake" not in errors[grade_id], grade_id
    assert phrase in feedback_text(course, assignment, student)


@pytest.mark.skipif("ex03_forget_gate" not in ASSIGNMENTS, reason="ex03 is not graded in this run")
def test_feedback_shows_a_hidden_tests_name_and_message_but_not_its_code(graded):
    """The hidden test forget_gate_random fails for xh-order: its feedback says so, with its
    message, but shows neither its code nor its seeds; the instructor's autograded copy keeps
    them."""
    course = graded["ex03_forget_gate"]
    (path,) = (course / "feedback" / "xh-order" / "ex03_forget_gate").glob("*.html")
    raw = path.read_text()
    text = feedback_text(course, "ex03_forget_gate", "xh-order")
    assert "forget_gate_random" in raw
    assert "f_t for N, D, H = 3, 1, 2 is wrong" in text
    assert "Likely mistake: [x_t, h_prev] instead of [h_prev, x_t]" in text
    for secret in ("seed + 10", "enumerate([(3, 1, 2)", "HIDDEN TESTS", "seed + 20"):
        assert secret not in text, f"the feedback shows the hidden tests' {secret!r}"
    autograded = notebook_path(course / "autograded" / "xh-order", "ex03_forget_gate").read_text()
    assert "seed + 10" in autograded
