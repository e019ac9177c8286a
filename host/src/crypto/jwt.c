/* crypto/jwt.c — see jwt.h. */
#include "crypto/jwt.h"

#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/json_escape.h"
#include "util/utf8.h"

/* base64url('{"alg":"HS256","typ":"JWT"}'), the only header we issue or accept. */
static const char header_b64[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
#define HEADER_LEN (sizeof header_b64 - 1)
#define SIG_BYTES crypto_auth_hmacsha256_BYTES
#define SIG_B64_LEN 43 /* base64url without padding of 32 bytes */
#define PAYLOAD_MAX (SB_JWT_MAX_LEN / 4 * 3)

static const char *const reserved_names[] = {"iss", "sub", "sid", "iat", "exp",
                                             "nbf", "aud", "jti", "alg", "typ"};

static bool is_reserved(const char *name)
{
    for (size_t i = 0; i < sizeof reserved_names / sizeof reserved_names[0]; i++)
        if (strcmp(reserved_names[i], name) == 0)
            return true;
    return false;
}

static void sign(const unsigned char *secret, size_t secret_len, const char *input, size_t len,
                 unsigned char mac[SIG_BYTES])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, secret, secret_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)input, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof st);
}

static int check_secret(const unsigned char *secret, size_t secret_len, sb_error *err)
{
    if (secret == NULL || secret_len < SB_JWT_SECRET_MIN)
        return sb_error_set(err, SB_JWT_E_SECRET,
                            "the JWT secret must be at least %d bytes, got %zu; generate one with "
                            "`openssl rand -base64 48`",
                            SB_JWT_SECRET_MIN, secret ? secret_len : 0);
    return 0;
}

/* ---- issue ------------------------------------------------------------- */

static int check_string_claim(const char *name, const char *value, sb_error *err)
{
    if (value == NULL || value[0] == '\0')
        return sb_error_set(err, SB_JWT_E_INVALID, "JWT claim %s is missing", name);
    if (!sb_utf8_valid((const unsigned char *)value, strlen(value)))
        return sb_error_set(err, SB_JWT_E_INVALID, "JWT claim %s is not valid UTF-8", name);
    return 0;
}

static int check_extra_name(const sb_jwt_claims *c, size_t i, sb_error *err)
{
    const char *name = c->extra[i].name;
    size_t n = name ? strnlen(name, SB_JWT_CLAIM_NAME_MAX + 1) : 0;
    if (n == 0 || n > SB_JWT_CLAIM_NAME_MAX)
        return sb_error_set(err, SB_JWT_E_INVALID, "JWT extra claim %zu: name must be 1 to %d "
                            "characters", i, SB_JWT_CLAIM_NAME_MAX);
    for (size_t k = 0; k < n; k++)
        if (!((name[k] >= 'a' && name[k] <= 'z') || (name[k] >= '0' && name[k] <= '9') ||
              name[k] == '_'))
            return sb_error_set(err, SB_JWT_E_INVALID,
                                "JWT extra claim %zu: name may hold only a-z, 0-9 and '_'", i);
    if (is_reserved(name))
        return sb_error_set(err, SB_JWT_E_INVALID, "JWT extra claim '%s' is a reserved name",
                            name);
    for (size_t k = 0; k < i; k++)
        if (strcmp(c->extra[k].name, name) == 0)
            return sb_error_set(err, SB_JWT_E_INVALID, "JWT extra claim '%s' is given twice",
                                name);
    return 0;
}

static int check_claims(const sb_jwt_claims *c, sb_error *err)
{
    if (c == NULL)
        return sb_error_set(err, SB_JWT_E_INVALID, "no JWT claims given");
    if (check_string_claim("iss", c->iss, err) != 0 || check_string_claim("sub", c->sub, err) != 0 ||
        check_string_claim("sid", c->sid, err) != 0)
        return -1;
    if (c->iat < 0 || c->exp <= c->iat)
        return sb_error_set(err, SB_JWT_E_INVALID,
                            "JWT times: iat must be >= 0 and exp later than iat");
    if (c->extra_count > SB_JWT_MAX_EXTRA || (c->extra == NULL && c->extra_count > 0))
        return sb_error_set(err, SB_JWT_E_INVALID, "at most %d extra JWT claims",
                            SB_JWT_MAX_EXTRA);
    for (size_t i = 0; i < c->extra_count; i++) {
        if (check_extra_name(c, i, err) != 0)
            return -1;
        if (c->extra[i].value == NULL ||
            !sb_utf8_valid((const unsigned char *)c->extra[i].value, strlen(c->extra[i].value)))
            return sb_error_set(err, SB_JWT_E_INVALID,
                                "JWT extra claim '%s': value missing or not valid UTF-8",
                                c->extra[i].name);
    }
    return 0;
}

