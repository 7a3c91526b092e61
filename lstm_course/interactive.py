"""Self-checks and interactive figures that work on the static site: no kernel, no network.

``quiz(chapter, name)`` shows a set of questions from ``lstm_course/quizzes/<chapter>.json`` with
jupyterquiz, which writes its JavaScript and CSS into the cell's output (nothing is fetched when
the page is read). ``show(fig, div_id)`` shows a Plotly figure whose controls (sliders) switch
between frames computed here, so moving them needs no kernel. On the site the page loads the
plotly.js that the ``plotly`` package ships, copied into ``_static`` by the book's
``interactive_assets`` extension; in Jupyter or Colab the figure is shown the usual Plotly way.

The three figures compute their frames with ``lstm_ref.np_ref``, so every number a slider shows
is the reference's:

- ``forget_half_life_figure``: a gate value f, the fraction f^k of a memory left after k steps,
  and its half-life (chapter 3);
- ``hand_set_cell_figure``: chapter 2's hand-set one-unit LSTM, with its forget bias on a slider;
- ``gradient_through_time_figure``: the gradient that reaches back t steps in a simple RNN and in
  an LSTM whose forget bias is on a slider (chapter 1).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lstm_ref.np_ref import (
    forget_gate,
    input_gate,
    lstm_cell_backward,
    lstm_cell_forward,
    rnn_cell_backward,
    rnn_cell_forward,
    sigmoid,
)
from lstm_ref.params import init_params

__all__ = [
    "SITE_BUILD_ENV",
    "load_questions",
    "quiz",
    "show",
    "forget_half_life_figure",
    "hand_set_cell_figure",
    "gradient_through_time_figure",
]

QUIZ_DIR = Path(__file__).with_name("quizzes")
# Set by the book's interactive_assets extension while the site is built; the kernels that run
# the chapters inherit it. It tells show() that the page, not the output, brings plotly.js.
SITE_BUILD_ENV = "LSTM_COURSE_SITE_BUILD"

# The page loads MathJax with "defer": until it has started, window.MathJax is only its
# configuration (no version, no typeset), and jupyterquiz, which reads MathJax.version 0.5 s
# after it draws, would fail or try to fetch MathJax from a CDN. So the quiz is drawn once MathJax
# is ready (or at once where there is no MathJax, or MathJax 2 as in the classic notebook).
_AFTER_MATHJAX = """(function () {
  function drawQuiz() {
%s
  }
  function whenMathJaxReady(run, tries) {
    var mj = window.MathJax;
    if (mj === undefined || mj.typeset || mj.Hub || tries > 400) { run(); return; }
    if (mj.startup && mj.startup.promise) { mj.startup.promise.then(run); return; }
    setTimeout(function () { whenMathJaxReady(run, tries + 1); }, 25);
  }
  whenMathJaxReady(drawQuiz, 0);
})();
"""


# jupyterquiz's palette with the site's blue in place of its purple
_COLORS = {"--jq-multiple-choice-bg": "#1f4e79", "--jq-numeric-bg": "#1f4e79"}


def load_questions(chapter: str, name: str) -> list[dict]:
    """The questions called ``name`` in lstm_course/quizzes/<chapter>.json (jupyterquiz's format)."""
    path = QUIZ_DIR / f"{chapter}.json"
    if not path.is_file():
        known = sorted(p.stem for p in QUIZ_DIR.glob("*.json"))
        raise ValueError(f"chapter {chapter!r} has no quiz file {path}; known: {known}")
    sets = json.loads(path.read_text(encoding="utf-8"))
    if name not in sets:
        raise ValueError(f"{path.name} has no question set {name!r}; it has {sorted(sets)}")
    return sets[name]


def quiz(chapter: str, name: str) -> None:
    """Show the question set ``name`` of ``chapter`` with instant feedback (jupyterquiz)."""
    from IPython import get_ipython
    from IPython.display import HTML, Javascript, display
    from IPython.utils.capture import capture_output
    from jupyterquiz import display_quiz

    if get_ipython() is None:
        return  # plain Python (a script, a test running the chapter's code): nothing to show
    with capture_output(stdout=False, stderr=False, display=True) as captured:
        # answers shuffled at each visit, so that the right one is not always first
        display_quiz(load_questions(chapter, name), shuffle_answers=True, max_width=760,
                     colors=_COLORS)  # fmt: skip
    html, script = (out.data for out in captured.outputs)
    if "text/html" not in html or "application/javascript" not in script:
        captured.show()  # a front end without HTML (terminal IPython): what jupyterquiz shows there
        return
    # A wrapper that names the set, so that the site's tests can find every self-check.
    display(
        HTML(
            f'<div class="lstm-selfcheck" data-quiz="{chapter}/{name}">'
            f"{html['text/html']}</div></div>"
        )
    )
    display(Javascript(_AFTER_MATHJAX % script["application/javascript"]))


def show(fig, div_id: str) -> None:
    """Show a Plotly figure: as HTML that the site's local plotly.js draws, or the usual way."""
    from IPython import get_ipython

    if get_ipython() is None:
        return  # plain Python: Plotly would open a web browser
    if not os.environ.get(SITE_BUILD_ENV):
        fig.show()
        return
    from IPython.display import HTML, display

    # nothing on the page that points at Plotly's servers: no logo, no "send to cloud", no URL
    config = {
        "displaylogo": False,
        "responsive": True,
        "showSendToCloud": False,
        "plotlyServerURL": "",
    }
    display(
        HTML(fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config=config))
    )


