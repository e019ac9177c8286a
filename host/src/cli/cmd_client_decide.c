/*
 * cli/cmd_client_decide.c — `sbridge requests list`, `sbridge approve` and
 * `sbridge reject`: looking at requests and voting on them.
 *
 * Contract: requests list prints your own requests (GET /api/v1/requests,
 * --state/--kind filters) or, with --queue, those you may vote on now
 * (GET /api/v1/requests/queue), one per line: id, kind, state, secret
 * reference, created — following next_cursor to the end. approve and
 * reject vote as the signed-in user (identity from the token, never from
 * the body: I6) and print the request's state after the vote. Nothing here
 * handles a value.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/client_args.h"

#define LIST_PAGES_MAX 50

static int query_word_ok(const char *s)
{
    size_t n = strlen(s);
    return n > 0 && n < 40 && strspn(s, "abcdefghijklmnopqrstuvwxyz_") == n;
}

static int print_request(const sb_json_node *q, void *ctx)
{
    int *shown = ctx;
    if ((*shown)++ == 0)
        printf("%-36s  %-13s  %-20s  %-32s  %s\n", "ID", "KIND", "STATE", "SECRET", "CREATED");
    printf("%-36s  %-13s  %-20s  %-32s  %s\n", sb_client_str(q, "id"), sb_client_str(q, "kind"),
           sb_client_str(q, "state"), sb_client_str(q, "secret_ref"), sb_client_str(q, "created_at"));
    return 0;
}

int sb_cmd_requests(int argc, char **argv)
{
    const char *state = NULL, *kind = NULL;
    int queue = 0;
    if (argc < 2 || strcmp(argv[1], "list") != 0)
        return argc < 2 ? sb_cli_usage_error("requests", "expected 'list' (got nothing)")
                        : sb_cli_unknown_argument("requests", argv[1]);
    for (int i = 2; i < argc; i++) {
        int m;
        if ((m = sb_client_opt("requests", argc, argv, &i, "--state", &state)) ||
            (m = sb_client_opt("requests", argc, argv, &i, "--kind", &kind))) {
            if (m < 0)
                return 2;
        } else if (strcmp(argv[i], "--queue") == 0) {
            queue = 1;
        } else {
            return sb_cli_unknown_argument("requests", argv[i]);
        }
    }
    if ((state && !query_word_ok(state)) || (kind && !query_word_ok(kind)))
        return sb_cli_usage_error("requests", "--state and --kind take one word, e.g. --state "
                                              "pending or --kind read");
    if (queue && (state || kind))
        return sb_cli_usage_error("requests", "--queue lists what you may vote on now; it takes "
                                              "no --state or --kind");
    sb_client c;
    sb_client_credentials cred;
    if (sb_client_session_open("requests", &c, &cred) != 0)
        return 1;
    char path[512];
    snprintf(path, sizeof path, "/api/v1/requests%s?limit=100%s%s%s%s", queue ? "/queue" : "",
             state ? "&state=" : "", state ? state : "", kind ? "&kind=" : "", kind ? kind : "");
    int shown = 0;
    int rc = sb_client_each_item(&c, path, "listing requests", LIST_PAGES_MAX, 0, print_request,
                                 &shown);
    if (rc == 0 && shown == 0)
        fprintf(stderr, "sbridge requests: %s\n",
                queue ? "nothing waits for your vote" : "no requests (of yours) match");
    sb_client_credentials_clear(&cred);
    return rc;
}

/* approve / reject: one vote. */
static int vote(const char *command, int argc, char **argv)
{
    int reject = strcmp(command, "reject") == 0;
    const char *id = NULL, *text = NULL;
    const char *option = reject ? "--reason" : "--comment";
    for (int i = 1; i < argc; i++) {
        int m = sb_client_opt(command, argc, argv, &i, option, &text);
        if (m < 0)
            return 2;
        if (m)
            continue;
        if (argv[i][0] == '-')
            return sb_cli_unknown_argument(command, argv[i]);
        if (id)
            return sb_cli_usage_error(command, "takes one REQUEST_ID (got %s and %s)", id, argv[i]);
        id = argv[i];
    }
    if (id == NULL)
        return sb_cli_usage_error(command, "REQUEST_ID is required ('sbridge requests list "
                                           "--queue' shows what you may vote on)");
    if (!sb_client_uuid_ok(id))
        return sb_cli_usage_error(command, "'%s' is not a request id (a UUID)", id);
    if (reject && (text == NULL || text[0] == '\0'))
        return sb_cli_usage_error(command, "--reason TEXT is required: the requester sees why");
    sb_client c;
    sb_client_credentials cred;
    if (sb_client_session_open(command, &c, &cred) != 0)
        return 1;
    json_t *body = json_object();
    if (text)
        json_object_set_new(body, reject ? "reason" : "comment", json_string(text));
    char *payload = json_dumps(body, JSON_COMPACT), path[128];
    json_decref(body);
    snprintf(path, sizeof path, "/api/v1/requests/%s/%s", id, command);
    sb_client_response r = {0};
    long st = payload ? sb_client_call(&c, "POST", path, (const unsigned char *)payload,
                                       strlen(payload), 0, &r)
                      : 0;
    free(payload);
    int rc = 0;
    if (st != 200 && st != 201) {
        char doing[64];
        snprintf(doing, sizeof doing, "%s", reject ? "rejecting the request" : "approving the request");
        rc = sb_client_report(&c, doing, &r);
    } else {
        const char *state = sb_client_str(sb_client_root(&r), "state");
        printf("%s %s\n", id, state[0] ? state : "voted");
        if (strcmp(state, "pending") == 0)
            fprintf(stderr, "sbridge %s: your vote is recorded; the workflow needs more approvals\n",
                    command);
    }
    sb_client_response_free(&r);
    sb_client_credentials_clear(&cred);
    return rc;
}

int sb_cmd_approve(int argc, char **argv) { return vote("approve", argc, argv); }
int sb_cmd_reject(int argc, char **argv) { return vote("reject", argc, argv); }
