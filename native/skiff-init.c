/*
 * skiff-init: runs a launch plan computed by the TypeScript runtime (docs/launch-plan.md).
 * It decides nothing: it parses the plan, runs each step in order, and reports a failing step as data.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "skiff-init.h"

static void __attribute__((noreturn)) fail(int index, int err, const char *text)
{
    chan_send("error %d %d %s %s\n", index, err, failed_syscall ? failed_syscall : "-", text ? text : "");
    /*
     * After `start` let us go, the runtime no longer reads the channel: it reads the exec fifo once we are gone or
     * have executed the program, so a step that fails then (a startContainer hook, the exec itself) says why there.
     * One write of at most PIPE_BUF bytes is atomic on a fifo (pipe(7)).
     */
    if (g.fifo_released && g.fifo_fd >= 0) {
        char line[512];
        int n = snprintf(line, sizeof line, "error %d %d %s %s\n", index, err, failed_syscall ? failed_syscall : "-", text ? text : "");
        if (n > 0)
            (void)!write(g.fifo_fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
    }
    if (g.chan < 0)
        fprintf(stderr, "skiff-init: step %d: %s: %s\n", index, strerror(err), text ? text : "");
    _exit(1);
}

/* ---- reading the channel ---- */

/* Waits for the runtime's `go` line. */
static int read_go(void)
{
    char line[8];
    size_t n = 0;
    while (n < sizeof line) {
        if (read_full(g.chan, &line[n], 1) < 0)
            return -1;
        if (line[n++] == '\n')
            break;
    }
    return (n == 3 && memcmp(line, "go\n", 3) == 0) ? 0 : -1;
}

/* ---- parsing the plan ---- */

/* Parses one netstring at *p (bounded by end); returns its content and advances *p. */
static char *take_netstring(char **p, char *end, size_t *len)
{
    char *q = *p;
    size_t n = 0;
    if (q >= end || *q < '0' || *q > '9')
        return NULL;
    while (q < end && *q >= '0' && *q <= '9')
        n = n * 10 + (*q++ - '0');
    if (q >= end || *q != ':' || (size_t)(end - q - 1) < n + 1 || q[1 + n] != ',')
        return NULL;
    *len = n;
    *p = q + 2 + n;
    return q + 1;
}

struct plan_step {
    char *op;
    struct step s;
};

static struct plan_step *parse_plan(char *payload, size_t len, int *count)
{
    char *p = payload, *end = payload + len;
    int cap = 64, n = 0;
    struct plan_step *steps = calloc(cap, sizeof *steps);
    while (steps && p < end) {
        size_t slen;
        char *body = take_netstring(&p, end, &slen);
        if (!body)
            return NULL;
        if (n == cap && !(steps = realloc(steps, (cap *= 2) * sizeof *steps)))
            return NULL;
        char *q = body, *bend = body + slen;
        int fcap = 8, fn = 0;
        char **fields = malloc(fcap * sizeof *fields);
        size_t *lens = malloc(fcap * sizeof *lens);
        while (q < bend) {
            size_t flen;
            char *f = take_netstring(&q, bend, &flen);
            if (!f || !fields || !lens)
                return NULL;
            if (fn + 1 >= fcap) {
                fcap *= 2;
                fields = realloc(fields, fcap * sizeof *fields);
                lens = realloc(lens, fcap * sizeof *lens);
                if (!fields || !lens)
                    return NULL;
            }
            fields[fn] = strndup(f, flen);
            lens[fn++] = flen;
        }
        if (fn == 0)
            return NULL;
        fields[fn] = NULL;
        steps[n].op = fields[0];
        steps[n].s = (struct step){ .index = n, .argc = fn - 1, .argv = fields + 1, .lens = lens + 1 };
        n++;
    }
    *count = n;
    return steps;
}

/* ---- steps run here (namespace and protocol steps); the rest live in their own files ---- */

static int op_setns(const struct step *s)
{
    int err = 0;
    int nstype = (int)arg_i64(s, 1, &err);
    if (err)
        return err;
    int fd = open(s->argv[0], O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        set_detail("open %s", s->argv[0]);
        return -errno;
    }
    /* setns(2): joining a user namespace must come before the others, which it then owns (the plan's order). */
    int r = setns(fd, nstype);
    int e = errno;
    close(fd);
    return r < 0 ? -e : 0;
}

