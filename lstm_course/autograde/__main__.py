"""``python -m lstm_course.autograde [options]``: the grader's options, without a subcommand."""

from lstm_course.autograde.cli import grade_main

raise SystemExit(grade_main())
