/*
 * The `monitor` step (docs/launch-plan.md): the first step of a plan whose clone has parent mode `monitor`. It opens
 * what the monitor will hold (log, attach socket, cgroup OOM file, the container's stdio pipes or the socket its pty
 * master will arrive on) and forks. The parent, the process the runtime spawned, becomes the monitor: it re-executes
 * the binary on disk as `skiff-init monitor ...` (monitor.c). The child goes on with the plan in the monitor's stead:
 * it joins namespaces (which the monitor therefore never enters), clones the container, hands its pid to the monitor
 * and exits, so that the container is reparented to the monitor, its subreaper.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "skiff-init.h"

/* fds of both sides; -1 when absent. */
struct monitor_fds {
    int log, listen, oom, sync;      /* the monitor's */
    int in_w, out_r, err_r, console; /* the monitor's ends of the container's stdio */
    int in_r, out_w, err_w;          /* the container's ends */
    int sync_child;                  /* the plan's end of `sync` */
};

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void close_all(struct monitor_fds *f)
{
    int *all[] = { &f->log, &f->listen, &f->oom, &f->sync, &f->in_w, &f->out_r, &f->err_r, &f->console,
                   &f->in_r, &f->out_w, &f->err_w, &f->sync_child };
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        close_fd(all[i]);
}

static int make_pipe(int *read_end, int *write_end)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -errno;
    *read_end = p[0];
    *write_end = p[1];
    return 0;
}

/* A unix socket at `path` with mode 0600, listening. It is bound through /proc/self/fd/N/NAME of its directory,
 * so a deep container directory cannot exceed sun_path's 108 bytes (unix(7)). */
int listen_unix(const char *path, const char *what)
{
    const char *slash = strrchr(path, '/');
    if (!slash || !slash[1]) {
        set_detail("%s %s: not an absolute file path", what, path);
        return -EINVAL;
    }
    char *dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
    int dfd = dir ? open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
    int e = errno;
    free(dir);
    if (dfd < 0) {
        set_detail("%s %s: its directory", what, path);
        return -e;
    }
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int n = snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dfd, slash + 1);
    int fd = -1, r = 0;
    if (n < 0 || (size_t)n >= sizeof addr.sun_path) {
        set_detail("%s %s: its name is too long", what, path);
        r = -ENAMETOOLONG;
    } else if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
        r = -errno;
    } else {
        /* The socket file is made with 0777 & ~umask (unix(7)): 0600 from the start, never wider. */
        mode_t old = umask(0177);
        if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(fd, 16) < 0) {
            r = -errno;
            set_detail("%s %s", what, path);
        }
        umask(old);
    }
    close(dfd);
    if (r < 0 && fd >= 0)
        close(fd);
    return r < 0 ? r : fd;
}

/* The parent: becomes the monitor. Keeps exactly the monitor's fds, across execve(2); never returns. */
static void __attribute__((noreturn)) exec_monitor(const struct step *s, struct monitor_fds *f, int want_stdin,
                                                   char **exit_argv, char **exit_env)
{
    close_fd(&f->in_r);
    close_fd(&f->out_w);
    close_fd(&f->err_w);
    close_fd(&f->sync_child);
    close_fd(&g.proxy_fd[1]);
    /* The caller's preserved fds (3 .. channel-1) are the container's, not ours. The rest is close-on-exec.
     * `keep` is in the order of the fd arguments of `skiff-init monitor` (monitor.c A_SYNC .. A_CONSOLE_FD). */
    int keep[] = { f->sync, f->log, f->listen, f->oom, f->in_w, f->out_r, f->err_r, f->console };
    for (int fd = 3; fd < g.chan; fd++) {
        int kept = 0;
        for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
            kept |= keep[i] == fd;
        if (!kept)
            close(fd);
    }
    int err = 0;
    char fds[8][16];
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        if (keep[i] >= 0 && fcntl(keep[i], F_SETFD, 0) < 0)
            err = errno;
        snprintf(fds[i], sizeof fds[i], "%d", keep[i]);
    }
    int n = 0;
    while (exit_argv[n])
        n++;
    /* `skiff-init monitor` + the fixed arguments of monitor.c's A_* list + the exit command. */
    char **argv = malloc((size_t)(17 + n + 1) * sizeof *argv);
    if (!err && argv) {
        char *fixed[] = { s->argv[0], "monitor", fds[0], fds[1], fds[2], fds[3], fds[4], fds[5], fds[6], fds[7],
                          want_stdin ? "1" : "0", s->argv[1], s->argv[2], s->argv[3], s->argv[4], s->argv[5], s->argv[9] };
        memcpy(argv, fixed, sizeof fixed);
        memcpy(argv + 17, exit_argv, (size_t)(n + 1) * sizeof *argv);
        execve(s->argv[0], argv, exit_env);
        err = errno;
    }
    if (!err)
        err = ENOMEM;
    if (s->argv[5][0])
        (void)!unlink(s->argv[5]);
    (void)!send(f->sync, &err, sizeof err, MSG_NOSIGNAL);
    _exit(1);
}

