"""What the exercises' graded cells call, and the classic mistakes they recognise.

``from lstm_course import grading`` gives a test cell everything it uses:

- ``checks``: :func:`compare` (is the answer right, and if not, what is wrong and where),
  :func:`diagnose`, :func:`random_arrays`, :func:`random_params` and :func:`pick`;
- ``calls``: :func:`run` / :func:`run_with_warnings` (call the student's function on copies of
  its inputs, without its warnings costing points; an in-place edit of an input is named),
  :func:`run_keeping_edits`, :func:`assert_no_warnings`, :func:`assert_float`, and
  :func:`wrong_step` (a sequence's test says when the student's own cell is what is wrong);
- ``mistakes``: :data:`MISTAKES`, each classic mistake's name and the sentence that explains it;
- ``planted``: the ``*_mistakes`` functions, which recompute each mistake on the test's inputs
  so that :func:`compare` can name the one a student made;
- ``planted_lm``: the same for exercises 11 and 12, with :func:`check_frequencies` (a sampler
  judged by its draws), :func:`char_lm` and :func:`torch_lstm` (torch imported only when called);
- ``planted_variants``: the same for exercise 8's GRU and peephole cell;
- ``steps``: the ``*_steps`` functions, the steps of a sequence on the reference's states, for
  :func:`wrong_step`;
- ``planted_backward``: exercise 6's backward passes with their mistakes planted, stage by
  stage, :func:`wrong_stage` (which of the student's stages a wrong step is built on) and
  :func:`centred_gradients` (the staged tests' independent reference).

Nothing here imports torch.
"""

from lstm_course.grading.calls import (
    assert_float,
    assert_no_warnings,
    run,
    run_keeping_edits,
    run_with_warnings,
    wrong_step,
)
from lstm_course.grading.checks import (
    compare,
    diagnose,
    pick,
    random_arrays,
    random_params,
)
from lstm_course.grading.mistakes import MISTAKES
from lstm_course.grading.planted import (
    gate_mistakes,
    lstm_cell_mistakes,
    lstm_sequence_mistakes,
    rnn_sequence_mistakes,
    rnn_state_gradient_mistakes,
    stacked_gate_order_mistakes,
    torch_lstm_cell_mistakes,
)
from lstm_course.grading.planted_backward import (
    centred_gradients,
    lstm_backward_mistakes,
    lstm_cell_backward_mistakes,
    wrong_stage,
)
from lstm_course.grading.planted_gates import (
    check_forget_on_cue,
    check_store_on_cue,
    half_life_mistakes,
)
from lstm_course.grading.planted_lm import (
    bidirectional_mistakes,
    char_lm,
    check_frequencies,
    check_probabilities,
    frequency_bound,
    softmax_temperature_mistakes,
    stacked_mistakes,
    text_loss_mistakes,
    torch_lstm,
)
from lstm_course.grading.planted_training import (
    CLIP_MISTAKES,
    LOOP_MISTAKES,
    clip_norm_mistakes,
    detach_mistake,
    free_run_mistakes,
    free_run_reference,
    run_training,
    tbptt_mistakes,
    tbptt_reference,
)
from lstm_course.grading.planted_variants import gru_cell_mistakes, peephole_cell_mistakes
from lstm_course.grading.steps import lstm_backward_steps, lstm_steps, rnn_steps

__all__ = [
    "MISTAKES",
    "compare",
    "diagnose",
    "run",
    "run_with_warnings",
    "run_keeping_edits",
    "assert_no_warnings",
    "assert_float",
    "wrong_step",
    "gate_mistakes",
    "lstm_cell_mistakes",
    "lstm_sequence_mistakes",
    "rnn_sequence_mistakes",
    "rnn_state_gradient_mistakes",
    "gru_cell_mistakes",
    "peephole_cell_mistakes",
    "stacked_gate_order_mistakes",
    "lstm_cell_backward_mistakes",
    "torch_lstm_cell_mistakes",
    "lstm_backward_mistakes",
    "rnn_steps",
    "lstm_steps",
    "lstm_backward_steps",
    "wrong_stage",
    "centred_gradients",
    "softmax_temperature_mistakes",
    "check_probabilities",
    "check_frequencies",
    "frequency_bound",
    "char_lm",
    "text_loss_mistakes",
    "stacked_mistakes",
    "bidirectional_mistakes",
    "torch_lstm",
    "half_life_mistakes",
    "check_forget_on_cue",
    "check_store_on_cue",
    "clip_norm_mistakes",
    "tbptt_reference",
    "tbptt_mistakes",
    "LOOP_MISTAKES",
    "CLIP_MISTAKES",
    "detach_mistake",
    "run_training",
    "free_run_reference",
    "free_run_mistakes",
    "pick",
    "random_arrays",
    "random_params",
]

# Each function says it belongs here, where a test cell finds it (NumPy does the same for its
# public functions): help() and the grader's integrity messages name lstm_course.grading.compare.
# The names are also put in the order of __all__, the order in which the grader's guard checks
# this module and reports what a notebook replaced.
for _name in __all__:
    _value = globals().pop(_name)
    if callable(_value):
        _value.__module__ = __name__
    globals()[_name] = _value
del _name, _value
