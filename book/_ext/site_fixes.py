"""Small fixes to the generated HTML, loaded as a local Sphinx extension from _config.yml.

1. sphinx-thebe 0.3.1 registers its configuration script twice under Jupyter Book 1.0.4, so every
   page declares `const THEBE_JS_URL` twice and the browser reports a SyntaxError (the
   togglebutton selector is duplicated the same way). We drop exact duplicate scripts from each
   page's context before it is rendered.
2. The download button of sphinx-book-theme offers an ``.ipynb`` only when the page context names
   one (``ipynb_source``), which nothing sets for MyST Markdown notebooks. For each chapter written
   as a MyST notebook we write the notebook (converted by jupytext, without outputs, so that it
   runs top to bottom in Jupyter, Colab or Binder) next to the page's source and name it.
"""

from __future__ import annotations

from pathlib import Path


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        # The copies differ only in filename None versus "": compare what ends up in the page.
        filename = getattr(script, "filename", script) or ""
        key = (str(filename), tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def _offer_ipynb(app, pagename, templatename, context, doctree):
    if doctree is None or pagename not in app.env.all_docs:
        return
    source = Path(app.env.doc2path(pagename))
    if source.suffix != ".md" or "jupytext:" not in source.read_text(encoding="utf-8")[:400]:
        return  # a plain Markdown page, not a notebook
    import jupytext

    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    jupytext.write(jupytext.read(source), target, fmt="ipynb")
    context["ipynb_source"] = f"{pagename}.ipynb"


def setup(app):
    app.connect("html-page-context", _offer_ipynb, priority=400)  # before the theme's buttons
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
