"""python tests/autograde/corpus/attacks --course-dir COURSE: write the attacks' submissions."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import attacks  # noqa: E402

sys.exit(attacks.main())
