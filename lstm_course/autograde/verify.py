"""Reading the answers: what the grader sees in the student's source, before anything runs.

The grades come from the verifier's verdicts (``execute``); what is read here adds to them:

- ``reference_flags``: an answer that imports the reference (``policy``) or calls a name the tests
  import from it is flagged (it cannot work: the reference is not in the student's sandbox);
- ``suspicious_flags``: an answer that patches the modules a test uses, rebinds their names, or
  reaches for the interpreter's internals (frames, ``gc``, code objects, raw file descriptors) is
  flagged: it cannot change a grade, but an instructor will want to know who tried;
- ``rule_breaches``: the exercise's rules read from the answers (an ``nn.LSTMCell`` inside ex07's
  cell, ``import torch`` in a NumPy-only exercise); ``execute`` fails the tests of the function
  that breaks one and flags it.
"""

from __future__ import annotations

import ast

from lstm_course.autograde import policy
from lstm_course.autograde.restore import Restored, Template, defined_names


def reference_flags(restored: Restored, template: Template) -> list[str]:
    """Answers that may call the reference instead of implementing, read from their source."""
    given, in_tests = _given_references(restored)
    ref_names = in_tests - given
    flags = []
    answers = set(template.solution_names())
    for cell, kind in zip(restored.notebook.cells, restored.kinds, strict=True):
        if kind != "student":
            continue
        is_answer = bool((cell.metadata.get("nbgrader") or {}).get("solution"))
        if not is_answer and not (defined_names(cell.source) & answers):
            continue  # a scratch cell; only answers (or redefinitions of them) count
        found = reference_use(cell.source, ref_names, frozenset(given))
        if found:
            where = (cell.metadata.get("nbgrader") or {}).get("grade_id", "an added cell")
            flags.append(f"{where}: may call lstm_ref instead of implementing ({'; '.join(found)})")
    return flags


def given_references(restored: Restored) -> set[str]:
    """The reference's functions the release's own cells hand the student (e.g. sigmoid)."""
    return _given_references(restored)[0]


def test_names(source: str) -> set[str]:
    """Every name a test cell's source reads or writes."""
    try:
        return {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}
    except SyntaxError:
        return set()


def _student_trees(restored: Restored):
    for cell, kind in zip(restored.notebook.cells, restored.kinds, strict=True):
        if kind == "student":
            try:
                yield cell, ast.parse(cell.source)
            except SyntaxError:
                continue


def rule_breaches(restored: Restored, template: Template) -> dict[str, list[str]]:
    """{answer name: what in its source breaks the exercise's rules}."""
    answers = set(template.solution_names())
    names = set(policy.forbidden(template.assignment).get("names", ()))
    numpy_only = policy.numpy_only(template.assignment)
    found: dict[str, list[str]] = {}
    for _cell, tree in _student_trees(restored):
        defined = [n for n in _top_names(tree) if n in answers]
        for node in tree.body:
            owners = [
                n for n in _top_names(ast.Module(body=[node], type_ignores=[])) if n in answers
            ]
            owners = owners or defined
            for sub in ast.walk(node):
                what = None
                if names and isinstance(sub, ast.Attribute) and sub.attr in names:
                    what = f"uses .{sub.attr}"
                elif names and isinstance(sub, ast.Name) and sub.id in names:
                    what = f"uses {sub.id}"
                elif names and isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                    if sub.value.strip() in names:  # getattr(nn, "LSTMCell")
                        what = f"names {sub.value.strip()} in a string"
                elif names and _built_lookup(sub):  # getattr(torch, "_" + "C")
                    what = "looks an attribute up by a name built at run time"
                elif numpy_only and isinstance(sub, ast.Import | ast.ImportFrom):
                    modules = (
                        [a.name for a in sub.names]
                        if isinstance(sub, ast.Import)
                        else [sub.module or ""]
                    )
                    if any(m.split(".")[0] in policy.TORCH_PACKAGES for m in modules):
                        what = "imports PyTorch in a NumPy-only exercise"
                if what:
                    for owner in owners:
                        found.setdefault(owner, []).append(what)
    return found


def _built_lookup(node) -> bool:
    """getattr(obj, name) or attrgetter(name) with a name that is not written out."""
    if not isinstance(node, ast.Call):
        return False
    func = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
    if func == "getattr" and len(node.args) >= 2:
        return not isinstance(node.args[1], ast.Constant)
    if func == "attrgetter" and node.args:
        return not all(isinstance(a, ast.Constant) for a in node.args)
    return False


def _top_names(tree: ast.Module) -> list[str]:
    out = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.append(node.name)
        elif isinstance(node, ast.Assign):
            out += [t.id for t in node.targets if isinstance(t, ast.Name)]
    return out


