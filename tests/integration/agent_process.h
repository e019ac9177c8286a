/*
 * agent_process.h — the real agent executable (sbridge-agent) as a child
 * process of an integration test: a private directory with its config and
 * identity directory, its log captured in a file, its health endpoint on a
 * free loopback port, and helpers that poll with a deadline (never sleep
 * as synchronisation) for a condition, a log line or the process's exit.
 * SB_AGENT_VALGRIND=1 runs the agent under valgrind (exit 99 on an error or
 * a definite leak, which the tests' exit-status checks then report).
 */
#ifndef SB_TESTS_AGENT_PROCESS_H
#define SB_TESTS_AGENT_PROCESS_H

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct agent_proc {
    char dir[256];      /* private temporary directory */
    char config[320];
    char id_dir[320];   /* identity directory */
    char id_file[352];
    char log[320];
    unsigned health_port;
    pid_t pid;
    int exit_status;    /* after agent_proc_wait: the exit code, or 128+signal */
} agent_proc;

static inline int64_t ap_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A deadline for work the agent does (ready, a job done, a log line): five
 * times longer when the agent runs under valgrind, which slows it 10-50x.
 * Deadlines that prove promptness (exit after SIGTERM) are not scaled. */
static inline int64_t ap_work_deadline_ms(int64_t ms)
{
    return getenv("SB_AGENT_VALGRIND") ? 5 * ms : ms;
}

static inline void ap_pause(void)
{
    struct timespec ts = {0, 50 * 1000000L};
    nanosleep(&ts, NULL);
}

static inline unsigned ap_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    bind(fd, (struct sockaddr *)&sa, sizeof sa);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    close(fd);
    return ntohs(sa.sin_port);
}

/* A fresh directory; the identity directory is created with id_mode
 * (0 = leave it to the agent). claim_wait: a duration (NULL: 2s). */
static inline void agent_proc_prepare(agent_proc *p, const char *base_url, const char *connection,
                                      mode_t id_mode, const char *claim_wait)
{
    memset(p, 0, sizeof *p);
    snprintf(p->dir, sizeof p->dir, "/tmp/sb-agent-test-XXXXXX");
    if (mkdtemp(p->dir) == NULL)
        abort();
    snprintf(p->config, sizeof p->config, "%s/agent.yaml", p->dir);
    snprintf(p->id_dir, sizeof p->id_dir, "%s/identity", p->dir);
    snprintf(p->id_file, sizeof p->id_file, "%s/agent.json", p->id_dir);
    snprintf(p->log, sizeof p->log, "%s/agent.log", p->dir);
    if (id_mode) {
        mkdir(p->id_dir, 0700);
        chmod(p->id_dir, id_mode);
    }
    p->health_port = ap_free_port();
    FILE *f = fopen(p->config, "w");
    fprintf(f,
            "role: agent\n"
            "log:\n  level: debug\n"
            "control_plane:\n"
            "  url: %s\n"
            "  identity_file: %s\n"
            "  connection: %s\n"
            "  name: agent-under-test\n"
            "  claim_wait: %s\n"
            "  heartbeat_interval: 1s\n"
            "health:\n  listen: 127.0.0.1:%u\n"
            "plugins:\n  load: []\n"
            "concurrency: 2\n"
            "shutdown_grace: 5s\n",
            base_url, p->id_file, connection, claim_wait ? claim_wait : "2s", p->health_port);
    fclose(f);
}

/* The config serves the connection with the example plugin's demo provider
 * (seeded secrets such as payments/db {username, password}) loaded from
 * plugin_dir, fenced to team: payments, instead of no provider at all. */
static inline void agent_proc_use_example_provider(agent_proc *p, const char *plugin_dir)
{
    FILE *f = fopen(p->config, "r");
    char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *at = strstr(text, "plugins:\n  load: []\n");
    if (at == NULL)
        abort();
    *at = '\0';
    const char *rest = at + strlen("plugins:\n  load: []\n");
    f = fopen(p->config, "w");
    const char *conn = strstr(text, "  connection: ") + strlen("  connection: ");
    fprintf(f,
            "%splugins:\n  directory: %s\n  load:\n    - name: example\n      file: example.so\n"
            "providers:\n  - name: %.*s\n    plugin: example\n    fence:\n      team: payments\n"
            "    config:\n      seed_demo: true\n%s",
            text, plugin_dir, (int)strcspn(conn, "\n"), conn, rest);
    fclose(f);
}

/* The config loads `plugin` (<plugin>.so from plugin_dir) and serves the
 * connection with one provider instance of it named after the connection:
 * `instance_keys` are the instance's own keys (rate_limit, fence; NULL:
 * none) as YAML lines indented by four spaces, `provider_config` the
 * plugin's config block as lines indented by six. 0, or -1 when the config
 * is not the one agent_proc_prepare wrote. */
