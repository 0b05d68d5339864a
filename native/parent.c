/* What the parent does after clone in `wait` mode (docs/launch-plan.md `clone`); `monitor` mode is monitor.c's. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
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

/*
 * The caller's terminal size requests on the channel ("resize ROWS COLS\n"), for a caller whose stdin is no
 * terminal (skiffd relaying a CRI exec -t). Returns -1 once the caller closed the channel.
 */
static int read_resizes(int chan, int master, char *line, size_t cap, size_t *len)
{
    ssize_t n = read(chan, line + *len, cap - 1 - *len);
    if (n <= 0)
        return n < 0 && errno == EINTR ? 0 : -1;
    *len += (size_t)n;
    char *nl;
    while ((nl = memchr(line, '\n', *len)) != NULL) {
        *nl = 0;
        unsigned rows, cols;
        if (master >= 0 && sscanf(line, "resize %u %u", &rows, &cols) == 2) {
            struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
            ioctl(master, TIOCSWINSZ, &ws);
        }
        size_t used = (size_t)(nl - line) + 1;
        memmove(line, nl + 1, *len - used);
        *len -= used;
    }
    if (*len == cap - 1)
        *len = 0; /* a line too long to be ours: dropped */
    return 0;
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
    if (proxy >= 0) {
        master = recv_fd(proxy);
        close(proxy);
    }
    return parent_wait_master(child, master, sfd);
}

int parent_wait_master(pid_t child, int master, int sfd)
{
    struct termios saved;
    int raw = 0;
    if (master >= 0) {
        if (isatty(0) && tcgetattr(0, &saved) == 0) {
            struct termios t = saved;
            cfmakeraw(&t);
            raw = tcsetattr(0, TCSANOW, &t) == 0;
            copy_winsize(0, master);
        }
    }
    int status = 0, in_open = master >= 0, chan_open = master >= 0 && g.chan >= 0;
    char line[64];
    size_t line_len = 0;
    for (;;) {
        struct pollfd fds[4] = { { .fd = sfd, .events = POLLIN }, { .fd = master, .events = POLLIN },
                                 { .fd = in_open ? 0 : -1, .events = POLLIN }, { .fd = chan_open ? g.chan : -1, .events = POLLIN } };
        if (poll(fds, 4, -1) < 0 && errno != EINTR)
            break;
        if (fds[3].revents & (POLLIN | POLLHUP) && read_resizes(g.chan, master, line, sizeof line, &line_len) < 0)
            chan_open = 0;
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
