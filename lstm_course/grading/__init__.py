"""What the exercises' graded cells call, and the classic mistakes they recognise.

``from lstm_course import grading`` gives a test cell everything it uses:

- ``checks``: :func:`compare` (is the answer right, and if not, what is wrong and where),
  :func:`run` / :func:`run_with_warnings` / :func:`assert_no_warnings` (call the student's
  function without its warnings costing points), :func:`diagnose`, :func:`random_arrays`,
  :func:`random_params` and :func:`pick`;
- ``mistakes``: :data:`MISTAKES`, each classic mistake's name and the sentence that explains it;
- ``planted``: the ``*_mistakes`` functions, which recompute each mistake on the test's inputs
  so that :func:`compare` can name the one a student made.

Nothing here imports torch.
"""

from lstm_course.grading.checks import (
    assert_no_warnings,
    compare,
    diagnose,
    pick,
    random_arrays,
    random_params,
    run,
    run_with_warnings,
)
from lstm_course.grading.mistakes import MISTAKES
from lstm_course.grading.planted import (
    gate_mistakes,
    gru_cell_mistakes,
    lstm_backward_mistakes,
    lstm_cell_backward_mistakes,
    lstm_cell_mistakes,
    lstm_sequence_mistakes,
    peephole_cell_mistakes,
    rnn_sequence_mistakes,
    rnn_state_gradient_mistakes,
    stacked_gate_order_mistakes,
    torch_lstm_cell_mistakes,
)

__all__ = [
    "MISTAKES",
    "compare",
    "diagnose",
    "run",
    "run_with_warnings",
    "assert_no_warnings",
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
