"""Inside the sandbox: the protected modules, snapshotted and put back around graded tests.

Before each graded test cell the runner checks that the modules a test relies on (NumPy,
``lstm_ref``, ``lstm_course``, ``math``, ``builtins``: ``policy.PROTECTED_ROOTS``) are exactly
as they were first imported, puts back anything the notebook replaced and reports what it was; a
change made while the test ran fails that test. This makes the common forgeries fail; it cannot
stop code that attacks the runner itself, which is why the grader also recomputes the answers
outside the student's kernel (``verify``). Standard library only.
"""

from __future__ import annotations

import builtins
import sys
import types


class _Guard:
    """Snapshots of the protected modules, checked and restored around graded test cells."""

    SKIP_KEYS = {"__warningregistry__", "_", "__", "___"}
    # PyTorch changes its own modules as it runs (lazy initialisation, caches, hooks), so only
    # what a test compares with is watched there.
    NARROW = {
        "torch": {"allclose", "isclose", "equal", "eq", "abs", "max", "all", "any", "sum",
                  "tensor", "as_tensor", "from_numpy", "testing", "Tensor", "nn"},
        "torch.testing": {"assert_close", "assert_allclose"},
        "torch.nn.functional": {"mse_loss", "l1_loss"},
    }  # fmt: skip
    NARROW_CLASSES = {"Tensor": {"allclose", "equal", "__eq__", "abs", "max", "all", "any",
                                 "sum", "item", "numpy", "tolist", "detach"}}  # fmt: skip

    def __init__(self, roots: list[str]):
        self.roots = tuple(roots)
        self.modules: dict[str, tuple] = {}
        self.names: dict[str, object] = {}

    def _protected(self, name: str) -> bool:
        return any(name == r or name.startswith(r + ".") for r in self.roots)

    def take(self) -> None:
        """Record every protected module not yet recorded (as first imported)."""
        for name, mod in list(sys.modules.items()):
            if name in self.modules or not isinstance(mod, types.ModuleType):
                continue
            if not self._protected(name):
                continue
            namespace = dict(vars(mod))
            narrow = name == "torch" or name.startswith("torch.")
            if narrow:
                if name not in self.NARROW:
                    continue
                namespace = {k: v for k, v in namespace.items() if k in self.NARROW[name]}
            codes = {}
            classes = {}
            for key, value in namespace.items():
                func = value if isinstance(value, types.FunctionType) else None
                impl = None
                if func is None and not isinstance(value, types.ModuleType):
                    try:  # NumPy's dispatchers keep their Python function here
                        impl = getattr(value, "_implementation", None)
                    except Exception:  # noqa: BLE001 (objects with odd __getattr__, e.g. torch)
                        impl = None
                for f in (func, impl):
                    if isinstance(f, types.FunctionType):
                        codes[id(f)] = (f, f.__code__, f.__defaults__, f.__kwdefaults__)
                if (
                    isinstance(value, type)
                    and getattr(value, "__module__", None) == name
                    and not (value.__flags__ & (1 << 8))  # Py_TPFLAGS_IMMUTABLETYPE
                    and key not in self.SKIP_KEYS
                ):
                    try:
                        cdict = dict(vars(value))
                    except TypeError:
                        continue
                    if narrow:
                        keep = self.NARROW_CLASSES.get(key, set())
                        cdict = {k: v for k, v in cdict.items() if k in keep}
                    classes[key] = (value, cdict, narrow)
                elif narrow and key in self.NARROW_CLASSES and isinstance(value, type):
                    keep = self.NARROW_CLASSES[key]
                    classes[key] = (
                        value,
                        {k: v for k, v in vars(value).items() if k in keep},
                        True,
                    )
            self.modules[name] = (mod, namespace, codes, classes, narrow)

    def remember_names(self, ns: dict, exclude: set[str]) -> None:
        """Remember notebook names bound to protected modules (np, lstm_course.grading, ...)."""
        for key, value in list(ns.items()):
            if key in exclude or key.startswith("_") or key in self.names:
                continue
            modname = (
                value.__name__
                if isinstance(value, types.ModuleType)
                else getattr(value, "__module__", None)
            )
            if isinstance(modname, str) and self._protected(modname) and modname != "builtins":
                if isinstance(value, types.ModuleType) or callable(value):
                    self.names[key] = value

    def check_and_restore(self, ns: dict) -> list[str]:
        """Put back every change to the protected state; return what was changed."""
        changed: list[str] = []
        for name, (mod, namespace, codes, classes, narrow) in self.modules.items():
            if sys.modules.get(name) is not mod:
                changed.append(f"sys.modules[{name!r}] was replaced")
                sys.modules[name] = mod
            current = vars(mod)
            for key, value in namespace.items():
                if key in self.SKIP_KEYS:
                    continue
                if key not in current or current[key] is not value:
                    changed.append(f"{name}.{key} was replaced")
                    current[key] = value
            added = [] if narrow else [k for k in current if k not in namespace]
            for key in [k for k in added if k not in self.SKIP_KEYS]:
                value = current[key]
                if (
                    isinstance(value, types.ModuleType)
                    and sys.modules.get(f"{name}.{key}") is value
                ):
                    continue  # a submodule imported later
                if key.startswith("__") and key.endswith("__"):
                    continue
                changed.append(f"{name}.{key} was added")
                del current[key]
            for f, code, defaults, kwdefaults in codes.values():
                if f.__code__ is not code or f.__defaults__ is not defaults:
                    changed.append(f"the code of {f.__module__}.{f.__qualname__} was replaced")
                    f.__code__, f.__defaults__ = code, defaults
                if f.__kwdefaults__ is not kwdefaults:
                    f.__kwdefaults__ = kwdefaults
            for key, (cls, cdict, narrow_cls) in classes.items():
                now = vars(cls)
                for attr, value in cdict.items():
                    if attr in ("__dict__", "__weakref__", "__doc__"):
                        continue
                    if now.get(attr, _MISSING) is not value:
                        changed.append(f"{name}.{key}.{attr} was replaced")
                        try:
                            setattr(cls, attr, value)
                        except (TypeError, AttributeError):
                            pass
                for attr in [] if narrow_cls else [a for a in now if a not in cdict]:
                    if _python_cache(cls, attr):
                        continue
                    changed.append(f"{name}.{key}.{attr} was added")
                    try:
                        delattr(cls, attr)
                    except (TypeError, AttributeError):
                        pass
        for key, value in self.names.items():
            if ns.get(key) is not value:
                changed.append(f"the notebook name {key!r} was rebound")
                ns[key] = value
        if ns.get("__builtins__") is not builtins:
            changed.append("the notebook's __builtins__ was replaced")
            ns["__builtins__"] = builtins
        if sys.gettrace() is not None or sys.getprofile() is not None:
            changed.append("a trace or profile function was installed")
            sys.settrace(None)
            sys.setprofile(None)
        return changed


_MISSING = object()


def _python_cache(cls: type, attr: str) -> bool:
    """Whether ``attr`` is what Python itself stores on a class: copy.copy and pickle cache
    ``__slotnames__`` (the class's slots, [] for a class without any) on its first use."""
    if attr != "__slotnames__":
        return False
    has_slots = any("__slots__" in vars(c) for c in cls.__mro__)
    return not has_slots and vars(cls)[attr] == []
