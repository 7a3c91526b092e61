"""What a student's feedback shows of a hidden test: its name, points and message, nothing more.

nbgrader removes the ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` region from the
released notebook, but ``nbgrader autograde`` puts the test cells back from the gradebook, hidden
tests included, and ``nbgrader generate_feedback`` renders the autograded notebook as it is: the
hidden test's code, with its seeds and the shapes it tries, would be in every student's feedback,
in the cell and again in its traceback. :class:`HideHiddenTests`, one of
``GenerateFeedback.preprocessors`` (nbgrader_config.py), takes the region out of the cell, drops
what the cell printed (the student's code may print its inputs), replaces the outputs of every
later code cell by a note (the student's code may have kept the inputs and print them there) and
cuts the traceback down to its last line, the error's type and message, which the grading helpers write so as to name what
is wrong (quantity, shapes, largest error and where) without showing the inputs.

Only the feedback changes: the autograded notebook keeps the hidden tests for the instructor.
This module imports nbgrader; the test cells never import it.
"""

from __future__ import annotations

from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests

# What a code cell after a hidden test shows instead of its outputs (the instructor's copy keeps
# them): the student's code may have kept the hidden test's inputs and print them later.
AFTER_HIDDEN = "(This cell's output is not shown in feedback: it ran after a hidden test.)\n"


class HideHiddenTests(ClearHiddenTests):
    """ClearHiddenTests for feedback: the hidden region goes, and so do the traceback that would
    quote it and what the cell printed; the error's name and message stay."""

    def preprocess(self, nb, resources):
        self.after_hidden = False
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code":
            return cell, resources
        if not utils.is_grade(cell):
            if getattr(self, "after_hidden", False) and cell.get("outputs"):
                cell["outputs"] = [new_output("stream", name="stdout", text=AFTER_HIDDEN)]
            return cell, resources
        if not self._remove_hidden_test_region(cell):
            return cell, resources
        self.after_hidden = True
        # What the student's code printed while the hidden test ran may quote its inputs: only
        # the error, with its type and message, stays.
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        for output in errors:
            output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        cell["outputs"] = errors
        return cell, resources
