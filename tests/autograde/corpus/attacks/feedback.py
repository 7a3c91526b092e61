"""Attacks on the instructor and the student reading the results: stored XSS in outputs,
markdown, attachments, metadata and names; terminal escapes (issue 10)."""

from __future__ import annotations

import base64

from nbformat.v4 import new_code_cell, new_markdown_cell

from attacks import (
    XSS,
    attack,
    before_tests,
    cases,
)

# == 9. stored XSS and terminal escapes =========================================================
XSS_DISPLAY = f"""
from IPython.display import HTML, SVG, Javascript, Markdown, display

display(HTML("<script>alert('{XSS}')</script><img src=x onerror=\\"alert('{XSS}')\\">"))
display(SVG('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(\\'{XSS}\\')"></svg>'))
display(Javascript("alert('{XSS}')"))
display(Markdown("<img src=x onerror=\\"alert('{XSS}')\\">[x](javascript:alert('{XSS}'))"))
display({{"text/html": "<iframe srcdoc=\\"<script>alert('{XSS}')</script>\\"></iframe>",
         "text/plain": "harmless"}}, raw=True)
"""


@attack("stored XSS: display(HTML/SVG/Javascript)", most="full", feedback=True)
def atk_xss_outputs(ctx):
    """A correct notebook with one more cell displaying a <script>, an <img onerror>, an SVG
    with onload, a Javascript output, a markdown output and an iframe."""
    nb = ctx.solved()
    nb.cells.insert(len(nb.cells) // 2, new_code_cell(XSS_DISPLAY))
    return ctx.nb(nb)


XSS_MARKDOWN = (
    f"<script>alert('{XSS}')</script>\n\n<img src=x onerror=\"alert('{XSS}')\">\n\n"
    f"[click](javascript:alert('{XSS}'))\n\n<svg onload=\"alert('{XSS}')\"></svg>\n\n"
    f"<iframe srcdoc=\"<script>alert('{XSS}')</script>\"></iframe>\n\n"
    f'<a href="#" onclick="alert(\'{XSS}\')">hi</a>'
)


@attack("stored XSS: markdown cells", most="full", feedback=True)
def atk_xss_markdown(ctx):
    """A correct notebook with a markdown cell of <script>, <img onerror>, a javascript: link,
    <svg onload>, <iframe srcdoc> and onclick."""
    nb = ctx.solved()
    nb.cells.insert(1, new_markdown_cell(XSS_MARKDOWN))
    return ctx.nb(nb)


SVG_ATTACHMENT = (
    f"<svg xmlns='http://www.w3.org/2000/svg' onload=\"alert('{XSS}')\">"
    f"<script>alert('{XSS}')</script></svg>"
)
PNG_1X1 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5E"
    "rkJggg=="
)


@attack("stored XSS: markdown attachments", most="full", feedback=True)
def atk_xss_attachment(ctx):
    """A correct notebook with attachments: an SVG with a script, an 'image/png' that is HTML,
    and a text/html attachment, shown by markdown cells."""
    nb = ctx.solved()
    cell = new_markdown_cell(
        "![a](attachment:a.svg) ![b](attachment:b.png) ![c](attachment:c.html)"
    )
    cell["attachments"] = {
        "a.svg": {"image/svg+xml": base64.b64encode(SVG_ATTACHMENT.encode()).decode()},
        "b.png": {"image/png": base64.b64encode(f"<script>alert('{XSS}')</script>".encode())
                  .decode()},
        "c.html": {"text/html": f"<script>alert('{XSS}')</script>"},
    }  # fmt: skip
    nb.cells.insert(1, cell)
    return ctx.nb(nb)


@attack("honest: a pasted image in a markdown cell (not an attack)", most="full", flagged=False,
        feedback=True)  # fmt: skip
def atk_honest_attachment(ctx):
    """A correct notebook with a PNG pasted into a markdown cell: full marks, no flag, and its
    feedback renders (today such a notebook makes `make feedback` fail for everyone)."""
    nb = ctx.solved()
    cell = new_markdown_cell("My sketch of the gate: ![sketch](attachment:sketch.png)")
    cell["attachments"] = {"sketch.png": {"image/png": PNG_1X1}}
    nb.cells.insert(2, cell)
    return ctx.nb(nb)


HTML_NAME = f"<img src=x onerror=alert('{XSS}')>"


@attack("stored XSS: HTML grade_id, cell metadata and notebook metadata", most="full",
        feedback=True)  # fmt: skip
def atk_xss_metadata(ctx):
    """A correct notebook whose kernelspec display name, title, an added cell's grade_id, tags
    and cell id carry HTML."""
    nb = ctx.solved()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": HTML_NAME, "language": "python"}
    nb.metadata["title"] = HTML_NAME
    cell = new_code_cell("x = 1")
    cell.metadata["nbgrader"] = {
        "grade": True, "grade_id": HTML_NAME, "locked": False, "points": 5, "solution": False,
        "schema_version": 3, "task": False,
    }  # fmt: skip
    cell.metadata["tags"] = [HTML_NAME]
    cell["id"] = "x" + XSS
    nb.cells.insert(3, cell)
    return ctx.nb(nb)


ESC_NAME = "\x1b]2;F-esc-file\x07\x1b[2J" + HTML_NAME.replace("/", "")


@attack("terminal escapes and HTML in file names", most="full", terminal="file")
def atk_esc_file_names(ctx):
    """A correct notebook with extra files and a link whose names carry terminal escapes and
    HTML (they reach the grader's notes and messages)."""
    files = ctx.nb(ctx.solved())
    files[f"{ESC_NAME}.txt"] = b"hello\n"
    files[f"dir{ESC_NAME}/x.txt"] = b"hello\n"
    files[f"@link:{ESC_NAME}.lnk"] = b"/etc/passwd"
    return files


@attack("terminal escapes in a failure; multiple notebooks", terminal="nb")
def atk_esc_notebook_names(ctx):
    """No notebook under its own name, two under names with terminal escapes: the failure
    message lists them."""
    data = cases.dumps(ctx.solved())
    return {
        "\x1b]2;F-esc-nb\x07\x1b[2J\x1b[1A.ipynb": data,
        "\x1b[31mcopy\x1b[0m.ipynb": data,
    }


TAMPER_ESC = """
import numpy
setattr(numpy, "\\x1b]2;F-esc-tamper\\x07\\x1b[2J\\x1b[3J", 1)
"""


@attack("terminal escapes in a flag", most="full", terminal="tamper")
def atk_esc_in_flag(ctx):
    """A correct notebook that adds to NumPy an attribute named with terminal escapes: the
    grader's own flag ('numpy.<name> was added') would print it raw."""
    return ctx.nb(before_tests(ctx.solved(), TAMPER_ESC))
