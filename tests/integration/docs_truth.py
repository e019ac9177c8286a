#!/usr/bin/env python3
"""README.md and docs/index.md say what this build does, and stand alone.

- Every relative link resolves to a file inside the repository (the repo is
  read without anything next to it).
- The "Commands" block of docs/index.md names exactly the commands that
  `sbridge --help` lists as available (none of the planned ones).
- No row of the release table that says "not yet" names an API resource
  the control plane serves (the OpenAPI document's /api/v1/<resource>).
Usage: docs_truth.py REPO SBRIDGE. Exits 1 listing every problem.
"""
import json, pathlib, re, subprocess, sys

root = pathlib.Path(sys.argv[1]).resolve()
sbridge = sys.argv[2]
problems = []

link = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)|`(\.\./[^`\s]+)`")
for name in ["README.md", "docs/index.md"]:
    page = root / name
    text = page.read_text()
    for m in link.finditer(text):
        target = (m.group(1) or m.group(2)).split("#")[0]
        if not target or re.match(r"^[a-z]+:", target):
            continue
        path = (page.parent / target).resolve()
        if root not in path.parents and path != root:
            problems.append(f"{name}: '{target}' points outside the repository")
        elif not path.exists():
            problems.append(f"{name}: '{target}' does not exist")

helptext = subprocess.run([sbridge, "--help"], capture_output=True, text=True, check=True).stdout
available_part, _, planned_part = helptext.partition("not yet available in this build")
row = re.compile(r"^  ([a-z-]+) ", re.M)
available = set(row.findall(available_part))
planned = set(row.findall(planned_part))
if not available or not planned:
    problems.append("sbridge --help did not list available and planned commands apart")

index = (root / "docs/index.md").read_text()
block = re.search(r"## Commands\s+```text\n(.*?)```", index, re.S)
if block is None:
    problems.append("docs/index.md: no '## Commands' text block")
else:
    named = set(re.findall(r"^sbridge ([a-z-]+)", block.group(1), re.M))
    for c in sorted(named - available):
        problems.append(f"docs/index.md lists 'sbridge {c}', which this build "
                        + ("only plans" if c in planned else "does not have"))
    for c in sorted(available - named):
        problems.append(f"docs/index.md's Commands block leaves out 'sbridge {c}'")

api = json.loads((root / "host/src/api/openapi.json").read_text())
resources = {p.split("/")[3] for p in api["paths"] if p.startswith("/api/v1/")} - {"openapi.json"}
for line in index.splitlines():
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if not line.startswith("|") or len(cells) < 2 or "not yet" not in cells[-1].lower():
        continue
    for r in sorted(resources):
        if re.search(rf"(?<![\w-]){re.escape(r)}(?![\w-])", cells[0]):
            problems.append(f"docs/index.md calls '{r}' not yet available, but the API serves /api/v1/{r}")

for p in problems:
    print(p)
sys.exit(1 if problems else 0)
