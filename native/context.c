/* What every step shares: the context, the channel to the runtime, error details and argument parsing. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "skiff-init.h"

struct ctx g = { .chan = -1, .console_fd = -1, .proxy_fd = { -1, -1 }, .fifo_fd = -1, .monitor_sync = -1 };

char detail[512];
const char *failed_syscall;

void set_detail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
}

int sys_fail(const char *name, const char *fmt, ...)
{
    int e = errno;
    failed_syscall = name;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
    } else {
        snprintf(detail, sizeof detail, "%s", name);
    }
    return -e;
}

/* Messages go out with MSG_NOSIGNAL: a runtime that closed the channel must not kill us with SIGPIPE. */
void chan_send(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || g.chan < 0)
        return;
    if ((size_t)n >= sizeof buf)
        n = sizeof buf - 1;
    for (int i = 0; i < n - 1; i++)
        if (buf[i] == '\n')
            buf[i] = ' ';
    (void)send(g.chan, buf, n, MSG_NOSIGNAL);
}

void report_warn(const struct step *s, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    chan_send("warn %d %s\n", s->index, buf);
}

unsigned long long arg_u64(const struct step *s, int i, int *err)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s->argv[i], &end, 10);
    if (errno || *end || end == s->argv[i] || s->argv[i][0] == '-') {
        set_detail("argument %d: bad number \"%s\"", i, s->argv[i]);
        *err = -EINVAL;
    }
    return v;
}

long long arg_i64(const struct step *s, int i, int *err)
{
    char *end;
    errno = 0;
    long long v = strtoll(s->argv[i], &end, 10);
    if (errno || *end || end == s->argv[i]) {
        set_detail("argument %d: bad number \"%s\"", i, s->argv[i]);
        *err = -EINVAL;
    }
    return v;
}

/* ---- reading the channel ---- */

int read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += n;
    }
    return 0;
}

/* A netstring `<len>:<bytes>,` from the channel, NUL-terminated; NULL on EOF or a malformed one. */
char *read_netstring(int fd, size_t *out_len)
{
    size_t len = 0;
    char c;
    for (int digits = 0;; digits++) {
        if (read_full(fd, &c, 1) < 0)
            return NULL;
        if (c == ':' && digits > 0)
            break;
        if (c < '0' || c > '9' || digits > 12)
            return NULL;
        len = len * 10 + (c - '0');
    }
    char *buf = malloc(len + 1);
    if (!buf || read_full(fd, buf, len) < 0 || read_full(fd, &c, 1) < 0 || c != ',') {
        free(buf);
        return NULL;
    }
    buf[len] = 0;
    *out_len = len;
    return buf;
}

int read_pid_answer(void)
{
    g.state = read_netstring(g.chan, &g.state_len);
    if (g.state)
        g.process_state = read_netstring(g.chan, &g.process_state_len);
    return g.state && g.process_state ? 0 : -1;
}