static int op_unshare(const struct step *s)
{
    int err = 0;
    int flags = (int)arg_i64(s, 0, &err);
    if (err)
        return err;
    return unshare(flags) < 0 ? -errno : 0;
}

static int op_sync(const struct step *s)
{
    chan_send("sync %s\n", s->argv[0]);
    if (read_go() < 0) {
        set_detail("the runtime went away at sync point %s", s->argv[0]);
        return -EPIPE;
    }
    return 0;
}

static int op_ready(const struct step *s)
{
    (void)s;
    /* The monitor first: it writes an exit file and runs the exit command only for a container that got this far,
     * never for a create that failed (docs/monitor.md "How it starts"). */
    if (g.monitor_sync >= 0) {
        if (send(g.monitor_sync, "r", 1, MSG_NOSIGNAL) != 1) {
            set_detail("tell the monitor the container is ready");
            return -errno;
        }
        close(g.monitor_sync);
        g.monitor_sync = -1;
    }
    chan_send("ready\n");
    return 0;
}

/*
 * The fifo's host path cannot be reached once the root has changed, so it is opened now, for reading and writing:
 * fifo(7) says that never blocks on Linux. exec-wait then reads from it, which needs no /proc (a container without a
 * mount namespace has none), and the fd is the fifo itself: no directory of the host that chdir could enter
 * (CVE-2024-21626).
 */
static int op_exec_fifo(const struct step *s)
{
    g.fifo_fd = open(s->argv[0], O_RDWR | O_CLOEXEC);
    return g.fifo_fd < 0 ? sys_fail("openat", "open the exec fifo %s", s->argv[0]) : 0;
}

/*
 * Blocks until `start` writes a byte into the fifo (we hold a writer too, so read(2) waits instead of seeing EOF).
 * The fifo then stays open, close-on-exec, for a later step's error (fail()).
 */
static int op_exec_wait(const struct step *s)
{
    (void)s;
    if (g.fifo_fd < 0) {
        set_detail("exec-wait without exec-fifo");
        return -EINVAL;
    }
    char c;
    ssize_t n;
    do
        n = read(g.fifo_fd, &c, 1);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return sys_fail("read", "read the exec fifo");
    if (n != 1)
        return -EPIPE;
    g.fifo_released = 1;
    return 0;
}

struct op_def {
    const char *name;
    int nargs; /* -1: variadic, checked by the op */
    int (*fn)(const struct step *);
};

static const struct op_def ops[] = {
    { "setns", 2, op_setns },           { "unshare", 1, op_unshare },
    { "write", 2, op_write },           { "monitor", -1, op_monitor },
    { "cgroup-open", 1, op_cgroup_open }, { "cgroup-join", 0, op_cgroup_join },
    { "mkfifo", 2, op_mkfifo },         { "sync", 1, op_sync },
    { "bpf-devices", 2, op_bpf_devices }, { "umount", 2, op_umount },
    { "setsid", 0, op_setsid },         { "hostname", 1, op_hostname },
    { "domainname", 1, op_domainname }, { "mount", 5, op_mount },
    { "loopback-up", 0, op_loopback_up },
    { "mount-in", 6, op_mount_in },     { "mkdir-in", 3, op_mkdir_in },
    { "touch-in", 3, op_touch_in },     { "pivot-root", 1, op_pivot_root },
    { "move-root", 1, op_move_root },   { "chroot", 1, op_chroot },
    { "holder-propagation", 2, op_holder_propagation }, { "mknod", 6, op_mknod },
    { "symlink", 2, op_symlink },       { "mask", 1, op_mask },
    { "readonly", 1, op_readonly },     { "chdir", 1, op_chdir },
    { "umask", 1, op_umask },           { "rlimit", 3, op_rlimit },
    { "keyring", 1, op_keyring },       { "console-connect", 1, op_console_connect },
    { "console", 2, op_console },       { "user", 3, op_user },
    { "keepcaps", 1, op_keepcaps },     { "capbset", 1, op_capbset },
    { "capset", 4, op_capset },         { "no-new-privs", 0, op_no_new_privs },
    { "personality", 1, op_personality }, { "ioprio", 1, op_ioprio },
    { "sched", 7, op_sched },           { "seccomp-init", 1, op_seccomp_init },
    { "seccomp-arch", 1, op_seccomp_arch }, { "seccomp-rule", -1, op_seccomp_rule },
    { "seccomp-load", 3, op_seccomp_load }, { "seccomp-connect", 1, op_seccomp_connect },
    { "hook", -1, op_hook },
    { "exec-fifo", 1, op_exec_fifo },   { "exec-wait", 0, op_exec_wait },
    { "close-fds", 1, op_close_fds },   { "resolve-exec", 2, op_resolve_exec },
    { "ready", 0, op_ready },           { "exec", -1, op_exec },
    { "mknod-in", 8, op_mknod_in },     { "xattr-in", 4, op_xattr_in },
    { "link-in", 3, op_link_in },       { "oci-create", -1, op_oci_create },
    { "oci-exec", -1, op_oci_exec },
};

