"""What a submission may put in front of the instructor: safe outputs, markdown and text.

Everything a student's notebook produces ends up rendered by nbconvert (``make feedback``), by
nbgrader's formgrader in the instructor's Jupyter origin, or printed to the instructor's terminal.
Neither nbgrader template cleans markdown cells (``sanitize_html`` covers outputs only), so the
record stage (``results``) passes every notebook it writes through ``clean_notebook``:

- outputs keep only text/plain and PNG or JPEG images that really are PNG or JPEG (text is
  escaped by the templates; ``text/html``, SVG, JavaScript, markdown and LaTeX outputs are
  dropped, with a note), streams and errors as plain strings, and no output metadata;
- a markdown cell is rendered exactly as nbconvert renders it and kept only if the HTML is made of
  harmless tags, attributes and URLs; otherwise its raw HTML is escaped, and if that is not enough
  (a ``javascript:`` link, a mermaid block) it is shown as plain text;
- attachments (pasted images) are kept when they are PNG, JPEG or GIF, valid base64 and small.

``printable`` is for terminals: control characters and bidirectional overrides become visible
escapes. ``markdown_text`` turns any string (a file name, a flag) into markdown that shows it.
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
from html.parser import HTMLParser

MAX_IMAGE_BYTES = 5 * 2**20  # one output image or attachment, decoded
MAX_ATTACHMENT_BYTES = 10 * 2**20  # all the attachments of one cell, decoded
IMAGE_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
}
OUTPUT_IMAGES = ("image/png", "image/jpeg")
ATTACHMENT_IMAGES = ("image/png", "image/jpeg", "image/gif")

# -- terminals ------------------------------------------------------------------------------
# C0 and C1 controls (ESC starts CSI and OSC sequences), DEL, and the Unicode format characters
# that reorder or hide text (bidi embeddings, overrides, isolates, marks; zero-width characters).
_UNPRINTABLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)


def printable(text: object, newlines: bool = True) -> str:
    """``text`` with every control or reordering character as a visible escape (``\\x1b``)."""
    text = str(text)
    pattern = _UNPRINTABLE if newlines else re.compile(_UNPRINTABLE.pattern[:-1] + "\n\t]")
    return pattern.sub(lambda m: ascii(m.group())[1:-1], text)


# -- markdown text --------------------------------------------------------------------------
# Without "<" there is no HTML or autolink, without "[" "]" no link or image, without "`" and "$"
# no code span or maths to hide them in; the rest of the text (names with "_", reasons with
# "(...)") is left as it reads.
_MD_SPECIAL = re.compile(r"([\\`\[\]$])")


def markdown_text(text: object) -> str:
    """Markdown that shows ``text`` without any HTML, link, image, code span or maths in it."""
    return _MD_SPECIAL.sub(r"\\\1", printable(text).replace("<", "&lt;"))


# -- images ---------------------------------------------------------------------------------
def image_bytes(value: object, mime: str) -> bytes | None:
    """The decoded image if ``value`` is base64 of a real ``mime`` image within the size cap."""
    if isinstance(value, list):
        value = "".join(v for v in value if isinstance(v, str))
    if not isinstance(value, str) or len(value) > MAX_IMAGE_BYTES * 4 // 3 + 4096:
        return None
    try:
        data = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(data) > MAX_IMAGE_BYTES or not data.startswith(IMAGE_MAGIC[mime]):
        return None
    return data


def clean_attachments(attachments: object) -> tuple[dict, list[str]]:
    """The cell's attachments that are real PNG, JPEG or GIF images, and a note per one dropped."""
    if not isinstance(attachments, dict):
        return {}, ([] if attachments is None else ["attachments that were not a mapping"])
    kept: dict[str, dict] = {}
    dropped: list[str] = []
    total = 0
    for name, bundle in attachments.items():
        image = None
        if isinstance(name, str) and isinstance(bundle, dict) and len(bundle) == 1:
            ((mime, value),) = bundle.items()
            data = image_bytes(value, mime) if mime in ATTACHMENT_IMAGES else None
            if data is not None and total + len(data) <= MAX_ATTACHMENT_BYTES:
                total += len(data)
                image = {mime: base64.b64encode(data).decode("ascii")}
        if image is None:
            dropped.append(str(name))
        else:
            kept[name] = image
    notes = [
        f"the attachment {ascii(n)} was removed (only PNG, JPEG or GIF images under "
        f"{MAX_IMAGE_BYTES >> 20} MB are kept)"
        for n in dropped
    ]
    return kept, notes


