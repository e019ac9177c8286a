#!/usr/bin/env python3
"""The house plan (SPEC §3), checked: which directories may include what.

- plugin-api/ and plugins/*: only <sbridge/plugin.h>, system headers, their own files
  and plugins/shared/ (as "../shared/x.h")
  (never host internals).
- host/src/<subsystem>: only its own headers and those of subsystems below it.
- request states have one writer (store/request_store.c, driven by
  service/request_transition.c).
- SQL and libpq belong to host/src/store/: no other host source includes
  <libpq-fe.h>, names a PQ* function or PGresult (rows are read through
  store/rows.h), or holds SQL in a string literal ("SELECT ", "INSERT
  INTO", "UPDATE ", "DELETE FROM": a named store function instead).
- list handlers go through the list runner (api/handler_list.c,
  sb_handler_list_run): no route module renders a page or parses a page
  by itself (request_routes.c's approver queue excepted: it filters rows
  with the connection still held).
- integer query parameters are written by one helper (store/db.h
  sb_db_int_param / SB_DB_INT), not by snprintf copies in each store file.
Exits 1 listing every violation.
"""
import pathlib, re, sys

root = pathlib.Path(sys.argv[1])
allowed = {  # subsystem -> subsystems it may include from (SPEC §3 house plan)
    "util": {"util"},
    "crypto": {"util", "crypto"},
    "domain": {"util", "domain"},                      # pure: no I/O, no libpq, no HTTP
    "config": {"util", "crypto", "config"},
    "plugin": {"util", "crypto", "config", "plugin"},
    "store": {"util", "crypto", "config", "domain", "store"},
    "http": {"util", "crypto", "http"},
    "service": {"util", "crypto", "config", "domain", "store", "service"},  # no HTTP: API and worker share it
    "worker": {"util", "crypto", "config", "domain", "store", "http", "plugin", "service", "worker"},  # never api/
    "api": {"util", "crypto", "config", "domain", "store", "http", "plugin", "service", "api"},
    "server": {"util", "crypto", "config", "domain", "store", "http", "plugin", "service", "worker", "api", "server"},
    "agent": {"util", "crypto", "config", "domain", "http", "plugin", "agent"},  # never store/ or api/
    "cli": {"util", "crypto", "config", "domain", "store", "http", "plugin", "service", "worker", "api", "server", "agent", "cli"},
}
# System headers a layer must never touch (the domain core is pure).
forbidden_system = {
    "domain": ("libpq-fe.h", "microhttpd.h", "curl/curl.h", "time.h", "sodium.h"),
    "util": ("libpq-fe.h", "microhttpd.h"),
    "crypto": ("libpq-fe.h", "microhttpd.h"),
    "http": ("libpq-fe.h",),
    "store": ("microhttpd.h",),
    "service": ("libpq-fe.h", "microhttpd.h"),
    "agent": ("libpq-fe.h",),
}
quoted = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
violations = []
for path in sorted((root / "host" / "src").rglob("*.[ch]")):
    sub = path.relative_to(root / "host" / "src").parts[0]
    for inc in quoted.findall(path.read_text()):
        top = inc.split("/")[0]
        if "/" in inc and top not in allowed.get(sub, set()):
            violations.append(f"{path.relative_to(root)}: includes {inc} ({sub} may use {sorted(allowed[sub])})")
for path in sorted((root / "host" / "src").rglob("*.[ch]")):
    sub = path.relative_to(root / "host" / "src").parts[0]
    for inc in re.findall(r'^\s*#\s*include\s+<([^>]+)>', path.read_text(), re.M):
        if inc in forbidden_system.get(sub, ()):
            violations.append(f"{path.relative_to(root)}: includes <{inc}>, which {sub}/ must not use")
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
# One writer of request states (SPEC §8, issue #4): SQL that writes the
# requests table lives in store/request_store.c only, and its two state
# writers are called only by service/request_transition.c (the machine) and
# api/request_submit.c (the insert of the submit transition's state).
state_sql = re.compile(r'(UPDATE\s+requests\b|INSERT\s+INTO\s+requests\b|DELETE\s+FROM\s+requests\b)', re.I)
callers = {"sb_request_store_set_state": {"host/src/service/request_transition.c", "host/src/store/request_store.c", "host/src/store/request_store.h"},
           "sb_request_store_insert": {"host/src/api/request_submit.c", "host/src/store/request_store.c", "host/src/store/request_store.h"}}
