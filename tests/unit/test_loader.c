/* test_loader.c — every refusal of the plugin loader provoked and its
 * message asserted, and the ABI compatibility rule (major ==, minor <=). */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/secure_mem.h"
#include "plugin/descriptor.h"
#include "plugin/loader.h"

static char dir[64];

static void copy_file(const char *from, const char *to, mode_t mode)
{
    int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cr_assert(in >= 0 && out >= 0, "copy %s -> %s", from, to);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) > 0)
        cr_assert_eq(write(out, buf, (size_t)n), n);
    close(in);
    close(out);
    chmod(to, mode);
}

static void install(const char *fixture, const char *as, mode_t mode)
{
    char from[512], to[512];
    snprintf(from, sizeof from, "%s/%s", SB_TEST_PLUGIN_DIR, fixture);
    snprintf(to, sizeof to, "%s/%s", dir, as);
    copy_file(from, to, mode);
}

static void setup(void)
{
    cr_assert_eq(sb_crypto_init(), 0);
    snprintf(dir, sizeof dir, "/tmp/sb-loader-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    chmod(dir, 0755);
    install("abi_ok.so", "ok.so", 0755);
}
static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        cr_log_warn("could not remove %s", dir);
}
TestSuite(loader, .init = setup, .fini = teardown);

static const char *refusal(const char *file, const char *sha, const sb_loader_abi *abi)
{
    static sb_error err;
    sb_loaded_plugin p;
    int rc = sb_plugin_load_file(dir, file, sha, abi, &p, &err);
    cr_assert_neq(rc, 0, "%s was loaded but must be refused", file);
    return err.message;
}

/* The minor of the header everything here is built with, as text. */
#define MINOR_TEXT_(m) #m
#define MINOR_TEXT(m) MINOR_TEXT_(m)
#define HOST_MINOR MINOR_TEXT(SB_PLUGIN_ABI_MINOR)

#define EXPECT_MSG(msg, text) cr_assert_not_null(strstr(msg, text), "expected '%s' in: %s", text, msg)

Test(loader, loads_a_good_plugin_and_reports_its_hash)
{
    sb_loaded_plugin p;
    sb_error err;
    cr_assert_eq(sb_plugin_load_file(dir, "ok.so", NULL, NULL, &p, &err), 0, "%s", err.message);
    cr_assert_str_eq(p.desc->name, "abi-ok");
    cr_assert_eq(strlen(p.sha256), 64);
    char pinned[65];
    strcpy(pinned, p.sha256);
    sb_plugin_unload(&p);
    cr_assert_eq(sb_plugin_load_file(dir, "ok.so", pinned, NULL, &p, &err), 0, "pinned hash accepted");
    sb_plugin_unload(&p);
}

Test(loader, missing_file)
{
    EXPECT_MSG(refusal("nope.so", NULL, NULL), "nope.so does not exist");
}

Test(loader, not_a_regular_file)
{
    char sub[128];
    snprintf(sub, sizeof sub, "%s/adir.so", dir);
    mkdir(sub, 0755);
    EXPECT_MSG(refusal("adir.so", NULL, NULL), "is not a regular file");
}

Test(loader, symlink_escaping_the_directory)
{
    char link[128], target[512];
    snprintf(link, sizeof link, "%s/escape.so", dir);
    snprintf(target, sizeof target, "%s/abi_ok.so", SB_TEST_PLUGIN_DIR);
    cr_assert_eq(symlink(target, link), 0);
    EXPECT_MSG(refusal("escape.so", NULL, NULL), "outside the plugin directory");
    /* a symlink that stays inside the directory is fine */
    snprintf(link, sizeof link, "%s/inside.so", dir);
    cr_assert_eq(symlink("ok.so", link), 0);
    sb_loaded_plugin p;
    sb_error err;
    cr_assert_eq(sb_plugin_load_file(dir, "inside.so", NULL, NULL, &p, &err), 0, "%s", err.message);
    sb_plugin_unload(&p);
}

Test(loader, path_components_are_refused)
{
    EXPECT_MSG(refusal("../ok.so", NULL, NULL), "must be a plain file name");
}

Test(loader, group_or_world_writable_file)
{
    install("abi_ok.so", "gw.so", 0775);
    EXPECT_MSG(refusal("gw.so", NULL, NULL), "is group- or world-writable (mode 0775)");
    install("abi_ok.so", "ww.so", 0757);
    EXPECT_MSG(refusal("ww.so", NULL, NULL), "is group- or world-writable (mode 0757)");
}

Test(loader, writable_directory)
{
    chmod(dir, 0777);
    EXPECT_MSG(refusal("ok.so", NULL, NULL), "plugin directory");
    EXPECT_MSG(refusal("ok.so", NULL, NULL), "is group- or world-writable (mode 0777)");
    chmod(dir, 0755);
}

Test(loader, missing_directory)
{
    sb_error err;
    sb_loaded_plugin p;
    cr_assert_neq(sb_plugin_load_file("/nonexistent/plugins", "ok.so", NULL, NULL, &p, &err), 0);
    EXPECT_MSG(err.message, "plugin directory /nonexistent/plugins: No such file or directory");
}

Test(loader, sha256_mismatch)
{
    const char *msg = refusal("ok.so", "0000000000000000000000000000000000000000000000000000000000000000", NULL);
    EXPECT_MSG(msg, "but the config pins 0000000000000000000000000000000000000000000000000000000000000000");
    EXPECT_MSG(msg, "refusing to load");
}

Test(loader, not_a_shared_object)
{
    char path[128];
    snprintf(path, sizeof path, "%s/text.so", dir);
    FILE *f = fopen(path, "w");
    fputs("not an ELF file\n", f);
    fclose(f);
    chmod(path, 0644);
    EXPECT_MSG(refusal("text.so", NULL, NULL), "cannot load plugin");
}

