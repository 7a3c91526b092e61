"""lstm_course.figures: the figures the chapters share draw what they are asked to, and say why not."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from lstm_course import figures  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _text_colors(ax) -> dict[str, str]:
    return {t.get_text(): to_hex(t.get_color()) for t in ax.texts}


@pytest.mark.parametrize("part", sorted(figures.LSTM_PARTS))
def test_lstm_cell_highlights_each_part(part):
    """Check that every named part can be highlighted and that something is drawn in colour."""
    ax = figures.draw_lstm_cell(highlight=part)
    colours = {to_hex(p.get_edgecolor()) for p in ax.patches}
    assert figures.ON in colours, f"highlight={part!r} drew nothing in the highlight colour"
    assert figures.OFF in colours, f"highlight={part!r} left nothing grey"


def test_forget_highlight_colours_f_t_but_not_o_t():
    """Check that highlighting the forget gate colours its label f_t and greys o_t."""
    colors = _text_colors(figures.draw_lstm_cell(highlight="forget"))
    assert colors["$f_t$"] == figures.ON
    assert colors["$o_t$"] == figures.OFF


def test_no_highlight_draws_everything_in_normal_colours():
    """Check that without a highlight nothing is greyed out."""
    ax = figures.draw_lstm_cell()
    assert figures.OFF not in set(_text_colors(ax).values())


def test_udacity_names_are_drawn():
    """Check that names='udacity' adds the four Udacity gate names."""
    texts = _text_colors(figures.draw_lstm_cell(names="udacity"))
    for name in ("forget gate", "learn gate", "remember gate", "use gate"):
        assert name in texts


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"highlight": "forgot"}, "unknown part"),
        ({"highlight": ["forget", "outptu"]}, "outptu"),
        ({"names": "keras"}, "names must be"),
    ],
)
def test_lstm_cell_rejects_bad_arguments(kwargs, message):
    """Check that a misspelt part or naming scheme is named in the error."""
    with pytest.raises(ValueError, match=message):
        figures.draw_lstm_cell(**kwargs)


def test_rnn_cell_and_unrolled_draw():
    """Check the RNN cell and the unrolled chain: labels present, bad arguments refused."""
    ax = figures.draw_rnn_cell(highlight="tanh")
    assert "$h_t$" in _text_colors(ax)
    ax = figures.draw_unrolled(4, labels=["a", "b", "c", "d"])
    texts = _text_colors(ax)
    assert {"a", "b", "c", "d", "linear"} <= set(texts)
    assert sum(t == "LSTM" for t in (t.get_text() for t in ax.texts)) == 4
    with pytest.raises(ValueError, match="labels has 2 entries, expected T = 3"):
        figures.draw_unrolled(3, labels=["a", "b"])
    with pytest.raises(ValueError, match="T must be at least 1"):
        figures.draw_unrolled(0)


def test_show_vectors_writes_every_value_and_outlines_highlight():
    """Check that show_vectors prints each number and outlines exactly the highlighted column."""
    rows = [("C", [1.0, 2.0, -0.5]), ("f", [0.9, 0.01, 0.8])]
    ax = figures.show_vectors(rows, highlight=[1])
    texts = [t.get_text() for t in ax.texts]
    for value in ("1.00", "2.00", "-0.50", "0.90", "0.01", "0.80"):
        assert value in texts
    outlined = [p for p in ax.patches if to_hex(p.get_edgecolor()) == figures.ON]
    assert len(outlined) == 2  # one box per row in column 1
    with pytest.raises(ValueError, match="same length"):
        figures.show_vectors([("a", [1.0]), ("b", [1.0, 2.0])])


def test_plot_over_time_shows_t_by_h_and_refuses_3d():
    """Check that a (T, H) array is drawn with time along x and units along y."""
    values = np.arange(12.0).reshape(6, 2)  # T = 6, H = 2
    ax = figures.plot_over_time(values, colorbar=False)
    image = ax.images[0].get_array()
    assert image.shape == (2, 6)
    np.testing.assert_array_equal(image, values.T)
    with pytest.raises(ValueError, match=r"expected \(T, H\)"):
        figures.plot_over_time(np.zeros((2, 3, 4)))


def test_backward_cell_labels_gradients_and_reverses_arrows():
    """Check that backward=True labels every state with a δ and points the C line's arrow left."""
    forward = figures.draw_lstm_cell()
    backward = figures.draw_lstm_cell(backward=True)
    texts = _text_colors(backward)
    for label in (r"$\delta C_{t-1}$", r"$\delta h_{t-1}$", r"$\delta x_t$", r"$\delta f_t$"):
        assert label in texts, f"{label} missing from the backward diagram"
    assert r"$C_{t-1}$" in _text_colors(forward) and r"$C_{t-1}$" not in texts
    assert r"$\times f_t$" in texts  # the carousel's only factor

    def c_line_arrow(ax):  # the arrow on the cell-state line (y = 4.9) that has a head
        for patch in ax.patches:
            path = getattr(patch, "_posA_posB", None)
            if path and path[0][1] == path[1][1] == 4.9:
                yield path[1][0] - path[0][0]

    forward_dx, backward_dx = list(c_line_arrow(forward)), list(c_line_arrow(backward))
    assert forward_dx and all(dx > 0 for dx in forward_dx), forward_dx
    assert backward_dx and all(dx < 0 for dx in backward_dx), backward_dx


def test_backward_carousel_highlight_and_refusals():
    """Check the carousel highlight colours δC and greys δh, and that bad combinations are named."""
    texts = _text_colors(figures.draw_lstm_cell(backward=True, highlight="cell_state"))
    assert texts[r"$\delta C_{t-1}$"] == figures.ON
    assert texts[r"$\delta h_{t-1}$"] == figures.OFF
    with pytest.raises(ValueError, match="backward=True draws the standard names only"):
        figures.draw_lstm_cell(backward=True, names="udacity")


def test_unrolled_backward_marks_each_forget_factor():
    """Check that the unrolled backward chain labels δC_0, δh_0 and the factors f_2 ... f_T."""
    ax = figures.draw_unrolled(4, backward=True, highlight="cell_state")
    texts = _text_colors(ax)
    assert {r"$\delta C_0$", r"$\delta h_0$", "$L$"} <= set(texts)
    assert [t for t in texts if t.startswith(r"$\times f_")] == [
        r"$\times f_{2}$",
        r"$\times f_{3}$",
        r"$\times f_{4}$",
    ]
    assert texts[r"$\delta C_0$"] == figures.ON and texts[r"$\delta h_0$"] == figures.OFF
    with pytest.raises(ValueError, match="unknown part"):
        figures.draw_unrolled(3, highlight="gates")
