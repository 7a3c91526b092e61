"""Chapters 9, 11 and 12 state what their experiments found; these tests hold them to it.

The printed results come from the build's jupyter-cache, read by ``printed`` of test_claims (one
reader for all chapters). Where a number can be recomputed independently it is: the unigram and
bigram baselines of chapter 11 from the shipped text with plain Python, the best left-to-right
accuracy of chapter 12 by simulation, and the packing check of chapter 9 on fresh data in float64.
"""

from __future__ import annotations

import importlib.util
import math
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

# The tests that read the build use the built_site fixture, which tests/conftest.py marks slow; the
# text and packing checks need no build and run in `make test-fast`.
pytestmark = [pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
TEXT = ROOT / "book" / "data" / "tinyshakespeare.txt"

# test_claims holds the one reader of executed outputs; --import-mode=importlib puts no test
# folder on sys.path, so load it by path.
_spec = importlib.util.spec_from_file_location(
    "_book_claims", Path(__file__).with_name("test_claims.py")
)
_claims = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_claims)
printed = _claims.printed


def number(pattern: str, out: str) -> float:
    """The first group of pattern in out, as a float; fails with the pattern if it is missing."""
    match = re.search(pattern, out, re.M)
    assert match, f"the chapter printed nothing matching {pattern!r}"
    return float(match.group(1))


# ---------------------------------------------------------------------------------------------
# Chapter 11: the character-level language model


def _baselines_by_hand() -> tuple[float, float]:
    """Held-out bits per character of the add-one unigram and bigram models, in plain Python."""
    text = TEXT.read_text(encoding="utf-8")
    vocabulary = set(text)
    split = int(0.9 * len(text))
    train, held = text[:split], text[split:]
    unigram = Counter(train)
    total = len(train) + len(vocabulary)
    uni = -sum(math.log2((unigram[ch] + 1) / total) for ch in held) / len(held)
    pairs = Counter(zip(train, train[1:], strict=False))
    after = Counter(train[:-1])  # how often each character is followed by another
    bi = -sum(
        math.log2((pairs[a, b] + 1) / (after[a] + len(vocabulary)))
        for a, b in zip(held, held[1:], strict=False)
    ) / (len(held) - 1)
    return uni, bi


def test_ch11_text_ships_and_has_no_quotes_or_brackets():
    """The text is in the repository, of the size the README states, and has none of the
    characters whose cells the chapter says it could not look for."""
    text = TEXT.read_text(encoding="utf-8")
    assert len(text) == 300_174, len(text)
    assert len(set(text)) == 62
    for ch in '"()[]{}':
        assert ch not in text, f"{ch!r} occurs in the text; chapter 11 says it does not"


def test_ch11_baselines_match_an_independent_count(built_site):
    """Check the unigram and bigram baselines printed by chapter 11 against a count in plain
    Python (a different program from the chapter's NumPy one)."""
    out = printed(built_site, "11_char_lm")
    uni, bi = _baselines_by_hand()
    page_uni = number(r"unigram baseline: ([\d.]+) bits/char", out)
    page_bi = number(r"bigram baseline:\s+([\d.]+) bits/char", out)
    assert abs(page_uni - uni) < 1e-3, f"unigram: page {page_uni}, recomputed {uni:.4f}"
    assert abs(page_bi - bi) < 1e-3, f"bigram: page {page_bi}, recomputed {bi:.4f}"


def test_ch11_lstm_beats_the_baselines_as_stated(built_site):
    """The text: about 2.1 bits/char held-out, about 1.5 bits below the bigram, train a little
    below held-out, the training loss below both baselines within the first fifty updates."""
    out = printed(built_site, "11_char_lm")
    _, bi = _baselines_by_hand()
    lstm = number(r"LSTM held-out: ([\d.]+) bits/char", out)
    train = number(r"train, last 100 updates: ([\d.]+)", out)
    assert 1.9 < lstm < 2.3, f"held-out {lstm} bits/char; the summary says about 2.1"
    assert 1.2 < bi - lstm < 1.8, f"{bi - lstm:.2f} bits below the bigram; text: about 1.5"
    assert 0 < lstm - train < 0.4, f"train {train} vs held-out {lstm}: text says a small gap"
    below_uni = number(r"below the unigram baseline from update (\d+)", out)
    below_bi = number(r"below the bigram baseline from update (\d+)", out)
    assert below_uni <= below_bi <= 50, f"from updates {below_uni}, {below_bi}: text says 50"


