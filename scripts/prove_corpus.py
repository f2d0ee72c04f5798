"""Measure the prover on its corpora and on the theorem sheet; print a table.

Run: python scripts/prove_corpus.py
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import symact  # noqa: E402
from symact.theorems import sheet  # noqa: E402
from tests.identities import FALSE, TRUE  # noqa: E402


def run(label, items, prove):
    counts, worst, start = Counter(), 0.0, time.monotonic()
    for item in items:
        v = prove(item)
        counts[v.status] += 1
        worst = max(worst, v.seconds)
    total = time.monotonic() - start
    shown = ", ".join(f"{counts[s]} {s}" for s in ("proved", "verified", "disproved", "unknown"))
    print(f"| {label:<28} | {len(items):>4} | {shown:<52} | {worst:6.2f} s | {total:6.1f} s |")
    return counts


print(
    "| corpus                       |    n | verdicts                                             | slowest  | total    |"
)
print(
    "|------------------------------|------|------------------------------------------------------|----------|----------|"
)
true = run("true identities", TRUE, lambda c: symact.prove(c, suggest=False))
false = run("near-miss false identities", FALSE, lambda t: symact.prove(t[1], t[2], suggest=False))
sheet_counts = run("theorem sheet", sheet(), lambda t: t.check())
print()
print(f"true identities proved: {true['proved']}/{len(TRUE)} = {100 * true['proved'] / len(TRUE):.1f} %")
print(
    f"false identities disproved: {false['disproved']}/{len(FALSE)}; proved or verified: {false['proved'] + false['verified']}"
)
