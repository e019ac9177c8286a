/*
 * plugins/notify-slack/slack_blocks.c — the Block Kit message of one event.
 *
 * Contract (pure: no host call, no I/O):
 *   - Layout: a header (severity emoji + title), a section with the summary
 *     (who / what / why), sections of fields (the facts table, 10 per
 *     section, at most 40 fields; more are counted, not shown), a context
 *     line (state, event kind, severity), and an actions block with a link
 *     button to the UI when the event has an http(s) link. The top-level
 *     "text" is the notification fallback: "[severity] title: summary".
 *   - Only what the event carries is shown; the event never carries a
 *     value, and nothing is invented. The field `thread_key` steers
 *     threading and is not shown.
 *   - Text from the event is escaped for mrkdwn (& < > as entities, so it
 *     can neither mention @channel nor forge links) and truncated to Slack's
 *     limits (header 150, section 3000, field 2000 bytes — a character is at
 *     least one byte) at a UTF-8 boundary with "…".
 *   - unfurl_links and unfurl_media are false: a link in a notification
 *     must not make Slack fetch it.
 */
#include "slack.h"

#include <string.h>

static const char ELLIPSIS[] = "\xe2\x80\xa6";

/* The mrkdwn form of one character (`clen` bytes at p). */
static const char *escaped(const char *p, size_t clen, int mrkdwn, size_t *rlen)
{
    *rlen = clen;
    if (!mrkdwn || clen != 1)
        return p;
    if (*p == '&')
        return *rlen = 5, "&amp;";
    if (*p == '<')
        return *rlen = 4, "&lt;";
    if (*p == '>')
        return *rlen = 4, "&gt;";
    return p;
}

static size_t char_len(const char *s, size_t i, size_t len)
{
    size_t n = 1;
    while (i + n < len && ((unsigned char)s[i + n] & 0xC0) == 0x80)
        n++;
    return n;
}

/* Appends text (mrkdwn-escaped when asked) as a JSON string of at most
 * `max` bytes before JSON escaping: whole characters and whole entities,
 * then "…" when something was cut. */
static void add_text(sbp_str *out, const char *text, size_t max, int mrkdwn)
{
    const char *s = text ? text : "";
    size_t len = strlen(s), total = 0, rlen;
    for (size_t i = 0; i < len; i += char_len(s, i, len)) {
        escaped(s + i, char_len(s, i, len), mrkdwn, &rlen);
        total += rlen;
    }
    int cut = total > max;
    size_t budget = cut ? max - (sizeof ELLIPSIS - 1) : max;
    sbp_str plain = {0};
    sbp_str_add(&plain, "");
    for (size_t i = 0, clen; i < len; i += clen) {
        clen = char_len(s, i, len);
        const char *rep = escaped(s + i, clen, mrkdwn, &rlen);
        if (plain.len + rlen > budget)
            break;
        sbp_str_addn(&plain, rep, rlen);
    }
    if (cut)
        sbp_str_add(&plain, ELLIPSIS);
    if (plain.failed)
        out->failed = 1;
    else
        sbp_str_add_json(out, plain.p);
    sbp_str_free(&plain);
}

/* Appends `before`, the composed text (add_text), `after`; frees the text. */
static void add_composed(sbp_str *out, const char *before, sbp_str *text, size_t max, int mrkdwn,
                         const char *after)
{
    sbp_str_add(out, before);
    if (text->failed)
        out->failed = 1;
    else
        add_text(out, text->p, max, mrkdwn);
    sbp_str_add(out, after);
    sbp_str_free(text);
}

static const char *severity_emoji(const char *severity)
{
    if (severity && strcmp(severity, "critical") == 0)
        return ":rotating_light:";
    if (severity && strcmp(severity, "warning") == 0)
        return ":warning:";
    return ":information_source:";
}

/* "request.approved" -> "approved" (the part after the last dot). */
static const char *state_of(const char *kind)
{
    const char *dot = strrchr(kind, '.');
    return dot && dot[1] ? dot + 1 : kind;
}

static int shown_field(const sb_kv *f)
{
    return f->key && f->key[0] && f->value && strcmp(f->key, SLACK_FIELD_THREAD_KEY) != 0;
}