for path in sorted((root / "host" / "src").rglob("*.[ch]")):
    rel = str(path.relative_to(root))
    text = path.read_text()
    if rel != "host/src/store/request_store.c" and "/migrations/" not in rel and state_sql.search(text):
        violations.append(f"{rel}: writes the requests table; only store/request_store.c may "
                          "(through request_transition.c)")
    for fn, allowed_in in callers.items():
        if fn + "(" in text and rel not in allowed_in:
            violations.append(f"{rel}: calls {fn}; request states change only through "
                              "service/request_transition.c (the machine's table)")

def code_and_strings(text):
    """The C text without comments, and its string literals, in order."""
    code, strings, i, n = [], [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            code.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            if c == '"':
                strings.append((text.count("\n", 0, i) + 1, text[i + 1:j]))
            code.append(c + c)
            i = j + 1
        else:
            code.append(c)
            i += 1
    return "".join(code), strings


# SQL and libpq only in the store (issue #9, House 15): handlers read rows
# through store/rows.h and call named store functions, never a PGresult.
pq_name = re.compile(r"\b(PQ[a-z]\w*|PGresult|PGconn|pg_result)\b")
sql_text = re.compile(r"\b(SELECT\s|INSERT\s+INTO\b|UPDATE\s|DELETE\s+FROM\b)")
for path in sorted((root / "host" / "src").rglob("*.[ch]")):
    rel = path.relative_to(root)
    if rel.parts[2] == "store":
        continue
    text = path.read_text()
    if re.search(r'^\s*#\s*include\s+[<"]libpq-fe\.h[>"]', text, re.M):
        violations.append(f"{rel}: includes <libpq-fe.h>; only host/src/store/ talks to "
                          "PostgreSQL")
    code, strings = code_and_strings(text)
    for lineno, line in enumerate(code.split("\n"), 1):
        for m in pq_name.finditer(line):
            violations.append(f"{rel}:{lineno}: uses {m.group(1)}; libpq is the store's own "
                              "(read rows through store/rows.h, or add a store function)")
    for lineno, literal in strings:
        m = sql_text.search(literal)
        if m:
            violations.append(f"{rel}:{lineno}: SQL in a string literal (\"{m.group(1).strip()}"
                              " ...\"); SQL lives in host/src/store/, in a named function")
# One helper turns integers into query parameters (issue #9, House 15).
# migrate.c and audit_store.c are other work's (their copies are to go).
int_text = re.compile(r'\bsnprintf\s*\([^;]*?"%(?:lld|ld|d|" PRId64)"\s*,')
int_text_owners = {"db_exec.c", "migrate.c", "audit_store.c"}
for path in sorted((root / "host" / "src" / "store").glob("*.c")):
    if path.name in int_text_owners:
        continue
    text = path.read_text()
    for m in int_text.finditer(text):
        lineno = text.count("\n", 0, m.start()) + 1
        violations.append(f"{path.relative_to(root)}:{lineno}: formats an integer parameter with "
                          "snprintf; use SB_DB_INT(v) or sb_db_int_param (store/db.h)")
# One read-side runner (issue #9, House 15): route modules do not repeat
# parse page -> acquire -> list -> render page.
page_calls = re.compile(r"\b(sb_handler_respond_page(?:_kept)?|sb_handler_parse_page)\s*\(")
page_owners = {"handler_list.c", "handler_kit.c", "handler_kit.h", "request_routes.c"}
for path in sorted((root / "host" / "src" / "api").glob("*.[ch]")):
    if path.name in page_owners:
        continue
    code, _ = code_and_strings(path.read_text())
    for m in page_calls.finditer(code):
        lineno = code.count("\n", 0, m.start()) + 1
        violations.append(f"{path.relative_to(root)}:{lineno}: calls {m.group(1)}; a list handler "
                          "is a sb_handler_list spec run by sb_handler_list_run (api/handler_kit.h)")
if violations:
    print("\n".join(violations))
    sys.exit(1)
print("layering: ok")
