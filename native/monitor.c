/*
 * The monitor (docs/monitor.md): one small process per container, conmon's job. It is the parent and subreaper of
 * the container's process, holds its stdin and its stdout/stderr pipes (or the pty master), writes the CRI log,
 * serves the attach socket, writes the exit file, and finally starts the exit command and exits.
 *
 * The `monitor` step (monitor-start.c) forks the helper; the parent re-executes the binary on disk as
 * `skiff-init monitor ARGS` (argument list below), so that the plan, the heap and the helper's memfd copy of itself
 * are gone and the binary's pages are shared by every monitor.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "monitor.h"
#include "skiff-init.h"

/* argv of `skiff-init monitor`, as monitor-start.c builds it; fds are -1 when absent. */
enum {
    A_SYNC = 2,   /* socket to the helper: we send an int (0 = set up, else an errno); the pid and "r" come back */
    A_LOG_FD,     /* the log, opened by the helper */
    A_LISTEN_FD,  /* the attach socket, listening */
    A_OOM_FD,     /* the cgroup file with an `oom_kill N` line */
    A_STDIN_FD,   /* write end of the container's stdin pipe */
    A_STDOUT_FD,  /* read ends of its stdout and stderr pipes */
    A_STDERR_FD,
    A_CONSOLE_FD, /* socket the pty master arrives on (process.terminal) */
    A_STDIN,      /* 1: stdin frames go to the container (its pipe, or the terminal) */
    A_LOG_PATH,
    A_LOG_MAX_SIZE,
    A_LOG_MAX_FILES,
    A_EXIT_FILE,
    A_ATTACH_PATH,
    A_EXIT_OWNER,   /* a file naming the process that takes down the run itself ('' = none): see finish() */
    A_EXIT_COMMAND, /* the rest: the exit command's argv (may be empty); its environment is ours */
};

/* Signals sent to the monitor go on to the container, as they did to the `wait` parent. */
static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

static struct {
    pid_t child;
    int sync_fd;           /* until the container's `ready` step wrote "r" on it, or closed it without */
    int ready;             /* the create completed: only then is there an exit to record */
    int exited, status;
    struct timespec finished;
    int sfd;
    int out_fd, err_fd;    /* pipes; with a terminal out_fd is the master and err_fd -1 */
    int console_fd;
    int terminal;
    int stdin_fd;          /* the pipe's write end, or the master; -1 once closed */
    int stdin_open;        /* stdin frames are taken */
    const char *stdin_pending;
    size_t stdin_left;
    int stdin_close_asked; /* close once stdin_pending is written */
    int oom_fd;
    long long oom_start;
    const char *exit_file, *attach_path, *exit_owner;
    struct log_writer log;
} m;

/* One read of the container's output; it stays here until every attach client has taken it. */
static char out_buf[8192];

/* ---- stdin ---- */

static void stdin_close(void)
{
    /* Closing a pty master would hang up the container's terminal (SIGHUP): with a terminal, only stop sending. */
    if (m.stdin_fd >= 0 && !m.terminal)
        close(m.stdin_fd);
    m.stdin_fd = -1;
    m.stdin_open = 0;
    m.stdin_left = 0;
}

