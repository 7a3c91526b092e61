"""Figures the book draws from code: one LSTM cell diagram, reused with a part highlighted.

``draw_lstm_cell(highlight=...)`` draws the cell in the layout readers know from colah's blog:
the cell state C runs along the top, the hidden state h along the bottom, and four layers
(σ, σ, tanh, σ) sit between them. ``highlight`` names the parts a chapter talks about; they are
drawn in colour and everything else in grey. ``backward=True`` draws the same graph run
backwards (every arrow reversed, every label a gradient δ), for backpropagation through time;
``draw_unrolled(backward=True)`` does the same for a whole sequence. The other functions are small
plotting helpers the chapters share (vectors as rows of numbered boxes, values over time as heat
maps).

Importing this module imports matplotlib; ``import lstm_ref`` does not import it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, Ellipse, FancyArrowPatch, FancyBboxPatch

__all__ = [
    "LSTM_PARTS",
    "RNN_PARTS",
    "UNROLLED_PARTS",
    "draw_lstm_cell",
    "draw_rnn_cell",
    "draw_unrolled",
    "show_vectors",
    "plot_over_time",
]

# The parts of the LSTM diagram that ``highlight`` accepts, and what each one lights up.
LSTM_PARTS: dict[str, str] = {
    "cell_state": "the cell state line C_{t-1} -> C_t (long-term memory) with its × and +",
    "hidden_state": "the hidden state h_{t-1} in, h_t out twice (short-term memory)",
    "inputs": "the inputs h_{t-1} and x_t and their concatenation [h_{t-1}, x_t]",
    "forget": "the forget gate f_t and the × that applies it to C_{t-1}",
    "input": "the input gate i_t and the × that scales the candidate",
    "candidate": "the candidate C̃_t (a tanh layer: the simple RNN inside the cell)",
    "cell_update": "C_t = f_t * C_{t-1} + i_t * C̃_t: the two × and the +",
    "output": "the output gate o_t, tanh(C_t) and the × that makes h_t",
}
UNROLLED_PARTS: dict[str, str] = {
    "cell_state": "the cell-state line C_0 -> C_1 -> ... (backwards: the constant error carousel)",
    "hidden_state": "the hidden-state line h_0 -> h_1 -> ... and the head",
}
RNN_PARTS: dict[str, str] = {
    "hidden_state": "h_{t-1} in, h_t out",
    "inputs": "x_t and the concatenation [h_{t-1}, x_t]",
    "tanh": "the one tanh layer",
}

# Udacity's names for the same parts, shown when ``names="udacity"``.
_UDACITY = {
    "forget": "forget gate",
    "learn": "learn gate",
    "remember": "remember gate",
    "use": "use gate",
}

ON = "#d9480f"  # highlighted lines and nodes
ON_FILL = "#ffd8a8"
OFF = "#adb5bd"  # everything not under discussion
OFF_FILL = "#f1f3f5"
TEXT = "#212529"
LAYER_FILL = "#fff3bf"  # neural-network layers (σ, tanh boxes), as colah colours them
OP_FILL = "#fcc2d7"  # point-wise operations (×, +, tanh)


def _check_highlight(highlight, allowed: dict[str, str]) -> set[str]:
    if highlight is None:
        return set()
    if isinstance(highlight, str):
        highlight = [highlight]
    chosen = set(highlight)
    unknown = chosen - set(allowed) - {"all"}
    if unknown:
        raise ValueError(
            f"highlight has unknown part(s) {sorted(unknown)}, expected some of {sorted(allowed)}"
        )
    return set(allowed) if "all" in chosen else chosen


def _rounded_box(ax, xy, w, h, fc, ec=TEXT, rounding=0.15, pad=0.03, lw=1.5, **kw):
    """A rounded rectangle with its lower-left corner at ``xy``: the cell's outline, a layer,
    the head; one style of box for every diagram."""
    style = f"round,pad={pad},rounding_size={rounding}"
    ax.add_patch(FancyBboxPatch(xy, w, h, boxstyle=style, fc=fc, ec=ec, lw=lw, **kw))


class _Painter:
    """Draws lines, boxes and nodes, coloured by whether any of their tags is highlighted.

    With ``backward=True`` every line is drawn from its end to its start, with an arrowhead on
    each segment (gradients flow against the forward arrows), and every math label gets a δ.
    """

    def __init__(self, ax, lit: set[str], any_lit: bool, backward: bool = False):
        self.ax, self.lit, self.any_lit, self.backward = ax, lit, any_lit, backward

    def on(self, tags: Iterable[str]) -> bool:
        return not self.any_lit or bool(self.lit & set(tags))

    def line(self, pts, tags, arrow=True, lw=2.2):
        on = self.on(tags)
        color = (ON if self.any_lit else TEXT) if on else OFF
        if self.backward:
            pts, arrow = list(reversed(pts)), True
        xs, ys = zip(*pts, strict=True)
        if len(pts) > 2:
            self.ax.plot(xs[:-1], ys[:-1], color=color, lw=lw, solid_capstyle="round", zorder=1)
        style = "-|>" if arrow else "-"
        self.ax.add_patch(
            FancyArrowPatch(
                pts[-2],
                pts[-1],
                arrowstyle=style,
                mutation_scale=14,
                color=color,
                lw=lw,
                shrinkA=0,
                shrinkB=0,
                zorder=1,
            )
        )

    def layer(self, xy, text, tags, w=1.0, h=0.62):
        on = self.on(tags)
        fill = (ON_FILL if self.any_lit else LAYER_FILL) if on else OFF_FILL
        edge = (ON if self.any_lit else TEXT) if on else OFF
        x, y = xy
        _rounded_box(self.ax, (x - w / 2, y - h / 2), w, h, fill, edge, 0.08, 0.02, 1.8, zorder=3)
        self.ax.text(x, y, text, ha="center", va="center", fontsize=13, color=edge, zorder=4)

    def op(self, xy, text, tags, r=0.27, oval=False):
        on = self.on(tags)
        fill = (ON_FILL if self.any_lit else OP_FILL) if on else OFF_FILL
        edge = (ON if self.any_lit else TEXT) if on else OFF
        if oval:
            patch = Ellipse(xy, 4.0 * r, 1.7 * r, fc=fill, ec=edge, lw=1.8, zorder=3)
            size = 9
        else:
            patch = Circle(xy, r, fc=fill, ec=edge, lw=1.8, zorder=3)
            size = 14
        self.ax.add_patch(patch)
        self.ax.text(*xy, text, ha="center", va="center", fontsize=size, color=edge, zorder=4)

    def label(self, xy, text, tags, size=13, delta=True, **kw):
        if self.backward and delta and text.startswith("$"):
            text = r"$\delta " + text[1:]  # the gradient of the loss with respect to it
        on = self.on(tags)
        color = (ON if self.any_lit else TEXT) if on else OFF
        kw.setdefault("ha", "center")
        kw.setdefault("va", "center")
        self.ax.text(*xy, text, fontsize=size, color=color, zorder=5, **kw)


def _new_axes(ax, size):
    if ax is None:
        _, ax = plt.subplots(figsize=size)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def draw_lstm_cell(
    ax=None,
    highlight=None,
    names: str = "standard",
    title: str | None = None,
    backward: bool = False,
):
    """Draw one LSTM cell; ``highlight`` (a part name or a list of them) is drawn in colour.

    Parts: see ``LSTM_PARTS`` ("forget", "input", "candidate", "cell_update", "output",
    "cell_state", "hidden_state", "inputs", or "all"). With no highlight everything is drawn in
    the normal colours. ``names="udacity"`` adds Udacity's gate names (forget, learn, remember,
    use) as captions. ``backward=True`` draws the backward graph: arrows reversed, δ labels (δX
    is the loss's gradient with respect to X), the pre-activation gradients δa under the layers,
    and the factor f_t that the cell-state gradient is multiplied by. Returns the matplotlib Axes.
    """
    lit = _check_highlight(highlight, LSTM_PARTS)
    if names not in ("standard", "udacity"):
        raise ValueError(f"names must be 'standard' or 'udacity', got {names!r}")
    if backward and names != "standard":
        raise ValueError("backward=True draws the standard names only, got names='udacity'")
    ax = _new_axes(ax, (7.4, 5.2))
    p = _Painter(ax, lit, bool(lit), backward)

    # The cell's outline.
    _rounded_box(ax, (0.3, 0.3), 9.4, 5.4, "#f8f9fa", "#ced4da", 0.4, 0.05, zorder=0)
    yC, yH, yG = 4.9, 1.0, 2.45  # heights of the cell-state line, the hidden line, the layers
    xf, xi, xc, xo, xout = 2.1, 3.6, 5.2, 6.7, 8.3  # columns of the four layers and of h_t

    cs = ("cell_state", "cell_update")
    # The cell state: C_{t-1} -> × (forget) -> + (input) -> C_t.
    p.line([(-0.9, yC), (xf - 0.27, yC)], cs, arrow=False)
    p.line([(xf + 0.27, yC), (xc - 0.27, yC)], cs, arrow=False)
    p.line([(xc + 0.27, yC), (10.9, yC)], cs)
    p.label((-0.9, yC + 0.38), r"$C_{t-1}$", cs, ha="left")
    p.label((10.9, yC + 0.38), r"$C_t$", cs, ha="right")
    p.op((xf, yC), "×", ("cell_state", "cell_update", "forget"))
    p.op((xc, yC), "+", ("cell_state", "cell_update", "input", "candidate"))

    # The inputs: h_{t-1} from the left, x_t from below, concatenated.
    hin = ("inputs", "hidden_state")
    p.line([(-0.9, yH), (1.3, yH)], hin, arrow=False)
    p.label((-0.9, yH + 0.38), r"$h_{t-1}$", hin, ha="left")
    p.line([(1.3, -0.9), (1.3, yH)], ("inputs",), arrow=False)
    p.label((1.3, -1.15), r"$x_t$", ("inputs",))
    p.line([(1.3, yH), (xo, yH)], ("inputs",), arrow=False)
    ax.add_patch(Circle((1.3, yH), 0.07, color=OFF if lit - {"inputs"} == lit else ON, zorder=2))
    p.label((2.9, yH - 0.35), r"$[h_{t-1}, x_t]$", ("inputs",), size=10)
    for x, tag in ((xf, "forget"), (xi, "input"), (xc, "candidate"), (xo, "output")):
        p.line([(x, yH), (x, yG - 0.31)], ("inputs", tag))

    # The four layers.
    p.layer((xf, yG), r"$\sigma$", ("forget",))
    p.layer((xi, yG), r"$\sigma$", ("input",))
    p.layer((xc, yG), r"$\tanh$", ("candidate",))
    p.layer((xo, yG), r"$\sigma$", ("output",))

    # Forget: f_t up to the × on the cell state.
    p.line([(xf, yG + 0.31), (xf, yC - 0.27)], ("forget",))
    p.label((xf - 0.42, 3.55), r"$f_t$", ("forget",))
    # Input: i_t and C̃_t meet at a ×, whose product goes up to the +.
    ymul = 3.7
    p.line([(xi, yG + 0.31), (xi, ymul), (xc - 0.27, ymul)], ("input",))
    p.label((xi - 0.35, 3.25), r"$i_t$", ("input",))
    p.line([(xc, yG + 0.31), (xc, ymul - 0.27)], ("candidate",))
    p.label((xc + 0.45, 3.15), r"$\tilde{C}_t$", ("candidate",))
    p.op((xc, ymul), "×", ("input", "candidate", "cell_update"))
    p.line([(xc, ymul + 0.27), (xc, yC - 0.27)], ("input", "candidate", "cell_update"))

    # Output: tanh(C_t) times o_t makes h_t, which leaves twice.
    out = ("output",)
    p.line([(xout, yC), (xout, 3.95 + 0.22)], ("output", "cell_state"))
    p.op((xout, 3.95), "tanh", out, oval=True)
    p.line([(xout, 3.95 - 0.22), (xout, yG + 0.27)], out)
    p.line([(xo + 0.5, yG), (xout - 0.27, yG)], out)
    p.label((7.45, yG + 0.32), r"$o_t$", out)
    p.op((xout, yG), "×", out)
    hout = ("output", "hidden_state")
    p.line([(xout, yG - 0.27), (xout, yH), (10.9, yH)], hout)
    p.label((10.9, yH + 0.38), r"$h_t$", hout, ha="right")
    p.line([(9.3, yH), (9.3, 6.9)], hout)
    p.label((9.3, 7.15), r"$h_t$ (from above)" if backward else r"$h_t$ (output)", hout)
    ax.add_patch(Circle((9.3, yH), 0.07, color=ON if lit & set(hout) else TEXT, zorder=2))

    if backward:
        # through each layer: δa = δ(output) times the layer's derivative, from its output
        for x, tag, gate in ((xf, "forget", "f"), (xi, "input", "i"), (xc, "candidate", "c")):
            p.label((x + 0.36, 1.62), rf"$a_{gate}$", (tag,), size=10)
        p.label((xo + 0.36, 1.62), r"$a_o$", ("output",), size=10)
        # the constant error carousel: one step back along C is a product with f_t, nothing else
        carousel = ("cell_state", "cell_update", "forget")
        p.label((xf - 0.95, yC - 0.4), r"$\times f_t$", carousel, size=11, delta=False)

    if names == "udacity":
        captions = {
            "forget": ((xf - 0.1, 5.45), ("forget",)),
            "learn": ((4.45, 1.55), ("input", "candidate")),
            "remember": ((xc + 0.2, 5.45), ("cell_update",)),
            "use": ((xout - 0.35, 1.55), ("output",)),
        }
        for key, (xy, tags) in captions.items():
            p.label(xy, _UDACITY[key], tags, size=10, style="italic")

    ax.set_xlim(-1.1, 11.1)
    ax.set_ylim(-1.5, 7.5)
    if title:
        ax.set_title(title)
    return ax


def draw_rnn_cell(ax=None, highlight=None, title: str | None = None):
    """Draw the simple (Elman) RNN cell h_t = tanh(W_h · [h_{t-1}, x_t] + b_h).

    Parts: see ``RNN_PARTS`` ("hidden_state", "inputs", "tanh", or "all"). Returns the Axes.
    """
    lit = _check_highlight(highlight, RNN_PARTS)
    ax = _new_axes(ax, (5.2, 4.4))
    p = _Painter(ax, lit, bool(lit))
    _rounded_box(ax, (0.3, 0.3), 5.4, 4.0, "#f8f9fa", "#ced4da", 0.4, 0.05, zorder=0)
    hs = ("hidden_state", "inputs")
    p.line([(-0.9, 1.0), (1.4, 1.0)], hs, arrow=False)
    p.label((-0.9, 1.38), r"$h_{t-1}$", hs, ha="left")
    p.line([(1.4, -0.9), (1.4, 1.0)], ("inputs",), arrow=False)
    p.label((1.4, -1.15), r"$x_t$", ("inputs",))
    p.line([(1.4, 1.0), (3.0, 1.0), (3.0, 2.0 - 0.31)], ("inputs", "tanh"))
    p.label((2.2, 0.65), r"$[h_{t-1}, x_t]$", ("inputs",), size=10)
    p.layer((3.0, 2.0), r"$\tanh$", ("tanh",))
    hout = ("hidden_state", "tanh")
    p.line([(3.0, 2.31), (3.0, 3.2), (4.4, 3.2), (4.4, 1.0), (6.9, 1.0)], hout)
    p.label((6.9, 1.38), r"$h_t$", hout, ha="right")
    p.line([(5.2, 1.0), (5.2, 5.5)], hout)
    p.label((5.2, 5.75), r"$h_t$ (output)", hout)
    ax.set_xlim(-1.1, 7.1)
    ax.set_ylim(-1.5, 6.1)
    if title:
        ax.set_title(title)
    return ax


def draw_unrolled(
    T: int = 5,
    ax=None,
    cell: str = "LSTM",
    head: str | None = "linear",
    labels: Sequence[str] | None = None,
    title: str | None = None,
    backward: bool = False,
    highlight=None,
):
    """Draw a cell unrolled over T steps: the same cell (same weights) applied at each step.

    The top line carries C (for an LSTM), the bottom line h; ``head="linear"`` adds the linear
    layer applied once, to the last h_T (a many-to-one task such as a price forecast). ``labels``
    names the inputs (default x_1 ... x_T). ``backward=True`` reverses every arrow and labels the
    gradients (δh, δC, and the forget gate f that multiplies δC at each step back); ``highlight``
    ("cell_state" or "hidden_state", see ``UNROLLED_PARTS``) colours one of the two lines.
    Returns the Axes.
    """
    if T < 1:
        raise ValueError(f"T must be at least 1, got {T}")
    if labels is not None and len(labels) != T:
        raise ValueError(f"labels has {len(labels)} entries, expected T = {T}")
    lit = _check_highlight(highlight, UNROLLED_PARTS)
    ax = _new_axes(ax, (1.6 * T + 3, 3.6))
    p = _Painter(ax, lit, bool(lit), backward)
    lstm = cell.upper() in ("LSTM", "PEEPHOLE", "COUPLED")
    cs, hs = ("cell_state",), ("hidden_state",)
    for t in range(T):
        x0 = 1.6 * t
        _rounded_box(ax, (x0 + 0.2, 0.6), 1.0, 1.4, LAYER_FILL)
        ax.text(x0 + 0.7, 1.3, cell, ha="center", va="center", fontsize=9)
        name = labels[t] if labels is not None else f"$x_{{{t + 1}}}$"
        p.line([(x0 + 0.7, -0.3), (x0 + 0.7, 0.6)], ("inputs",))
        p.label((x0 + 0.7, -0.55), name, ("inputs",), size=11)
        if t < T - 1:
            p.line([(x0 + 1.2, 0.95), (x0 + 1.8, 0.95)], hs)
            if lstm:
                p.line([(x0 + 1.2, 1.65), (x0 + 1.8, 1.65)], cs)
                if backward and labels is None:  # δC_{t+1} leaves step t+2 multiplied by f_{t+2}
                    factor = rf"$\times f_{{{t + 2}}}$"
                    p.label((x0 + 1.5, 1.95), factor, cs, size=9, delta=False)
    last = 1.6 * (T - 1)
    p.label((-0.25, 0.95), r"$h_0$", hs, size=11, ha="right")
    p.line([(-0.2, 0.95), (0.2, 0.95)], hs)
    if lstm:
        p.label((-0.25, 1.65), r"$C_0$", cs, size=11, ha="right")
        p.line([(-0.2, 1.65), (0.2, 1.65)], cs)
    if head:
        p.line([(last + 0.7, 2.0), (last + 0.7, 2.8)], hs)
        p.label((last + 0.88, 2.4), r"$h_T$", hs, size=11, ha="left")
        _rounded_box(ax, (last + 0.2, 2.8), 1.0, 0.6, OP_FILL, rounding=0.1)
        ax.text(last + 0.7, 3.1, head, ha="center", va="center", fontsize=9)
        p.line([(last + 0.7, 3.4), (last + 0.7, 4.0)], hs)
        p.label((last + 0.7, 4.25), r"$L$" if backward else r"$\hat{y}$", hs, size=12, delta=False)
    ax.set_xlim(-1.0, 1.6 * T + 0.2)
    ax.set_ylim(-1.0, 4.6 if head else 2.4)
    if title:
        ax.set_title(title)
    return ax


def show_vectors(
    rows: Sequence[tuple[str, Sequence[float]]],
    ax=None,
    highlight: Iterable[int] = (),
    fmt: str = "{:.2f}",
    cmap: str = "RdBu_r",
    title: str | None = None,
):
    """Draw vectors as rows of numbered boxes, coloured by value in [-1, 1].

    ``rows`` is a list of (name, values) with the same length; the columns in ``highlight`` are
    outlined (e.g. the entry a forget gate drops). Returns the Axes.
    """
    if not rows:
        raise ValueError("rows is empty, expected at least one (name, values) pair")
    widths = {len(v) for _, v in rows}
    if len(widths) != 1:
        raise ValueError(f"rows must all have the same length, got lengths {sorted(widths)}")
    (H,) = widths
    ax = _new_axes(ax, (1.1 * H + 2.4, 0.75 * len(rows) + 0.6))
    colours = plt.get_cmap(cmap)
    marked = set(highlight)
    for r, (name, values) in enumerate(rows):
        y = -r
        ax.text(-0.2, y, name, ha="right", va="center", fontsize=12)
        for j, v in enumerate(np.asarray(values, dtype=float)):
            fc = colours(0.5 + 0.5 * float(np.clip(v, -1, 1)))
            ec, lw = (ON, 3.0) if j in marked else ("#495057", 1.0)
            ax.add_patch(
                FancyBboxPatch(
                    (j + 0.06, y - 0.36), 0.88, 0.72, boxstyle="square,pad=0", fc=fc, ec=ec, lw=lw
                )
            )
            dark = abs(v) > 0.65
            ax.text(
                j + 0.5,
                y,
                fmt.format(v),
                ha="center",
                va="center",
                fontsize=10,
                color="white" if dark else TEXT,
            )
    ax.set_xlim(-2.4, H + 0.1)
    ax.set_ylim(-len(rows) + 0.4, 0.6)
    if title:
        ax.set_title(title)
    return ax


def plot_over_time(
    values,
    ax=None,
    title: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    cmap: str = "viridis",
    ylabel: str = "unit",
    colorbar: bool = True,
):
    """Heat map of a (T, H) array: time along x, one row per hidden unit. Returns the Axes."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 2:
        raise ValueError(f"values has shape {values.shape}, expected (T, H)")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 2.2))
    im = ax.imshow(
        values.T, aspect="auto", origin="lower", cmap=cmap, vmin=vmin, vmax=vmax,
        interpolation="nearest",
    )  # fmt: skip
    ax.set_xlabel("time step t")
    ax.set_ylabel(ylabel)
    ax.set_yticks(range(values.shape[1]))
    if title:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, pad=0.01)
    return ax
