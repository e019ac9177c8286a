/*
 * plugins/awssm/awssm_errors.c — AWS error answers -> ABI statuses.
 *
 * Contract: reads the error type from the JSON body's `__type` (botocore's
 * rules: strip everything up to '#' and after ':'), else the
 * x-amzn-ErrorType header, else an STS/IMDS XML `<Code>`; the message from
 * `message` or `Message` (or XML `<Message>`), copied out as printable ASCII
 * and truncated (AWS messages name resources, never values). Mapping:
 *   ResourceNotFoundException, NotFoundException          -> NOT_FOUND
 *   AccessDenied(Exception), UnrecognizedClientException,
 *   InvalidClientTokenId, InvalidSignatureException,
 *   IncompleteSignature(Exception), MissingAuthenticationToken(Exception),
 *   SignatureDoesNotMatch, DecryptionFailure, EncryptionFailure,
 *   InvalidIdentityToken                                  -> DENIED
 *   ExpiredToken(Exception), RequestExpired, ExpiredTokenException
 *                                                         -> AUTH_EXPIRED
 *   ResourceExistsException                               -> CONFLICT
 *   InvalidRequestException "marked for deletion"          -> GONE
 *   Throttling*, TooManyRequestsException, RequestLimitExceeded,
 *   ProvisionedThroughputExceededException, HTTP 429      -> THROTTLED (Retry-After)
 *   InternalServiceError, InternalFailure, ServiceUnavailable,
 *   KMSInternalException, KeyUnavailableException, DependencyTimeoutException,
 *   any 5xx                                               -> UNAVAILABLE (Retry-After)
 *   DisabledException, KMSInvalidStateException           -> CONFIG
 *   UnknownOperationException                             -> UNSUPPORTED
 *   other 4xx with a type                                 -> INVALID
 *   anything else                                         -> PROTOCOL
 */
#include "awssm.h"

#include <stdio.h>
#include <string.h>

static void clean_copy(const char *in, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    int space = 0;
    if (cap == 0)
        return;
    for (size_t i = 0; i < len && o + 1 < cap; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c <= 0x20 || c >= 0x7f) {
            space = o > 0;
            continue;
        }
        if (space && o + 2 < cap)
            out[o++] = ' ';
        space = 0;
        out[o++] = (char)c;
    }
    out[o] = '\0';
}

/* Normalises "com.amazonaws.secretsmanager#X:http://..." -> "X". */
static void normalise_type(char *t)
{
    char *hash = strrchr(t, '#');
    if (hash)
        memmove(t, hash + 1, strlen(hash + 1) + 1);
    char *colon = strchr(t, ':');
    if (colon)
        *colon = '\0';
}

/* The text between <tag> and </tag> in an XML body, cleaned. */
static void xml_field(const char *body, size_t len, const char *tag, char *out, size_t cap)
{
    char open[40], close[40];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    out[0] = '\0';
    const char *a = memmem(body, len, open, strlen(open));
    if (a == NULL)
        return;
    a += strlen(open);
    const char *b = memmem(a, len - (size_t)(a - body), close, strlen(close));
    if (b)
        clean_copy(a, (size_t)(b - a), out, cap);
}

static int is(const char *t, const char *const *names)
{
    for (; *names; names++)
        if (strcmp(t, *names) == 0)
            return 1;
    return 0;
}

