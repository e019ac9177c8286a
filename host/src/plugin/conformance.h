/*
 * plugin/conformance.h — `sbridge plugin check`: the conformance kit
 * vendors run in their CI.
 *
 * Contract: sb_conformance_run loads FILE (no directory rules) and checks,
 * printing one line per check ("ok", "FAIL") and a summary to `out`:
 *   - the descriptor against ABI v1 (magic, version rule, sizes, identity,
 *     capability bits and every vtable slot of each declared capability);
 *   - the config schema's sanity;
 *   - init and instance_new with a configuration synthesised from the
 *     schema, against a fake host (the real host services, except that
 *     HTTP never reaches a network: it fails as "unavailable");
 *   - every operation of every declared capability, called with each
 *     missing/invalid argument: it must return a known non-OK status and a
 *     message, leave outputs empty and never crash or hang;
 *   - every operation with valid arguments: a known status, no crash, and
 *     no secure memory left allocated after outputs are released;
 *   - a GITOPS plugin's list_applications (ABI 1.1) when its vtable has
 *     the slot and sets it (else a "skip" line saying the host cannot list
 *     its applications): invalid arguments refused, a known status,
 *     every emitted application named, and an emit that asks to stop
 *     ends the listing with SB_E_CANCELLED;
 *   - instance_free and fini.
 * Each operation runs in a forked child with a time limit, so a crash or
 * hang is reported as a failure of that check instead of killing the kit.
 * Returns the number of failed checks (-1 when the file cannot be loaded).
 */
#ifndef SB_PLUGIN_CONFORMANCE_H
#define SB_PLUGIN_CONFORMANCE_H

#include <stdio.h>

int sb_conformance_run(const char *file, FILE *out);

#endif
