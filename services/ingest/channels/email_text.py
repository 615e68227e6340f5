"""An e-mail's words: HTML reduced to text, and the plain or the HTML body, whichever says something."""

from __future__ import annotations

from html.parser import HTMLParser


class _TextOfHtml(HTMLParser):
    _BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line).strip()


def best_text(plain: str, html: str) -> str:
    """The plain text when it says something, else the HTML reduced to text.

    Mail clients and shop platforms often send an empty (or whitespace-only) text/plain
    alternative beside the real HTML body (issue #19): preferring plain by MIME type alone then
    loses every word the customer wrote.
    """
    return plain if plain.strip() else html_to_text(html)
