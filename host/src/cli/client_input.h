/*
 * cli/client_input.h — secret input for the CLI client: passwords and
 * patch values, never from the command line.
 *
 * Contract: every byte read lands in a secure buffer (sb_secure_buf, the
 * caller frees it with sb_secure_free, which zeroes it). A prompt goes to
 * /dev/tty with echo off and is restored on every path, Ctrl-C included
 * (the read is interrupted, the terminal restored, then the failure
 * reported). A line drops its trailing "\n" (or "\r\n"); a file is taken
 * byte for byte (a trailing newline in it is part of the value). Nothing
 * here prints what was read.
 */
#ifndef SB_CLI_CLIENT_INPUT_H
#define SB_CLI_CLIENT_INPUT_H

#include <stddef.h>

#include "crypto/secure_mem.h"
#include "util/error.h"

#define SB_CLIENT_VALUE_MAX (1024 * 1024) /* the API's largest sealed value */

/* True when a terminal is there to ask on (/dev/tty opens and stdin is one). */
int sb_client_can_prompt(void);

/* Asks question on /dev/tty without echo (twice when confirm, and the two
 * must match). 0 with *out, or -1 with err. */
int sb_client_prompt_secret(const char *question, int confirm, size_t max, sb_secure_buf **out,
                            sb_error *err);

/* One line from fd. 0 with *out, or -1 with err (EOF before any byte,
 * longer than max). */
int sb_client_read_secret_line(int fd, size_t max, sb_secure_buf **out, sb_error *err);

/* A whole file ("-": standard input), at most max bytes. 0 or -1. A file
 * that other users may read gets a warning on stderr (the value is
 * already exposed there). */
int sb_client_read_secret_file(const char *path, size_t max, sb_secure_buf **out, sb_error *err);

#endif