static void stdin_flush(void)
{
    while (m.stdin_left) {
        ssize_t n = write(m.stdin_fd, m.stdin_pending, m.stdin_left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        if (n <= 0) { /* EPIPE: nobody in the container reads its stdin any more */
            stdin_close();
            return;
        }
        m.stdin_pending += n;
        m.stdin_left -= (size_t)n;
    }
    if (m.stdin_close_asked)
        stdin_close();
}

static void on_stdin_data(const char *data, size_t len)
{
    if (!m.stdin_open || m.stdin_fd < 0)
        return; /* created without stdin, or it is closed: docs/monitor.md says these bytes are dropped */
    m.stdin_pending = data;
    m.stdin_left = len;
    stdin_flush();
}

static int on_stdin_busy(void)
{
    return m.stdin_left > 0;
}

static void on_close_stdin(void)
{
    m.stdin_close_asked = 1;
    if (!m.stdin_left)
        stdin_close();
}

static void on_resize(unsigned short rows, unsigned short cols)
{
    struct winsize ws = { .ws_row = rows, .ws_col = cols };
    /* Without a terminal there is nothing to resize; a failed ioctl leaves the old size, which the client sees. */
    if (m.terminal && m.out_fd >= 0)
        (void)!ioctl(m.out_fd, TIOCSWINSZ, &ws);
}

static int on_reopen_log(void)
{
    return log_reopen(&m.log);
}

static const struct attach_ops ops = {
    .stdin_data = on_stdin_data, .stdin_busy = on_stdin_busy, .close_stdin = on_close_stdin,
    .resize = on_resize, .reopen_log = on_reopen_log,
};

/* ---- output ---- */

/* One read of a stream into the log and to the clients: the bytes read, 0 if there were none, -1 at its end (EOF;
 * EIO on a master whose slave side is closed everywhere, pty(7)). */
static ssize_t pump(int fd, enum frame_type type)
{
    ssize_t n = read(fd, out_buf, sizeof out_buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0)
        return -1;
    log_write(&m.log, type == FRAME_STDERR ? "stderr" : "stdout", out_buf, (size_t)n);
    attach_broadcast(type, out_buf, (size_t)n);
    return n;
}

static void close_output(int *fd)
{
    if (*fd == m.stdin_fd && m.terminal)
        m.stdin_fd = -1, m.stdin_open = 0;
    close(*fd);
    *fd = -1;
}

/* After the exit: what the pipe or the pty holds, up to a bound, since a process the container left behind (with
 * no pid namespace of its own) may keep writing forever. A read of a master flushes what the slave wrote before
 * it reports EAGAIN or EIO (n_tty_read), so nothing written before the exit is lost. */
#define DRAIN_MAX (1 << 20)

static void drain(int *fd, enum frame_type type)
{
    if (*fd < 0)
        return;
    ssize_t n;
    for (size_t total = 0; total < DRAIN_MAX && (n = pump(*fd, type)) > 0; total += (size_t)n)
        ;
    close_output(fd);
}

/* ---- the exit ---- */

/* The `oom_kill N` line of memory.oom_control (v1) or memory.events (v2); -1 if unreadable. */
static long long oom_kills(void)
{
    char buf[512];
    if (m.oom_fd < 0)
        return -1;
    ssize_t n = pread(m.oom_fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    for (char *line = buf; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (!strncmp(line, "oom_kill ", 9))
            return strtoll(line + 9, NULL, 10);
    return -1;
}

static void reap(void)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == m.child) {
            m.exited = 1;
            m.status = status;
            clock_gettime(CLOCK_REALTIME, &m.finished);
        }
        /* Anything else was reparented to us as the subreaper, or is the helper that cloned the container. */
    }
}

/* temp + fsync + rename + fsync of the directory: the file is either absent or whole, also after a crash. */
static int write_exit_file(const char *body, size_t len)
{
    size_t plen = strlen(m.exit_file);
    char *tmp = malloc(plen + 5), *dir = strdup(m.exit_file);
    if (!tmp || !dir) {
        free(tmp);
        free(dir);
        return -ENOMEM;
    }
    snprintf(tmp, plen + 5, "%s.tmp", m.exit_file);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        slash[1] = 0;
    else if (slash)
        *slash = 0;
    int r = 0, fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0 || write(fd, body, len) != (ssize_t)len || fsync(fd) < 0)
        r = -errno;
    if (fd >= 0 && close(fd) < 0 && !r)
        r = -errno;
    if (!r && rename(tmp, m.exit_file) < 0)
        r = -errno;
    if (r)
        (void)!unlink(tmp);
    int dfd = r ? -1 : open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        if (fsync(dfd) < 0)
            r = -errno;
        close(dfd);
    }
    free(tmp);
    free(dir);
    return r;
}