static const struct op_def *find_op(const char *name)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (strcmp(ops[i].name, name) == 0)
            return &ops[i];
    return NULL;
}

static void run_step(const struct plan_step *ps)
{
    const struct op_def *def = find_op(ps->op);
    if (!def)
        fail(ps->s.index, EINVAL, "unknown op");
    if (def->nargs >= 0 && ps->s.argc != def->nargs) {
        set_detail("%s takes %d arguments, got %d", ps->op, def->nargs, ps->s.argc);
        fail(ps->s.index, EINVAL, detail);
    }
    detail[0] = 0;
    failed_syscall = NULL;
    int r = def->fn(&ps->s);
    if (r < 0)
        fail(ps->s.index, -r, detail);
}

/* ---- clone and the parent's role after it ---- */

enum parent_mode { PM_EXIT, PM_WAIT, PM_MONITOR };

/* Runs `clone`. Returns only in the child; the parent takes its role (parent mode) and exits. */
static void run_clone(const struct plan_step *ps, int uses_proxy)
{
    const struct step *s = &ps->s;
    failed_syscall = NULL;
    int err = 0;
    unsigned long flags = arg_u64(s, 0, &err);
    if (err)
        fail(s->index, EINVAL, detail);
    enum parent_mode mode;
    if (!strcmp(s->argv[1], "exit"))
        mode = PM_EXIT;
    else if (!strcmp(s->argv[1], "wait"))
        mode = PM_WAIT;
    else if (!strcmp(s->argv[1], "monitor"))
        mode = PM_MONITOR;
    else
        fail(s->index, EINVAL, "parent mode must be exit, wait or monitor");

    if (mode == PM_MONITOR && g.monitor_sync < 0)
        fail(s->index, EINVAL, "parent mode monitor needs a monitor step before clone");
    if (uses_proxy && mode == PM_WAIT && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, g.proxy_fd) < 0)
        fail(s->index, errno, "socketpair");

    /*
     * A waiting parent blocks the signals it forwards (and SIGCHLD) before the child exists: a SIGCHLD arriving
     * between clone and signalfd would otherwise be discarded (its default action is to ignore it, signal(7)) and
     * the parent would wait forever. The child restores the mask at once.
     */
    sigset_t saved;
    int sfd = -1;
    if (mode == PM_WAIT && (sfd = parent_signals(&saved)) < 0)
        fail(s->index, -sfd, "signalfd");

    /* A fork-like clone (no new stack): the child returns here with 0, in the namespaces named by flags. */
    pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid < 0)
        fail(s->index, errno, "clone");
    if (pid == 0) {
        if (sfd >= 0) {
            close(sfd);
            if (sigprocmask(SIG_SETMASK, &saved, NULL) < 0)
                fail(s->index, errno, "sigprocmask");
        }
        if (g.proxy_fd[0] >= 0)
            close(g.proxy_fd[0]);
        /* The runtime answers `pid` with the state JSON once it wrote the id maps and the cgroup. */
        if (read_pid_answer() < 0)
            fail(s->index, EPIPE, "the runtime went away before the container started");
        return;
    }
    if (mode == PM_MONITOR) {
        /* The monitor learns the pid before the runtime does, so before the container can go on; then we exit and
         * the container is reparented to the monitor, its subreaper. */
        if (send(g.monitor_sync, &pid, sizeof pid, MSG_NOSIGNAL) != sizeof pid) {
            kill(pid, SIGKILL);
            fail(s->index, errno, "the monitor went away");
        }
        chan_send("pid %d\n", pid);
        _exit(0);
    }
    chan_send("pid %d\n", pid);
    if (g.proxy_fd[1] >= 0)
        close(g.proxy_fd[1]);
    if (mode == PM_EXIT)
        _exit(0);
    _exit(parent_wait(pid, g.proxy_fd[0], sfd));
}

