/*
 * test_api_request_table.c — the request state machine's table, row by
 * row, through the real control plane: for every row (kind, from, event ->
 * to) a fresh request is driven into `from` the way users and the system
 * do it, the event is fired the way it happens in production (an API call
 * by the right person, the expiry sweep, a job outcome), and the stored
 * state must be `to` with an audit event written. Then every API action
 * on every terminal state answers 409 naming that state and changes
 * nothing. The table is enumerated from domain/request_machine, so a row
 * added there without a way to reach it fails here.
 */
#include "service/request_writer.h"
#include "domain/request_machine.h"
#include "request_test_util.h"

TestSuite(request_table, .init = tenancy_setup, .fini = tenancy_teardown, .timeout = 600);

static char fill_body[2300];

static void ok(long st, sb_api_response *r)
{
    cr_assert(st >= 200 && st < 300, "%ld: %s", st, r->body);
    sb_api_response_free(r);
}

static void do_act(const char *cookie, const char *id, const char *what, const char *body)
{
    sb_api_response r;
    ok(act(cookie, id, what, body, &r), &r);
}

static void sweep_after(const char *id, const char *column)
{
    char q[256];
    snprintf(q, sizeof q, "UPDATE requests SET %s = now() - interval '1 second' WHERE id = '%s'",
             column, id);
    cr_assert_eq(sb_api_harness_sql(h, q, NULL, 0), 0);
    size_t n = 0;
    sb_error err = {0};
    cr_assert_eq(sb_request_sweep(sb_api_harness_db(h), 100, &n, &err), 0, "%s", err.message);
    cr_assert_eq(n, 1);
}

static void set_allowed_keys(const char *keys)
{
    char path[256];
    sb_api_response r;
    snprintf(path, sizeof path, "/api/v1/projects/%s/secret-bindings/%s", proj, bind_dev);
    ok(callf(admin, "PUT", path, &r, "{\"allowed_keys\":%s}", keys), &r);
}

/* A new request of kind in state s; its id into id. */
static void drive(sb_request_kind kind, sb_request_state s, char *id)
{
    sb_api_response r;
    switch (kind) {
    case SB_REQ_KIND_READ:
    case SB_REQ_KIND_PATCH:
        if (kind == SB_REQ_KIND_READ)
            submit_read(id);
        else {
            char sealed[2048];
            sealed_values("user", "v", sealed, sizeof sealed);
            cr_assert_eq(submit(dev, "patch", bind_dev, sealed, &r), 201, "%s", r.body);
            id_of(&r, id);
        }
        if (s == SB_REQ_STATE_APPROVED) {
            do_act(ap[0], id, "approve", NULL);
            do_act(ap[1], id, "approve", NULL);
        }
        break;
    case SB_REQ_KIND_DIRECT_REVEAL:
        cr_assert_eq(submit(dev, "direct_reveal", bind_dev, "\"keys\":[\"user\"]", &r), 201, "%s",
                     r.body);
        id_of(&r, id);
        break;
    case SB_REQ_KIND_CROSS_TEAM:
        cr_assert_eq(callf(dev, "POST", "/api/v1/requests/cross-team", &r,
                           "{\"binding_id\":\"%s\",\"target_team_id\":\"%s\",\"keys\":[\"password\"],"
                           "\"justification\":\"table\"}",
                           bind_dev, beta),
                     201, "%s", r.body);
        id_of(&r, id);
        if (s == SB_REQ_STATE_PENDING_VERIFICATION || s == SB_REQ_STATE_APPROVED)
            do_act(vp, id, "fill", fill_body);
        if (s == SB_REQ_STATE_APPROVED) {
            do_act(ap[0], id, "verify", "{\"decision\":\"approve\"}");
            do_act(ap[1], id, "verify", "{\"decision\":\"approve\"}");
        }
        break;
    default:
        cr_assert_fail("no such kind");
    }
    char st[32];
    db_state(id, st, sizeof st);
    cr_assert_str_eq(st, sb_request_state_name(s), "driving a %s request", sb_request_kind_name(kind));
}

