"""Print the built HTML book to one PDF: cover, contents, every chapter, offline.

Headless Chromium (Debian's, through playwright) prints each page of ``_build/html`` in the
order of ``_toc.yml``, after MathJax has typeset it; pypdf joins the pages after a cover and a
table of contents (with page numbers and PDF bookmarks). No network is used: every request
that is not a local file is refused.

    python tools/pdf.py [--html _build/html] [--out _build/pdf/matfill.pdf]
"""

from __future__ import annotations

import argparse
import datetime
import html
import io
import sys
from pathlib import Path

import yaml
from chromium import launch, refuse_network  # tools/chromium.py
from pypdf import PdfReader, PdfWriter

ROOT = Path(__file__).resolve().parents[1]
# scale 0.8: each page is laid out 1.25 times wider than A4, so wide formulas and figures fit
PAPER = dict(
    format="A4",
    scale=0.8,
    margin=dict(top="16mm", bottom="16mm", left="14mm", right="14mm"),
)

# print: the reading column only, solutions and collapsed cells open, no buttons
PRINT_CSS = """
@media print {
  .bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .header-article,
  .prev-next-area, .bd-footer, .bd-footer-content, .bd-footer-article,
  .headerbtn, .copybtn, .toggle-button, #pst-back-to-top { display: none !important; }
  .bd-main, .bd-content, .bd-article-container, .bd-container, .bd-page-width {
    max-width: 100% !important; width: 100% !important; margin: 0 !important; }
  div.cell_output img { max-width: 100% !important; height: auto; }
  pre { white-space: pre-wrap !important; word-break: break-word; }
  * { animation: none !important; transition: none !important; }
  div.cell_input, figure, mjx-container[display="true"], tr { break-inside: avoid; }
  h1, h2, h3 { break-after: avoid; }
}
"""

COVER = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>
body {{ font-family: sans-serif; margin: 0; }}
.cover {{ height: 250mm; display: flex; flex-direction: column; justify-content: center;
          text-align: center; padding: 0 20mm; }}
h1 {{ font-size: 30pt; margin-bottom: 8mm; }}
p {{ font-size: 12pt; color: #333; margin: 2mm 0; }}
</style></head><body><div class="cover">
<h1>{title}</h1><p>{author}</p><p>Printed from the HTML edition on {date}.</p>
<p style="margin-top:14mm">Sample photographs from scikit-learn: china.jpg by danielbuechele and
flower.jpg by vultilion, both CC BY 2.0.</p></div></body></html>"""

CONTENTS = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>
body {{ font-family: sans-serif; margin: 0; }} h1 {{ font-size: 20pt; }}
table {{ width: 100%; border-collapse: collapse; font-size: 12pt; }}
td {{ padding: 2.5mm 0; border-bottom: 1px dotted #999; }} td.n {{ text-align: right; }}
</style></head><body><h1>Contents</h1><table>{rows}</table></body></html>"""


def toc_pages(html_dir):
    """(docname, html path) of the root page and every chapter, in the book's order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    docs = [toc["root"]] + [c["file"] for c in toc["chapters"]]
    return [(d, Path(html_dir) / f"{d}.html") for d in docs]


def print_page(page, path):
    """PDF bytes of one built page, and its title, once its math is typeset."""
    if not path.is_file():
        sys.exit(f"tools/pdf.py: {path} is missing: run `make book` first.")
    page.goto(path.resolve().as_uri(), wait_until="load", timeout=60_000)
    page.evaluate(
        """async () => {
        if (window.MathJax && MathJax.startup) await MathJax.startup.promise;
        document.querySelectorAll('details').forEach(d => d.open = true);
        window.dispatchEvent(new Event('beforeprint'));  // opens the solutions' dropdowns
        await Promise.all([...document.images].map(i => i.decode().catch(() => null)));
    }"""
    )
    page.add_style_tag(content=PRINT_CSS)
    page.emulate_media(media="print")
    page.wait_for_timeout(200)  # let the print layout settle
    title = page.evaluate(
        "document.querySelector('main h1, article h1')?.innerText || ''"
    )
    title = title.replace("#", "").strip()
    return page.pdf(**PAPER, print_background=True), title


def html_pdf(page, markup):
    page.set_content(markup, wait_until="load")
    return page.pdf(**PAPER, print_background=True)


def build(html_dir, out):
    from playwright.sync_api import sync_playwright

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        refuse_network(page)
        chapters = []
        for doc, path in toc_pages(html_dir):
            raw, title = print_page(page, path)
            chapters.append((title or doc, PdfReader(io.BytesIO(raw))))
        cover = html_pdf(
            page,
            COVER.format(
                title=html.escape(config["title"]),
                author=html.escape(config.get("author", "")),
                date=datetime.date.today().isoformat(),
            ),
        )
        # the contents page's own length decides where the chapters start: lay it out once to
        # count its pages, then again with the final numbers
        n_cover = len(PdfReader(io.BytesIO(cover)).pages)
        contents, starts = None, []
        for _ in range(2):
            n_contents = (
                len(PdfReader(io.BytesIO(contents)).pages) if contents else 1
            )
            first = n_cover + n_contents
            starts = []
            for _, reader in chapters:
                starts.append(first)
                first += len(reader.pages)
            rows = "".join(
                f"<tr><td>{html.escape(t)}</td><td class='n'>{s + 1}</td></tr>"
                for (t, _), s in zip(chapters, starts)
            )
            contents = html_pdf(page, CONTENTS.format(rows=rows))
        browser.close()

    writer = PdfWriter()
    for part in (cover, contents):
        for pg in PdfReader(io.BytesIO(part)).pages:
            writer.add_page(pg)
    writer.add_outline_item(title="Contents", page_number=n_cover)
    for (title, reader), start in zip(chapters, starts):
        for pg in reader.pages:
            writer.add_page(pg)
        writer.add_outline_item(title=title, page_number=start)
    writer.add_metadata(
        {"/Title": config["title"], "/Author": config.get("author", "")}
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as f:
        writer.write(f)
    return out, len(writer.pages), [t for t, _ in chapters]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "_build" / "pdf" / "matfill.pdf"
    )
    args = parser.parse_args(argv)
    out, n, titles = build(args.html, args.out)
    print(f"{out}: {n} pages, {len(titles)} parts: " + "; ".join(titles))


if __name__ == "__main__":
    main()
