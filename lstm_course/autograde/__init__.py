"""Parallel, sandboxed autograding for the course's nbgrader assignments.

Run it as ``lstm-course grade`` or ``python -m lstm_course.autograde`` (``make autograde`` does):
every submission under ``submitted/`` is copied to a private scratch folder, repaired or rejected
with a reason, its graded cells are restored from the release and the gradebook, and it is
executed inside a bubblewrap sandbox (no network, read-only system, limits on CPU, memory,
processes, file size and output). The grades are written by the parent process alone, through
nbgrader's own preprocessors, into ``gradebook.db`` and ``autograded/``, so ``nbgrader
generate_feedback`` and ``nbgrader export`` work as usual.

A submission goes through one stage per module (``grader`` strings them together):

- find: ``course`` (the course directory, the release's notebooks, the submissions);
- restore: ``restore`` (the notebook to grade), reading the file with ``load``;
- run sandboxed: ``execute``, on ``sandbox`` (bubblewrap) and ``channel`` (the runner's reports);
- verify: ``verify`` (the answers read, and recomputed in a fresh sandbox with ``oracle``);
- record: ``results`` (gradebook, ``autograded/``, the summary).

``cli`` is the command line; ``policy`` names what students may not reach. Inside the sandbox
run ``_runner`` (the kernel), ``_capture`` (outputs), ``_guard`` (protected modules),
``_recompute`` (the outside check's side) and ``_transport`` (arrays as ``.npy``).

This package file stays import-light: ``lstm_course.autograde._runner`` runs inside the sandbox
and must not pull in nbgrader.
"""
