"""Small fixes to the generated HTML, loaded as a local Sphinx extension from _config.yml.

sphinx-thebe 0.3.1 registers its configuration script twice under Jupyter Book 1.0.4, so every
page declares `const THEBE_JS_URL` twice and the browser reports a SyntaxError (the
togglebutton selector is duplicated the same way). We drop exact
duplicate scripts from each page's context before it is rendered.
"""

from __future__ import annotations


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


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