def _add_slider(fig, steps, active: int, prefix: str, layout: dict):
    """Give ``fig`` a slider that restyles its traces and retitles it, one precomputed step each.

    ``steps`` is a list of (label, title, [one dict of trace attributes per trace]).
    """
    slider_steps = []
    for label, title, per_trace in steps:
        # plain lists: plotly.py would write arrays as base64, which restyle does not decode
        data = {key: [np.asarray(a[key]).tolist() for a in per_trace] for key in per_trace[0]}
        slider_steps.append(
            {"label": label, "method": "update", "args": [data, {"title.text": title}]}
        )
    label, title, per_trace = steps[active]
    for trace, attrs in zip(fig.data, per_trace, strict=True):
        trace.update(attrs)
    fig.update_layout(
        title={"text": title, "font": {"size": 14}},
        sliders=[
            {
                "active": active,
                "steps": slider_steps,
                "currentvalue": {"prefix": prefix},
                "pad": {"t": 45},
            }
        ],
        template="plotly_white",
        margin={"l": 60, "r": 20, "t": 80, "b": 20},
        **layout,
    )
    return fig


def forget_half_life_figure(gates: Sequence[float] = (0.5, 0.7, 0.8, 0.9, 0.95, 0.97, 0.99,
                                                      0.993, 0.995, 0.999), k_max: int = 100,
                            active: int = 3):  # fmt: skip
    """The fraction f^k of a memory left after k steps, for each gate value f on a slider.

    The half-life ln 2 / (-ln f) is marked where it falls inside the plot.
    """
    import plotly.graph_objects as go

    ks = np.arange(k_max + 1)
    traces = [
        go.Scatter(name="fraction kept f^k", mode="lines", line={"width": 3}),
        go.Scatter(name="half-life", mode="lines+markers", line={"dash": "dot", "color": "red"}),
    ]
    steps = []
    for f in gates:
        half = np.log(2) / -np.log(f)
        kept = f**ks
        b = np.log(f / (1 - f))  # the pre-activation that gives this gate value
        title = (
            f"f = {f:g} (pre-activation {b:.1f}): half-life {half:.1f} steps<br>"
            f"after 10 steps {kept[10]:.3f} of the memory is left, after {k_max} steps "
            f"{kept[k_max]:.2g}"
        )
        marker = {"x": [half, half], "y": [0, 0.5]} if half <= k_max else {"x": [], "y": []}
        steps.append((f"{f:g}", title, [{"x": ks, "y": kept}, marker]))
    return _add_slider(
        go.Figure(traces),
        steps,
        active,
        "forget gate f = ",
        {
            "xaxis": {"title": {"text": "steps since the memory was written (k)"}},
            "yaxis": {"title": {"text": "fraction kept"}, "range": [0, 1.02]},
            "height": 430,
            "legend": {"x": 0.98, "xanchor": "right", "y": 0.98},
        },
    )


