"""Wrap a template's visible text for translation: `{{ _("...") }}`, or `{% trans %}` around
text that holds values. A one-off helper for new templates: review its diff before keeping it.

    python scripts/wrap_strings.py src/townsquare/web/templates/feed/feed.html ...
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

TOKEN = re.compile(
    r"(?P<comment>\{#.*?#\})"
    r"|(?P<raw>\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\})"
    r"|(?P<stmt>\{%.*?%\})"
    r"|(?P<expr>\{\{.*?\}\})"
    r"|(?P<block><(script|style|pre)\b.*?</(script|style|pre)>)"
    r"|(?P<html_comment><!--.*?-->)"
    r"|(?P<tag><(?:[^>{]|\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\{)*>)"
    r"|(?P<text>[^<{]+|\{)",
    re.S,
)
ATTR = re.compile(r'\b(placeholder|aria-label|title|alt)="([^"{]*[A-Za-z][^"{]*)"')
SKIP = {"Townsquare", "OK"}
LETTER = re.compile(r"[A-Za-zÀ-ÿ]")


def literal(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def var_name(expr: str, taken: set[str]) -> str:
    words = re.findall(r"[A-Za-z_][A-Za-z_0-9]*", expr.split("|")[0])
    base = words[-1] if words else "value"
    if base in {"_", "loop", "length", "count"} or not base.isidentifier():
        base = "value"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}{n}", n + 1
    taken.add(name)
    return name


def wrap_run(parts: list[tuple[str, str]]) -> str:
    """A run of text and expressions between tags: wrapped when its text has words."""
    source = "".join(v for _k, v in parts)
    words = "".join(v for k, v in parts if k == "text")
    if not LETTER.search(words) or words.strip() in SKIP or '="' in words:
        return source
    if re.fullmatch(r"\s*[a-z]+(-[a-z]+)+\s*", words):  # a class name, not words
        return source
    if any(k == "expr" and re.match(r"\{\{-?\s*_\(", v) for k, v in parts):
        return source
    lead = re.match(r"\s*", source).group(0)  # type: ignore[union-attr]
    trail = re.search(r"\s*$", source).group(0)  # type: ignore[union-attr]
    body = source[len(lead) : len(source) - len(trail) if trail else None]
    body = re.sub(r"\s+", " ", body)
    exprs = re.findall(r"\{\{-?\s*(.*?)\s*-?\}\}", body, re.S)
    if not exprs:
        return f"{lead}{{{{ _({literal(body)}) }}}}{trail}"
    taken: set[str] = set()
    assigns = []
    for expr in exprs:
        if re.fullmatch(r"[A-Za-z_][A-Za-z_0-9]*", expr) and expr not in taken:
            taken.add(expr)
            continue
        name = var_name(expr, taken)
        assigns.append(f"{name}={expr}")
        body = body.replace("{{ " + expr + " }}", "{{ " + name + " }}", 1)
    head = "{% trans " + ", ".join(assigns) + " %}" if assigns else "{% trans %}"
    return f"{lead}{head}{body}{{% endtrans %}}{trail}"


def wrap_attrs(tag: str) -> str:
    def one(m: re.Match[str]) -> str:
        value = m.group(2)
        if value.strip() in SKIP or "'" in value:
            return m.group(0)
        quoted = literal(value).replace('"', "'")
        return f'{m.group(1)}="{{{{ _({quoted}) }}}}"'

    return ATTR.sub(one, tag)


def wrap(source: str) -> str:
    out: list[str] = []
    run: list[tuple[str, str]] = []
    for m in TOKEN.finditer(source):
        kind = m.lastgroup or "text"
        value = m.group(0)
        if kind in ("text", "expr"):
            run.append((kind, value))
            continue
        if run:
            out.append(wrap_run(run))
            run = []
        out.append(wrap_attrs(value) if kind == "tag" else value)
    if run:
        out.append(wrap_run(run))
    result = "".join(out)
    assert len(result) >= len(source)
    return result


if __name__ == "__main__":
    for name in sys.argv[1:]:
        path = Path(name)
        path.write_text(wrap(path.read_text()))