/* Appends "name":value to the payload JSON; -1 when it does not fit. */
static int put_string(char *buf, size_t cap, size_t *len, const char *name, const char *value)
{
    if (*len + 2 >= cap)
        return -1;
    buf[*len] = *len == 0 ? '{' : ',';
    (*len)++;
    buf[*len] = '\0';
    if (sb_json_escape_append(buf, cap, len, name) != 0 || *len + 1 >= cap)
        return -1;
    buf[(*len)++] = ':';
    buf[*len] = '\0';
    return sb_json_escape_append(buf, cap, len, value);
}

static int put_int(char *buf, size_t cap, size_t *len, const char *name, int64_t value)
{
    int n = snprintf(buf + *len, cap - *len, ",\"%s\":%lld", name, (long long)value);
    if (n < 0 || (size_t)n >= cap - *len)
        return -1;
    *len += (size_t)n;
    return 0;
}

int sb_jwt_issue(const unsigned char *secret, size_t secret_len, const sb_jwt_claims *claims,
                 char *out, size_t cap, sb_error *err)
{
    if (check_secret(secret, secret_len, err) != 0 || check_claims(claims, err) != 0)
        return -1;
    if (out == NULL || cap == 0)
        return sb_error_set(err, SB_JWT_E_INVALID, "no JWT output buffer");
    char payload[PAYLOAD_MAX];
    size_t plen = 0; /* the first put_string opens the object */
    int rc = put_string(payload, sizeof payload, &plen, "iss", claims->iss);
    rc = rc != 0 ? rc : put_string(payload, sizeof payload, &plen, "sub", claims->sub);
    rc = rc != 0 ? rc : put_int(payload, sizeof payload, &plen, "iat", claims->iat);
    rc = rc != 0 ? rc : put_int(payload, sizeof payload, &plen, "exp", claims->exp);
    rc = rc != 0 ? rc : put_string(payload, sizeof payload, &plen, "sid", claims->sid);
    for (size_t i = 0; rc == 0 && i < claims->extra_count; i++)
        rc = put_string(payload, sizeof payload, &plen, claims->extra[i].name,
                        claims->extra[i].value);
    if (rc != 0 || plen + 2 > sizeof payload)
        return sb_error_set(err, SB_JWT_E_OVERSIZE, "the JWT claims would exceed %d bytes",
                            SB_JWT_MAX_LEN);
    payload[plen++] = '}';
    payload[plen] = '\0';
    size_t body_b64 = sodium_base64_ENCODED_LEN(plen, sodium_base64_VARIANT_URLSAFE_NO_PADDING) - 1;
    size_t total = HEADER_LEN + 1 + body_b64 + 1 + SIG_B64_LEN;
    if (total > SB_JWT_MAX_LEN)
        return sb_error_set(err, SB_JWT_E_OVERSIZE, "the JWT would be %zu bytes; at most %d",
                            total, SB_JWT_MAX_LEN);
    if (cap < total + 1)
        return sb_error_set(err, SB_JWT_E_INVALID, "JWT buffer too small: need %zu bytes",
                            total + 1);
    memcpy(out, header_b64, HEADER_LEN);
    out[HEADER_LEN] = '.';
    sodium_bin2base64(out + HEADER_LEN + 1, cap - HEADER_LEN - 1, (const unsigned char *)payload,
                      plen, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    size_t signed_len = HEADER_LEN + 1 + body_b64;
    unsigned char mac[SIG_BYTES];
    sign(secret, secret_len, out, signed_len, mac);
    out[signed_len] = '.';
    sodium_bin2base64(out + signed_len + 1, cap - signed_len - 1, mac, sizeof mac,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(mac, sizeof mac);
    return (int)total;
}

/* ---- payload parsing (authenticated bytes only) ----------------------- */

typedef struct parser {
    const unsigned char *p, *end;
    char *store, *store_end; /* decoded strings go here, NUL-terminated */
} parser;

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int hex4(const unsigned char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = s[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (c | 0x20) - 'a' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    *out = v;
    return 0;
}

static int put_utf8(parser *ps, unsigned cp)
{
    unsigned char b[4];
    size_t n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (n == 1)
        b[0] = (unsigned char)cp;
    else if (n == 2)
        b[0] = (unsigned char)(0xC0 | (cp >> 6)), b[1] = (unsigned char)(0x80 | (cp & 0x3F));
    else if (n == 3)
        b[0] = (unsigned char)(0xE0 | (cp >> 12)), b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F)),
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
    else
        b[0] = (unsigned char)(0xF0 | (cp >> 18)), b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F)),
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F)), b[3] = (unsigned char)(0x80 | (cp & 0x3F));
    if ((size_t)(ps->store_end - ps->store) < n + 1)
        return -1;
    memcpy(ps->store, b, n);
    ps->store += n;
    return 0;
}

