/*
 * cli/client_input.c — secret input (see client_input.h).
 *
 * Lines are read one byte at a time (so nothing past the newline is taken
 * from a shared stdin), files in blocks, straight into secure buffers.
 * SIGINT/SIGTERM/SIGQUIT are caught without SA_RESTART while echo is off,
 * so a Ctrl-C interrupts the read and the terminal is restored before the
 * failure is reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/client_input.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) { interrupted = sig; }

int sb_client_can_prompt(void)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return 0;
    close(fd);
    return isatty(STDIN_FILENO);
}

int sb_client_read_secret_line(int fd, size_t max, sb_secure_buf **out, sb_error *err)
{
    *out = NULL;
    sb_secure_buf *b = sb_secure_new(128);
    if (b == NULL)
        return sb_error_set(err, 1, "out of secure memory");
    unsigned char c, held_cr = 0;
    int got_any = 0;
    for (;;) {
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR && !interrupted)
            continue;
        if (r < 0) {
            int e = errno;
            sb_secure_free(b);
            return interrupted ? sb_error_set(err, 1, "interrupted; nothing was sent")
                               : sb_error_set(err, 1, "cannot read: %s", strerror(e));
        }
        if (r == 0 || c == '\n')
            break;
        got_any = 1;
        /* a '\r' counts only when something follows it ("\r\n" ends a line) */
        if (held_cr && sb_secure_append(b, "\r", 1) != 0)
            break;
        held_cr = c == '\r';
        if (!held_cr && sb_secure_append(b, &c, 1) != 0)
            break;
        if (b->len > max) {
            sb_secure_free(b);
            return sb_error_set(err, 1, "the input line is longer than %zu bytes", max);
        }
    }
    if (!got_any) {
        sb_secure_free(b);
        return sb_error_set(err, 1, "nothing to read (end of input before any byte)");
    }
    *out = b;
    return 0;
}

/* One hidden answer on tty. Echo goes off before the question is written,
 * so an answer typed the moment the question shows is never echoed (and
 * TCSANOW keeps it: nothing typed after the question is discarded). */
static int ask(int tty, const char *question, size_t max, sb_secure_buf **out, sb_error *err)
{
    struct termios old, quiet;
    if (tcgetattr(tty, &old) != 0)
        return sb_error_set(err, 1, "cannot use the terminal: %s", strerror(errno));
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    quiet.c_lflag |= ECHONL;
    struct sigaction sa, saved[3];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: read() returns EINTR */
    sigemptyset(&sa.sa_mask);
    static const int sigs[3] = {SIGINT, SIGTERM, SIGQUIT};
    interrupted = 0;
    for (int i = 0; i < 3; i++)
        sigaction(sigs[i], &sa, &saved[i]);
    int rc;
    if (tcsetattr(tty, TCSANOW, &quiet) != 0 || write(tty, question, strlen(question)) < 0)
        rc = sb_error_set(err, 1, "cannot use the terminal: %s", strerror(errno));
    else
        rc = sb_client_read_secret_line(tty, max, out, err);
    tcsetattr(tty, TCSANOW, &old);
    for (int i = 0; i < 3; i++)
        sigaction(sigs[i], &saved[i], NULL);
    if (interrupted) {
        if (write(tty, "\n", 1) < 0) { /* the newline is cosmetic */
        }
        sb_secure_free(*out);
        *out = NULL;
        return sb_error_set(err, 1, "interrupted; nothing was sent");
    }
    return rc;
}

int sb_client_prompt_secret(const char *question, int confirm, size_t max, sb_secure_buf **out,
                            sb_error *err)
{
    *out = NULL;
    int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (tty < 0)
        return sb_error_set(err, 1, "no terminal to ask on (%s)", strerror(errno));
    sb_secure_buf *first = NULL, *again = NULL;
    int rc = ask(tty, question, max, &first, err);
    if (rc == 0 && confirm) {
        rc = ask(tty, "Again, to confirm: ", max, &again, err);
        if (rc == 0 && (first->len != again->len || sodium_memcmp(first->data, again->data, first->len) != 0))
            rc = sb_error_set(err, 1, "the two entries differ; nothing was sent");
    }
    close(tty);
    sb_secure_free(again);
    if (rc != 0) {
        sb_secure_free(first);
        return -1;
    }
    *out = first;
    return 0;
}

int sb_client_read_secret_file(const char *path, size_t max, sb_secure_buf **out, sb_error *err)
{
    *out = NULL;
    int is_stdin = strcmp(path, "-") == 0;
    int fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return sb_error_set(err, 1, "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (!is_stdin && fstat(fd, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            close(fd);
            return sb_error_set(err, 1, "%s is a directory, not a value file", path);
        }
        if (S_ISREG(st.st_mode) && (st.st_mode & 044))
            fprintf(stderr, "sbridge: warning: %s is readable by other users (mode %04o); keep "
                            "value files 0600 and delete them when done\n",
                    path, (unsigned)(st.st_mode & 07777));
    }
    sb_secure_buf *b = sb_secure_new(4096);
    unsigned char *chunk = sb_secure_alloc(4096);
    int rc = b && chunk ? 0 : sb_error_set(err, 1, "out of secure memory");
    while (rc == 0) {
        ssize_t r = read(fd, chunk, 4096);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = sb_error_set(err, 1, "cannot read %s: %s", path, strerror(errno));
        else if (r == 0)
            break;
        else if (b->len + (size_t)r > max)
            rc = sb_error_set(err, 1, "%s holds more than %zu bytes (the largest value a patch "
                                      "can carry)",
                              is_stdin ? "standard input" : path, max);
        else if (sb_secure_append(b, chunk, (size_t)r) != 0)
            rc = sb_error_set(err, 1, "out of secure memory");
    }
    sb_secure_release(chunk);
    if (!is_stdin)
        close(fd);
    if (rc != 0) {
        sb_secure_free(b);
        return -1;
    }
    *out = b;
    return 0;
}