static void add_fields(sbp_str *out, const sb_notify_event *ev, size_t *hidden)
{
    size_t shown = 0, in_section = 0;
    *hidden = 0;
    for (size_t i = 0; i < ev->n_fields; i++) {
        const sb_kv *f = &ev->fields[i];
        if (!shown_field(f))
            continue;
        if (shown == SLACK_MAX_FIELDS) {
            (*hidden)++;
            continue;
        }
        if (in_section == SLACK_FIELDS_PER_SECTION) {
            sbp_str_add(out, "]}");
            in_section = 0;
        }
        sbp_str_add(out, in_section == 0 ? ",{\"type\":\"section\",\"fields\":[" : ",");
        sbp_str text = {0};
        sbp_str_add(&text, "*");
        sbp_str_add(&text, f->key);
        sbp_str_add(&text, "*\n");
        /* the key is bold mrkdwn; escape the whole cell once */
        sbp_str_add(&text, f->value);
        add_composed(out, "{\"type\":\"mrkdwn\",\"text\":", &text, SLACK_FIELD_TEXT_MAX, 1, "}");
        shown++;
        in_section++;
    }
    if (in_section)
        sbp_str_add(out, "]}");
}

static int link_ok(const char *link)
{
    return link && strlen(link) <= SLACK_URL_MAX &&
           (strncmp(link, "https://", 8) == 0 || strncmp(link, "http://", 7) == 0) &&
           strpbrk(link, " \t\r\n<>|\"") == NULL;
}

void slack_blocks_append(sbp_str *out, const sb_notify_event *ev)
{
    const char *severity = ev->severity && ev->severity[0] ? ev->severity : "info";
    const char *title = ev->title && ev->title[0] ? ev->title : ev->kind;
    sbp_str fallback = {0};
    sbp_str_addf(&fallback, "[%.16s] ", severity);
    sbp_str_add(&fallback, title);
    if (ev->summary && ev->summary[0]) {
        sbp_str_add(&fallback, ": ");
        sbp_str_add(&fallback, ev->summary);
    }
    add_composed(out, "\"text\":", &fallback, SLACK_SECTION_TEXT_MAX, 1, "");

    sbp_str header = {0};
    sbp_str_add(&header, severity_emoji(severity));
    sbp_str_add(&header, " ");
    sbp_str_add(&header, title);
    add_composed(out,
                 ",\"blocks\":[{\"type\":\"header\",\"text\":{\"type\":\"plain_text\","
                 "\"emoji\":true,\"text\":",
                 &header, SLACK_HEADER_TEXT_MAX, 0, "}}");

    if (ev->summary && ev->summary[0]) {
        sbp_str_add(out, ",{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":");
        add_text(out, ev->summary, SLACK_SECTION_TEXT_MAX, 1);
        sbp_str_add(out, "}}");
    }
    size_t hidden = 0;
    add_fields(out, ev, &hidden);

    sbp_str context = {0};
    sbp_str_add(&context, "*State:* ");
    sbp_str_add(&context, state_of(ev->kind));
    sbp_str_add(&context, "  |  *Event:* `");
    sbp_str_add(&context, ev->kind);
    sbp_str_add(&context, "`  |  *Severity:* ");
    sbp_str_add(&context, severity);
    if (hidden)
        sbp_str_addf(&context, "  |  %zu more fields in the UI", hidden);
    add_composed(out, ",{\"type\":\"context\",\"elements\":[{\"type\":\"mrkdwn\",\"text\":",
                 &context, SLACK_SECTION_TEXT_MAX, 1, "}]}");

    if (link_ok(ev->link)) {
        sbp_str_add(out, ",{\"type\":\"actions\",\"elements\":[{\"type\":\"button\","
                         "\"action_id\":\"open_in_ui\",\"text\":{\"type\":\"plain_text\","
                         "\"text\":\"Open in Secrets Bridge\"},\"url\":");
        sbp_str_add_json(out, ev->link);
        sbp_str_add(out, "}]}");
    }
    sbp_str_add(out, "],\"unfurl_links\":false,\"unfurl_media\":false");
}