Test(loader, missing_entry_point)
{
    install("abi_no_entry.so", "noentry.so", 0755);
    EXPECT_MSG(refusal("noentry.so", NULL, NULL), "does not export sbridge_plugin_v1()");
}

Test(loader, bad_magic)
{
    install("abi_magic.so", "magic.so", 0755);
    EXPECT_MSG(refusal("magic.so", NULL, NULL), "bad magic 0xdeadbeef (expected 0x53425031)");
}

Test(loader, different_major)
{
    install("abi_major.so", "major.so", 0755);
    EXPECT_MSG(refusal("major.so", NULL, NULL),
               "built for plugin ABI 2.0, but this sbridge speaks ABI 1." HOST_MINOR
               "; a different major version is "
               "never compatible");
}

Test(loader, newer_minor)
{
    install("abi_minor_newer.so", "newer.so", 0755);
    EXPECT_MSG(refusal("newer.so", NULL, NULL),
               "requires plugin ABI 1.9 or newer (built with 1.9), but this sbridge speaks ABI 1." HOST_MINOR);
}

Test(loader, older_minor_loads_on_a_newer_host)
{
    /* A host speaking ABI 1.3 accepts a plugin requiring 1.2 (and 1.0)... */
    install("abi_minor_older.so", "older.so", 0755);
    sb_loader_abi host13 = {1, 3};
    sb_loaded_plugin p;
    sb_error err;
    cr_assert_eq(sb_plugin_load_file(dir, "older.so", NULL, &host13, &p, &err), 0, "%s", err.message);
    cr_assert_eq(p.desc->abi_minor, 2);
    sb_plugin_unload(&p);
    cr_assert_eq(sb_plugin_load_file(dir, "ok.so", NULL, &host13, &p, &err), 0, "%s", err.message);
    sb_plugin_unload(&p);
    /* ...while a 1.1 host refuses the plugin that requires 1.2. */
    sb_loader_abi host11 = {1, 1};
    EXPECT_MSG(refusal("older.so", NULL, &host11),
               "requires plugin ABI 1.2 or newer (built with 1.2), but this sbridge speaks ABI 1.1");
}

Test(loader, struct_too_small)
{
    install("abi_short.so", "short.so", 0755);
    EXPECT_MSG(refusal("short.so", NULL, NULL), "descriptor struct_size");
    EXPECT_MSG(refusal("short.so", NULL, NULL), "is smaller than ABI 1.0's");
}

Test(loader, declared_capability_with_a_null_vtable_entry)
{
    install("abi_null_slot.so", "nullslot.so", 0755);
    EXPECT_MSG(refusal("nullslot.so", NULL, NULL), "provider vtable entry 1 is NULL");
}

Test(loader, descriptor_rules_as_pure_checks)
{
    sb_plugin d = {.magic = SB_PLUGIN_MAGIC, .abi_major = 1, .abi_minor = 0, .struct_size = sizeof d,
                   .name = "Bad Name", .version = "1.0.0", .vendor = "v", .license = "MIT",
                   .description = "d", .capabilities = SB_CAP_NOTIFIER, .thread_model = SB_THREAD_SERIAL};
    sb_error err;
    cr_assert_neq(sb_descriptor_check(&d, 1, 0, &err), 0);
    EXPECT_MSG(err.message, "name must be 1-64 characters of [a-z0-9_-]");
    d.name = "good";
    d.version = "1.0";
    cr_assert_neq(sb_descriptor_check(&d, 1, 0, &err), 0);
    EXPECT_MSG(err.message, "version must be a semantic version");
    d.version = "1.0.0-rc.1";
    cr_assert_neq(sb_descriptor_check(&d, 1, 0, &err), 0);
    EXPECT_MSG(err.message, "init, instance_new and instance_free are required");
    cr_assert_neq(sb_descriptor_check(NULL, 1, 0, &err), 0);
    EXPECT_MSG(err.message, "returned NULL instead of a descriptor");
}

Test(loader, example_plugin_declares_every_capability)
{
    sb_loaded_plugin p;
    sb_error err;
    cr_assert_eq(sb_plugin_load_file(SB_PLUGIN_OUT_DIR, "example.so", NULL, NULL, &p, &err), 0, "%s",
                 err.message);
    cr_assert_eq(p.desc->capabilities, SB_CAP_PROVIDER | SB_CAP_KMS | SB_CAP_GITOPS | SB_CAP_NOTIFIER);
    sb_plugin_unload(&p);
}

Test(loader, different_plugins_loaded_one_after_another_stay_different)
{
    /* Regression: the dynamic loader remembers libraries by path, so loading
     * through a reused /proc/self/fd/N returned the earlier plugin. */
    install("abi_minor_older.so", "second.so", 0755);
    sb_loaded_plugin a, b;
    sb_error err;
    sb_loader_abi host13 = {1, 3};
    cr_assert_eq(sb_plugin_load_file(dir, "ok.so", NULL, &host13, &a, &err), 0, "%s", err.message);
    sb_plugin_unload(&a);
    cr_assert_eq(sb_plugin_load_file(dir, "second.so", NULL, &host13, &b, &err), 0, "%s", err.message);
    cr_assert_str_eq(b.desc->name, "abi-minor-older");
    sb_plugin_unload(&b);
    cr_assert_eq(sb_plugin_load_file(SB_PLUGIN_OUT_DIR, "example.so", NULL, NULL, &a, &err), 0, "%s", err.message);
    cr_assert_str_eq(a.desc->name, "example");
    sb_plugin_unload(&a);
}
