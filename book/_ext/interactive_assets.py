"""What the self-checks and interactive figures need on the site, loaded from _config.yml.

1. plotly.js from the installed ``plotly`` package, copied to ``_static/plotly.min.js`` and loaded
   (without ``defer``, before the figures' inline scripts) on the pages that have a Plotly figure
   and on no other page, so that nothing comes from a CDN. ``lstm_course.interactive.show`` writes
   figures that expect it, because this extension sets ``LSTM_COURSE_SITE_BUILD`` for the kernels
   that run the chapters (they inherit the build's environment).
2. Colab: the downloadable ``.ipynb`` of each chapter gets a first cell that installs the course
   when it runs on Colab (and does nothing elsewhere). The address it installs from is the
   ``repository`` setting of _config.yml (``url`` and ``branch``), read here.
3. The same setting for the pages: the MyST substitutions ``{{ repository_url }}`` and
   ``{{ clone_commands }}`` (a code block: clone, the two commands, Jupyter Lab), used by the
   students' page, so that no page repeats the address.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

SITE_BUILD_ENV = "LSTM_COURSE_SITE_BUILD"  # the name lstm_course.interactive reads
PLOTLY_JS = "plotly.min.js"
# The class plotly.py gives a figure's div (fig.to_html): a page that has one needs plotly.js.
PLOTLY_MARKER = 'class="plotly-graph-div"'
COLAB_CELL_MARKER = "# Colab: install the course"


def _plotly_js_path() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / PLOTLY_JS


def _copy_plotly_js(app, exception):
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "_static" / PLOTLY_JS
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_plotly_js_path(), target)


def _load_plotly_where_needed(app, pagename, templatename, context, doctree):
    if PLOTLY_MARKER in context.get("body", ""):
        # per page; no "defer": the figures' inline scripts call Plotly as the page is parsed
        app.add_js_file(PLOTLY_JS, priority=400)


def colab_install_cell(repository_url: str, branch: str) -> dict:
    """A notebook cell that pip-installs the course from its repository when run on Colab."""
    source = (
        f"{COLAB_CELL_MARKER} (lstm_ref and lstm_course, with the [course] extra). It does\n"
        "# nothing elsewhere: Binder, JupyterHub and `make book` already have the course installed.\n"
        "# The address is the `repository` setting of the course's _config.yml.\n"
        "import sys\n\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install --quiet "lstm_ref[course] @ git+{repository_url}@{branch}"\n'
    )
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {"tags": ["remove-cell"]},
        "outputs": [],
        "source": source.splitlines(keepends=True),
    }


def _add_colab_cell(app, pagename, templatename, context, doctree):
    ipynb = context.get("ipynb_source")
    url, branch = _repository(app.config)
    if not ipynb or not url:
        return
    path = Path(app.outdir) / "_sources" / ipynb
    if not path.is_file():
        return
    notebook = json.loads(path.read_text(encoding="utf-8"))
    first = "".join(notebook["cells"][0]["source"]) if notebook["cells"] else ""
    if first.startswith(COLAB_CELL_MARKER):
        return
    cell = colab_install_cell(url, branch)
    notebook["cells"].insert(0, cell)
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _repository(config) -> tuple[str, str]:
    options = config.html_theme_options
    return options.get("repository_url", "").rstrip("/"), options.get("repository_branch") or "main"


def _add_substitutions(app, config):
    url, branch = _repository(config)
    clone = (
        "```bash\n"
        f"git clone --branch {branch} {url} lstm-course\n"
        "cd lstm-course\n"
        "make book           # creates .venv, installs the course, builds the site\n"
        "make test           # runs every test\n"
        ".venv/bin/jupyter lab\n"
        "```"
    )
    config.myst_substitutions = {
        **config.myst_substitutions,
        "repository_url": url,
        "clone_commands": clone,
    }


def setup(app):
    os.environ[SITE_BUILD_ENV] = "1"
    app.connect("config-inited", _add_substitutions)
    app.connect("html-page-context", _load_plotly_where_needed, priority=450)
    # after site_fixes (400) and the theme's launch buttons (500) have written the .ipynb
    app.connect("html-page-context", _add_colab_cell, priority=950)
    app.connect("build-finished", _copy_plotly_js)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