/* A JSON string at ps->p, decoded into the store; returns its start or NULL. */
static const char *parse_string(parser *ps)
{
    if (ps->p >= ps->end || *ps->p != '"')
        return NULL;
    ps->p++;
    char *start = ps->store;
    while (ps->p < ps->end && *ps->p != '"') {
        unsigned c = *ps->p;
        if (c < 0x20)
            return NULL;
        if (c != '\\') {
            size_t n = sb_utf8_sequence_length(ps->p, (size_t)(ps->end - ps->p));
            if (n == 0 || (size_t)(ps->store_end - ps->store) < n + 1)
                return NULL;
            memcpy(ps->store, ps->p, n);
            ps->store += n;
            ps->p += n;
            continue;
        }
        if (ps->end - ps->p < 2)
            return NULL;
        unsigned e = ps->p[1], cp;
        ps->p += 2;
        static const char escapes[] = "\"\\/bfnrt", decoded[] = "\"\\/\b\f\n\r\t";
        const char *simple = e != 0 ? strchr(escapes, (int)e) : NULL;
        if (simple != NULL) {
            if (put_utf8(ps, (unsigned char)decoded[simple - escapes]) != 0)
                return NULL;
            continue;
        }
        if (e != 'u' || ps->end - ps->p < 4 || hex4(ps->p, &cp) != 0)
            return NULL;
        ps->p += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            unsigned lo;
            if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' ||
                hex4(ps->p + 2, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
                return NULL;
            ps->p += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return NULL;
        }
        if (cp == 0 || put_utf8(ps, cp) != 0)
            return NULL;
    }
    if (ps->p >= ps->end || ps->store >= ps->store_end)
        return NULL;
    ps->p++;
    *ps->store++ = '\0';
    return start;
}

