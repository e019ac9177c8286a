#!/usr/bin/env python3
"""The house plan (SPEC §3), checked: which directories may include what.

- plugin-api/ and plugins/*: only <sbridge/plugin.h> and system headers
  (never host internals).
- host/src/<subsystem>: only its own headers and those of subsystems below it.
Exits 1 listing every violation.
"""
import pathlib, re, sys

root = pathlib.Path(sys.argv[1])
allowed = {  # subsystem -> subsystems it may include from
    "util": {"util"},
    "crypto": {"util", "crypto"},
    "config": {"util", "crypto", "config"},
    "plugin": {"util", "crypto", "config", "plugin"},
    "cli": {"util", "crypto", "config", "plugin", "cli"},
}
quoted = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
violations = []
for path in sorted((root / "host" / "src").rglob("*.[ch]")):
    sub = path.relative_to(root / "host" / "src").parts[0]
    for inc in quoted.findall(path.read_text()):
        top = inc.split("/")[0]
        if "/" in inc and top not in allowed.get(sub, set()):
            violations.append(f"{path.relative_to(root)}: includes {inc} ({sub} may use {sorted(allowed[sub])})")
for base in [root / "plugin-api", root / "plugins"]:
    for path in sorted(base.rglob("*.[ch]")):
        for inc in quoted.findall(path.read_text()):
            local = (path.parent / inc).exists()
            if not local:
                violations.append(f"{path.relative_to(root)}: includes \"{inc}\" — plugins may use only "
                                  "<sbridge/plugin.h>, system headers and their own files")
        for inc in re.findall(r'^\s*#\s*include\s+<([^>]+)>', path.read_text(), re.M):
            if inc.startswith(("util/", "crypto/", "config/", "plugin/", "cli/")):
                violations.append(f"{path.relative_to(root)}: includes <{inc}> (host internals)")
if violations:
    print("\n".join(violations))
    sys.exit(1)
print("layering: ok")
