/* plugin/kms_client.c — see kms_client.h. */
#include "plugin/kms_client.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/secure_mem.h"
#include "plugin/host_api.h"
#include "plugin/status.h"
#include "plugin/text.h"

/* One KMS call in flight: its context, result and the serial lock. */
typedef struct kms_call {
    sb_instance *inst;
    const sb_kms_ops *ops;
    sb_call_ctx ctx;
    sb_result res;
    int locked;
} kms_call;

static int begin(kms_call *c, sb_instance *inst, const char *op, sb_error *err)
{
    memset(c, 0, sizeof *c);
    if (inst == NULL || inst->handle == NULL || inst->plugin == NULL)
        return sb_error_set(err, SB_E_INVALID, "kms %s: the KMS instance is not started", op);
    const sb_plugin *d = inst->plugin->loaded.desc;
    if (!(d->capabilities & SB_CAP_KMS) || d->kms == NULL)
        return sb_error_set(err, SB_E_INVALID, "kms %s: instance %s (plugin %s) is not a KMS", op,
                            inst->name, d->name);
    c->inst = inst;
    c->ops = d->kms;
    c->res = (sb_result)SB_RESULT_INIT;
    sb_call_begin(&c->ctx, d->name, inst->name, NULL, SB_KMS_CLIENT_TIMEOUT_MS);
    if (d->thread_model == SB_THREAD_SERIAL) {
        pthread_mutex_lock(&inst->lock);
        c->locked = 1;
    }
    return 0;
}

static void end(kms_call *c)
{
    if (c->locked)
        pthread_mutex_unlock(&c->inst->lock);
    c->locked = 0;
    sb_result_release(&c->res);
}

/* Turns a plugin failure into err; never formats anything but the status
 * and the plugin's (host-redacted) message. */
static int failed(kms_call *c, const char *op, sb_status st, sb_error *err)
{
    const char *msg = c->res.status == st && c->res.message[0] ? c->res.message : "(no message)";
    sb_error_set(err, st, "kms %s (plugin %s): %s failed with %s (%s): %s", c->inst->name,
                 c->inst->plugin->loaded.desc->name, op, sb_plugin_status_name(st),
                 SB_STATUS_IS_RETRYABLE(st) ? "retryable" : "permanent", msg);
    end(c);
    return -1;
}

static int broken(kms_call *c, const char *op, const char *what, sb_error *err)
{
    sb_error_set(err, SB_E_PROTOCOL, "kms %s (plugin %s): %s returned SB_OK but %s", c->inst->name,
                 c->inst->plugin->loaded.desc->name, op, what);
    end(c);
    return -1;
}

int sb_kms_client_key_id(sb_instance *inst, char **key_id, sb_error *err)
{
    if (key_id == NULL)
        return sb_error_set(err, SB_E_INVALID, "kms key_id: no out-parameter");
    *key_id = NULL;
    kms_call c;
    if (begin(&c, inst, "key_id", err) != 0)
        return -1;
    sb_text *id = sb_text_new();
    if (id == NULL) {
        end(&c);
        return sb_error_set(err, SB_E_INTERNAL, "kms key_id: out of memory");
    }
    sb_status st = c.ops->key_id(inst->handle, &c.ctx.call, id, &c.res);
    int rc = st != SB_OK              ? failed(&c, "key_id", st, err)
             : sb_text_cstr(id)[0] == 0 ? broken(&c, "key_id", "set no key id", err)
                                        : 0;
    if (rc == 0) {
        end(&c);
        if ((*key_id = sb_text_take(id)) == NULL)
            rc = sb_error_set(err, SB_E_INTERNAL, "kms key_id: out of memory");
    }
    sb_text_free(id);
    return rc;
}

int sb_kms_client_wrap(sb_instance *inst, const unsigned char *plaintext, size_t len,
                       unsigned char **ciphertext, size_t *ciphertext_len, char **key_id, sb_error *err)
{
    if (ciphertext == NULL || ciphertext_len == NULL || key_id == NULL || (plaintext == NULL && len))
        return sb_error_set(err, SB_E_INVALID, "kms wrap: plaintext and out-parameters are required");
    *ciphertext = NULL;
    *ciphertext_len = 0;
    *key_id = NULL;
    kms_call c;
    if (begin(&c, inst, "wrap", err) != 0)
        return -1;
    sb_secure_buf *pt = sb_secure_new(len), *ct = sb_secure_new(len + 64);
    sb_text *id = sb_text_new();
    int rc = 0;
    if (pt == NULL || ct == NULL || id == NULL || sb_secure_append(pt, plaintext, len) != 0) {
        end(&c);
        rc = sb_error_set(err, SB_E_INTERNAL, "kms wrap: out of memory");
    } else {
        sb_status st = c.ops->wrap(inst->handle, &c.ctx.call, pt, ct, id, &c.res);
        rc = st != SB_OK              ? failed(&c, "wrap", st, err)
             : ct->len == 0           ? broken(&c, "wrap", "produced no ciphertext", err)
             : sb_text_cstr(id)[0] == 0 ? broken(&c, "wrap", "set no key id", err)
                                        : 0;
        if (rc == 0) {
            end(&c);
            *ciphertext = malloc(ct->len ? ct->len : 1);
            *key_id = sb_text_take(id);
            if (*ciphertext == NULL || *key_id == NULL) {
                free(*ciphertext);
                free(*key_id);
                *ciphertext = NULL;
                *key_id = NULL;
                rc = sb_error_set(err, SB_E_INTERNAL, "kms wrap: out of memory");
            } else {
                memcpy(*ciphertext, ct->data, ct->len);
                *ciphertext_len = ct->len;
            }
        }
    }
    sb_secure_free(pt);
    sb_secure_free(ct);
    sb_text_free(id);
    return rc;
}

int sb_kms_client_unwrap(sb_instance *inst, const unsigned char *ciphertext, size_t len,
                         const char *key_id, sb_secure_buf **plaintext, sb_error *err)
{
    if (plaintext == NULL || ciphertext == NULL || len == 0 || key_id == NULL || key_id[0] == '\0')
        return sb_error_set(err, SB_E_INVALID,
                            "kms unwrap: a non-empty ciphertext, a key id and an out-parameter are "
                            "required");
    *plaintext = NULL;
    kms_call c;
    if (begin(&c, inst, "unwrap", err) != 0)
        return -1;
    sb_secure_buf *pt = sb_secure_new(len);
    if (pt == NULL) {
        end(&c);
        return sb_error_set(err, SB_E_INTERNAL, "kms unwrap: out of memory");
    }
    sb_status st = c.ops->unwrap(inst->handle, &c.ctx.call, ciphertext, len, key_id, pt, &c.res);
    if (st != SB_OK) {
        sb_secure_free(pt);
        return failed(&c, "unwrap", st, err);
    }
    end(&c);
    *plaintext = pt;
    return 0;
}
