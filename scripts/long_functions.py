#!/usr/bin/env python3
"""List the library functions longer than a limit (default 120 lines), longest first.

    python3 scripts/long_functions.py [LIMIT]     # from the repository root

A function runs from its `fn` line to the closing brace at the same indentation; files
are read up to their `#[cfg(test)]`, and tests/, examples/ and benches/ are skipped.
The limit is a guide (docs/architecture.md, Conventions): split where a name explains
a part; a table of data may stay whole.
"""
import os
import re
import sys

limit = int(sys.argv[1]) if len(sys.argv) > 1 else 120
fn_re = re.compile(r'^(\s*)(pub(\([^)]*\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)')
res = []
for root, _, files in os.walk('crates'):
    if '/tests' in root or '/examples' in root or '/benches' in root:
        continue
    for f in files:
        if not f.endswith('.rs'):
            continue
        p = os.path.join(root, f)
        with open(p) as fh:
            lines = fh.read().split('\n')
        for i, line in enumerate(lines):
            if re.match(r'\s*#\[cfg\(test\)\]', line):
                break
            m = fn_re.match(line)
            if not m:
                continue
            ind = len(m.group(1))
            j = i + 1
            # The closing brace at the function's own indentation.
            while j < len(lines) and not (
                lines[j].startswith(' ' * ind + '}') and len(lines[j]) - len(lines[j].lstrip()) == ind
            ):
                j += 1
            n = j - i + 1
            if n > limit:
                res.append((n, p, m.group(7)))
for n, p, name in sorted(res, reverse=True):
    print(n, p, name)
