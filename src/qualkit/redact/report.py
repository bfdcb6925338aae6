"""The human-review report: one self-contained HTML file showing what was replaced.

It shows the original identifiers (highlighted by label, with the replacement on
hover and after them), so it is private like the key: 0600, never in the output
folder. Documents are streamed into a side file and joined at the end, so the
report does not hold the corpus in memory.
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Sequence

from ..fsutil import PRIVATE_MODE, atomic_open

COLORS = {
    "PERSON": "#ffd6d6",
    "PLACE": "#d6ecff",
    "FACILITY": "#e3d6ff",
    "PHONE": "#fff1c2",
    "EMAIL": "#d8f5d0",
    "URL": "#d8f5d0",
    "HANDLE": "#d8f5d0",
    "ID": "#ffe0c2",
}
MAX_CHARS = 300_000  # longer documents are shown as excerpts around each replacement

_CSS = """
body{font:15px/1.5 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#222;padding:0 1em}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}
pre{white-space:pre-wrap;word-wrap:break-word;font:14px/1.6 ui-monospace,monospace;background:#fafafa;padding:1em;border:1px solid #eee}
mark{border-radius:3px;padding:0 2px}mark small{color:#555;font-size:.75em;margin-left:2px}
.warn{background:#fff4e5;border:1px solid #f0c080;padding:.5em 1em}
mark.LEFT{background:none;outline:2px dashed #c00;outline-offset:1px}
""" + "".join(f"mark.{k}{{background:{v}}}" for k, v in COLORS.items())


class ReviewReport:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, self._body_path = tempfile.mkstemp(prefix=".review-body.", suffix=".tmp", dir=self.path.parent)
        os.fchmod(fd, PRIVATE_MODE)
        self._body = os.fdopen(fd, "w", encoding="utf-8")
        self.labels: Counter = Counter()
        self.detectors: Counter = Counter()
        self.documents = 0
        self.left = 0
        self.left_words: Counter = Counter()

    def add(
        self,
        name: str,
        text: str,
        items: Sequence[tuple[int, int, str, str, str]],
        left: Sequence[tuple[int, int]] = (),
    ) -> None:
        """*items*: (start, end, label, replacement, detector), sorted, non-overlapping. *left*:
        (start, end) of words that are study identifiers elsewhere but were left here as ordinary
        words on purpose; they are outlined for a human to check."""
        self.documents += 1
        self.left += len(left)
        self.left_words.update(text[s:e] for s, e in left)
        for _s, _e, label, _r, det in items:
            self.labels[label] += 1
            self.detectors[det] += 1
        marks = sorted(
            [(s, e, label, rep, det) for s, e, label, rep, det in items] + [(s, e, "LEFT", "", "") for s, e in left]
        )
        w = self._body.write
        note = f", {len(left)} left as ordinary words" if left else ""
        w(
            f'<h2 id="d{self.documents}">{html.escape(name)} <small>({len(items)} replacements{note})</small></h2>\n<pre>'
        )
        if len(text) <= MAX_CHARS:
            windows = [(0, len(text))]
        else:
            windows = _windows(text, marks)
            w('<span class="warn">long document: excerpts around each replacement</span>\n')
        k = 0
        for a, b in windows:
            if a > 0:
                w("\n…\n")
            pos = a
            while k < len(marks) and marks[k][0] < b:
                s, e, label, rep, det = marks[k]
                if s < pos:
                    k += 1
                    continue
                w(html.escape(text[pos:s]))
                if label == "LEFT":
                    w(
                        '<mark class="LEFT" title="a study identifier elsewhere, left here as an ordinary word: '
                        f'check it">{html.escape(text[s:e])}</mark>'
                    )
                else:
                    w(
                        f'<mark class="{label}" title="{html.escape(label)} → {html.escape(rep)} ({html.escape(det)})">'
                        f"{html.escape(text[s:e])}<small>→ {html.escape(rep)}</small></mark>"
                    )
                pos = e
                k += 1
            w(html.escape(text[pos:b]))
        w("</pre>\n")

    def close(self, *, title: str = "qualkit redaction review", notes: list[str] | None = None) -> Path:
        self._body.close()
        try:
            with atomic_open(self.path, "w", private=True) as out:
                out.write(
                    f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
                    f"<style>{_CSS}</style></head><body>\n<h1>{html.escape(title)}</h1>\n"
                )
                out.write(
                    '<p class="warn">PRIVATE: this report shows the original identifiers. '
                    "Keep it with the key, never with the shared output.</p>\n"
                )
                for note in notes or []:
                    out.write(f"<p>{html.escape(note)}</p>\n")
                out.write(f"<p>{self.documents} document(s), {sum(self.labels.values())} replacement(s).</p>\n")
                if self.left:
                    out.write(
                        f'<p class="warn">{self.left} occurrence(s) of words that are names or places elsewhere in '
                        'this study were left as ordinary words (<mark class="LEFT">outlined</mark>: "ngày mai" when '
                        'Mai is a name, "My mother" at the start of a sentence when My is one). Check each; add a '
                        "name used that way to the names list and run again.</p>\n"
                    )
                    out.write("<table><tr><th>left as a word</th><th>times</th></tr>\n")
                    for word, n in self.left_words.most_common():
                        out.write(f'<tr><td><mark class="LEFT">{html.escape(word)}</mark></td><td>{n}</td></tr>\n')
                    out.write("</table>\n")
                out.write("<table><tr><th>label</th><th>replacements</th></tr>\n")
                for label, n in sorted(self.labels.items()):
                    out.write(f'<tr><td><mark class="{label}">{label}</mark></td><td>{n}</td></tr>\n')
                out.write("</table>\n<table><tr><th>detector</th><th>replacements</th></tr>\n")
                for det, n in sorted(self.detectors.items()):
                    out.write(f"<tr><td>{html.escape(det)}</td><td>{n}</td></tr>\n")
                out.write("</table>\n")
                with open(self._body_path, encoding="utf-8") as body:
                    shutil.copyfileobj(body, out)
                out.write("</body></html>\n")
        finally:
            try:
                os.unlink(self._body_path)
            except FileNotFoundError:
                pass
        return self.path

    def abort(self) -> None:
        try:
            self._body.close()
            os.unlink(self._body_path)
        except OSError:
            pass


def _windows(text: str, items, ctx: int = 200) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e, *_ in items:
        a, b = max(0, s - ctx), min(len(text), e + ctx)
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out
