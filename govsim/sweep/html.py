"""``analysis.html``: the sweep analysis as one self-contained page (figures embedded, no
script, no network), made from ``analysis.md`` so the two always say the same."""

from __future__ import annotations

import base64
import re
from html import escape
from pathlib import Path

import markdown

CSS = """
body { margin: 0; color: #1d2430; font: 15px/1.5 system-ui, -apple-system, "Segoe UI",
       Roboto, "Noto Sans", sans-serif; }
main { max-width: 1200px; margin: 0 auto; padding: 24px 32px 48px; }
h1 { font-size: 25px; } h2 { font-size: 19px; margin-top: 32px; padding-bottom: 4px;
     border-bottom: 2px solid #dde2ea; } h3 { font-size: 16px; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums;
        margin: 8px 0; }
th, td { border-bottom: 1px solid #dde2ea; padding: 4px 8px; }
thead th { background: #f5f7fa; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12.5px; }
img { max-width: 100%; height: auto; border: 1px solid #dde2ea; margin: 8px 0; }
"""

_IMG = re.compile(r'<img alt="([^"]*)" src="([^"/]+\.png)"\s*/?>')


def render(text: str, folder: Path, title: str = "Sweep analysis") -> str:
    """The Markdown ``text`` as a page; each ``![...](file.png)`` in ``folder`` is embedded."""
    body = markdown.markdown(text, extensions=["tables"], output_format="html")
    body = _IMG.sub(lambda m: _embed(m, Path(folder)), body)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{escape(title)}</title><style>{CSS}</style></head>"
            f"<body><main>\n{body}\n</main></body></html>\n")


def _embed(match: re.Match, folder: Path) -> str:
    alt, name = match.group(1), match.group(2)
    path = folder / name
    if not path.is_file():
        return f"<p><em>(figure {escape(name)} missing)</em></p>"
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{alt}" src="data:image/png;base64,{data}">'
