"""``python -m lstm_ref.autograde``: see lstm_ref.autograde.cli."""

from lstm_ref.autograde.cli import main

raise SystemExit(main())