/* Fires ev on request id (of kind, in from). */
static void fire(sb_request_kind kind, sb_request_state from, sb_request_event ev, const char *id)
{
    bool cross = kind == SB_REQ_KIND_CROSS_TEAM;
    int applied;
    switch (ev) {
    case SB_REQ_EV_VOTE:
        do_act(ap[0], id, cross ? "verify" : "approve", cross ? "{\"decision\":\"approve\"}" : NULL);
        break;
    case SB_REQ_EV_APPROVE_VOTE_DECIDED:
    case SB_REQ_EV_VERIFY_APPROVED:
        fire(kind, from, SB_REQ_EV_VOTE, id);
        do_act(ap[1], id, cross ? "verify" : "approve", cross ? "{\"decision\":\"approve\"}" : NULL);
        break;
    case SB_REQ_EV_REJECT:
        do_act(ap[0], id, cross ? "verify" : "reject",
               cross ? "{\"decision\":\"reject\",\"reason\":\"no\"}" : "{\"reason\":\"no\"}");
        break;
    case SB_REQ_EV_CANCEL:
        do_act(dev, id, "cancel", NULL);
        break;
    case SB_REQ_EV_EXPIRE:
        sweep_after(id, "expires_at");
        break;
    case SB_REQ_EV_FILL_WINDOW_EXPIRED:
        sweep_after(id, "fill_expires_at");
        break;
    case SB_REQ_EV_FILL:
        do_act(vp, id, "fill", fill_body);
        break;
    case SB_REQ_EV_REFUSE:
        do_act(vp, id, "refuse", "{\"reason\":\"not ours to give\"}");
        break;
    case SB_REQ_EV_JOB_SUCCEEDED:
    case SB_REQ_EV_JOB_FAILED:
        cr_assert_eq(drive_job(id, ev == SB_REQ_EV_JOB_SUCCEEDED, "boom", &applied), 0);
        cr_assert_eq(applied, 1, "request %s was not approved", id);
        break;
    case SB_REQ_EV_EXECUTE_CHECK_FAILED: {
        /* approved -> failed happens inside the deciding vote: drive to
         * pending_verification, shrink the allowlist, decide */
        (void)from;
        set_allowed_keys("[\"user\"]");
        do_act(ap[0], id, "verify", "{\"decision\":\"approve\"}");
        do_act(ap[1], id, "verify", "{\"decision\":\"approve\"}");
        set_allowed_keys("[\"user\",\"password\"]");
        break;
    }
    default:
        cr_assert_fail("event %s has no trigger", sb_request_event_name(ev));
    }
}

static void table_world(void)
{
    request_world();
    cr_assert_eq(sb_api_harness_sql(h, "UPDATE workflows SET min_approvers = 2 WHERE is_default",
                                     NULL, 0),
                 0);
    char wf[40];
    /* direct reveal allowed (operation reveal only), decided by one approver */
    workflow_with_rule("reveal", 1, "[]", 500, ", direct_reveal_allowed, sel_operation",
                       ", true, 'reveal'", wf);
    char sealed[2048];
    sealed_values("password", "v", sealed, sizeof sealed);
    snprintf(fill_body, sizeof fill_body, "{%s}", sealed);
}

