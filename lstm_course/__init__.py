"""What runs the open LSTM course: figures for the chapters, grading helpers, the sandboxed grader.

``lstm_course.figures`` draws the cell diagram and the plots the chapters share;
``lstm_course.grading`` is what the exercises' test cells call; ``lstm_course.autograde`` grades a
class, each submission in a bubblewrap sandbox (``lstm-course grade`` or ``make autograde``).
It depends on ``lstm_ref`` (the reference); ``lstm_ref`` never imports it.
"""

__version__ = "0.1.0"
