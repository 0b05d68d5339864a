/*
 * `skiff-init zygote SOCKET`: forks helpers, and runs programs, for a caller that starts several (skiffd, and the skiff
 * CLI from its first). A Node process that
 * spawns pays fork(2) of itself, which copies its page tables, and waits for the child's execve on its event loop:
 * 3-4 ms for skiffd. The zygote is small and single-threaded, so its child may run the helper's code without an exec
 * at all (fork(2) in a multithreaded process may not, but we have one thread). docs/launch-plan.md "Zygote" has the
 * protocol.
 *
 * Requests on stdin, netstrings: token, cwd, stdio (three of `n` /dev/null, `i` the caller's own: its stderr is our
 * fd 2, its stdin and stdout our fds 3 and 4), detached (`1`: a session of its own, as setsid(2)), argc, then argc
 * arguments and envc, envc environment entries. argc 0: a helper, which connects to SOCKET once, says
 * `TOKEN PID chan` and runs `init` on that connection as its channel. Otherwise the program args[0] (a path), which
 * connects twice, saying `TOKEN PID io` (its stdin and stdout) and `TOKEN PID err` (its stderr); stdio is unused.
 * Replies on stdout, one line each: `spawned TOKEN PID`, then `exit PID STATUS` (the raw waitpid status) when any
 * child of ours ends. EOF on stdin (the caller is gone) ends the zygote; its children run on.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "skiff-init.h"

enum { CALLER_STDIN = 3, CALLER_STDOUT = 4, CHANNEL = 3 };

/* One unbuffered write per line: a buffered stdio line would be copied into every child we fork. */
static void reply(const char *fmt, ...)
{
    char line[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0 && write(STDOUT_FILENO, line, (size_t)n) < 0)
        _exit(1);
}

static void child_fail(const char *what, int err)
{
    fprintf(stderr, "skiff-init zygote: %s: %s\n", what, strerror(err));
    _exit(127);
}

/*
 * A connection to the caller that it knows as ours: `TOKEN PID ROLE`. SOCKET `@NAME` is NAME in the abstract
 * namespace, where a short-lived caller (the skiff CLI) listens: no file is left if it is killed.
 */
static int connect_as(const char *socket_path, const char *token, const char *role)
{
    int fd = socket_path[0] == '@' ? connect_unix_abstract(socket_path + 1) : connect_unix(socket_path);
    if (fd < 0)
        child_fail(socket_path, -fd);
    char hello[160];
    int n = snprintf(hello, sizeof hello, "%s %d %s\n", token, (int)getpid(), role);
    if (n >= (int)sizeof hello || write(fd, hello, (size_t)n) != n)
        child_fail("hello", n >= (int)sizeof hello ? EINVAL : errno);
    return fd;
}

struct request {
    char *token, *cwd, *stdio;
    int detached;
    char **args; /* NULL-terminated; NULL: a helper */
    char **env;
};

/* In the forked child: a helper with stdio as asked and the channel on fd 3, as if `init 3` had been executed. */
static void become_helper(const char *socket_path, const struct request *r, int (*init)(const char *))
{
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0)
        child_fail("/dev/null", errno);
    if (dup2(r->stdio[0] == 'i' ? CALLER_STDIN : null, 0) < 0 || dup2(r->stdio[1] == 'i' ? CALLER_STDOUT : null, 1) < 0 ||
        (r->stdio[2] != 'i' && dup2(null, 2) < 0))
        child_fail("stdio", errno);
    int chan = connect_as(socket_path, r->token, "chan");
    /* dup2 clears close-on-exec on the copy; init closes every fd above it. */
    if (dup2(chan, CHANNEL) < 0)
        child_fail("channel", errno);
    _exit(init("3"));
}