def _samples(out: str) -> dict[str, str]:
    """The samples the chapter printed, by their header."""
    parts = re.split(r"^----- (.+?) -----$", out, flags=re.M)
    return {parts[k]: parts[k + 1] for k in range(1, len(parts) - 1, 2)}


def test_ch11_samples_show_what_the_text_says(built_site):
    """After 100 updates no speaker name in capitals on its own line; after the full run there
    are; temperature trades real words for variety, in the proportions the text gives."""
    samples = _samples(printed(built_site, "11_char_lm"))
    name_line = re.compile(r"^[A-Z][A-Z ]+:$", re.M)
    early = samples["after 100 updates, temperature 1.0"].split("\n", 2)[2]  # after the prompt
    late = samples["after 2000 updates, temperature 1.0"].split("\n", 2)[2]
    assert not name_line.search(early), early
    assert name_line.search(late), late
    out = printed(built_site, "11_char_lm")
    rows = {
        float(t): (int(real) / 100, int(distinct) / 100)
        for t, real, distinct in re.findall(r"^\s+([\d.]+)\s+(\d+)%\s+(\d+)%$", out, re.M)
    }
    assert sorted(rows) == [0.2, 0.5, 1.0, 1.5], rows
    reals = [rows[t][0] for t in sorted(rows)]
    distinct = [rows[t][1] for t in sorted(rows)]
    assert reals == sorted(reals, reverse=True) and distinct == sorted(distinct), rows
    assert rows[0.2][0] > 0.95 and rows[0.2][1] < 0.3, "text: nearly all real, a fifth distinct"
    assert 0.4 < rows[1.5][0] < 0.65 and rows[1.5][1] > 0.6, "text: about half real, most distinct"


def test_ch11_cells_found_as_reported(built_site):
    """The text: a line-position cell with |r| about 0.9 (untrained about 0.2), a speaker-line
    cell with |r| near 0.75 (untrained about 0.3) on the same unit as capitals, and the weak
    features no better than the untrained model's; C_t recomputed consistently with nn.LSTM."""
    out = printed(built_site, "11_char_lm")
    rows = {
        name.strip(): (int(unit), float(r), float(r0))
        for name, unit, r, r0 in re.findall(
            r"^([a-z -]+?)\s+unit\s+(\d+)\s+([+-][\d.]+)\s+\|\s+([\d.]+)$", out, re.M
        )
    }
    assert len(rows) == 5, rows
    unit, r, r0 = rows["position in line"]
    assert abs(r) > 0.85 and r0 < 0.3, rows["position in line"]
    unit_s, r, r0 = rows["speaker-name line"]
    assert 0.7 < abs(r) < 0.85 and r0 < 0.4, rows["speaker-name line"]
    assert rows["capital letter"][0] == unit_s, "text: capitals picked the speaker-line unit"
    for weak in ("capital letter", "position in word", "newline"):
        assert abs(rows[weak][1]) < 0.7, f"text calls {weak} weak: {rows[weak]}"
    assert rows["newline"][2] > abs(rows["newline"][1]), "text: untrained ahead for the newline"
    length = number(r"mean length of a non-empty line: (\d+) characters", out)
    assert 30 <= length <= 38, f"mean line length {length}: the text says about 34"
    one_pass = number(r"held-out, one pass over all \d+ characters: ([\d.]+)", out)
    windows = number(r"held-out, in windows of 100 from a zero state:\s+([\d.]+)", out)
    assert one_pass < windows, f"text: the long pass is slightly better ({one_pass}, {windows})"
    gap = number(r"largest \|o_t \* tanh\(C_t\) - h_t\| = (\S+)", out)
    assert gap < 1e-5
    assert "double quotes: 0  parentheses: 0  square brackets: 0" in out


# ---------------------------------------------------------------------------------------------
# Chapter 9: training in practice


def test_ch9_gradient_vanishes_or_explodes_as_stated(built_site):
    """The gradient reaching the first step vanishes with the default weights, decays slowly with
    weight_hh x 4 and grows by orders of magnitude over 200 steps with weight_hh x 8."""
    out = printed(built_site, "09_training")
    rows = {
        int(scale): [float(v) for v in values.split()]
        for scale, values in re.findall(r"^\s+([148])\s+((?:\S+e[+-]\d+\s*){6})$", out, re.M)
    }
    assert sorted(rows) == [1, 4, 8], rows
    default, times4, times8 = rows[1], rows[4], rows[8]
    assert default == sorted(default, reverse=True) and default[-1] < 1e-20, default
    assert 1e-12 < times4[-1] < times4[0], times4
    assert times8[-1] > 1e3 * times8[0], times8


