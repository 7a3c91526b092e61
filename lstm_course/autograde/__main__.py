"""``python -m lstm_course.autograde``: see lstm_course.autograde.cli."""

from lstm_course.autograde.cli import main

raise SystemExit(main())
