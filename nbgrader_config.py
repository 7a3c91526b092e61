"""nbgrader's configuration for this course: the repository root is the course directory.

    solutions/<assignment>/   the instructor's notebooks (nbgrader's source directory)
    exercises/<assignment>/   the student notebooks, made by `make release` (release directory)
    submitted/<student>/<assignment>/   what students hand in (`make autograde` grades these)
    autograded/, feedback/    made by `make autograde` and `make feedback`
    gradebook.db              the SQLite gradebook (never committed; `make grades` exports it)

See book/appendix/instructors.md for the whole cycle.
"""

from pathlib import Path

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import GetGrades

from lstm_course.grading.feedback import HideHiddenTests
from lstm_course.nbgrader_settings import apply as apply_course_settings

c = get_config()  # noqa: F821 (injected by nbgrader)

ROOT = Path(__file__).resolve().parent

# One assignment per chapter; the notebook in each folder is named after the id without "exNN_".
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").glob("ex[0-9][0-9]_*") if p.is_dir())

c.CourseDirectory.course_id = "lstm-course"
c.CourseDirectory.root = str(ROOT)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = f"sqlite:///{ROOT / 'gradebook.db'}"
# Only notebooks go to students: nothing else may sit in an assignment folder.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# `make release` registers each assignment in the gradebook; `make autograde` creates each
# student on their first graded submission, so no class list is needed. To list students who
# never submit in the grades, add them once: nbgrader db student add ada --last-name=Lovelace

# Grading: one kernel per notebook; no cell of a correct submission needs more than a few seconds.
c.Execute.timeout = 120
# A notebook's outputs are never released.
c.ClearOutput.enabled = True
# Feedback and the formgrader render students' notebooks in the instructor's browser: HTML and
# markdown outputs are cleaned (nbconvert's bleach filter). Markdown cells are not cleaned by
# nbgrader's templates, so the grader also makes every recorded notebook safe itself
# (lstm_course/autograde/sanitize.py: only text and real PNG/JPEG outputs, markdown checked).
c.HTMLExporter.sanitize_html = True
# `make grades`: every field of grades.csv quoted (nbgrader's own exporter writes them bare).
c.ExportApp.plugin_class = "lstm_course.autograde.export.QuotedCsvExport"

# A student's feedback shows a hidden test's name, points and message, never its code, seeds or
# inputs, nor a traceback quoting them (the autograded notebook keeps them for the instructor).
c.GenerateFeedback.preprocessors = [GetGrades, HideHiddenTests, CSSHTMLHeaderPreprocessor]

# What students and instructors see (issue 14): validate's line width, the feedback template and
# its offline MathJax, readable messages, the formgrader's Autograde off, zip_collect's times.
apply_course_settings(c, ROOT)

# What a student sees in place of each solution.
c.ClearSolutions.code_stub = {
    "python": '# YOUR CODE HERE\nraise NotImplementedError("write the body of this function")'
}
