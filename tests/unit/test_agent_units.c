/*
 * test_agent_units.c — the agent's pure parts without a control plane:
 * dispatch (a type without an executor fails permanently with "unknown job
 * type X", never success; steering keys at any depth are refused before any
 * executor) and the identity file (atomic 0600 write and read back, the
 * directory and file mode refusals with their fixes, symlinks, corrupt and
 * mismatched files), and sealing (a value sealed to a recipient, a box
 * opened only with this agent's key).
 */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "agent/dispatch.h"
#include "agent/identity.h"
#include "crypto/sealed_box.h"
#include "agent/sealing.h"
#include "crypto/secure_mem.h"

static void init(void) { cr_assert_eq(sb_crypto_init(), 0); }
TestSuite(agent_units, .init = init);

static sb_agent_outcome dispatch_json(const char *type, const char *payload, char *error)
{
    sb_json *doc = NULL;
    sb_error err = {0};
    cr_assert_eq(sb_json_parse((const unsigned char *)payload, strlen(payload), &doc, &err), 0, "%s",
                 err.message);
    sb_agent_job job = {NULL, "job-1", type, sb_json_root(doc), sb_json_root(doc), NULL, NULL};
    sb_agent_outcome o = sb_agent_dispatch(&job, error, SB_AGENT_ERROR_MAX + 1);
    sb_json_free(doc);
    return o;
}

Test(agent_units, a_type_without_an_executor_fails_permanently_never_succeeds)
{
    char error[SB_AGENT_ERROR_MAX + 1];
    cr_assert_eq(dispatch_json("sync", "{}", error), SB_AGENT_FAILED_PERMANENT);
    cr_assert(strncmp(error, "unknown job type sync", 21) == 0, "%s", error);
    cr_assert_eq(dispatch_json("", "{}", error), SB_AGENT_FAILED_PERMANENT);
    cr_assert_null(sb_agent_executor_find("sync"));
    cr_assert_null(sb_agent_executor_find(NULL));
    cr_assert_str_eq(sb_agent_outcome_name(SB_AGENT_FAILED_PERMANENT), "failed_permanent");
    cr_assert_str_eq(sb_agent_outcome_name(SB_AGENT_FAILED_RETRYABLE), "failed_retryable");
    cr_assert_str_eq(sb_agent_outcome_name(SB_AGENT_SUCCEEDED), "succeeded");
}

