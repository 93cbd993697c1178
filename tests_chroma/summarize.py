"""Summarizes a chroma_tests.sh run's JUnit XML: counts, and one line per failed test.

    python tests_chroma/summarize.py run.xml [--by-test] [--classify]

--by-test folds the client kinds (huedb_ephemeral, huedb_persistent, huedb_http) of one test
into one line, with the kinds it failed on. --classify counts the failures by the category
tests_chroma/classification.txt gives them (a, b, c), and lists those it does not classify.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from pathlib import Path


def outcomes(path: str) -> dict[str, tuple[str, str]]:
    """nodeid -> (outcome, first line of the failure message)."""
    result: dict[str, tuple[str, str]] = {}
    for case in ET.parse(path).iter("testcase"):
        nodeid = f"{case.get('classname', '')}::{case.get('name', '')}"
        outcome, message = "passed", ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[child.tag]
                message = (child.get("message") or "").strip().splitlines()[0:1]
                message = message[0][:200] if message else ""
                if outcome != "skipped":
                    break
        if outcome == "error" and nodeid in result and result[nodeid][0] == "failed":
            continue  # a teardown error after a failure: the failure says more
        result[nodeid] = (outcome, message)
    return result


def classification() -> list[tuple[str, str, str]]:
    """(category, test id prefix, reason) from classification.txt."""
    rows = []
    for line in (Path(__file__).parent / "classification.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            category, prefix, reason = (part.strip() for part in line.split("|", 2))
            rows.append((category, prefix, reason))
    return rows


def _matches(test: str, pattern: str) -> bool:
    """A whole test id, every test of a module ("module::") or a name prefix ("...::test_cmek*")."""
    if pattern.endswith(("::", "*")):
        return test.startswith(pattern.rstrip("*"))
    return test == pattern


def classify(failed: dict[str, tuple[str, str]]) -> int:
    rows = classification()
    counts: Counter[str] = Counter()
    tests: dict[str, set[str]] = defaultdict(set)
    for nodeid in sorted(failed):
        test = re.sub(r"\[.*$", "", nodeid.removeprefix("chromadb.test."))
        category = next((c for c, prefix, _ in rows if _matches(test, prefix)), "unclassified")
        counts[category] += 1
        tests[category].add(test)
        if category == "unclassified":
            print("unclassified:", nodeid, failed[nodeid][1])
    for category in sorted(counts):
        print(f"{category}: {counts[category]} failed test runs, {len(tests[category])} tests")
    return 0


def main(argv: list[str]) -> int:
    results = outcomes(argv[0])
    print(dict(Counter(outcome for outcome, _ in results.values())))
    failed = {k: v for k, v in results.items() if v[0] in ("failed", "error")}
    if "--classify" in argv:
        return classify(failed)
    if "--by-test" in argv:
        folded: dict[str, list[str]] = defaultdict(list)
        messages: dict[str, str] = {}
        for nodeid, (_, message) in failed.items():
            kinds = re.findall(r"huedb_(ephemeral|persistent|http)", nodeid)
            test = re.sub(r"\[.*$", "", nodeid)
            folded[test] += kinds or ["-"]
            messages.setdefault(test, message)
        for test in sorted(folded):
            print(f"{test} [{','.join(folded[test])}] {messages[test]}")
    else:
        for nodeid in sorted(failed):
            print(nodeid, failed[nodeid][0], failed[nodeid][1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
