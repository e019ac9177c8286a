/*
 * plugin/secure_json.c — see secure_json.h for the contract.
 *
 * One recursive-descent parser runs twice over the input. Pass 1 (`fill`
 * off) validates and tallies what the document needs; pass 2 (`fill` on)
 * writes nodes, strings and texts into the secure region sized from those
 * tallies. Keeping a single parser for both passes means the two can never
 * disagree about what the grammar is.
 *
 * Region layout (one sb_secure_alloc):
 *
 *   struct sb_json | nodes[n_nodes] | strings and keys | copy of the input | pad
 *
 * A node's text is a span of the input copy (not NUL-terminated), so the
 * region grows linearly with the input whatever the nesting.
 *
 * Node 0 is the root. When pass 2 opens a container it takes the member
 * count pass 1 recorded for it (containers are met in the same preorder in
 * both passes) and reserves that many consecutive nodes at the bump
 * pointer; children then fill those slots, reserving their own blocks
 * further on.
 */
#include "plugin/secure_json.h"
#include "plugin/secure_json_node.h"

#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/secure_mem.h"
#include "util/utf8.h"

typedef struct parser {
    const unsigned char *in;
    size_t len, pos;
    unsigned depth;
    int fill;          /* pass 2: write into the region */
    int record_counts; /* pass 1: remember member counts (not when validating) */
    sb_error *err;
    /* pass 1 tallies */
    size_t n_nodes, string_bytes;
    size_t *counts; /* member count of each container, in preorder */
    size_t n_counts, cap_counts;
    /* pass 2 cursors */
    size_t next_count, next_node;
    sb_json_node *nodes;
    char *string_next, *text_next; /* text_next: the input copy */
} parser;

static int parse_value(parser *p, sb_json_node *node);

/* ---- errors: offsets and categories only, never the input's bytes ---- */

static const char *found_at(const parser *p, size_t pos)
{
    static const char structural[] = "{}[]:,\"";
    static const char *const names[] = {"'{'", "'}'", "'['", "']'", "':'", "','", "'\"'"};
    if (pos >= p->len)
        return "end of input";
    unsigned char c = p->in[pos];
    const char *hit = c != 0 ? strchr(structural, c) : NULL;
    if (hit != NULL)
        return names[hit - structural];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
        return "whitespace";
    if (c < 0x20 || c == 0x7f)
        return "a control character";
    if (c >= 0x80)
        return "a non-ASCII byte";
    if (c >= '0' && c <= '9')
        return "a digit";
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
        return "a letter";
    return "a punctuation character";
}

/* The fail_* helpers return -1 themselves: callers rely on it. */
static int fail_expected(parser *p, size_t pos, const char *expected)
{
    sb_error_set(p->err, SB_JSON_E_SYNTAX, "invalid JSON at byte %zu: expected %s, found %s",
                 pos, expected, found_at(p, pos));
    return -1;
}

static int fail_problem(parser *p, size_t pos, const char *problem)
{
    sb_error_set(p->err, SB_JSON_E_SYNTAX, "invalid JSON at byte %zu: %s", pos, problem);
    return -1;
}

static int fail_internal(parser *p)
{
    sb_error_set(p->err, SB_JSON_E_SYNTAX,
                 "invalid JSON: the input changed while it was being parsed");
    return -1;
}

/* ---- small helpers ---------------------------------------------------- */