sb_status awssm_fail_response(const sb_http_response *resp, const char *what, char *type_out,
                              size_t type_cap, sb_result *res)
{
    const sb_host_api *h = awssm_host;
    char type[64] = "", msg[AWSSM_ERROR_TEXT_MAX + 1] = "";
    size_t len = 0;
    const unsigned char *body = resp->body ? h->secure_data(resp->body, &len) : NULL;
    if (body && len && body[0] == '{') {
        sb_json *doc = NULL;
        sb_result ignored = SB_RESULT_INIT;
        if (h->json_parse(body, len, &doc, &ignored) == SB_OK) {
            const sb_json_node *root = h->json_root(doc);
            size_t n = 0;
            const char *t = h->json_string(h->json_pointer(root, "/__type"), &n);
            if (t)
                clean_copy(t, n, type, sizeof type);
            const char *m = h->json_string(h->json_pointer(root, "/message"), &n);
            if (m == NULL)
                m = h->json_string(h->json_pointer(root, "/Message"), &n);
            if (m)
                clean_copy(m, n, msg, sizeof msg);
        }
        h->json_free(doc);
        h->result_release(&ignored);
    } else if (body && len) {
        xml_field((const char *)body, len, "Code", type, sizeof type);
        xml_field((const char *)body, len, "Message", msg, sizeof msg);
    }
    if (type[0] == '\0') {
        const char *hdr = h->http_header(resp, "x-amzn-ErrorType");
        if (hdr)
            clean_copy(hdr, strlen(hdr), type, sizeof type);
    }
    normalise_type(type);
    if (type_out && type_cap) {
        snprintf(type_out, type_cap, "%s", type);
    }
    long code = resp->status;
    uint32_t after = resp->retry_after_ms;
    const char *sep = msg[0] ? ": " : "";

    static const char *const not_found[] = {"ResourceNotFoundException", "NotFoundException",
                                            NULL};
    static const char *const denied[] = {
        "AccessDeniedException", "AccessDenied", "UnrecognizedClientException",
        "InvalidClientTokenId", "InvalidSignatureException", "IncompleteSignature",
        "IncompleteSignatureException", "MissingAuthenticationToken",
        "MissingAuthenticationTokenException", "SignatureDoesNotMatch", "DecryptionFailure",
        "EncryptionFailure", "InvalidIdentityToken", NULL};
    static const char *const expired[] = {"ExpiredTokenException", "ExpiredToken",
                                          "RequestExpired", NULL};
    static const char *const throttled[] = {
        "ThrottlingException", "Throttling", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "RequestLimitExceeded",
        "ProvisionedThroughputExceededException", "RequestThrottled", NULL};
    static const char *const unavailable[] = {
        "InternalServiceError", "InternalFailure", "ServiceUnavailable",
        "ServiceUnavailableException", "KMSInternalException", "KeyUnavailableException",
        "DependencyTimeoutException", "InternalServerError", NULL};
    static const char *const config[] = {"DisabledException", "KMSInvalidStateException", NULL};

    if (is(type, not_found))
        return h->fail(res, SB_E_NOT_FOUND, 0, "%s: not found (%s)%s%s", what, type, sep, msg);
    if (is(type, expired))
        return h->fail(res, SB_E_AUTH_EXPIRED, 0, "%s: the AWS credentials expired (%s)", what,
                       type);
    if (is(type, denied)) {
        if (strstr(msg, "Signature expired") != NULL)
            return h->fail(res, SB_E_DENIED, 0,
                           "%s: AWS refused the signature as expired; check this machine's "
                           "clock (%s)%s%s",
                           what, type, sep, msg);
        return h->fail(res, SB_E_DENIED, 0,
                       "%s: AWS denied the request (%s)%s%s; check the credentials and the IAM "
                       "policy (see docs/plugins/awssm.md)",
                       what, type, sep, msg);
    }
    if (strcmp(type, "ResourceExistsException") == 0)
        return h->fail(res, SB_E_CONFLICT, 0, "%s: %s%s%s", what, type, sep, msg);
    if (strcmp(type, "InvalidRequestException") == 0 && strstr(msg, "marked for deletion"))
        return h->fail(res, SB_E_GONE, 0, "%s: the secret is scheduled for deletion", what);
    if (is(type, throttled) || code == 429)
        return h->fail(res, SB_E_THROTTLED, after, "%s: rate limited by AWS (%s)", what,
                       type[0] ? type : "HTTP 429");
    if (is(type, unavailable) || (code >= 500 && code <= 599))
        return h->fail(res, SB_E_UNAVAILABLE, after, "%s: AWS is unavailable (HTTP %ld%s%s)",
                       what, code, type[0] ? ", " : "", type);
    if (is(type, config))
        return h->fail(res, SB_E_CONFIG, 0, "%s: the KMS key cannot be used (%s)%s%s", what,
                       type, sep, msg);
    if (strcmp(type, "UnknownOperationException") == 0)
        return h->fail(res, SB_E_UNSUPPORTED, 0,
                       "%s: the endpoint does not know this operation (%s); is the endpoint "
                       "right?",
                       what, type);
    if (type[0] && code >= 400 && code < 500)
        return h->fail(res, SB_E_INVALID, 0, "%s: AWS rejected the request (%s)%s%s", what, type,
                       sep, msg);
    return h->fail(res, SB_E_PROTOCOL, 0, "%s: unexpected answer from AWS (HTTP %ld)%s%s", what,
                   code, type[0] ? ", " : "", type);
}