Test(request_table, every_row_is_reachable_and_lands_in_its_state)
{
    table_world();
    size_t rows = sb_request_table_size(), exercised = 0;
    for (size_t i = 0; i < rows; i++) {
        const sb_request_rule *row = sb_request_table_row(i);
        for (int k = 0; k < SB_REQ_KIND_COUNT; k++) {
            if (!(row->kinds & SB_REQ_KIND_BIT(k)))
                continue;
            char id[40];
            if (row->from == SB_REQ_STATE_NEW) {
                drive((sb_request_kind)k, row->to, id); /* submit itself */
            } else {
                /* execute_check_failed fires from pending_verification (see fire) */
                sb_request_state start = row->event == SB_REQ_EV_EXECUTE_CHECK_FAILED
                                             ? SB_REQ_STATE_PENDING_VERIFICATION
                                             : row->from;
                drive((sb_request_kind)k, start, id);
                long long before = sql_int("SELECT count(*) FROM audit_events WHERE resource = "
                                           "'request:%s'", id);
                fire((sb_request_kind)k, row->from, row->event, id);
                cr_assert_gt(sql_int("SELECT count(*) FROM audit_events WHERE resource = "
                                     "'request:%s'", id),
                             before, "no audit event for %s", sb_request_event_name(row->event));
            }
            char st[32];
            db_state(id, st, sizeof st);
            cr_assert_str_eq(st, sb_request_state_name(row->to), "%s %s -%s->",
                             sb_request_kind_name((sb_request_kind)k),
                             sb_request_state_name(row->from), sb_request_event_name(row->event));
            exercised++;
        }
    }
    cr_assert_geq(exercised, rows, "every row ran for each of its kinds");
}

Test(request_table, terminal_states_refuse_every_action_with_409)
{
    table_world();
    static const struct {
        sb_request_kind kind;
        sb_request_state from;
        sb_request_event ev;
    } ends[] = {
        {SB_REQ_KIND_READ, SB_REQ_STATE_APPROVED, SB_REQ_EV_JOB_SUCCEEDED},
        {SB_REQ_KIND_READ, SB_REQ_STATE_APPROVED, SB_REQ_EV_JOB_FAILED},
        {SB_REQ_KIND_READ, SB_REQ_STATE_PENDING, SB_REQ_EV_REJECT},
        {SB_REQ_KIND_READ, SB_REQ_STATE_PENDING, SB_REQ_EV_CANCEL},
        {SB_REQ_KIND_READ, SB_REQ_STATE_PENDING, SB_REQ_EV_EXPIRE},
        {SB_REQ_KIND_CROSS_TEAM, SB_REQ_STATE_PENDING_VALUES, SB_REQ_EV_REFUSE},
    };
    static const char *const actions[][2] = {
        {"approve", "{}"},           {"reject", "{\"reason\":\"late\"}"},
        {"cancel", "{}"},            {"verify", "{\"decision\":\"approve\"}"},
        {"refuse", "{\"reason\":\"too late to refuse\"}"},
    };
    for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) {
        char id[40], st[32];
        drive(ends[i].kind, ends[i].from, id);
        fire(ends[i].kind, ends[i].from, ends[i].ev, id);
        db_state(id, st, sizeof st);
        for (size_t a = 0; a < sizeof actions / sizeof actions[0]; a++) {
            const char *who = strcmp(actions[a][0], "cancel") == 0   ? dev
                              : strcmp(actions[a][0], "refuse") == 0 ? vp
                                                                      : ap[2];
            sb_api_response r;
            long code = act(who, id, actions[a][0], actions[a][1], &r);
            /* on a read request: verify is 422 (wrong kind); the value
             * provider cannot see it at all (404); everything else 409 */
            bool cross = ends[i].kind == SB_REQ_KIND_CROSS_TEAM;
            long want = !cross && strcmp(actions[a][0], "verify") == 0   ? 422
                        : !cross && strcmp(actions[a][0], "refuse") == 0 ? 404
                                                                          : 409;
            cr_assert_eq(code, want, "%s on a %s request: %s", actions[a][0], st, r.body);
            if (want == 409)
                cr_assert(strstr(r.body, st) != NULL, "the 409 names the state %s: %s", st,
                          r.body);
            sb_api_response_free(&r);
            char now[32];
            db_state(id, now, sizeof now);
            cr_assert_str_eq(now, st, "nothing changed");
        }
    }
    int applied;
    cr_assert_eq(drive_job("not-a-uuid", true, NULL, &applied), -1);
    cr_assert_eq(applied, 0, "a job outcome for no request moves nothing");
}