static size_t add_size(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static int is_digit(const parser *p, size_t pos)
{
    return pos < p->len && p->in[pos] >= '0' && p->in[pos] <= '9';
}

static void skip_whitespace(parser *p)
{
    while (p->pos < p->len) {
        unsigned char c = p->in[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20; /* lower case */
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Reads the four hex digits after "\u" at p->pos; advances past them. */
static int read_hex4(parser *p, unsigned *out)
{
    unsigned v = 0;
    *out = 0; /* written on every path (-O3 cannot see that fail_* returns -1) */
    for (int i = 0; i < 4; i++) {
        int h = p->pos < p->len ? hex_value(p->in[p->pos]) : -1;
        if (h < 0)
            return fail_expected(p, p->pos, "four hex digits after \\u");
        v = (v << 4) | (unsigned)h;
        p->pos++;
    }
    *out = v;
    return 0;
}

static size_t encode_utf8(unsigned cp, unsigned char out[4])
{
    static const unsigned char lead[] = {0, 0, 0xC0, 0xE0, 0xF0};
    size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (size_t i = n - 1; i > 0; i--, cp >>= 6)
        out[i] = (unsigned char)(0x80 | (cp & 0x3F));
    out[0] = (unsigned char)(lead[n] | cp);
    return n;
}

/* ---- strings ------------------------------------------------------------ */

/* After the backslash of "\u": decodes one code point, pairing surrogates. */
static int parse_unicode_escape(parser *p, size_t escape_at, unsigned *cp)
{
    if (read_hex4(p, cp) != 0)
        return -1;
    if (*cp >= 0xDC00 && *cp <= 0xDFFF)
        return fail_problem(p, escape_at,
                            "a \\u escape holds a lone low surrogate "
                            "(\\uDC00-\\uDFFF must follow a high surrogate)");
    if (*cp < 0xD800 || *cp > 0xDBFF)
        return 0;
    size_t low_at = p->pos;
    if (p->pos + 1 >= p->len || p->in[p->pos] != '\\' || p->in[p->pos + 1] != 'u')
        return fail_problem(p, escape_at,
                            "a \\u escape holds a lone high surrogate "
                            "(\\uD800-\\uDBFF must be followed by a \\uDC00-\\uDFFF escape)");
    p->pos += 2;
    unsigned low;
    if (read_hex4(p, &low) != 0)
        return -1;
    if (low < 0xDC00 || low > 0xDFFF)
        return fail_problem(p, low_at,
                            "a high surrogate escape is followed by an escape that is "
                            "not a low surrogate (\\uDC00-\\uDFFF)");
    *cp = 0x10000 + ((*cp - 0xD800) << 10) + (low - 0xDC00);
    return 0;
}

/* At a backslash: appends the escaped character's UTF-8 to dst (if any). */
static int parse_escape(parser *p, char *dst, size_t *n)
{
    size_t escape_at = p->pos;
    p->pos++;
    if (p->pos >= p->len)
        return fail_expected(p, p->pos, "an escape character after '\\'");
    unsigned char c = p->in[p->pos++];
    unsigned char bytes[4];
    size_t nbytes = 1;
    switch (c) {
    case '"':
    case '\\':
    case '/': bytes[0] = c; break;
    case 'b': bytes[0] = '\b'; break;
    case 'f': bytes[0] = '\f'; break;
    case 'n': bytes[0] = '\n'; break;
    case 'r': bytes[0] = '\r'; break;
    case 't': bytes[0] = '\t'; break;
    case 'u': {
        unsigned cp;
        if (parse_unicode_escape(p, escape_at, &cp) != 0)
            return -1;
        nbytes = encode_utf8(cp, bytes);
        break;
    }
    default:
        return fail_expected(p, escape_at + 1,
                             "an escape (one of \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
    }
    if (dst != NULL)
        memcpy(dst + *n, bytes, nbytes);
    *n += nbytes;
    return 0;
}

/* At the opening quote: unescapes into dst (pass 2) or only measures. */
static int parse_string(parser *p, char *dst, size_t *out_len)
{
    size_t n = 0;
    p->pos++;
    for (;;) {
        if (p->pos >= p->len)
            return fail_expected(p, p->pos, "the closing '\"' of a string");
        unsigned char c = p->in[p->pos];
        if (c == '"')
            break;
        if (c == '\\') {
            if (parse_escape(p, dst, &n) != 0)
                return -1;
            continue;
        }
        if (c < 0x20)
            return fail_problem(p, p->pos,
                                "a control character in a string "
                                "(escape it, e.g. as \\n or \\u00XX)");
        size_t l = c < 0x80 ? 1 : sb_utf8_sequence_length(p->in + p->pos, p->len - p->pos);
        if (l == 0)
            return fail_problem(p, p->pos, "invalid UTF-8 in a string");
        if (dst != NULL)
            memcpy(dst + n, p->in + p->pos, l);
        n += l;
        p->pos += l;
    }
    p->pos++;
    if (dst != NULL)
        dst[n] = '\0';
    *out_len = n;
    return 0;
}

/* A string value or an object key: measured in pass 1, stored in pass 2. */
static int parse_stored_string(parser *p, const char **bytes, size_t *len)
{
    char *dst = p->fill ? p->string_next : NULL;
    if (parse_string(p, dst, len) != 0)
        return -1;
    if (p->fill) {
        *bytes = dst;
        p->string_next += *len + 1;
    } else {
        p->string_bytes = add_size(p->string_bytes, add_size(*len, 1));
    }
    return 0;
}

/* ---- scalars ------------------------------------------------------------ */

static int parse_number(parser *p, sb_json_node *node)
{
    int integral = 1;
    if (p->in[p->pos] == '-')
        p->pos++;
    if (!is_digit(p, p->pos))
        return fail_expected(p, p->pos, "a digit");
    if (p->in[p->pos] == '0') {
        p->pos++;
        if (is_digit(p, p->pos))
            return fail_problem(p, p->pos - 1, "a number has a leading zero");
    } else {
        while (is_digit(p, p->pos))
            p->pos++;
    }
    if (p->pos < p->len && p->in[p->pos] == '.') {
        integral = 0;
        p->pos++;
        if (!is_digit(p, p->pos))
            return fail_expected(p, p->pos, "a digit after the decimal point");
        while (is_digit(p, p->pos))
            p->pos++;
    }
    if (p->pos < p->len && (p->in[p->pos] == 'e' || p->in[p->pos] == 'E')) {
        integral = 0;
        p->pos++;
        if (p->pos < p->len && (p->in[p->pos] == '+' || p->in[p->pos] == '-'))
            p->pos++;
        if (!is_digit(p, p->pos))
            return fail_expected(p, p->pos, "a digit in the exponent");
        while (is_digit(p, p->pos))
            p->pos++;
    }
    if (node != NULL) {
        node->type = SB_JSON_NUMBER;
        node->integral = integral;
    }
    return 0;
}

static int parse_literal(parser *p, const char *word, const char *expected,
                         sb_json_type type, sb_json_node *node)
{
    for (size_t i = 0; word[i] != '\0'; i++) {
        if (p->pos >= p->len || p->in[p->pos] != (unsigned char)word[i])
            return fail_expected(p, p->pos, expected);
        p->pos++;
    }
    if (node != NULL)
        node->type = type;
    return 0;
}

/* ---- containers --------------------------------------------------------- */

/* Pass 1: reserves this container's slot in the preorder count list.
 * Pass 2: takes its count and reserves its block of member nodes. */
static int open_container(parser *p, sb_json_node *node, sb_json_type type, size_t *slot)
{
    if (++p->depth > SB_JSON_MAX_DEPTH)
        return fail_problem(p, p->pos, "nesting deeper than 128 arrays and objects");
    if (!p->fill) {
        if (!p->record_counts)
            return 0;
        if (p->n_counts == p->cap_counts) {
            size_t ncap = p->cap_counts ? p->cap_counts * 2 : 64;
            size_t *n = realloc(p->counts, ncap * sizeof *n);
            if (n == NULL) {
                sb_error_set(p->err, SB_JSON_E_NO_MEMORY, "out of memory while parsing JSON");
                return -1;
            }
            p->counts = n;
            p->cap_counts = ncap;
        }
        *slot = p->n_counts;
        p->counts[p->n_counts++] = 0;
        return 0;
    }
    if (p->next_count >= p->n_counts)
        return fail_internal(p);
    size_t count = p->counts[p->next_count++];
    if (count > p->n_nodes - p->next_node)
        return fail_internal(p);
    node->type = type;
    node->u.container.members = count ? p->nodes + p->next_node : NULL;
    node->u.container.count = count;
    p->next_node += count;
    return 0;
}

static int close_container(parser *p, const sb_json_node *node, size_t slot, size_t n)
{
    p->depth--;
    if (!p->fill) {
        if (p->record_counts)
            p->counts[slot] = n;
        return 0;
    }
    return n == node->u.container.count ? 0 : fail_internal(p);
}

/* At '[' or '{': members (with keys for objects) up to the closing bracket. */
static int parse_container(parser *p, sb_json_node *node, int is_object)
{
    const unsigned char close = is_object ? '}' : ']';
    const char *after_member = is_object ? "',' or '}'" : "',' or ']'";
    size_t slot = 0, n = 0;
    if (open_container(p, node, is_object ? SB_JSON_OBJECT : SB_JSON_ARRAY, &slot) != 0)
        return -1;
    p->pos++;
    skip_whitespace(p);
    if (p->pos < p->len && p->in[p->pos] == close) {
        p->pos++;
        return close_container(p, node, slot, 0);
    }
    for (;;) {
        const char *key = NULL;
        size_t key_len = 0;
        if (is_object) {
            skip_whitespace(p);
            if (p->pos >= p->len || p->in[p->pos] != '"')
                return fail_expected(p, p->pos, "a key (a string in double quotes)");
            if (parse_stored_string(p, &key, &key_len) != 0)
                return -1;
            skip_whitespace(p);
            if (p->pos >= p->len || p->in[p->pos] != ':')
                return fail_expected(p, p->pos, "':' after a key");
            p->pos++;
        }
        sb_json_node *child = NULL;
        if (p->fill) {
            if (n >= node->u.container.count)
                return fail_internal(p);
            child = &node->u.container.members[n];
        }
        if (parse_value(p, child) != 0)
            return -1;
        if (child != NULL) {
            child->key = key;
            child->key_len = key_len;
        }
        n++;
        skip_whitespace(p);
        if (p->pos < p->len && p->in[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->in[p->pos] == close) {
            p->pos++;
            return close_container(p, node, slot, n);
        }
        return fail_expected(p, p->pos, after_member);
    }
}

/* ---- values and documents ----------------------------------------------- */

static int parse_string_value(parser *p, sb_json_node *node)
{
    const char *bytes = NULL;
    size_t len = 0;
    if (parse_stored_string(p, &bytes, &len) != 0)
        return -1;
    if (node != NULL) {
        node->type = SB_JSON_STRING;
        node->u.string.bytes = bytes;
        node->u.string.len = len;
    }
    return 0;
}

static int parse_value(parser *p, sb_json_node *node)
{
    skip_whitespace(p);
    if (p->pos >= p->len)
        return fail_expected(p, p->pos, "a value");
    size_t start = p->pos;
    int rc;
    switch (p->in[p->pos]) {
    case '{': rc = parse_container(p, node, 1); break;
    case '[': rc = parse_container(p, node, 0); break;
    case '"': rc = parse_string_value(p, node); break;
    case 't': rc = parse_literal(p, "true", "the literal true", SB_JSON_TRUE, node); break;
    case 'f':
        rc = parse_literal(p, "false", "the literal false", SB_JSON_FALSE, node);
        break;
    case 'n': rc = parse_literal(p, "null", "the literal null", SB_JSON_NULL, node); break;
    case '-':
    case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9': rc = parse_number(p, node); break;
    default: return fail_expected(p, start, "a value");
    }
    if (rc != 0)
        return rc;
    if (!p->fill) {
        p->n_nodes = add_size(p->n_nodes, 1);
        return 0;
    }
    /* Texts point into the region's one copy of the input. */
    node->text = p->text_next + start;
    node->text_len = p->pos - start;
    return 0;
}

static int parse_document(parser *p, sb_json_node *root)
{
    if (parse_value(p, root) != 0)
        return -1;
    skip_whitespace(p);
    if (p->pos != p->len)
        return fail_expected(p, p->pos, "end of input after the top-level value");
    return 0;
}

static int check_input(const unsigned char *text, size_t len, sb_error *err)
{
    if (text == NULL && len > 0)
        return sb_error_set(err, SB_JSON_E_INVALID, "JSON parse: no input buffer given");
    if (len > SB_JSON_MAX_INPUT)
        return sb_error_set(err, SB_JSON_E_TOO_LARGE,
                            "JSON document of %zu bytes exceeds the limit of %zu MiB", len,
                            SB_JSON_MAX_INPUT >> 20);
    return 0;
}

int sb_json_validate(const unsigned char *text, size_t len, sb_error *err)
{
    if (check_input(text, len, err) != 0)
        return -1;
    parser p = {.in = text, .len = len, .err = err};
    return parse_document(&p, NULL);
}

static size_t round_up(size_t n, size_t to)
{
    return n > SIZE_MAX - to ? SIZE_MAX : (n + to - 1) / to * to;
}

int sb_json_parse(const unsigned char *text, size_t len, sb_json **out, sb_error *err)
{
    if (out == NULL)
        return sb_error_set(err, SB_JSON_E_INVALID, "JSON parse: no output pointer given");
    *out = NULL;
    if (check_input(text, len, err) != 0)
        return -1;
    parser p = {.in = text, .len = len, .err = err, .record_counts = 1};
    if (parse_document(&p, NULL) != 0) {
        free(p.counts);
        return -1;
    }
    /* sodium_malloc places the region flush against a guard page, so its
     * start is only aligned when its size is a multiple of the alignment. */
    size_t align = alignof(max_align_t);
    size_t nodes_at = round_up(sizeof(struct sb_json), align);
    size_t node_bytes =
        p.n_nodes > SIZE_MAX / sizeof(sb_json_node) ? SIZE_MAX : p.n_nodes * sizeof(sb_json_node);
    size_t strings_at = add_size(nodes_at, node_bytes);
    size_t texts_at = add_size(strings_at, p.string_bytes);
    size_t total = round_up(add_size(texts_at, add_size(len, 1)), align);
    if (total > SB_JSON_MAX_ARENA) {
        free(p.counts);
        return sb_error_set(err, SB_JSON_E_TOO_LARGE,
                            "JSON document of %zu bytes would need more than %zu MiB of "
                            "secure memory once parsed (too many values); reduce its size",
                            len, SB_JSON_MAX_ARENA >> 20);
    }
    unsigned char *region = sb_secure_alloc(total);
    if (region == NULL) {
        free(p.counts);
        return sb_error_set(err, SB_JSON_E_NO_MEMORY,
                            "cannot allocate %zu bytes of secure memory for a parsed JSON "
                            "document",
                            total);
    }
    struct sb_json *doc = (struct sb_json *)region;
    parser fill = {
        .in = text,
        .len = len,
        .err = err,
        .fill = 1,
        .n_nodes = p.n_nodes,
        .counts = p.counts,
        .n_counts = p.n_counts,
        .nodes = (sb_json_node *)(region + nodes_at),
        .next_node = 1, /* node 0: the root */
        .string_next = (char *)region + strings_at,
        .text_next = (char *)region + texts_at,
    };
    if (len > 0)
        memcpy(fill.text_next, text, len);
    fill.text_next[len] = '\0';
    int rc = parse_document(&fill, fill.nodes);
    free(p.counts);
    if (rc != 0) {
        sb_secure_release(region);
        return -1;
    }
    doc->region_size = total;
    doc->root = fill.nodes;
    *out = doc;
    return 0;
}

void sb_json_free(sb_json *doc)
{
    sb_secure_release(doc);
}

/* ---- accessors ---------------------------------------------------------- */