def suspicious_flags(restored: Restored, template: Template) -> list[str]:
    """What the student's cells do to the test's modules or the interpreter, in words; and,
    in an answer (not a scratch cell, which may be a copy of a test), imports of the grader's
    or the grading helpers' modules."""
    answers = set(template.solution_names())
    found: list[str] = []
    trees = list(_student_trees(restored))
    modules = set(policy.PATCHED_MODULES)  # and every module the student's cells import
    for _cell, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules |= {(a.asname or a.name).split(".")[0] for a in node.names}
    for cell, tree in trees:
        where = (cell.metadata.get("nbgrader") or {}).get("grade_id", "an added cell")
        seen = []
        is_answer = bool((cell.metadata.get("nbgrader") or {}).get("solution"))
        is_answer = is_answer or bool(defined_names(cell.source) & answers)
        for node in ast.walk(tree):
            seen += _suspicious(node, modules)
            if is_answer and isinstance(node, ast.Import | ast.ImportFrom):
                names = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else [node.module or ""]
                )
                seen += [f"imports {m}" for m in names if m.startswith("lstm_course")]
        if seen:
            found.append(f"{where}: " + "; ".join(sorted(set(seen))[:6]) + " (no effect on the "
                         "grade: the tests run apart from the student's code)")  # fmt: skip
    return found


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _suspicious(node, patched: set[str]) -> list[str]:
    out = []
    targets = []
    if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete):
        targets = node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]
    for target in targets:
        if isinstance(target, ast.Attribute) and _dotted(target).split(".")[0] in patched:
            out.append(f"changes {_dotted(target)}")
        elif isinstance(target, ast.Subscript) and _dotted(target.value) == "sys.modules":
            out.append("replaces a module in sys.modules")
        elif isinstance(target, ast.Name) and target.id in patched and isinstance(node, ast.Assign):
            out.append(f"rebinds {target.id}")
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id in ("setattr", "delattr") and node.args:
            if _dotted(node.args[0]).split(".")[0] in patched:
                out.append(f"{node.func.id} on {_dotted(node.args[0])}")
    if isinstance(node, ast.Attribute):
        dotted = _dotted(node)
        for word in policy.INTROSPECTION:
            if dotted == word or dotted.endswith("." + word) or node.attr == word:
                out.append(f"uses {word}")
    if isinstance(node, ast.Name) and node.id in ("__import__",):
        out.append("uses __import__")
    if isinstance(node, ast.Import | ast.ImportFrom):
        modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
        roots = {(m or "").split(".")[0] for m in modules}
        if roots & set(policy.FLAGGED_IMPORTS):
            out.append(f"imports {', '.join(m for m in modules if m)}")
    return out


def _given_references(restored) -> tuple[set[str], set[str]]:
    """Names imported from lstm_ref's reference by the release's cells, and by its tests."""
    given: set[str] = set()
    in_tests: set[str] = set()
    for cell, kind in zip(restored.notebook.cells, restored.kinds, strict=True):
        if kind == "release":
            given |= reference_imports(cell.source)
        elif kind == "test":
            in_tests |= reference_imports(cell.source)
    return given, in_tests


# -- reading the answers ------------------------------------------------------------
def reference_use(
    source: str, reference_names: set[str], given: frozenset[str] = frozenset()
) -> list[str]:
    """Reasons to believe this student cell calls lstm_ref's reference instead of implementing.

    reference_names: names the tests import from the reference (suspicious in an answer);
    given: names the release's own cells import from it for the student to use (allowed).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found: list[str] = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.names
            and all(a.name in given for a in node.names)
        ):
            continue  # re-importing a helper the release gives
        if isinstance(node, ast.Import):
            for alias in node.names:
                if policy.is_reference(alias.name):
                    found.append(f"imports {alias.name}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            policy.REFERENCE_PACKAGE
        ):
            module = node.module or ""
            if policy.imports_reference(module, [a.name for a in node.names]):
                found.append(f"imports from {module}")
        elif isinstance(node, ast.Attribute) and node.attr in policy.SUSPICIOUS_ATTRIBUTES:
            found.append(f"uses .{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if any(word in node.value for word in policy.SUSPICIOUS_TEXT):
                found.append("names lstm_ref in a string")
    for func in ast.walk(tree):
        if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            for node in ast.walk(func):
                if isinstance(node, ast.Name) and node.id in reference_names:
                    found.append(f"calls {node.id} (imported from the reference by the notebook)")
    return sorted(set(found))


def reference_imports(source: str) -> set[str]:
    """Names a release cell imports from lstm_ref's reference modules."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and policy.is_reference(node.module or ""):
            names |= {a.asname or a.name for a in node.names}
    return names