/* ---- start-up ---- */

/*
 * CVE-2019-5736: a container process that can reach our binary through /proc/PID/exe could overwrite it on the
 * host. We run from a sealed memfd copy instead, so the file the container could reach is read-only and private.
 */
static int ensure_sealed_copy(char **argv, char **envp)
{
    int self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (self < 0)
        return -errno;
    int seals = fcntl(self, F_GET_SEALS);
    if (seals >= 0 && (seals & F_SEAL_WRITE)) {
        close(self);
        return 0;
    }
    struct stat st;
    if (fstat(self, &st) < 0)
        return -errno;
    int mfd = memfd_create("skiff-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (mfd < 0)
        return -errno;
    off_t off = 0;
    while (off < st.st_size) {
        ssize_t n = sendfile(mfd, self, &off, st.st_size - off);
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
    }
    close(self);
    /* F_SEAL_WRITE waits for the pages' extra references to go (the kernel's memfd_wait_for_pins), and gives EBUSY
     * when one outlasts its short wait: under load, pages just written can still be held a moment longer (seen
     * once in a pod cycle). The seal goes on at a later try. */
    int sealed, tries = 0;
    while ((sealed = fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)) < 0 &&
           errno == EBUSY && ++tries < 20)
        usleep(1000);
    if (sealed < 0)
        return -errno;
    fexecve(mfd, argv, envp);
    return -errno;
}

static int plan_uses_proxy(const struct plan_step *steps, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(steps[i].op, "console-connect") && steps[i].s.argv[0][0] == 0)
            return 1;
    return 0;
}

int init_main(const char *chan_arg)
{
    char *end;
    long chan = strtol(chan_arg, &end, 10);
    if (*end || chan < 3) {
        fprintf(stderr, "skiff-init: bad channel fd \"%s\"\n", chan_arg);
        return 2;
    }
    g.chan = (int)chan;
    /* Only stdio, the preserved fds and the channel are ours to pass on: close whatever else our caller leaked. */
    int r = fds_from((unsigned)g.chan + 1, 0);
    if (r < 0) {
        fprintf(stderr, "skiff-init: close the fds we were not given: %s: %s\n", detail, strerror(-r));
        return 2;
    }
    if (fcntl(g.chan, F_SETFD, FD_CLOEXEC) < 0) {
        fprintf(stderr, "skiff-init: channel fd %d: %s\n", g.chan, strerror(errno));
        return 2;
    }
    size_t len;
    char *payload = read_netstring(g.chan, &len);
    if (!payload)
        fail(-1, EINVAL, "no plan on the channel");
    int n = 0;
    struct plan_step *steps = parse_plan(payload, len, &n);
    if (!steps)
        fail(-1, EINVAL, "malformed plan");
    int uses_proxy = plan_uses_proxy(steps, n);
    for (int i = 0; i < n; i++) {
        if (!strcmp(steps[i].op, "clone")) {
            if (steps[i].s.argc != 2)
                fail(i, EINVAL, "clone takes 2 arguments");
            run_clone(&steps[i], uses_proxy);
            continue;
        }
        run_step(&steps[i]);
    }
    return 0;
}

int main(int argc, char **argv, char **envp)
{
    /* The monitor is executed from the binary on disk, whose pages every monitor shares (docs/monitor.md "Memory");
     * it never runs inside a container and makes itself non-dumpable before the container can run. */
    if (argc >= 2 && !strcmp(argv[1], "monitor"))
        return monitor_main(argc, argv, envp);
    int r = ensure_sealed_copy(argv, envp);
    if (r < 0) {
        fprintf(stderr, "skiff-init: cannot run from a sealed copy of itself: %s\n", strerror(-r));
        return 2;
    }
    /* Non-dumpable: other processes in the container cannot ptrace us or open our /proc/PID files. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
        fprintf(stderr, "skiff-init: PR_SET_DUMPABLE: %s\n", strerror(errno));
        return 2;
    }
    if (argc == 3 && !strcmp(argv[1], "init"))
        return init_main(argv[2]);
    if (argc == 2 && !strcmp(argv[1], "pause"))
        return pause_main();
    if (argc == 3 && !strcmp(argv[1], "zygote"))
        return zygote_main(argv[2], init_main);
    fprintf(stderr, "usage: skiff-init init CHANNEL_FD | skiff-init pause | skiff-init zygote SOCKET\n");
    return 2;
}