static inline int agent_proc_use_plugin(agent_proc *p, const char *plugin_dir, const char *plugin,
                                        const char *instance_keys, const char *provider_config)
{
    static const char no_plugins[] = "plugins:\n  load: []\n";
    FILE *f = fopen(p->config, "r");
    if (f == NULL)
        return -1;
    char text[4096];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char *at = strstr(text, no_plugins), *conn = strstr(text, "  connection: ");
    if (at == NULL || conn == NULL)
        return -1;
    *at = '\0';
    conn += strlen("  connection: ");
    const char *rest = at + strlen(no_plugins);
    if ((f = fopen(p->config, "w")) == NULL)
        return -1;
    fprintf(f,
            "%splugins:\n  directory: %s\n  load:\n    - name: %s\n      file: %s.so\n"
            "providers:\n  - name: %.*s\n    plugin: %s\n%s    config:\n%s%s",
            text, plugin_dir, plugin, plugin, (int)strcspn(conn, "\n"), conn, plugin,
            instance_keys ? instance_keys : "", provider_config, rest);
    return fclose(f) == 0 ? 0 : -1;
}

/* Starts the agent; token (may be NULL) goes in SBRIDGE_ENROLLMENT_TOKEN. */
static inline void agent_proc_start(agent_proc *p, const char *token)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(p->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        dup2(fd, 1);
        dup2(fd, 2);
        if (token)
            setenv("SBRIDGE_ENROLLMENT_TOKEN", token, 1);
        else
            unsetenv("SBRIDGE_ENROLLMENT_TOKEN");
        unsetenv("SBRIDGE_LOG_LEVEL");
        if (getenv("SB_AGENT_VALGRIND")) /* memory check: exit 99 on any error or definite leak */
            execlp("valgrind", "valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
                   "--errors-for-leak-kinds=definite", SB_AGENT_BIN, "--config", p->config,
                   (char *)NULL);
        execl(SB_AGENT_BIN, "sbridge-agent", "--config", p->config, (char *)NULL);
        _exit(127);
    }
    p->pid = pid;
    p->exit_status = -1;
}

/* Waits up to ms for the agent to exit; 1 when it did (exit_status set). */
static inline int agent_proc_wait(agent_proc *p, int64_t ms)
{
    int64_t until = ap_now_ms() + ms;
    do {
        int st;
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid) {
            p->exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
            p->pid = 0;
            return 1;
        }
        ap_pause();
    } while (ap_now_ms() < until);
    return 0;
}

static inline void agent_proc_kill(agent_proc *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGKILL);
        agent_proc_wait(p, 5000);
    }
}

/* The whole log (caller frees). */
static inline char *agent_proc_log(const agent_proc *p)
{
    FILE *f = fopen(p->log, "r");
    if (f == NULL)
        return strdup("");
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = calloc(1, (size_t)n + 1);
    if (fread(s, 1, (size_t)n, f) != (size_t)n)
        s[0] = '\0';
    fclose(f);
    return s;
}

/* Polls the log for needle until ms pass; 1 found. */
static inline int agent_proc_log_has(const agent_proc *p, const char *needle, int64_t ms)
{
    int64_t until = ap_now_ms() + ap_work_deadline_ms(ms);
    do {
        char *s = agent_proc_log(p);
        int found = strstr(s, needle) != NULL;
        free(s);
        if (found)
            return 1;
        ap_pause();
    } while (ap_now_ms() < until);
    return 0;
}

static size_t ap_collect(char *data, size_t size, size_t n, void *user)
{
    char *buf = user;
    size_t have = strlen(buf), len = size * n;
    size_t room = 4095 - have;
    memcpy(buf + have, data, len < room ? len : room);
    buf[have + (len < room ? len : room)] = '\0';
    return len;
}

/* GET http://127.0.0.1:<health_port><path>; the status (0 no answer), body into out[4096]. */
static inline long agent_proc_health(const agent_proc *p, const char *path, char *out)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", p->health_port, path);
    out[0] = '\0';
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ap_collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
}

/* Polls a health path until it answers want; 1 when it did within ms. */
static inline int agent_proc_health_is(const agent_proc *p, const char *path, long want, int64_t ms)
{
    int64_t until = ap_now_ms() + ap_work_deadline_ms(ms);
    char body[4096];
    do {
        if (agent_proc_health(p, path, body) == want)
            return 1;
        ap_pause();
    } while (ap_now_ms() < until);
    return 0;
}

static inline void agent_proc_cleanup(agent_proc *p)
{
    agent_proc_kill(p);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", p->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", p->dir);
}

#endif