# -- outputs --------------------------------------------------------------------------------
def _text(value: object) -> str:
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return value if isinstance(value, str) else str(value)


def clean_output(output: dict, removed: set[str]) -> dict | None:
    """One output with only safe content (None: drop it); adds what was removed to ``removed``."""
    from nbformat.v4 import new_output

    kind = output.get("output_type")
    if kind == "stream":
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return new_output("stream", name=name, text=_text(output.get("text", "")))
    if kind == "error":
        tb = output.get("traceback")
        return new_output(
            "error",
            ename=_text(output.get("ename", "")),
            evalue=_text(output.get("evalue", "")),
            traceback=[_text(t) for t in tb] if isinstance(tb, list) else [],
        )
    if kind not in ("display_data", "execute_result"):
        removed.add(f"{kind} output")
        return None
    data = output.get("data") if isinstance(output.get("data"), dict) else {}
    clean: dict[str, str] = {}
    for mime, value in data.items():
        if mime == "text/plain":
            clean[mime] = _text(value)
        elif mime in OUTPUT_IMAGES and (image := image_bytes(value, mime)) is not None:
            clean[mime] = base64.b64encode(image).decode("ascii")
        else:
            removed.add(str(mime))
    if not clean:
        clean["text/plain"] = "[output removed by the grader: only text and images are kept]"
    if kind == "execute_result":
        count = output.get("execution_count")
        count = count if isinstance(count, int) and not isinstance(count, bool) else None
        return new_output(kind, data=clean, execution_count=count)
    return new_output(kind, data=clean)


# -- markdown -------------------------------------------------------------------------------
SAFE_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1",
    "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "input", "kbd", "li", "ol", "p", "pre", "s",
    "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u",
    "ul",
}  # fmt: skip
SAFE_ATTRIBUTES = {"alt", "align", "class", "disabled", "checked", "href", "id", "src", "title",
                   "style", "type"}  # fmt: skip
_SAFE_STYLE = re.compile(r"^\s*text-align\s*:\s*(left|right|center)\s*;?\s*$")
_SAFE_CLASS = re.compile(r"^[A-Za-z0-9 _-]*$")
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif);base64,[A-Za-z0-9+/=]*$")


def safe_url(url: str) -> bool:
    """A link or image source that runs nothing: http(s), mailto, relative, or a data image."""
    squeezed = re.sub(r"[\x00-\x20\x7f]", "", url)  # browsers ignore these inside a scheme
    scheme = _SCHEME.match(squeezed)
    if scheme is None:
        return True
    name = scheme.group(1).lower()
    if name == "data":
        return bool(_DATA_IMAGE.match(squeezed))
    return name in ("http", "https", "mailto")


class _Checker(HTMLParser):
    """Finds the first tag, attribute or URL in rendered HTML that is not known to be safe."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problem: str | None = None

    def handle_starttag(self, tag, attrs):
        if self.problem:
            return
        if tag not in SAFE_TAGS:
            self.problem = f"<{tag}>"
            return
        for name, value in attrs:
            value = value or ""
            ok = name in SAFE_ATTRIBUTES
            if name in ("href", "src"):
                ok = safe_url(value)
            elif name == "style":
                ok = bool(_SAFE_STYLE.match(value))
            elif name == "class":
                ok = bool(_SAFE_CLASS.match(value)) and "mermaid" not in value.lower()
            elif name == "type":
                ok = tag == "input" and value == "checkbox"
            if not ok:
                self.problem = f"{name}= on <{tag}>"
                return

    handle_startendtag = handle_starttag

    def handle_comment(self, data):
        self.problem = self.problem or "an HTML comment"

    def handle_decl(self, decl):
        self.problem = self.problem or "an HTML declaration"

    def handle_pi(self, data):
        self.problem = self.problem or "an HTML processing instruction"

    def unknown_decl(self, data):
        self.problem = self.problem or "an HTML declaration"


def render_markdown(source: str, attachments: dict | None = None) -> str:
    """The HTML nbconvert makes of a markdown cell (as ``HTMLExporter.markdown2html`` does)."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    renderer = IPythonRenderer(escape=False, attachments=attachments or {})
    return MarkdownWithMath(renderer=renderer).render(source)


