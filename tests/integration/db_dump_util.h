/*
 * db_dump_util.h — a pg_dump of a test database as text, for tests that
 * prove a secret never reached the database (test_api_reveal.c,
 * test_api_mfa.c). Header-only, static inline.
 */
#ifndef SB_TESTS_DB_DUMP_UTIL_H
#define SB_TESTS_DB_DUMP_UTIL_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* pg_dump of the whole database at conninfo into a heap string (the newest
 * installed PostgreSQL's pg_dump, as the embedded cluster's own binaries). */
static inline char *pg_dump_text(const char *conninfo)
{
    char cmd[1400], *out = NULL;
    snprintf(cmd, sizeof cmd,
             "d=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1); \"$d/pg_dump\" "
             "--no-owner '%s' 2>&1",
             conninfo);
    FILE *f = popen(cmd, "r");
    cr_assert_not_null(f);
    size_t len = 0, cap = 0;
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            out = realloc(out, cap);
        }
        memcpy(out + len, buf, n);
        len += n;
    }
    cr_assert_eq(pclose(f), 0, "pg_dump failed: %.400s", out ? out : "");
    out[len] = '\0';
    return out;
}

#endif