def test_ch9_clipping_as_stated(built_site):
    """Norm clipping gives norm 1 and the same direction; with it every run ends lower and
    learns, without it run 3 stays at the mean-guessing level; plain SGD overflows unclipped."""
    out = printed(built_site, "09_training")
    before = number(r"gradient norm before clipping: ([\d.]+)", out)
    assert before > 5, f"the demonstration gradient is {before}, not large"
    assert number(r"gradient norm after clipping:\s+([\d.]+)", out) == pytest.approx(1.0, abs=1e-4)
    assert number(r"cosine between the two: ([\d.]+)", out) == pytest.approx(1.0, abs=1e-6)
    table = {
        int(s): (float(a), float(b))
        for s, a, b in re.findall(r"^\s+(\d)\s+([\d.]+)\s+([\d.]+)$", out, re.M)
    }
    assert sorted(table) == [0, 1, 2, 3], table
    for seed, (no_clip, clipped) in table.items():
        assert clipped < no_clip, f"seed {seed}: clipped {clipped} >= unclipped {no_clip}"
        assert clipped < 0.01, f"seed {seed}: clipped run ends at {clipped}, text says learned"
    assert table[3][0] > 0.1, "text: run 3 without clipping ends at the mean-guessing level"
    median = number(r"median gradient norm ([\d.]+)", out)
    assert number(r"median gradient norm [\d.]+, largest ([\d.]+)", out) > 10 * median
    assert re.search(r"clip None: first nan loss at update \d+, final loss nan", out)
    assert "clip 1.0: first nan loss at update None" in out


def test_ch9_truncated_bptt_as_stated(built_site):
    """.detach() stops the backward pass at the chunk (and makes it faster); forgetting it raises;
    resetting the state costs at the chunk start; the reset-trained model is as good when used
    with a carried state."""
    out = printed(built_site, "09_training")
    assert re.search(r"detach=True\s+chunks reached:\s+1 of 40", out)
    assert re.search(r"detach=False\s+chunks reached: 40 of 40", out)
    small = number(r"detach=True .* backward graph:\s+(\d+)", out)
    large = number(r"detach=False .* backward graph:\s+(\d+)", out)
    assert large > 20 * small, f"backward graph of {large} operations without detach vs {small}"
    fast = number(r"detach=True .* backward time\s+([\d.]+) ms", out)
    slow = number(r"detach=False .* backward time\s+([\d.]+) ms", out)
    assert slow > 2 * fast, f"backward {slow} ms without detach vs {fast} ms with"
    assert "Trying to backward through the graph a second time" in out
    mse = {
        (a, b): float(v)
        for a, b, v in re.findall(
            r"^(carried|reset) state\s+(carried|reset) state\s+([\d.]+)$", out, re.M
        )
    }
    assert len(mse) == 4, mse
    assert mse["carried", "carried"] < mse["reset", "reset"] < mse["carried", "reset"]
    assert mse["reset", "carried"] < 1.1 * mse["carried", "carried"]


def test_ch9_exposure_bias_as_stated(built_site):
    """Free running 10 steps ahead is more than ten times the one-step error; the 25% mix is
    lower at 10 steps, higher on average over 80, with about the same one-step error."""
    out = printed(built_site, "09_training")
    assert number(r"10 steps ahead / one-step MSE = (\d+)", out) > 10
    row = r"^{}\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)"
    tf = [float(v) for v in re.search(row.format("teacher forcing"), out, re.M).groups()]
    mix = [float(v) for v in re.search(row.format("25% own inputs"), out, re.M).groups()]
    assert mix[2] < tf[2], "text: the mix is lower 10 steps ahead"
    assert mix[4] > tf[4], "text: the mix is higher averaged over 80 steps"
    assert abs(mix[3] - tf[3]) < 0.25 * tf[3], "text: about the same after 80 steps"
    assert abs(mix[0] - tf[0]) < 0.2 * tf[0], "text: the same one-step error"


