#!/usr/bin/env python3
"""`make test`: every link in the README, docs/*.md and bench/README.md
resolves. A relative link must name a file or directory of the
repository; a `#anchor` must be a heading of the Markdown file it points
to, as GitHub names headings: the heading's text (code, emphasis and
links reduced to their words) in lower case, with every character other
than letters, digits, spaces, `-` and `_` dropped and each space made a
`-`, and `-1`, `-2` added to repeats. Links to other sites are not
fetched. Standard library only; TAP output.
Usage: tests/docs_links.py [FILE.md]..."""
import pathlib
import re
import sys

from tap import finish, ok

ROOT = pathlib.Path(__file__).resolve().parent.parent
INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")
HTML = re.compile(r"<(?:a|img)\s[^>]*?(?:href|src)=\"([^\"]*)\"", re.I)


def prose(path):
    """(line number, text) of the lines outside fenced code blocks, with
    code spans blanked (a link written in code is not a link)."""
    fence = None
    for i, line in enumerate(path.read_text().split("\n"), 1):
        m = re.match(r"^\s{0,3}(`{3,}|~{3,})", line)
        if fence is None and m:
            fence = m[1]
        elif fence is not None:
            if line.strip().startswith(fence) and line.strip() == line.strip()[0] * len(line.strip()):
                fence = None
        else:
            yield i, line


def heading_text(markdown):
    """The words a reader sees in a heading's Markdown."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)  # links: their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("`", "")
    text = re.sub(r"(\*\*|__|\*|_)(\S(?:.*?\S)?)\1", r"\2", text)  # emphasis
    return text.strip()


def anchors(path, cache={}):
    """The anchors GitHub gives the headings of a Markdown file."""
    if path not in cache:
        seen, names = {}, set()
        for _, line in prose(path):
            m = re.match(r"^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$", line)
            if not m:
                continue
            slug = re.sub(r"[^\w\- ]", "", heading_text(m[1]).lower()).replace(" ", "-")
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            names.add(slug if count == 0 else f"{slug}-{count}")
        for _, line in prose(path):  # explicit <a id="..."> / <a name="...">
            names.update(re.findall(r"<a\s+(?:id|name)=\"([^\"]+)\"", line))
        cache[path] = names
    return cache[path]


def links(path):
    for i, line in prose(path):
        text = re.sub(r"``.*?``|`[^`]*`", lambda m: " " * len(m[0]), line)
        for pattern in (INLINE, HTML):
            for m in pattern.finditer(text):
                yield i, m[1]
        m = REFERENCE.match(text)
        if m:
            yield i, m[1]


def problem(path, target):
    """'' when target, a link in path, resolves; else what is wrong."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, mailto:...
        return ""
    file, _, anchor = target.partition("#")
    dest = path if not file else (path.parent / file).resolve()
    if ROOT not in dest.parents and dest != ROOT:
        return f"{file} is outside the repository"
    if not dest.exists():
        return f"{file} does not exist"
    if anchor:
        if dest.suffix != ".md":
            return f"#{anchor}: {file} is not a Markdown file"
        if anchor not in anchors(dest):
            return (f"no heading of {dest.relative_to(ROOT)} makes #{anchor}; it has: "
                    + " ".join(sorted(anchors(dest))))
    return ""


def main():
    files = [pathlib.Path(f).resolve() for f in sys.argv[1:]] or \
        [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]
    for path in files:
        found = list(links(path))
        bad = [f"line {i}: ({target}) {why}" for i, target in found
               for why in [problem(path, target)] if why]
        ok(f"{path.relative_to(ROOT)}: its {len(found)} links resolve", not bad, "\n".join(bad))
    finish()


main()