/* The exit command, detached: its own session, stdio on /dev/null, default signals. We do not wait for it. */
static void run_exit_command(char **argv, char **envp)
{
    if (!argv[0])
        return;
    pid_t pid = fork();
    if (pid != 0)
        return; /* started, or fork failed: either way nothing is left for us to do */
    sigset_t none;
    sigemptyset(&none);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (setsid() < 0 || sigprocmask(SIG_SETMASK, &none, NULL) < 0 || signal(SIGPIPE, SIG_DFL) == SIG_ERR ||
        null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
        _exit(127);
    execve(argv[0], argv, envp);
    _exit(127);
}

/* The whole of a small file, NUL-terminated: its length, or -1. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = 0;
    return n;
}

/*
 * Whether the exit owner file names a live process: `PID STARTTIME`, the start time as field 22 of /proc/PID/stat
 * (proc(5)), so a recycled pid is not taken for its owner. That process waits for this exit and takes down the run
 * itself (a `skiff stop`, a `skiff run` in the foreground), and the exit command would only race it.
 */
static int exit_owner_alive(void)
{
    char text[64], path[32], stat[1024];
    if (!m.exit_owner[0] || read_small(m.exit_owner, text, sizeof text) <= 0)
        return 0;
    long pid = 0;
    char start[32] = "";
    if (sscanf(text, "%ld %31s", &pid, start) != 2 || pid <= 0)
        return 0;
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    if (read_small(path, stat, sizeof stat) <= 0)
        return 0;
    /* The fields after the command name, which may hold spaces and parentheses: state is field 3. */
    char *p = strrchr(stat, ')');
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    if (!p)
        return 0;
    size_t len = strcspn(p + 1, " ");
    return len == strlen(start) && !strncmp(p + 1, start, len);
}

/* The "r" of the `ready` step, if it is there (it may arrive in the same poll round as the container's exit). */
static void read_ready(void)
{
    char r;
    if (m.sync_fd < 0)
        return;
    ssize_t n = recv(m.sync_fd, &r, 1, MSG_DONTWAIT);
    if (n == 1)
        m.ready = 1;
    if (n >= 0 || (errno != EAGAIN && errno != EINTR)) {
        close(m.sync_fd);
        m.sync_fd = -1;
    }
}

static void __attribute__((noreturn)) finish(char **exit_argv, char **envp)
{
    if (m.attach_path[0])
        (void)!unlink(m.attach_path); /* no new clients: the container is gone */
    read_ready();
    /* A create that failed (the process died before its `ready` step) has no exit: the runtime reports the
     * failure, and the exit command, which is for containers that existed, must not run. */
    if (!m.ready)
        _exit(1);
    attach_final();
    drain(&m.out_fd, FRAME_STDOUT);
    drain(&m.err_fd, FRAME_STDERR);
    if (m.stdin_fd >= 0)
        stdin_close();

    long long ooms = oom_kills();
    int oom = m.oom_start >= 0 && ooms > m.oom_start;
    char when[TIME_LEN], body[256];
    format_time(when, &m.finished);
    int st = m.status;
    int len = snprintf(body, sizeof body,
                       "{\"status\":%d,\"exitCode\":%d,\"signal\":%d,\"oomKilled\":%s,\"finishedAt\":\"%s\"}\n", st,
                       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), WIFSIGNALED(st) ? WTERMSIG(st) : 0,
                       oom ? "true" : "false", when);
    /* Without an exit file the engine reports the exit as unknown; the exit command still has to run. */
    if (m.exit_file[0])
        (void)!write_exit_file(body, (size_t)len);
    attach_close_all(body, (size_t)len - 1);
    if (m.log.fd >= 0)
        close(m.log.fd);
    if (!exit_owner_alive())
        run_exit_command(exit_argv, envp);
    _exit(0);
}

/* ---- start-up and the loop ---- */

static int parse_fd(const char *s, int *fd)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || end == s || v < -1 || v > 1 << 20)
        return -1;
    *fd = (int)v;
    /* Every fd we hold is close-on-exec again: the exit command gets none of them. */
    return v < 0 || fcntl((int)v, F_SETFD, FD_CLOEXEC) == 0 ? 0 : -1;
}

static int set_nonblock(int fd)
{
    int fl = fd < 0 ? 0 : fcntl(fd, F_GETFL);
    return fd < 0 || (fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0) ? 0 : -1;
}

