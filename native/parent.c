/* What the parent does after clone in `wait` and `monitor` modes (docs/launch-plan.md `clone`). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "skiff-init.h"

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

static int exit_code_of(int status)
{
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int parent_signals(sigset_t *saved)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
        sigaddset(&set, forwarded[i]);
    if (sigprocmask(SIG_BLOCK, &set, saved) < 0)
        return -errno;
    int sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sfd < 0) {
        int e = errno;
        sigprocmask(SIG_SETMASK, saved, NULL);
        return -e;
    }
    return sfd;
}

static int copy_once(int from, int to)
{
    char buf[8192];
    ssize_t n = read(from, buf, sizeof buf);
    if (n <= 0)
        return -1;
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write(to, buf + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        off += w;
    }
    return 0;
}

static void copy_winsize(int from, int to)
{
    struct winsize ws;
    if (ioctl(from, TIOCGWINSZ, &ws) == 0)
        ioctl(to, TIOCSWINSZ, &ws);
}

/* Reaps the child if it exited; returns 1 with *status set when it did. */
static int reap(pid_t child, int *status)
{
    pid_t r;
    while ((r = waitpid(child, status, WNOHANG)) < 0 && errno == EINTR)
        ;
    return r == child;
}

/* Waits for the child, forwarding signals and (with a proxied terminal) copying between our stdio and the pty. */
int parent_wait(pid_t child, int proxy, int sfd)
{
    int master = -1;
    struct termios saved;
    int raw = 0;
    if (proxy >= 0) {
        master = recv_fd(proxy);
        close(proxy);
        if (master >= 0 && isatty(0) && tcgetattr(0, &saved) == 0) {
            struct termios t = saved;
            cfmakeraw(&t);
            raw = tcsetattr(0, TCSANOW, &t) == 0;
            copy_winsize(0, master);
        }
    }
    int status = 0, in_open = master >= 0;
    for (;;) {
        struct pollfd fds[3] = { { .fd = sfd, .events = POLLIN }, { .fd = master, .events = POLLIN },
                                 { .fd = in_open ? 0 : -1, .events = POLLIN } };
        if (poll(fds, 3, -1) < 0 && errno != EINTR)
            break;
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGCHLD) {
                    if (reap(child, &status))
                        break;
                } else if (si.ssi_signo == SIGWINCH && master >= 0) {
                    copy_winsize(0, master);
                } else {
                    kill(child, (int)si.ssi_signo);
                }
            }
        }
        if (fds[1].revents & (POLLIN | POLLHUP) && copy_once(master, 1) < 0) {
            close(master);
            master = -1;
        }
        if (fds[2].revents & (POLLIN | POLLHUP) && copy_once(0, master) < 0)
            in_open = 0;
    }
    /* What the pty still holds; without blocking, since a process the container left behind may keep it open. */
    if (master >= 0 && fcntl(master, F_SETFL, O_NONBLOCK) == 0) {
        while (copy_once(master, 1) == 0)
            ;
    }
    if (raw)
        tcsetattr(0, TCSANOW, &saved);
    chan_send("exit %d\n", status);
    return exit_code_of(status);
}

/* ---- monitor: CRI log lines and the exit file ---- */

struct log_stream {
    int fd;
    const char *name;
    char buf[16384];
    size_t len;
};

/* CRI log format: "<RFC3339Nano> <stream> <F|P> <content>", P for a line cut short (too long, or at EOF). */
static void write_log_line(int log, const char *stream, const char *data, size_t len, char tag)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char head[96];
    int n = snprintf(head, sizeof head, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ %s %c ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec, stream, tag);
    struct iovec iov[3] = { { head, (size_t)n }, { (void *)data, len }, { "\n", 1 } };
    (void)!writev(log, iov, 3);
}

static int pump(struct log_stream *s, int log)
{
    ssize_t n = read(s->fd, s->buf + s->len, sizeof s->buf - s->len);
    if (n > 0)
        s->len += (size_t)n;
    size_t start = 0;
    for (size_t i = 0; i < s->len; i++) {
        if (s->buf[i] == '\n') {
            write_log_line(log, s->name, s->buf + start, i - start, 'F');
            start = i + 1;
        }
    }
    if (start == 0 && s->len == sizeof s->buf) {
        write_log_line(log, s->name, s->buf, s->len, 'P');
        start = s->len;
    }
    memmove(s->buf, s->buf + start, s->len - start);
    s->len -= start;
    if (n <= 0) {
        if (s->len)
            write_log_line(log, s->name, s->buf, s->len, 'P');
        s->len = 0;
        return -1;
    }
    return 0;
}

static int write_exit_file(const char *path, int status)
{
    char tmp[4096], body[128];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int len = snprintf(body, sizeof body, "{\"status\":%d,\"exitCode\":%d,\"signal\":%d}\n", status,
                       exit_code_of(status), WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    if (write(fd, body, len) != len || fsync(fd) < 0) {
        close(fd);
        return -EIO;
    }
    close(fd);
    return rename(tmp, path) < 0 ? -errno : 0;
}

int parent_monitor(pid_t child, int out_fd, int err_fd, int sfd)
{
    /* Hold nothing of the caller's: no cwd in the bundle. */
    if (chdir("/") < 0)
        return 1;
    int log = -1;
    if (out_fd >= 0) {
        log = open(g.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
        if (log < 0)
            fprintf(stderr, "skiff-init: open log %s: %s\n", g.log_path, strerror(errno));
    }
    struct log_stream out = { .fd = out_fd, .name = "stdout" }, err = { .fd = err_fd, .name = "stderr" };
    int status = 0, exited = 0;
    while (!exited || out.fd >= 0 || err.fd >= 0) {
        struct pollfd fds[3] = { { .fd = exited ? -1 : sfd, .events = POLLIN }, { .fd = out.fd, .events = POLLIN },
                                 { .fd = err.fd, .events = POLLIN } };
        if (poll(fds, 3, -1) < 0 && errno != EINTR)
            break;
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGCHLD)
                    exited = reap(child, &status);
                else
                    kill(child, (int)si.ssi_signo);
            }
        }
        for (int i = 1; i < 3; i++) {
            struct log_stream *s = i == 1 ? &out : &err;
            if (fds[i].revents & (POLLIN | POLLHUP) && pump(s, log) < 0) {
                close(s->fd);
                s->fd = -1;
            }
        }
    }
    if (g.exit_file && g.exit_file[0] && write_exit_file(g.exit_file, status) < 0)
        return 1;
    return exit_code_of(status);
}