def test_ch9_initialisations_as_stated(built_site):
    """Zero and forget-bias-1 stay at chance in every seed; chrono learns 3 of 5 and is above
    chance in all; forget bias 1 + orthogonal learns 3; chrono + orthogonal is above chance in all."""
    out = printed(built_site, "09_training")
    rows = {}
    for recipe, learned, accs in re.findall(
        r"^([a-z0-9 +]+?)\s+(\d)/5\s+((?:\d+%\s+){5})", out, re.M
    ):
        rows[recipe] = (int(learned), [int(a) / 100 for a in re.findall(r"(\d+)%", accs)])
    assert len(rows) == 5, rows
    for recipe in ("forget bias 0", "forget bias 1"):
        assert rows[recipe][0] == 0 and max(rows[recipe][1]) < 0.35, rows[recipe]
    assert rows["chrono"][0] == 3 and min(rows["chrono"][1]) > 0.5, rows["chrono"]
    assert rows["forget bias 1 + orthogonal"][0] == 3
    assert min(rows["forget bias 1 + orthogonal"][1]) < 0.35, "text: two seeds stay at chance"
    assert min(rows["chrono + orthogonal"][1]) > 0.5, "text: every seed well above chance"
    assert rows["chrono + orthogonal"][0] <= rows["chrono"][0]


def test_ch9_dropout_and_packing_as_printed(built_site):
    """nn.LSTM(dropout) equals layer 1, dropout, layer 2 exactly; one layer warns; packed outputs
    equal single runs and only the longest sequence gets the right state without packing."""
    out = printed(built_site, "09_training")
    assert number(r"\(layer 1, dropout, layer 2\)\|: (\S+)", out) == 0.0
    assert "non-zero dropout expects num_layers greater than 1" in out
    assert number(r"all match \(largest gap (\S+)\)", out) < 1e-5
    gaps = {int(L): float(g) for L, g in re.findall(r"\(length (\d+)\): .* = ([\d.]+)", out)}
    assert gaps[7] == 0.0 and gaps[4] > 0.01 and gaps[2] > 0.01, gaps


@pytest.mark.parametrize("lengths", [[4, 7, 2], [1, 5, 5, 3], [6]])
def test_packing_equals_running_each_sequence_alone(lengths):
    """Independent of the page: in float64, on fresh data and lengths (unsorted, a length-1
    sequence, ties), a packed batch gives each sequence's outputs and final (h, C) exactly as if
    it ran alone, and zeros at the padding."""
    torch = pytest.importorskip("torch")
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

    torch.manual_seed(1)
    D, H = 3, 5
    lstm = torch.nn.LSTM(D, H, num_layers=2, batch_first=True).double()
    sequences = [torch.randn(L, D, dtype=torch.float64) for L in lengths]
    padded = pad_sequence(sequences, batch_first=True)
    packed = pack_padded_sequence(
        padded, torch.tensor(lengths), batch_first=True, enforce_sorted=False
    )
    packed_out, (h_n, c_n) = lstm(packed)
    out, out_lengths = pad_packed_sequence(packed_out, batch_first=True)
    assert out_lengths.tolist() == lengths
    for k, seq in enumerate(sequences):
        alone, (h_alone, c_alone) = lstm(seq[None])
        L = len(seq)
        err = (out[k, :L] - alone[0]).abs().max().item()
        assert err < 1e-12, f"sequence {k} (length {L}): outputs differ by {err}"
        assert torch.allclose(h_n[:, k], h_alone[:, 0], atol=1e-12, rtol=0), f"h_n of sequence {k}"
        assert torch.allclose(c_n[:, k], c_alone[:, 0], atol=1e-12, rtol=0), f"c_n of sequence {k}"
        assert torch.all(out[k, L:] == 0), f"padding of sequence {k} is not zero"


# ---------------------------------------------------------------------------------------------
# Chapter 12: beyond the single LSTM


def test_ch12_bidirectional_as_stated(built_site):
    """The best left-to-right accuracy agrees with a simulation of the best causal rule; the
    unidirectional LSTM reaches it (within 2 points, never above by more than sampling noise);
    the bidirectional LSTM is nearly always right."""
    out = printed(built_site, "12_beyond")
    bound = number(r"best possible accuracy reading left to right: ([\d.]+)%", out) / 100
    rng = np.random.default_rng(0)
    T, n = 20, 200_000
    seq = rng.integers(0, 10, size=(n, T))
    later = np.array([(seq[:, t + 1 :] == 0).any(axis=1) for t in range(T)]).T  # (n, T)
    # the best rule that knows only the past: the majority answer at each position
    best = np.maximum(later.mean(0), 1 - later.mean(0)).mean()
    assert abs(bound - best) < 0.005, f"page {bound:.3f}, simulated {best:.3f}"
    uni = number(r"unidirectional LSTM: test accuracy ([\d.]+)%", out) / 100
    bi = number(r"bidirectional\s+LSTM: test accuracy ([\d.]+)%", out) / 100
    assert bound - 0.02 < uni < bound + 0.02, f"unidirectional {uni} vs bound {bound}"
    assert bi > 0.97, f"bidirectional {bi}: text says nearly always right"