/*
 * monitor exe logpath logmaxsize logmaxfiles exitfile attachsocket stdin terminal oomfile exitowner
 *         argc args... envc env...
 */
int op_monitor(const struct step *s)
{
    int err = 0;
    if (s->argc < 12) {
        set_detail("monitor takes at least 12 arguments, got %d", s->argc);
        return -EINVAL;
    }
    arg_u64(s, 2, &err);
    arg_u64(s, 3, &err);
    int want_stdin = (int)arg_u64(s, 6, &err), terminal = (int)arg_u64(s, 7, &err);
    long long argc = arg_i64(s, 10, &err);
    if (err)
        return err;
    long long envc = argc >= 0 && 11 + argc < s->argc ? arg_i64(s, (int)(11 + argc), &err) : -1;
    if (err)
        return err;
    if (argc < 0 || envc < 0 || 12 + argc + envc != s->argc || s->argv[0][0] != '/') {
        set_detail("monitor: expected an absolute exe path and argc args... envc env...");
        return -EINVAL;
    }
    char **exit_argv = calloc((size_t)argc + 1, sizeof *exit_argv), **exit_env = calloc((size_t)envc + 1, sizeof *exit_env);
    if (!exit_argv || !exit_env)
        return -ENOMEM;
    for (long long i = 0; i < argc; i++)
        exit_argv[i] = s->argv[11 + i];
    for (long long i = 0; i < envc; i++)
        exit_env[i] = s->argv[12 + argc + i];

    struct monitor_fds f = { -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1 };
    int r = 0, sp[2];
    const char *log = s->argv[1], *sock = s->argv[5], *oom = s->argv[8];
    if (log[0] && (f.log = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640)) < 0) {
        r = -errno;
        set_detail("open log %s", log);
    } else if (sock[0] && (f.listen = listen_unix(sock, "attach socket")) < 0) {
        r = f.listen;
    } else if (oom[0] && (f.oom = open(oom, O_RDONLY | O_CLOEXEC)) < 0) {
        r = -errno;
        set_detail("open %s", oom);
    } else if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
        r = -errno;
    }
    if (r == 0) {
        f.sync = sp[0];
        f.sync_child = sp[1];
    }
    if (r == 0 && terminal) {
        /* The child's `console-connect ""` sends the pty master over this pair (console.c). */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, g.proxy_fd) < 0)
            r = -errno;
        else
            f.console = g.proxy_fd[0];
        g.proxy_fd[0] = -1; /* f.console from now on */
    } else if (r == 0) {
        r = make_pipe(&f.out_r, &f.out_w);
        if (r == 0)
            r = make_pipe(&f.err_r, &f.err_w);
        if (r == 0 && want_stdin)
            r = make_pipe(&f.in_r, &f.in_w);
    }
    pid_t pid = r < 0 ? -1 : fork();
    if (pid < 0) {
        if (r == 0)
            r = -errno;
        if (f.listen >= 0)
            (void)!unlink(sock);
        close_all(&f);
        close_fd(&g.proxy_fd[1]);
        free(exit_argv);
        free(exit_env);
        return r;
    }
    if (pid > 0)
        exec_monitor(s, &f, want_stdin, exit_argv, exit_env);

    /* The child: the container's side. Its stdio becomes the container's (a `console` step replaces it later). */
    close_fd(&f.log);
    close_fd(&f.listen);
    close_fd(&f.oom);
    close_fd(&f.sync);
    close_fd(&f.in_w);
    close_fd(&f.out_r);
    close_fd(&f.err_r);
    close_fd(&f.console);
    if ((f.in_r >= 0 && dup2(f.in_r, 0) < 0) || (f.out_w >= 0 && dup2(f.out_w, 1) < 0) ||
        (f.err_w >= 0 && dup2(f.err_w, 2) < 0))
        r = -errno;
    close_fd(&f.in_r);
    close_fd(&f.out_w);
    close_fd(&f.err_w);
    g.monitor_sync = f.sync_child;
    free(exit_argv);
    free(exit_env);
    if (r < 0)
        return r;
    int ready = 0;
    ssize_t n = recv(g.monitor_sync, &ready, sizeof ready, MSG_WAITALL);
    if (n != sizeof ready) {
        set_detail("the monitor %s exited before it was ready", s->argv[0]);
        return -ECHILD;
    }
    if (ready) {
        set_detail("start the monitor %s", s->argv[0]);
        return -ready;
    }
    return 0;
}
