"""The built site, opened page by page in headless Chromium.

For every page in _toc.yml: no console errors, every image loaded, mathematics typeset by the
locally served MathJax, every internal link pointing at an existing file and anchor. The search
page must find "forget gate". A full-page screenshot of each page goes to _build/screenshots/.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"


def toc_files() -> list[str]:
    """Every document in _toc.yml, as a path without suffix relative to the root."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"].removesuffix(".ipynb").removesuffix(".md"))
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return files


pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

PAGES = toc_files()

# Text of the page without code, scripts and MathJax's own output: raw TeX delimiters left in it
# mean MathJax did not typeset something.
_VISIBLE_PROSE = """() => {
  const body = document.body.cloneNode(true);
  body.querySelectorAll('pre, code, script, style, textarea, mjx-container').forEach(e => e.remove());
  return body.textContent;
}"""
_BROKEN_IMAGES = """() => Array.from(document.images)
  .filter(img => !(img.complete && img.naturalWidth > 0))
  .map(img => img.getAttribute('src'))"""
_LINKS = "() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"
_UNTYPESET = """() => Array.from(document.querySelectorAll('.math'))
  .filter(e => !e.querySelector('mjx-container')).length"""


@cache
def _ids(path: Path) -> frozenset[str]:
    html = path.read_text(encoding="utf-8", errors="replace")
    return frozenset(re.findall(r'\bid="([^"]+)"', html))


def _target_file(url_path: str) -> Path:
    rel = unquote(url_path).lstrip("/")
    target = HTML / rel
    if rel == "" or rel.endswith("/"):
        target = target / "index.html"
    return target


def _open(browser, url: str):
    """Open url in a fresh page; return the page and the list its console errors go to."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on(
        "console",
        lambda msg: (
            errors.append(f"{msg.text} ({msg.location.get('url')})")
            if msg.type == "error"
            else None
        ),
    )
    page.on(
        "response", lambda r: errors.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None
    )
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.goto(url, wait_until="load")
    return page, errors


@pytest.mark.parametrize("doc", PAGES)
def test_page_renders_cleanly(browser, site_url, doc):
    """Check that the page has no console errors, loads every image, typesets its maths, and
    that every internal link on it resolves to an existing file and anchor."""
    url = f"{site_url}/{doc}.html"
    page, errors = _open(browser, url)
    try:
        n_math = page.locator(".math").count()
        if n_math:
            # MathJax typesets asynchronously after load: wait until every .math holds its output.
            page.wait_for_function(f"() => ({_UNTYPESET})() === 0", timeout=30_000)
        page.wait_for_load_state("networkidle")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{doc.replace('/', '__')}.png"), full_page=True)

        assert errors == [], f"{doc}: console errors: {errors}"

        broken = page.evaluate(_BROKEN_IMAGES)
        assert broken == [], f"{doc}: images that did not load: {broken}"

        if n_math:
            assert page.locator("mjx-container").count() > 0, f"{doc}: no MathJax output"
        prose = page.evaluate(_VISIBLE_PROSE)
        for raw in ("\\(", "\\[", "$$"):
            assert raw not in prose, f"{doc}: raw TeX {raw!r} left in the page text"

        bad = []
        for href in sorted(set(page.evaluate(_LINKS))):
            parts = urlsplit(href)
            if f"{parts.scheme}://{parts.netloc}" != site_url:
                continue  # external links are not checked (the test machine is offline)
            target = _target_file(parts.path)
            if not target.is_file():
                bad.append(f"{href} (no file {target.relative_to(HTML)})")
            elif parts.fragment and target.suffix == ".html":
                if unquote(parts.fragment) not in _ids(target):
                    bad.append(f"{href} (no id {parts.fragment!r} in {target.relative_to(HTML)})")
        assert bad == [], f"{doc}: internal links that do not resolve: {bad}"
    finally:
        page.close()


def test_search_finds_forget_gate(browser, site_url):
    """Check that the site's search page returns the forget-gate chapter for "forget gate"."""
    page, errors = _open(browser, f"{site_url}/search.html?q=forget+gate")
    try:
        results = page.locator("#search-results li a")
        results.first.wait_for(timeout=30_000)
        hrefs = [results.nth(k).get_attribute("href") for k in range(results.count())]
        assert any("03_forget_gate" in (h or "") for h in hrefs), f"search results: {hrefs}"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "search.png"), full_page=True)
        assert errors == [], f"search page: console errors: {errors}"
    finally:
        page.close()


def test_every_toc_page_was_built(built_site):
    """Check that each document listed in _toc.yml produced an HTML page."""
    missing = [doc for doc in PAGES if not (built_site / f"{doc}.html").is_file()]
    assert missing == [], f"pages in _toc.yml without HTML output: {missing}"


@pytest.mark.parametrize("doc", [d for d in PAGES if re.match(r"book/\d\d_", d)])
def test_chapter_offers_downloads_and_launch_buttons(built_site, doc):
    """Check that each chapter offers its .md source and an .ipynb (both existing files) for
    download, and launch buttons for Binder and JupyterHub."""
    html = (built_site / f"{doc}.html").read_text(encoding="utf-8")
    for suffix in (".md", ".ipynb"):
        href = f"../_sources/{doc}{suffix}"
        assert f'href="{href}"' in html, f"{doc}: no download link {href}"
        assert (built_site / "_sources" / f"{doc}{suffix}").is_file(), f"{href} was not written"
    assert "mybinder.org/v2/gh/" in html, f"{doc}: no Binder launch button"
    assert "hub/user-redirect/git-pull" in html, f"{doc}: no JupyterHub launch button"
