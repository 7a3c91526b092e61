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
- run sandboxed: ``execute``, on ``sandbox`` (bubblewrap, two processes per notebook, ``cgroup``)
  and ``channel`` (the verifier's results);
- verify: ``verify`` (the answers read: references, rule breaches, tampering flagged);
- record: ``results`` (gradebook, ``autograded/``, the summary), showing only what ``sanitize``
  made safe (outputs, markdown, attachments, text for the terminal).

``export`` is the CSV exporter ``make grades`` uses (every field quoted).

``cli`` is the command line; ``policy`` names what students may not reach and the exercises'
rules. A notebook runs as two sandboxed processes: ``_answer`` (A, the student's code: the
notebook's cells, then the verifier's requests) and ``_verifier`` (V, the graded tests, with every
student name a proxy to A: ``_proxy``); they talk over ``_rpc`` in plain data (``_transport``),
and A's outputs are collected by ``_capture``. V's verdicts are the grades.

This package file stays import-light: ``_answer`` runs in the student's sandbox, which holds only
A's side of this package, and must not pull in nbgrader.
"""
