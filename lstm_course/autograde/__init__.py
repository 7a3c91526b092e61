"""Parallel, sandboxed autograding for the course's nbgrader assignments.

Run it as ``python -m lstm_course.autograde`` (``make autograde`` does): every submission under
``submitted/`` is copied to a private scratch folder, repaired or rejected with a reason, its
graded cells are restored from the release and the gradebook, and it is executed inside a
bubblewrap sandbox (no network, read-only system, limits on CPU, memory, processes, file size
and output). The grades are written by the parent process alone, through nbgrader's own
preprocessors, into ``gradebook.db`` and ``autograded/``, so ``nbgrader generate_feedback`` and
``nbgrader export`` work as usual.

This package file stays import-light: ``lstm_course.autograde._runner`` runs inside the sandbox
and must not pull in nbgrader.
"""