def markdown_problem(source: str, attachments: dict | None = None) -> str | None:
    """What in a markdown cell could run in a browser once rendered (None: nothing)."""
    try:
        html = render_markdown(source, attachments)
    except Exception as exc:  # noqa: BLE001 (e.g. a missing attachment: nbconvert would fail)
        return f"it cannot be rendered ({type(exc).__name__})"
    checker = _Checker()
    checker.feed(html)
    checker.close()
    return checker.problem


_CODE = re.compile(r"(^[ \t]*(`{3,}|~{3,}).*?(?:^[ \t]*\2[ \t]*$|\Z)|(`+).*?\3)", re.M | re.S)


def escape_raw_html(source: str) -> str:
    """``<`` outside code spans and fenced blocks as ``&lt;``: raw HTML shows as text."""
    out, last = [], 0
    for m in _CODE.finditer(source):
        out.append(source[last : m.start()].replace("<", "&lt;"))
        out.append(m.group())
        last = m.end()
    out.append(source[last:].replace("<", "&lt;"))
    return "".join(out)


def as_plain_text(source: str) -> str:
    """A markdown cell shown as plain text in a fenced block that nothing can close early."""
    longest = max((len(m) for m in re.findall(r"`+", source)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{printable(source)}\n{fence}"


def clean_markdown(source: str, attachments: dict | None = None) -> tuple[str, str | None]:
    """A markdown source that renders to harmless HTML, and what was wrong with it (or None)."""
    problem = markdown_problem(source, attachments)
    if problem is None:
        return source, None
    escaped = escape_raw_html(source)
    if markdown_problem(escaped, attachments) is None:
        return escaped, f"its HTML ({problem}) was shown as text"
    plain = as_plain_text(source)
    if markdown_problem(plain) is None:
        return plain, f"it was shown as plain text ({problem})"
    return "*[this cell was removed by the grader: it could not be shown safely]*", problem


# -- notebooks ------------------------------------------------------------------------------
def clean_notebook(nb) -> list[str]:
    """Make every cell of ``nb`` safe to render, in place; return notes on what was changed."""
    removed: set[str] = set()
    notes: list[str] = []
    for index, cell in enumerate(nb.cells, start=1):
        if cell.get("cell_type") == "code":
            outputs = cell.get("outputs") if isinstance(cell.get("outputs"), list) else []
            cleaned = [clean_output(o, removed) for o in outputs if isinstance(o, dict)]
            cell["outputs"] = [o for o in cleaned if o is not None]
        elif cell.get("cell_type") == "markdown":
            if "attachments" in cell:
                kept, dropped = clean_attachments(cell["attachments"])
                notes += [f"cell {index}: {d}" for d in dropped]
                if kept:
                    cell["attachments"] = kept
                else:
                    del cell["attachments"]
            source, problem = clean_markdown(_text(cell.get("source", "")), cell.get("attachments"))
            if problem is not None:
                cell["source"] = source
                notes.append(f"markdown cell {index}: {problem}")
        elif cell.get("cell_type") == "raw":
            # nbconvert writes raw cells without a mimetype straight into the page (cleaned
            # by bleach); a student's raw cell has no reason to be HTML at all
            cell["source"] = _text(cell.get("source", "")).replace("<", "&lt;")
            cell["metadata"] = copy.deepcopy(
                {k: v for k, v in cell.get("metadata", {}).items() if k == "nbgrader"}
            )
    if removed:
        kinds = ", ".join(printable(k) for k in sorted(removed))
        notes.insert(0, f"outputs of type {kinds} were removed: only text and images are kept")
    return notes
