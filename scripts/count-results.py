#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Adds up every test that ran (meson's testlog.json and pytest's JUnit XML files in
the given directory) and prints "N passed, N failed". A suite that did not leave a
result file counts as one failure, so a crash can never look green. Exits 1 on any
failure."""

import json
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

EXPECTED = ["unit.json", "integration.xml", "unit-sanitizers.json", "integration-sanitizers.xml", "unit-valgrind.json",
            "integration-valgrind.xml", "fleet.xml", "fuzz.json", "e2e.xml"]


def count_meson(path):
    passed = failed = 0
    for line in path.read_text().splitlines():
        if line.strip():
            result = json.loads(line)["result"]
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result != "SKIP":
                failed += 1
    return passed, failed


def count_junit(path):
    passed = failed = 0
    for case in ElementTree.parse(path).iter("testcase"):
        outcomes = {child.tag for child in case}
        if outcomes & {"failure", "error"}:
            failed += 1
        elif "skipped" in outcomes:
            failed += 1         # nothing here may be skipped silently
        else:
            passed += 1
    return passed, failed


def main():
    directory = Path(sys.argv[1])
    passed = failed = 0
    for name in EXPECTED:
        path = directory / name
        if not path.exists():
            print(f"{name}: no results (the suite did not run to the end)")
            failed += 1
            continue
        suite_passed, suite_failed = count_meson(path) if name.endswith(".json") else count_junit(path)
        print(f"{name}: {suite_passed} passed, {suite_failed} failed")
        passed += suite_passed
        failed += suite_failed
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
