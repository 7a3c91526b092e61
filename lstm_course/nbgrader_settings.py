"""The course's additions to nbgrader's configuration: what students and instructors see.

``nbgrader_config.py`` calls :func:`apply` with its ``c``. Each setting says what it changes;
the hooks themselves are in :mod:`lstm_course.nbgrader_hooks`.
"""

from __future__ import annotations

import functools
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "nbgrader_templates"
FEEDBACK_TEMPLATE = "lstm_feedback"
# Validate prints code and errors indented by 4 and cuts every line at `width` - 3 characters:
# test cells are at most 100 columns (ruff), messages 79 (lstm_course.display.WIDTH).
VALIDATE_WIDTH = 110


def apply(c, root: Path) -> None:
    """Add the course's settings to nbgrader's config ``c`` for the course directory ``root``."""
    import nbgrader

    from lstm_course import nbgrader_hooks as hooks

    # `nbgrader validate` and `make check` print whole lines (the Validate button never cut them),
    # and a failing test is named by its docstring line, its message right after it (nbgrader has
    # no setting for this: the config, run in the server by the Validate button too, wraps it).
    c.Validator.width = VALIDATE_WIDTH
    from nbgrader.validator import Validator

    Validator.validate = hooks.name_failed_tests(Validator.validate)

    # Feedback pages: tests listed by name with their scores, readable messages, MathJax offline.
    # Scoped to GenerateFeedback (from the command line or the formgrader's button), so the
    # formgrader's own pages keep nbgrader's templates.
    pre = list(c.GenerateFeedback.preprocessors)
    at = next((k for k, p in enumerate(pre) if p.__name__ == "CSSHTMLHeaderPreprocessor"), len(pre))
    pre.insert(at, hooks.ReadableFeedback)
    c.GenerateFeedback.preprocessors = pre
    formgrader = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
    c.GenerateFeedback.HTMLExporter.template_name = FEEDBACK_TEMPLATE
    c.GenerateFeedback.HTMLExporter.extra_template_basedirs = [str(TEMPLATES)]
    # Where our template finds nbgrader's ("feedback/index.html.j2") and the Bootstrap CSS that
    # nbgrader's template inlines (nbgrader sets the latter alone, unscoped).
    c.GenerateFeedback.HTMLExporter.extra_template_paths = [
        str(formgrader / "templates"),
        str(formgrader / "static" / "node_modules" / "bootstrap" / "dist" / "css"),
    ]
    feedback_dir = root / str(c.CourseDirectory.feedback_directory or "feedback")
    c.GenerateFeedback.post_convert_hook = functools.partial(hooks.copy_mathjax, feedback_dir)

    # The formgrader's view of a graded notebook: the same readable messages (the grader's
    # verifier records plain tracebacks through the grading helpers). nbgrader's own apps render
    # HTML only for feedback, which runs ReadableFeedback already (it is idempotent).
    c.HTMLExporter.preprocessors = [hooks.ReadableFeedback]

    # The formgrader grades only through `make autograde` (its button would grade unsandboxed).
    # Scoped to the formgrader's API: `nbgrader autograde` on the command line is unchanged.
    c.NbGraderAPI.Autograde.exporter_class = hooks.AutogradeRefused

    # zip_collect: a submission time written with dashes in a file name is read as that time.
    c.ZipCollectApp.collector_plugin = hooks.TimedFileNameCollector

    # The course hands notebooks out and collects them without nbgrader's exchange; the formgrader
    # warns when the exchange's folder is missing, so it gets an empty one of its own.
    exchange = root / ".nbgrader_exchange"
    exchange.mkdir(exist_ok=True)
    c.Exchange.root = str(exchange)