Test(agent_units, steering_keys_are_refused_at_any_depth_with_their_path)
{
    static const struct {
        const char *payload, *path;
    } cases[] = {
        {"{\"address\":\"https://evil\"}", "/address"},
        {"{\"selector\":{\"Kv-Mount\":\"x\"}}", "/selector/Kv-Mount"},
        {"{\"items\":[{\"a\":1},{\"vault_token\":\"x\"}]}", "/items/1/vault_token"},
        {"{\"request_id\":\"r\",\"target_provider_config\":{}}", "/target_provider_config"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char error[SB_AGENT_ERROR_MAX + 1];
        cr_assert_eq(dispatch_json("read", cases[i].payload, error), SB_AGENT_FAILED_PERMANENT);
        char want[200];
        snprintf(want, sizeof want, "refused: payload field %s ", cases[i].path);
        cr_assert(strncmp(error, want, strlen(want)) == 0, "case %zu: %s", i, error);
        cr_assert(strstr(error, "evil") == NULL, "a value leaked into the error");
    }
    sb_json *doc = NULL;
    sb_error err;
    const char *clean = "{\"request_id\":\"r\",\"secret_ref\":\"app/db\",\"keys\":[\"user\"],"
                        "\"operation\":\"read\",\"read_public_key\":\"AAAA\"}";
    cr_assert_eq(sb_json_parse((const unsigned char *)clean, strlen(clean), &doc, &err), 0);
    char path[100];
    cr_assert_eq(sb_agent_payload_steers(sb_json_root(doc), path, sizeof path), 0, "%s", path);
    sb_json_free(doc);
}

static char dir[64], file[128];

static void fresh_dir(mode_t mode)
{
    snprintf(dir, sizeof dir, "/tmp/sb-agent-unit-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    cr_assert_eq(chmod(dir, mode), 0);
    snprintf(file, sizeof file, "%s/id.json", dir);
}

static void drop_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

static void sample(sb_agent_identity *id)
{
    memset(id, 0, sizeof *id);
    snprintf(id->agent_id, sizeof id->agent_id, "0b5c1d7e-0000-4000-8000-000000000001");
    snprintf(id->connection, sizeof id->connection, "vault-a");
    id->credential = sb_secure_strdup("0b5c.sba_secret", 15);
    sb_error err;
    cr_assert_eq(sb_agent_identity_new_keys(id, &err), 0);
}

Test(agent_units, the_identity_is_written_0600_atomically_and_read_back)
{
    fresh_dir(0700);
    sb_error err = {0};
    cr_assert_eq(sb_agent_identity_check_dir(file, &err), 0, "%s", err.message);
    sb_agent_identity id, back;
    cr_assert_eq(sb_agent_identity_load(file, &back, &err), 1, "no file yet: first boot");
    sample(&id);
    cr_assert_eq(sb_agent_identity_save(file, "https://cp.example", &id, &err), 0, "%s", err.message);
    struct stat st;
    cr_assert_eq(stat(file, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);
    cr_assert_eq(sb_agent_identity_load(file, &back, &err), 0, "%s", err.message);
    cr_assert_str_eq(back.agent_id, id.agent_id);
    cr_assert_str_eq(back.connection, "vault-a");
    cr_assert_str_eq(back.credential, "0b5c.sba_secret");
    cr_assert_eq(memcmp(back.public_key, id.public_key, 32), 0);
    cr_assert_eq(memcmp(back.secret_key, id.secret_key, 32), 0);
    /* no temporary file is left beside it */
    DIR *d = opendir(dir);
    int entries = 0;
    for (struct dirent *e; (e = readdir(d));)
        entries += e->d_name[0] != '.';
    closedir(d);
    cr_assert_eq(entries, 1);
    sb_agent_identity_free(&back);
    sb_agent_identity_free(&id);
    drop_dir();
}

Test(agent_units, wider_modes_symlinks_and_corrupt_files_are_refused_with_the_fix)
{
    fresh_dir(0750);
    sb_error err = {0};
    cr_assert_lt(sb_agent_identity_check_dir(file, &err), 0);
    cr_assert(strstr(err.message, "has mode 0750") && strstr(err.message, "chmod 700") &&
                  strstr(err.message, dir),
              "%s", err.message);
    cr_assert_eq(chmod(dir, 0700), 0);
    sb_agent_identity id, back;
    sample(&id);
    cr_assert_eq(sb_agent_identity_save(file, "https://cp", &id, &err), 0);
    cr_assert_eq(chmod(file, 0640), 0);
    cr_assert_lt(sb_agent_identity_load(file, &back, &err), 0);
    cr_assert(strstr(err.message, "has mode 0640") && strstr(err.message, "chmod 600"), "%s",
              err.message);
    cr_assert(strstr(err.message, "sba_secret") == NULL);
    cr_assert_eq(chmod(file, 0600), 0);
    /* a symlink to it */
    char link[160];
    snprintf(link, sizeof link, "%s/link.json", dir);
    cr_assert_eq(symlink(file, link), 0);
    cr_assert_lt(sb_agent_identity_load(link, &back, &err), 0);
    cr_assert(strstr(err.message, "symbolic link"), "%s", err.message);
    /* a private key that does not match the public key */
    id.secret_key[1] ^= 1; /* not bit 0: X25519 clamps the low bits */
    cr_assert_eq(sb_agent_identity_save(file, "https://cp", &id, &err), 0);
    cr_assert_lt(sb_agent_identity_load(file, &back, &err), 0);
    cr_assert(strstr(err.message, "does not match"), "%s", err.message);
    /* not JSON */
    FILE *f = fopen(file, "w");
    fputs("{\"agent_id\": ", f);
    fclose(f);
    cr_assert_lt(sb_agent_identity_load(file, &back, &err), 0);
    cr_assert(strstr(err.message, "not valid JSON") && strstr(err.message, "delete it"), "%s",
              err.message);
    sb_agent_identity_free(&id);
    drop_dir();
}

Test(agent_units, values_are_sealed_to_a_recipient_and_boxes_open_only_with_the_agents_key)
{
    sb_agent_identity agent;
    sample(&agent);
    char pk_b64[64];
    sodium_bin2base64(pk_b64, sizeof pk_b64, agent.public_key, 32, sodium_base64_VARIANT_ORIGINAL);
    const char *value = "s3cr3t-\xc3\xa9-value";
    char *box = NULL;
    sb_error err = {0};
    cr_assert_eq(sb_sealed_box_seal(pk_b64, (const unsigned char *)value, strlen(value), &box, &err), 0,
                 "%s", err.message);
    cr_assert(strstr(box, "s3cr3t") == NULL);
    sb_secure_buf *plain = NULL;
    cr_assert_eq(sb_agent_open(&agent, box, &plain, &err), 0, "%s", err.message);
    size_t len;
    const unsigned char *data = sb_secure_data(plain, &len);
    cr_assert_eq(len, strlen(value));
    cr_assert_eq(memcmp(data, value, len), 0);
    sb_secure_free(plain);
    /* another agent's key cannot open it */
    sb_agent_identity other;
    sample(&other);
    cr_assert_lt(sb_agent_open(&other, box, &plain, &err), 0);
    cr_assert_null(plain);
    cr_assert(strstr(err.message, "another key"), "%s", err.message);
    free(box);
    /* bad inputs */
    cr_assert_lt(sb_sealed_box_seal("not-base64!", (const unsigned char *)"x", 1, &box, &err), 0);
    cr_assert_lt(sb_agent_open(&agent, "AAAA", &plain, &err), 0);
    cr_assert_lt(sb_agent_open(&agent, "", &plain, &err), 0);
    free(box);
    sb_agent_identity_free(&agent);
    sb_agent_identity_free(&other);
}
