"""What both sandboxed processes do before their work: limits, an unprivileged uid, the timer.

The answer process also builds its IPython shell here (``make_shell``): the notebook's cells run
as in a kernel, their outputs going to ``_capture``. Standard library only (IPython imported on
demand): the student's sandbox holds this module.
"""

from __future__ import annotations

import os
import resource

from lstm_course.autograde._capture import _Sink


class CellTimeout(BaseException):  # noqa: N818 (a BaseException, like KeyboardInterrupt)
    """Raised inside a cell or a call that ran past its time limit."""


def _alarm(signum, frame):
    raise CellTimeout("the cell ran past its time limit and was stopped by the grader")


def set_limits(limits: dict) -> None:
    names = {
        "cpu": resource.RLIMIT_CPU,
        "as": resource.RLIMIT_AS,
        "nproc": resource.RLIMIT_NPROC,
        "fsize": resource.RLIMIT_FSIZE,
        "nofile": resource.RLIMIT_NOFILE,
        "core": resource.RLIMIT_CORE,
    }
    for key, value in limits.items():
        if value is None:
            continue
        value = int(value)
        if key == "cpu":  # SIGXCPU at the soft limit, SIGKILL at the hard one
            resource.setrlimit(names[key], (value, value + 5))
        else:
            resource.setrlimit(names[key], (value, value))


def drop_root(uid: int) -> None:
    """Become an unprivileged user (used when the grader runs as root)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_no_new_privs = 38
    libc.prctl(pr_set_no_new_privs, 1, 0, 0, 0)
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise RuntimeError("could not drop root")


def make_shell(sink: _Sink):
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    class Hook(DisplayHook):
        def start_displayhook(self):
            pass

        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            sink.execute_result(format_dict, md_dict or {})

        def finish_displayhook(self):
            pass

    class Publisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kw):
            sink.display(data, metadata or {})

        def clear_output(self, wait=False):
            sink.clear()

    class Shell(InteractiveShell):
        displayhook_class = Hook
        display_pub_class = Publisher

        def _showtraceback(self, etype, evalue, stb):
            sink.error(etype.__name__, str(evalue), list(stb))

        def init_io(self):  # keep our sys.stdout / sys.stderr
            pass

        def enable_gui(self, gui=None):  # %matplotlib inline needs no event loop
            pass

    config = Config()
    config.HistoryManager.enabled = False
    config.InteractiveShell.colors = "NoColor"
    config.InteractiveShell.xmode = "Context"
    return Shell.instance(config=config)
