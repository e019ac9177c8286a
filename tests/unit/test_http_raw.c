/* test_http_raw.c — see test_http_raw.h. */
#include "test_http_raw.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int raw_connect(unsigned port, const char *from_ip)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (from_ip != NULL) {
        struct sockaddr_in local = {.sin_family = AF_INET};
        if (inet_pton(AF_INET, from_ip, &local.sin_addr) != 1 ||
            bind(fd, (struct sockaddr *)&local, sizeof local) != 0) {
            close(fd);
            return -1;
        }
    }
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int raw_send(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int raw_send_str(int fd, const char *s) { return raw_send(fd, s, strlen(s)); }

char *raw_read_all(int fd, long timeout_ms, int *closed)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    *closed = 0;
    long long end = mono_ms() + timeout_ms;
    for (;;) {
        long long left = end - mono_ms();
        if (left <= 0)
            break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        if (len + 1024 > cap)
            buf = realloc(buf, cap *= 2);
        ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
        if (n <= 0) {
            *closed = 1;
            break;
        }
        len += (size_t)n;
    }
    buf[len] = '\0';
    return buf;
}

int raw_wait_closed(int fd, long timeout_ms)
{
    int closed;
    free(raw_read_all(fd, timeout_ms, &closed));
    return closed;
}

static void header_value(const char *head, const char *end, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    out[0] = '\0';
    for (const char *line = strstr(head, "\r\n"); line != NULL && line < end; line = strstr(line + 2, "\r\n")) {
        const char *h = line + 2;
        if (strncasecmp(h, name, nl) == 0 && h[nl] == ':') {
            const char *v = h + nl + 1;
            while (*v == ' ')
                v++;
            size_t vl = strcspn(v, "\r\n");
            snprintf(out, cap, "%.*s", (int)vl, v);
            return;
        }
    }
}

int raw_parse(const char *raw, raw_reply *out)
{
    memset(out, 0, sizeof *out);
    if (strncmp(raw, "HTTP/1.", 7) != 0 || strlen(raw) < 12)
        return -1;
    out->status = atoi(raw + 9);
    const char *end = strstr(raw, "\r\n\r\n");
    if (end == NULL)
        return -1;
    header_value(raw, end, "Content-Type", out->content_type, sizeof out->content_type);
    header_value(raw, end, "X-Request-Id", out->request_id, sizeof out->request_id);
    out->body = end + 4;
    return 0;
}
