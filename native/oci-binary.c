/*
 * Steps that run another OCI runtime's binary (runc, crun) as conmon does (docs/launch-plan.md):
 *
 * `oci-create` makes a container under our monitor. It runs in the `monitor` step's child. The runtime's `create`
 * runs as our child and exits once the container's init waits for `start`; that init is then an orphan and is
 * reparented to the monitor, its subreaper (prctl(2) PR_SET_CHILD_SUBREAPER). We hand the monitor the pid from the
 * runtime's --pid-file and, with a terminal, the pty master the runtime sent to the console socket.
 *
 * `oci-exec` runs the runtime's `exec --detach` with us as the subreaper: the process it starts is reparented to
 * us, and we wait for it as a `wait` parent does (parent.c), holding its terminal if it has one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "skiff-init.h"

/* Runs argv to its end with our stdio (the container's); its wait status, or -errno. A failed execve(2) comes back
 * as its errno over a close-on-exec pipe, which a successful one closes unwritten. */
static int run_runtime(char **argv, char **env, const sigset_t *mask)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return sys_fail("pipe2", NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return sys_fail("fork", "fork for %s", argv[0]);
    }
    if (pid == 0) {
        close(p[0]);
        if (mask)
            sigprocmask(SIG_SETMASK, mask, NULL);
        execve(argv[0], argv, env);
        int e = errno;
        (void)!write(p[1], &e, sizeof e);
        _exit(127);
    }
    close(p[1]);
    int exec_errno = 0;
    ssize_t n;
    while ((n = read(p[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR)
        ;
    close(p[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return sys_fail("wait4", "wait for %s", argv[0]);
    if (n == sizeof exec_errno) {
        errno = exec_errno;
        return sys_fail("execve", "execute %s", argv[0]);
    }
    return status;
}

static int read_pid_file(const char *path, pid_t *pid)
{
    char buf[32];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sys_fail("openat", "open the runtime's pid file %s", path);
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    char *end;
    long v = n > 0 ? (buf[n] = 0, strtol(buf, &end, 10)) : 0;
    if (v <= 0 || (*end && *end != '\n')) {
        set_detail("the runtime's pid file %s holds no pid", path);
        return -EINVAL;
    }
    *pid = (pid_t)v;
    return 0;
}

/* The pty master the runtime sent on the console socket (runc's console-socket protocol), or -errno. The runtime
 * connected and sent before its command returned, so the connection waits in the backlog. */
static int take_terminal(int listen_fd)
{
    int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (conn < 0) {
        set_detail("the runtime sent no terminal to the console socket");
        return -errno;
    }
    int master = recv_fd(conn);
    close(conn);
    if (master < 0)
        set_detail("receive the pty master from the runtime");
    return master;
}

/* The terminal, on to the monitor. */
static int pass_terminal(int listen_fd)
{
    int master = take_terminal(listen_fd);
    if (master < 0)
        return master;
    int r = send_fd(g.proxy_fd[1], master, "pty", 3);
    close(master);
    close(g.proxy_fd[1]);
    g.proxy_fd[1] = -1;
    if (r < 0)
        set_detail("hand the pty master to the monitor");
    return r;
}

/* The arguments both steps take after their own: argc argv... envc env..., from index `first`; malloc'd arrays. */
static int runtime_command(const struct step *s, int first, char ***argv, char ***env)
{
    int err = 0;
    long long argc = s->argc > first ? arg_i64(s, first, &err) : -1;
    long long envc = !err && argc > 0 && first + 1 + argc < s->argc ? arg_i64(s, (int)(first + 1 + argc), &err) : -1;
    if (err)
        return err;
    if (argc <= 0 || envc < 0 || first + 2 + argc + envc != s->argc || s->argv[first + 1][0] != '/') {
        set_detail("expected argc argv... envc env... with an absolute argv[0]");
        return -EINVAL;
    }
    *argv = calloc((size_t)argc + 1, sizeof **argv);
    *env = calloc((size_t)envc + 1, sizeof **env);
    if (!*argv || !*env)
        return -ENOMEM;
    for (long long i = 0; i < argc; i++)
        (*argv)[i] = s->argv[first + 1 + i];
    for (long long i = 0; i < envc; i++)
        (*env)[i] = s->argv[first + 2 + argc + i];
    return 0;
}

/* After `pid`, the runtime answers with two netstrings (docs/launch-plan.md "Protocol"). */
static int report_pid(pid_t pid)
{
    chan_send("pid %d\n", pid);
    if (read_pid_answer() < 0) {
        set_detail("the runtime went away before the process ran");
        return -EPIPE;
    }
    return 0;
}

/* 0 if the runtime's command exited 0, else -EIO with a detail (its own words are in its --log). */
static int runtime_failure(const char *exe, int status)
{
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    set_detail("%s exited with %s %d", exe, WIFEXITED(status) ? "status" : "signal",
               WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return -EIO;
}

/*
 * What both steps do with the runtime's command: listen on `console` first (if not ""), run argv to its end, and
 * read the pid it wrote to pid_file. On success *listen_fd (-1 without a console) is still open for the terminal
 * the runtime sent; on failure it is closed.
 */
static int run_for_pid(char **argv, char **env, const sigset_t *mask, const char *pid_file, const char *console,
                       pid_t *pid, int *listen_fd)
{
    *listen_fd = -1;
    if (console[0] && (*listen_fd = listen_unix(console, "console socket")) < 0)
        return *listen_fd;
    int r = run_runtime(argv, env, mask);
    if (*listen_fd >= 0)
        (void)!unlink(console);
    if (r >= 0 && (r = runtime_failure(argv[0], r)) == 0)
        r = read_pid_file(pid_file, pid);
    if (r < 0 && *listen_fd >= 0) {
        close(*listen_fd);
        *listen_fd = -1;
    }
    return r;
}

/* oci-create pidfile consolesocket argc argv... envc env...: argv is the runtime's whole `create` command. */
int op_oci_create(const struct step *s)
{
    if (!s->argv[0][0]) {
        set_detail("oci-create: no pid file");
        return -EINVAL;
    }
    if (g.monitor_sync < 0) {
        set_detail("oci-create needs a monitor step before it");
        return -EINVAL;
    }
    const char *pid_file = s->argv[0], *console = s->argv[1];
    if (console[0] && g.proxy_fd[1] < 0) {
        set_detail("a console socket needs a monitor that holds a terminal");
        return -EINVAL;
    }
    char **argv = NULL, **env = NULL;
    int listen_fd = -1, r = runtime_command(s, 2, &argv, &env);
    pid_t pid = 0;
    if (r == 0 && (r = run_for_pid(argv, env, NULL, pid_file, console, &pid, &listen_fd)) == 0 && listen_fd >= 0)
        r = pass_terminal(listen_fd);
    if (listen_fd >= 0)
        close(listen_fd);
    free(argv);
    free(env);
    if (r < 0)
        return r;
    /* As clone does in parent mode `monitor`: the monitor learns the pid first, then the runtime. */
    if (send(g.monitor_sync, &pid, sizeof pid, MSG_NOSIGNAL) != sizeof pid)
        return sys_fail("sendto", "the monitor went away");
    return report_pid(pid);
}

/*
 * oci-exec pidfile consolesocket detach argc argv... envc env...: argv is the runtime's whole `exec --detach`
 * command. Writes `pid` and `ready`; then exits at once with detach=1, else waits for the process as a `wait` parent
 * (`exit`, its exit code). Returns only on failure.
 */
int op_oci_exec(const struct step *s)
{
    if (s->argc < 3 || !s->argv[0][0]) {
        set_detail("oci-exec: expected pidfile consolesocket detach argc argv... envc env...");
        return -EINVAL;
    }
    const char *pid_file = s->argv[0], *console = s->argv[1];
    int err = 0, detach = (int)arg_u64(s, 2, &err);
    char **argv = NULL, **env = NULL;
    int r = err ? err : runtime_command(s, 3, &argv, &env);
    if (r < 0)
        return r;
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        return sys_fail("prctl", "become the process's subreaper");
    /* Blocked before the process exists, or its SIGCHLD could come and go unseen (see run_clone); the runtime's
     * child gets the old mask back. */
    sigset_t saved;
    int sfd = parent_signals(&saved);
    if (sfd < 0)
        return sfd;
    int listen_fd = -1, master = -1;
    pid_t pid = 0;
    if ((r = run_for_pid(argv, env, &saved, pid_file, console, &pid, &listen_fd)) == 0 && listen_fd >= 0)
        r = master = take_terminal(listen_fd);
    if (listen_fd >= 0)
        close(listen_fd);
    if (r < 0) {
        if (pid > 0)
            kill(pid, SIGKILL);
        return r;
    }
    if ((r = report_pid(pid)) < 0) {
        kill(pid, SIGKILL);
        return r;
    }
    chan_send("ready\n");
    if (detach)
        _exit(0);
    _exit(parent_wait_master(pid, master, sfd));
}