/* Everything that can fail before the container runs; 0 or an errno, which goes back to the helper. */
static int setup(int argc, char **argv, int *listen_fd, int *log_fd)
{
    if (argc < A_EXIT_COMMAND)
        return EINVAL;
    int stdin_fd, out_fd, err_fd;
    char *end1, *end2;
    unsigned long long max_size = strtoull(argv[A_LOG_MAX_SIZE], &end1, 10);
    unsigned long max_files = strtoul(argv[A_LOG_MAX_FILES], &end2, 10);
    if (parse_fd(argv[A_LOG_FD], log_fd) || parse_fd(argv[A_LISTEN_FD], listen_fd) ||
        parse_fd(argv[A_OOM_FD], &m.oom_fd) || parse_fd(argv[A_STDIN_FD], &stdin_fd) ||
        parse_fd(argv[A_STDOUT_FD], &out_fd) || parse_fd(argv[A_STDERR_FD], &err_fd) ||
        parse_fd(argv[A_CONSOLE_FD], &m.console_fd) || *end1 || *end2)
        return EINVAL;
    m.stdin_open = argv[A_STDIN][0] == '1';
    m.terminal = m.console_fd >= 0;
    m.stdin_fd = stdin_fd;
    m.out_fd = out_fd;
    m.err_fd = err_fd;
    m.exit_file = argv[A_EXIT_FILE];
    m.attach_path = argv[A_ATTACH_PATH];
    m.exit_owner = argv[A_EXIT_OWNER];
    int r = log_init(&m.log, argv[A_LOG_PATH], *log_fd, max_size, (unsigned)max_files);
    if (r < 0)
        return -r;
    if (set_nonblock(stdin_fd) || set_nonblock(out_fd) || set_nonblock(err_fd))
        return errno;
    /* Orphans of the container (with no pid namespace of its own) are reparented to us and reaped
     * (PR_SET_CHILD_SUBREAPER, prctl(2)); so is the container itself once the helper that cloned it exits. */
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0 || chdir("/") < 0)
        return errno;
    /* A client or a container that went away must not kill us with SIGPIPE. */
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
        return errno;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
        sigaddset(&set, forwarded[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 || (m.sfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0)
        return errno;
    m.oom_start = oom_kills();
    return 0;
}

int monitor_main(int argc, char **argv, char **envp)
{
    /* First of all: no process of a container may ptrace us or open our /proc/PID files (exe is the binary on
     * disk), which non-dumpable processes allow only to CAP_SYS_PTRACE in our user namespace (ptrace(2)). */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
        return 2;
    int sync_fd, listen_fd = -1, log_fd = -1;
    if (argc <= A_SYNC || parse_fd(argv[A_SYNC], &sync_fd) || sync_fd < 0) {
        fprintf(stderr, "skiff-init monitor: started by hand? It is run by the `monitor` step (docs/monitor.md)\n");
        return 2;
    }
    int err = setup(argc, argv, &listen_fd, &log_fd);
    /* The helper's child waits for this before it clones the container: until then nothing of the container runs. */
    ssize_t got = -1;
    if (send(sync_fd, &err, sizeof err, MSG_NOSIGNAL) == sizeof err && !err)
        got = recv(sync_fd, &m.child, sizeof m.child, MSG_WAITALL);
    m.sync_fd = sync_fd;
    if (got != sizeof m.child) {
        /* We could not start, or the plan failed before clone: there is no container to watch. */
        if (argc > A_ATTACH_PATH && argv[A_ATTACH_PATH][0])
            (void)!unlink(argv[A_ATTACH_PATH]);
        return 1;
    }
    attach_init(listen_fd, &ops);

    int nfds = 6 + attach_max_fds();
    struct pollfd fds[nfds];
    while (!m.exited) {
        int busy = attach_busy();
        /* While a client still takes the last output, no new output is read: the pipe holds it, the container
         * waits once it is full (as with docker attach), and the log stays in order with what clients see. */
        fds[0] = (struct pollfd){ .fd = m.sfd, .events = POLLIN };
        fds[1] = (struct pollfd){ .fd = busy ? -1 : m.out_fd, .events = POLLIN };
        fds[2] = (struct pollfd){ .fd = busy ? -1 : m.err_fd, .events = POLLIN };
        fds[3] = (struct pollfd){ .fd = m.console_fd, .events = POLLIN };
        fds[4] = (struct pollfd){ .fd = m.stdin_left ? m.stdin_fd : -1, .events = POLLOUT };
        fds[5] = (struct pollfd){ .fd = m.sync_fd, .events = POLLIN };
        int n = 6 + attach_poll_fds(fds + 6);
        if (poll(fds, (nfds_t)n, -1) < 0) {
            if (errno == EINTR)
                continue;
            break; /* cannot happen with valid fds; the exit is still recorded below */
        }
        if (fds[0].revents & POLLIN) {
            struct signalfd_siginfo si;
            if (read(m.sfd, &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGCHLD)
                    reap();
                else
                    (void)!kill(m.child, (int)si.ssi_signo);
            }
        }
        if (fds[1].revents && pump(m.out_fd, FRAME_STDOUT) < 0)
            close_output(&m.out_fd);
        if (fds[2].revents && !attach_busy() && pump(m.err_fd, FRAME_STDERR) < 0)
            close_output(&m.err_fd);
        if (fds[3].revents) {
            int master = recv_fd(m.console_fd);
            close(m.console_fd);
            m.console_fd = -1;
            if (master >= 0 && set_nonblock(master) == 0) {
                m.out_fd = master;
                if (m.stdin_open)
                    m.stdin_fd = master;
            } else if (master >= 0) {
                close(master);
            }
        }
        if (fds[4].revents)
            stdin_flush();
        if (fds[5].revents)
            read_ready();
        attach_handle(fds + 6, n - 6);
    }
    if (!m.exited) {
        /* poll failed: wait for the container in the plain way, so its exit is still recorded. */
        while (waitpid(m.child, &m.status, 0) < 0 && errno == EINTR)
            ;
        clock_gettime(CLOCK_REALTIME, &m.finished);
    }
    finish(argv + A_EXIT_COMMAND, envp);
}
