"""Inside the sandbox, the outside check's side: run the notebook's setup, call its answers.

With ``"mode": "oracle"`` in the job the runner runs the notebook's non-test cells only, then calls
each answer function on the grader's inputs and sends back what it returned (``_transport``), with
the reference functions it called: every function of the reference modules
(``policy.REFERENCE_MODULES``) is wrapped first, so a call is seen however the notebook got hold
of it. The grader compares the results with the reference in its own process (``verify``).
"""

from __future__ import annotations

import builtins
import os
import signal
import sys
import types

from lstm_course.autograde import policy
from lstm_course.autograde._capture import _Null
from lstm_course.autograde._transport import decode_args, encode_result


def _trap_references(calls: set, allowed: set[str]) -> None:
    """Wrap every function of the reference modules so that a call to one is recorded.

    Functions the release itself hands the student (``allowed``, by name) are not recorded,
    nor is anything they call.
    """
    import functools

    wrapped: dict[int, object] = {}
    depth: list[int] = []
    for modname, mod in list(sys.modules.items()):
        if not modname.startswith(policy.REFERENCE_PACKAGE):
            continue
        if not isinstance(mod, types.ModuleType):
            continue
        for key, value in list(vars(mod).items()):
            if not isinstance(value, types.FunctionType):
                continue
            if not policy.is_reference_code(str(getattr(value, "__module__", ""))):
                continue
            if id(value) not in wrapped:
                qual = f"{value.__module__}.{value.__qualname__}"

                def make(fn, qual=qual, given=value.__name__ in allowed):
                    @functools.wraps(fn)
                    def wrapper(*args, **kwargs):
                        if not depth and not given:  # the outermost call: the student's
                            calls.add(qual)
                        depth.append(1)
                        try:
                            return fn(*args, **kwargs)
                        finally:
                            depth.pop()

                    del wrapper.__wrapped__  # no way back to the untrapped function
                    return wrapper

                wrapped[id(value)] = make(value)
            setattr(mod, key, wrapped[id(value)])


def run(job: dict, reporter) -> None:
    """Run the non-test cells, then call the answer functions on the grader's inputs."""
    from IPython.core.inputtransformer2 import TransformerManager

    calls: set[str] = set()
    _trap_references(calls, set(job.get("allowed_refs", [])))
    null = _Null()
    sys.stdout = sys.stderr = null
    transformer = TransformerManager()
    ns: dict = {"__name__": "__main__", "__builtins__": builtins}
    timeout = float(job.get("cell_timeout", 60))
    for cell in job["cells"]:
        try:
            signal.setitimer(signal.ITIMER_REAL, timeout)
            code = transformer.transform_cell(cell["source"])
            exec(compile(code, f"<cell {cell['index']}>", "exec"), ns)  # noqa: S102
        except BaseException:  # noqa: BLE001 (a failing cell fails in the main run too)
            pass
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        sys.stdout = sys.stderr = null
    reporter.send({"event": "ready", "setup_s": 0})
    for call in job.get("calls", []):
        calls.clear()
        message = {"event": "oracle", "id": call["id"], "result": None, "error": None}
        try:
            fn = ns.get(call["name"])
            if not callable(fn):
                raise NameError(f"{call['name']} is not defined")
            args = decode_args(call["args"])
            signal.setitimer(signal.ITIMER_REAL, timeout)
            value = fn(**args)
            signal.setitimer(signal.ITIMER_REAL, 0)
            message["result"] = encode_result(value)
        except BaseException as exc:  # noqa: BLE001
            signal.setitimer(signal.ITIMER_REAL, 0)
            message["error"] = f"{type(exc).__name__}: {exc}"[:300]
        message["reference_calls"] = sorted(calls)
        reporter.send(message)
    reporter.send({"event": "done", "total_s": 0})
    os._exit(0)
