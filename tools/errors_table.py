"""The error table of src/errors.h (the LR_ERRORS X-macro), read for the
generators of the documents that list it: tools/gen_errors_md.py
(docs/errors.md) and tools/gen_openapi.py (src/openapi.json). Standard
library only."""
import collections
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
Error = collections.namedtuple("Error", "name status code message")

# X(NAME, STATUS, "code", "message"), each string one C literal.
_STRING = r'"((?:[^"\\]|\\.)*)"'
_ROW = re.compile(r"X\(\s*(\w+),\s*(\d+),\s*" + _STRING + r",\s*" + _STRING + r"\s*\)")


def _unescape(s):
    """The C escapes the table uses: \\" and \\\\."""
    return re.sub(r"\\(.)", r"\1", s)


def read(path=ROOT / "src" / "errors.h"):
    """Every row of LR_ERRORS in order, LR_ERR_OK included. Raises
    ValueError when a row does not have the expected form (rather than
    leaving it out of the documents)."""
    text = pathlib.Path(path).read_text()
    start = text.index("#define LR_ERRORS(X)")
    end = text.index("\n\n", start)  # the macro ends at the first blank line
    macro = text[start:end]
    rows = [Error(m[1], int(m[2]), _unescape(m[3]), _unescape(m[4]))
            for m in _ROW.finditer(macro)]
    if len(rows) != macro.count("X("):
        raise ValueError(f"{path}: {macro.count('X(')} rows in LR_ERRORS, "
                         f"but {len(rows)} have the form X(NAME, STATUS, \"code\", \"message\")")
    return rows