/* In the forked child: the program, its stdin and stdout on one connection to the caller, its stderr on another. */
static void become_program(const char *socket_path, const struct request *r)
{
    int io = connect_as(socket_path, r->token, "io");
    int err = connect_as(socket_path, r->token, "err");
    if (dup2(io, 0) < 0 || dup2(io, 1) < 0 || dup2(err, 2) < 0)
        child_fail("stdio", errno);
    if (fds_from(3, 1) < 0)
        child_fail("close-on-exec", errno);
    execve(r->args[0], r->args, r->env);
    child_fail(r->args[0], errno);
}

static void run_child(const char *socket_path, const struct request *r, const sigset_t *mask, int (*init)(const char *))
{
    sigprocmask(SIG_SETMASK, mask, NULL);
    if (r->detached && setsid() < 0)
        child_fail("setsid", errno);
    if (chdir(r->cwd) < 0)
        child_fail(r->cwd, errno);
    if (r->args)
        become_program(socket_path, r);
    become_helper(socket_path, r, init);
}

/* A counted list of netstrings (argc then the args), NULL-terminated; *ok = 0 when the caller is gone. */
static char **read_list(int *ok)
{
    size_t len;
    char *count = read_netstring(STDIN_FILENO, &len);
    if (!count) {
        *ok = 0;
        return NULL;
    }
    long n = strtol(count, NULL, 10);
    free(count);
    if (n <= 0 || n > 4096) {
        *ok = n == 0;
        return NULL;
    }
    char **list = calloc((size_t)n + 1, sizeof *list);
    if (!list) {
        *ok = 0;
        return NULL;
    }
    for (long i = 0; i < n; i++)
        if (!(list[i] = read_netstring(STDIN_FILENO, &len))) {
            *ok = 0;
            return NULL;
        }
    return list;
}

static void free_list(char **list)
{
    for (char **p = list; p && *p; p++)
        free(*p);
    free(list);
}

/* One request from stdin; 0 when the caller is gone (EOF) or sent what we cannot read. */
static int read_request(struct request *r)
{
    size_t len;
    char *detached;
    int ok = 1;
    memset(r, 0, sizeof *r);
    if (!(r->token = read_netstring(STDIN_FILENO, &len)) || !(r->cwd = read_netstring(STDIN_FILENO, &len)) ||
        !(r->stdio = read_netstring(STDIN_FILENO, &len)) || !(detached = read_netstring(STDIN_FILENO, &len)))
        return 0;
    r->detached = detached[0] == '1';
    free(detached);
    r->args = read_list(&ok);
    if (ok && r->args)
        r->env = read_list(&ok);
    if (!ok || strlen(r->stdio) != 3 || (r->args && !r->env && (r->env = calloc(1, sizeof *r->env)) == NULL)) {
        fprintf(stderr, "skiff-init zygote: a malformed request\n");
        return 0;
    }
    return 1;
}

static void reap(void)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        reply("exit %d %d\n", (int)pid, status);
}

int zygote_main(const char *socket_path, int (*init)(const char *chan_arg))
{
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &chld, &old) < 0)
        return 2;
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC);
    if (sfd < 0) {
        fprintf(stderr, "skiff-init zygote: signalfd: %s\n", strerror(errno));
        return 2;
    }
    struct pollfd fds[2] = { { .fd = STDIN_FILENO, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 2;
        }
        if (fds[1].revents) {
            struct signalfd_siginfo si;
            if (read(sfd, &si, sizeof si) < 0 && errno != EAGAIN)
                return 2;
            reap();
        }
        if (!fds[0].revents)
            continue;
        struct request r;
        if (!read_request(&r))
            return 0;
        pid_t pid = fork();
        if (pid == 0)
            run_child(socket_path, &r, &old, init);
        if (pid < 0)
            reply("failed %s %d\n", r.token, errno);
        else
            reply("spawned %s %d\n", r.token, (int)pid);
        free(r.token);
        free(r.cwd);
        free(r.stdio);
        free_list(r.args);
        free_list(r.env);
    }
}