def _run_hand_set_cell(params: dict, x: np.ndarray) -> dict:
    """Run an LSTM step by step with lstm_ref; return unit 0's f_t, i_t and C_t over time."""
    N, T, _ = x.shape
    H = params["b_f"].shape[0]
    h, c = np.zeros((N, H)), np.zeros((N, H))
    trace = {"f": [], "i": [], "c": []}
    for t in range(T):
        x_t = x[:, t]
        trace["f"].append(forget_gate(h, x_t, params["W_f"], params["b_f"])[0, 0])
        trace["i"].append(input_gate(h, x_t, params["W_i"], params["b_i"])[0, 0])
        h, c, _ = lstm_cell_forward(x_t, h, c, params)
        trace["c"].append(c[0, 0])
    return {name: np.array(values) for name, values in trace.items()}


def hand_set_cell_figure(params: dict, x: np.ndarray, b_f_values: Sequence[float],
                         active: int, store_at: int, read_at: int):  # fmt: skip
    """Chapter 2's hand-set cell with its forget bias b_f on a slider.

    params: the cell's weights (one unit); x (1, T, 2): the value and the store flag. Each slider
    step reruns the cell with lstm_ref's gates; the title reports the gate with the flag off and
    how much of the value stored at ``store_at`` is left at ``read_at``.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    steps_t = np.arange(x.shape[1])
    flags = np.flatnonzero(x[0, :, 1])
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08)
    traces = [
        go.Scatter(name="forget gate f_t", mode="lines", line={"color": "#1f77b4"}),
        go.Scatter(name="input gate i_t", mode="lines", line={"color": "#ff7f0e"}),
        go.Scatter(name="cell state C_t", mode="lines", line={"shape": "hvh", "color": "#2ca02c"}),
    ]
    for trace, row in zip(traces, (1, 1, 2), strict=True):
        fig.add_trace(trace, row=row, col=1)
    fig.add_trace(
        go.Scatter(x=steps_t, y=np.tanh(x[0, :, 0]), name="tanh(value)", mode="lines",
                   line={"dash": "dot", "color": "grey"}),
        row=2, col=1,
    )  # fmt: skip
    steps = []
    for b_f in b_f_values:
        p = dict(params, b_f=np.array([float(b_f)]))
        run = _run_hand_set_cell(p, x)
        f_off = float(sigmoid(np.array(b_f)))  # flag off: the forget gate is σ(b_f)
        stored, read = run["c"][store_at], run["c"][read_at]
        title = (
            f"b_f = {b_f:g}: with the flag off, f_t = {f_off:.4f}<br>the value stored at "
            f"t = {store_at} ({stored:+.3f}) is {read:+.3f} at t = {read_at}"
        )
        steps.append(
            (f"{b_f:g}", title, [{"x": steps_t, "y": run[k]} for k in ("f", "i", "c")]
             + [{"x": steps_t, "y": np.tanh(x[0, :, 0])}])
        )  # fmt: skip
    fig = _add_slider(
        fig,
        steps,
        active,
        "forget bias b_f = ",
        {
            "height": 520,
            "yaxis": {"title": {"text": "gate value"}, "range": [-0.05, 1.05]},
            "yaxis2": {"title": {"text": "memory"}, "range": [-1.05, 1.05]},
            "xaxis2": {"title": {"text": "time step t"}},
            "legend": {"x": 1.02, "y": 1, "xanchor": "left"},
        },
    )
    fig.update_layout(
        shapes=[
            {"type": "line", "xref": "x2", "yref": "paper", "x0": t, "x1": t, "y0": 0, "y1": 1,
             "line": {"color": "rgba(214,39,40,0.35)", "width": 2}}
            for t in flags
        ]
    )  # fmt: skip
    return fig


def state_gradient_norms(cell: str, params: dict, x: np.ndarray, u: np.ndarray) -> np.ndarray:
    """||d(u·h_T)/d s_t|| for t = 1..T, averaged over the batch, by lstm_ref's backward steps.

    s_t = h_t for the RNN, (h_t, C_t) for the LSTM, where C_t's gradient is what step t + 1 sends
    back (C_T itself reaches u·h_T only through h_T). x (N, T, D), u (H,).
    """
    N, T, _ = x.shape
    H = u.shape[0]
    h, c, caches = np.zeros((N, H)), np.zeros((N, H)), []
    for t in range(T):
        if cell == "lstm":
            h, c, cache = lstm_cell_forward(x[:, t], h, c, params)
        else:
            h, cache = rnn_cell_forward(x[:, t], h, params)
        caches.append(cache)
    dh, dc = np.tile(u, (N, 1)), np.zeros((N, H))
    norms = np.empty(T)
    for t in reversed(range(T)):
        norms[t] = np.sqrt((dh**2).sum(1) + (dc**2).sum(1)).mean()
        if cell == "lstm":
            _, dh, dc, _ = lstm_cell_backward(dh, dc, caches[t])
        else:
            _, dh, _ = rnn_cell_backward(dh, caches[t])
    return norms


def gradient_through_time_figure(b_f_values: Sequence[float] = (-1, 0, 1, 2, 3, 4, 5, 6),
                                 T: int = 300, H: int = 16, D: int = 5, N: int = 16,
                                 active: int = 1, seed: int = 0):  # fmt: skip
    """How much gradient reaches back t steps: an RNN, and an LSTM whose forget bias is on a slider.

    Untrained weights from lstm_ref.params.init_params (PyTorch's default distribution), the
    LSTM's forget bias set to each slider value; the loss is u·h_T with u a random unit vector.
    """
    import plotly.graph_objects as go

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, D))
    u = rng.standard_normal(H)
    u /= np.linalg.norm(u)
    distance = T - 1 - np.arange(T)  # T - t
    rnn = state_gradient_norms("rnn", init_params("rnn", D, H, seed=seed), x, u)
    lstm_params = init_params("lstm", D, H, seed=seed)
    traces = [
        go.Scatter(x=distance, y=rnn, name="simple RNN", mode="lines", line={"color": "grey"}),
        go.Scatter(name="LSTM", mode="lines", line={"color": "#1f77b4", "width": 3}),
    ]
    steps = []
    for b_f in b_f_values:
        g = state_gradient_norms("lstm", dict(lstm_params, b_f=np.full(H, float(b_f))), x, u)
        f = float(sigmoid(np.array(b_f)))
        title = (
            f"forget bias {b_f:g}: forget gates near σ({b_f:g}) = {f:.2f}<br>"
            f"gradient from 100 steps back: LSTM {g[-101]:.1e}, RNN {rnn[-101]:.1e}"
        )
        steps.append((f"{b_f:g}", title, [{"x": distance, "y": rnn}, {"x": distance, "y": g}]))
    return _add_slider(
        go.Figure(traces),
        steps,
        active,
        "LSTM forget-gate bias b_f = ",
        {
            "xaxis": {"title": {"text": "distance T - t (steps)"}},
            "yaxis": {"title": {"text": "gradient size"}, "type": "log", "range": [-60, 1],
                      "dtick": 10, "exponentformat": "power"},
            "height": 450,
            "legend": {"x": 0.02, "y": 0.02, "yanchor": "bottom"},
        },
    )  # fmt: skip
