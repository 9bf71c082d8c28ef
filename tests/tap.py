"""TAP lines for the Python checks, as tests/tap.sh and tests/tap.mjs give
them to the shell and Node.js checks: ok() prints one test's line (and its
detail when it fails); finish() prints the plan and exits 1 when any
failed. A check runs from anywhere: `python3 tests/NAME.py` puts tests/
first on sys.path."""
import sys

count = failed = 0


def ok(name, cond, detail=""):
    global count, failed
    count += 1
    failed += not cond
    print(f"{'ok' if cond else 'not ok'} {count} - {name}")
    if not cond and detail:
        print("#   " + str(detail).replace("\n", "\n#   "))
    return cond


def finish():
    print(f"1..{count}")
    sys.exit(1 if failed else 0)
