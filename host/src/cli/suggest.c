/*
 * cli/suggest.c — "did you mean …?" for mistyped commands, subcommands and
 * options.
 *
 * Contract: the candidates come from the command table itself (main.c):
 * command names, and for one command the options (--word) and subcommands
 * (the word after "sbridge CMD " on each line) written in its usage text,
 * so a suggestion can never name something the help does not show. The
 * nearest candidate by optimal-string-alignment distance (Levenshtein plus
 * swapped neighbours) wins when it is close enough for the word's length,
 * or, failing that, the only candidate the word is a prefix of (three
 * characters at least). A word equal to a candidate gets no suggestion
 * (it is known, only misplaced). Every report goes to stderr and returns exit
 * status 2 (a usage error).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#define WORD_MAX 48
#define WORDS_MAX 64

size_t sb_cli_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la >= WORD_MAX || lb >= WORD_MAX)
        return la > lb ? la : lb; /* never close: nobody mistypes a paragraph */
    size_t d[WORD_MAX + 1][WORD_MAX + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

/* How many edits still count as a typo of a word this long (dashes aside). */
static size_t tolerance(const char *word)
{
    size_t len = strlen(word + strspn(word, "-"));
    return len <= 3 ? 1 : len <= 7 ? 2 : 3;
}

const char *sb_cli_nearest(const char *word, const char *const *candidates, size_t n)
{
    const char *best = NULL, *prefix_of = NULL;
    size_t best_d = (size_t)-1, prefixes = 0, wlen = strlen(word);
    for (size_t i = 0; i < n; i++) {
        size_t d = sb_cli_edit_distance(word, candidates[i]);
        if (d < best_d)
            best = candidates[i], best_d = d;
        if (wlen >= 3 && d > 0 && strncmp(word, candidates[i], wlen) == 0)
            prefix_of = candidates[i], prefixes++;
    }
    if (best != NULL && best_d > 0 && best_d <= tolerance(word))
        return best;
    return prefixes == 1 ? prefix_of : NULL;
}

/* Collects the options (kind '-') or subcommands (kind 's') that a
 * command's usage text names. */
static size_t usage_words(const sb_command *c, int kind, char words[][WORD_MAX], size_t cap)
{
    size_t n = 0, name_len = strlen(c->name);
    for (const char *p = c->usage; *p && n < cap;) {
        const char *start = NULL;
        const char *set = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-";
        if (kind == '-' && *p == '-' && (p == c->usage || strchr(" [|(\n", p[-1]))) {
            start = p;
        } else if (kind == 's' && strncmp(p, "sbridge ", 8) == 0 && strncmp(p + 8, c->name, name_len) == 0 &&
                   p[8 + name_len] == ' ' && islower((unsigned char)p[9 + name_len])) {
            start = p + 9 + name_len;
            set = "abcdefghijklmnopqrstuvwxyz-|";
        }
        if (start == NULL) {
            p++;
            continue;
        }
        size_t len = strspn(start, set);
        /* "inspect|check" names two subcommands. */
        for (const char *w = start, *end = start + len; w < end && n < cap;) {
            size_t wl = strcspn(w, "|");
            if (wl > (size_t)(end - w))
                wl = (size_t)(end - w);
            if (wl > 1 && wl < WORD_MAX) {
                int seen = 0;
                for (size_t i = 0; i < n && !seen; i++)
                    seen = strlen(words[i]) == wl && strncmp(words[i], w, wl) == 0;
                if (!seen)
                    snprintf(words[n++], WORD_MAX, "%.*s", (int)wl, w);
            }
            w += wl + 1;
        }
        p = start + (len ? len : 1);
    }
    return n;
}

const char *sb_cli_suggest_argument(const char *command, const char *arg, char *out, size_t cap)
{
    const sb_command *c = sb_command_find(command);
    if (c == NULL || arg == NULL || cap == 0)
        return NULL;
    char words[WORDS_MAX][WORD_MAX];
    const char *ptrs[WORDS_MAX];
    size_t n = usage_words(c, arg[0] == '-' ? '-' : 's', words, WORDS_MAX);
    if (arg[0] == '-' && n < WORDS_MAX)
        snprintf(words[n++], WORD_MAX, "--help");
    for (size_t i = 0; i < n; i++)
        ptrs[i] = words[i];
    const char *best = sb_cli_nearest(arg, ptrs, n);
    if (best == NULL)
        return NULL;
    snprintf(out, cap, "%s", best);
    return out;
}

int sb_cli_unknown_argument(const char *command, const char *arg)
{
    char best[WORD_MAX];
    const char *q = arg[0] == '-' ? "" : "'";
    const char *what = arg[0] == '-' ? "option" : "subcommand";
    if (sb_cli_suggest_argument(command, arg, best, sizeof best))
        return sb_cli_usage_error(command, "unknown %s %s%s%s. Did you mean %s%s%s?", what, q, arg, q, q, best, q);
    return sb_cli_usage_error(command, "unknown %s %s%s%s", what, q, arg, q);
}