/* A non-negative integer without leading zeros, fitting int64. */
static int parse_int(parser *ps, int64_t *out)
{
    const unsigned char *s = ps->p;
    int64_t v = 0;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
        int d = *ps->p - '0';
        if (v > (INT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
        ps->p++;
    }
    size_t n = (size_t)(ps->p - s);
    if (n == 0 || (n > 1 && s[0] == '0'))
        return -1;
    if (ps->p < ps->end && (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E'))
        return -1;
    *out = v;
    return 0;
}

enum { SEEN_ISS = 1, SEEN_SUB = 2, SEEN_SID = 4, SEEN_IAT = 8, SEEN_EXP = 16 };

static int parse_member(parser *ps, sb_jwt_verified *v, unsigned *seen)
{
    const char *name = parse_string(ps);
    if (name == NULL)
        return -1;
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != ':')
        return -1;
    ps->p++;
    skip_ws(ps);
    static const struct {
        const char *name;
        unsigned bit;
    } known[] = {{"iss", SEEN_ISS}, {"sub", SEEN_SUB}, {"sid", SEEN_SID},
                 {"iat", SEEN_IAT}, {"exp", SEEN_EXP}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(name, known[i].name) != 0)
            continue;
        if (*seen & known[i].bit)
            return -1;
        *seen |= known[i].bit;
        if (known[i].bit == SEEN_IAT)
            return parse_int(ps, &v->claims.iat);
        if (known[i].bit == SEEN_EXP)
            return parse_int(ps, &v->claims.exp);
        const char *s = parse_string(ps);
        if (s == NULL)
            return -1;
        if (known[i].bit == SEEN_ISS)
            v->claims.iss = s;
        else if (known[i].bit == SEEN_SUB)
            v->claims.sub = s;
        else
            v->claims.sid = s;
        return 0;
    }
    if (is_reserved(name) || v->claims.extra_count >= SB_JWT_MAX_EXTRA)
        return -1;
    for (size_t k = 0; k < v->claims.extra_count; k++)
        if (strcmp(v->extra[k].name, name) == 0)
            return -1;
    const char *value = parse_string(ps);
    if (value == NULL)
        return -1;
    v->extra[v->claims.extra_count].name = name;
    v->extra[v->claims.extra_count].value = value;
    v->claims.extra_count++;
    return 0;
}

static int parse_payload(const unsigned char *json, size_t len, sb_jwt_verified *v)
{
    parser ps = {json, json + len, v->storage, v->storage + sizeof v->storage};
    unsigned seen = 0;
    v->claims.extra = v->extra;
    skip_ws(&ps);
    if (ps.p >= ps.end || *ps.p++ != '{')
        return -1;
    for (;;) {
        skip_ws(&ps);
        if (parse_member(&ps, v, &seen) != 0)
            return -1;
        skip_ws(&ps);
        if (ps.p < ps.end && *ps.p == ',') {
            ps.p++;
            continue;
        }
        if (ps.p < ps.end && *ps.p == '}') {
            ps.p++;
            break;
        }
        return -1;
    }
    skip_ws(&ps);
    const unsigned required = SEEN_ISS | SEEN_SUB | SEEN_SID | SEEN_IAT | SEEN_EXP;
    return ps.p == ps.end && (seen & required) == required ? 0 : -1;
}

/* ---- verify ----------------------------------------------------------- */

/* Decodes one base64url segment exactly (every character consumed). */
static int decode_segment(const char *s, size_t len, unsigned char *out, size_t cap,
                          size_t *out_len)
{
    const char *end = NULL;
    if (len == 0)
        return -1;
    if (sodium_base642bin(out, cap, s, len, NULL, out_len, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        end != s + len)
        return -1;
    return 0;
}

int sb_jwt_verify(const unsigned char *secret, size_t secret_len, const char *token, size_t len,
                  const char *issuer, int64_t now, sb_jwt_verified *out, sb_error *err)
{
    if (check_secret(secret, secret_len, err) != 0)
        return -1;
    if (out == NULL || issuer == NULL)
        return sb_error_set(err, SB_JWT_E_INVALID, "JWT verify: no output or issuer given");
    memset(out, 0, sizeof *out);
    if (token == NULL || len == 0)
        return sb_error_set(err, SB_JWT_E_MALFORMED, "the JWT is empty");
    if (len > SB_JWT_MAX_LEN)
        return sb_error_set(err, SB_JWT_E_OVERSIZE, "the JWT is longer than %d bytes",
                            SB_JWT_MAX_LEN);
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (dot1 == NULL || dot2 == NULL ||
        memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)) != NULL)
        return sb_error_set(err, SB_JWT_E_MALFORMED, "a JWT has exactly three dot-separated parts");
    size_t hlen = (size_t)(dot1 - token), plen = (size_t)(dot2 - dot1 - 1);
    size_t slen = len - (size_t)(dot2 + 1 - token);
    if (hlen == 0 || plen == 0 || slen == 0)
        return sb_error_set(err, SB_JWT_E_MALFORMED, "a JWT part is empty");
    if (hlen != HEADER_LEN || sodium_memcmp(token, header_b64, HEADER_LEN) != 0)
        return sb_error_set(err, SB_JWT_E_HEADER,
                            "the JWT header must be exactly {\"alg\":\"HS256\",\"typ\":\"JWT\"}");
    unsigned char sig[SIG_BYTES + 1], mac[SIG_BYTES];
    size_t sig_len = 0;
    if (slen != SIG_B64_LEN || decode_segment(dot2 + 1, slen, sig, sizeof sig, &sig_len) != 0 ||
        sig_len != SIG_BYTES)
        return sb_error_set(err, SB_JWT_E_MALFORMED, "the JWT signature is not base64url of %d "
                            "bytes", (int)SIG_BYTES);
    sign(secret, secret_len, token, (size_t)(dot2 - token), mac);
    int same = sodium_memcmp(mac, sig, SIG_BYTES);
    sodium_memzero(mac, sizeof mac);
    if (same != 0)
        return sb_error_set(err, SB_JWT_E_SIGNATURE, "the JWT signature does not verify");
    unsigned char payload[PAYLOAD_MAX + 1];
    size_t payload_len = 0;
    if (decode_segment(dot1 + 1, plen, payload, sizeof payload, &payload_len) != 0)
        return sb_error_set(err, SB_JWT_E_MALFORMED, "the JWT payload is not base64url");
    if (parse_payload(payload, payload_len, out) != 0) {
        memset(out, 0, sizeof *out);
        return sb_error_set(err, SB_JWT_E_CLAIMS,
                            "the JWT payload must be a flat JSON object with iss, sub, sid "
                            "(strings), iat, exp (integers) and string claims");
    }
    int rc = 0;
    if (strcmp(out->claims.iss, issuer) != 0)
        rc = sb_error_set(err, SB_JWT_E_ISSUER, "the JWT was not issued by %s", issuer);
    else if (out->claims.exp <= out->claims.iat)
        rc = sb_error_set(err, SB_JWT_E_CLAIMS, "the JWT expires before it was issued");
    else if (now >= out->claims.exp)
        rc = sb_error_set(err, SB_JWT_E_EXPIRED, "the JWT has expired; log in again");
    else if (out->claims.iat - SB_JWT_IAT_SKEW > now) /* iat >= 0: no overflow */
        rc = sb_error_set(err, SB_JWT_E_NOT_YET_VALID,
                          "the JWT is issued more than %d s in the future; check the clocks",
                          SB_JWT_IAT_SKEW);
    if (rc != 0)
        memset(out, 0, sizeof *out);
    return rc;
}
