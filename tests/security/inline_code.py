"""Find what a strict Content Security Policy would refuse to run in an HTML page."""

from html.parser import HTMLParser


class _InlineCodeFinder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag, attrs):
        names = {name.lower(): value for name, value in attrs}
        # JSON data blocks (json_script) are never run, so the policy has nothing to refuse.
        is_data = (names.get("type") or "").lower() in ("application/json", "application/ld+json")
        if tag == "script" and not names.get("src") and not is_data:
            self._in_inline_script = True
            self.found.append(f"inline <script> at line {self.getpos()[0]}")
        if tag == "style":
            self.found.append(f"<style> block at line {self.getpos()[0]}")
        for name in names:
            if name == "style":
                self.found.append(f'style="" on <{tag}> at line {self.getpos()[0]}')
            elif name.startswith("on"):
                self.found.append(f'{name}="" handler on <{tag}> at line {self.getpos()[0]}')
            elif name.startswith("hx-on") or (
                name in ("hx-vals", "hx-vars") and (names[name] or "").lstrip().startswith("js:")
            ):
                # htmx would have to eval these, which the policy refuses.
                self.found.append(f"{name} on <{tag}> at line {self.getpos()[0]}")
            elif (names[name] or "").strip().lower().startswith("javascript:"):
                self.found.append(f"javascript: URL on <{tag}> at line {self.getpos()[0]}")

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_inline_script = False


def inline_code(html: str) -> list[str]:
    """Inline scripts, <style> blocks, style attributes and on* handlers in `html`."""
    finder = _InlineCodeFinder()
    finder.feed(html)
    finder.close()
    return finder.found
