/* Identity, privileges, limits, and the final exec of the container process. */
#include <errno.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <linux/types.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <grp.h>
#include <unistd.h>

#include "skiff-init.h"

#define IOPRIO_WHO_PROCESS 1

/* sched_setattr(2)'s argument; glibc has no wrapper, and <linux/sched/types.h> clashes with <sched.h>. */
struct sched_attr {
    __u32 size;
    __u32 sched_policy;
    __u64 sched_flags;
    __s32 sched_nice;
    __u32 sched_priority;
    __u64 sched_runtime;
    __u64 sched_deadline;
    __u64 sched_period;
};

int op_user(const struct step *s)
{
    int err = 0;
    uid_t uid = (uid_t)arg_u64(s, 0, &err);
    gid_t gid = (gid_t)arg_u64(s, 1, &err);
    if (err)
        return err;
    gid_t gids[256];
    size_t n = 0;
    for (char *p = s->argv[2]; *p;) {
        char *end;
        if (n == sizeof gids / sizeof gids[0]) {
            set_detail("more than %zu additional gids", n);
            return -E2BIG;
        }
        gids[n++] = (gid_t)strtoul(p, &end, 10);
        if (end == p || (*end && *end != ',')) {
            set_detail("bad gid list \"%s\"", s->argv[2]);
            return -EINVAL;
        }
        p = *end ? end + 1 : end;
    }
    if (setgroups(n, gids) < 0)
        return sys_fail("setgroups", NULL);
    if (setresgid(gid, gid, gid) < 0)
        return sys_fail("setresgid", "setresgid %u", gid);
    if (setresuid(uid, uid, uid) < 0)
        return sys_fail("setresuid", "setresuid %u", uid);
    return 0;
}

int op_keepcaps(const struct step *s)
{
    int err = 0;
    unsigned long on = arg_u64(s, 0, &err);
    if (err)
        return err;
    return prctl(PR_SET_KEEPCAPS, on, 0, 0, 0) < 0 ? sys_fail("prctl", "prctl(PR_SET_KEEPCAPS)") : 0;
}

static int last_cap(void)
{
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
    int last = CAP_LAST_CAP;
    if (f) {
        if (fscanf(f, "%d", &last) != 1)
            last = CAP_LAST_CAP;
        fclose(f);
    }
    return last;
}

int op_capbset(const struct step *s)
{
    int err = 0;
    unsigned long long keep = arg_u64(s, 0, &err);
    if (err)
        return err;
    int last = last_cap();
    for (int cap = 0; cap <= last && cap < 64; cap++) {
        if (keep & (1ULL << cap))
            continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            return sys_fail("prctl", "prctl(PR_CAPBSET_DROP, %d)", cap);
    }
    return 0;
}

int op_capset(const struct step *s)
{
    int err = 0;
    unsigned long long eff = arg_u64(s, 0, &err), perm = arg_u64(s, 1, &err);
    unsigned long long inh = arg_u64(s, 2, &err), amb = arg_u64(s, 3, &err);
    if (err)
        return err;
    struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
    struct __user_cap_data_struct data[2] = {
        { .effective = (__u32)eff, .permitted = (__u32)perm, .inheritable = (__u32)inh },
        { .effective = (__u32)(eff >> 32), .permitted = (__u32)(perm >> 32), .inheritable = (__u32)(inh >> 32) },
    };
    if (syscall(SYS_capset, &hdr, data) < 0)
        return sys_fail("capset", NULL);
    /* capabilities(7): an ambient capability must also be permitted and inheritable, which the plan ensures. */
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return sys_fail("prctl", "prctl(PR_CAP_AMBIENT_CLEAR_ALL)");
    for (int cap = 0; cap < 64; cap++) {
        if (!(amb & (1ULL << cap)))
            continue;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
            return sys_fail("prctl", "prctl(PR_CAP_AMBIENT_RAISE, %d)", cap);
    }
    return 0;
}

int op_no_new_privs(const struct step *s)
{
    (void)s;
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? sys_fail("prctl", "prctl(PR_SET_NO_NEW_PRIVS)") : 0;
}

int op_rlimit(const struct step *s)
{
    int err = 0;
    int res = (int)arg_u64(s, 0, &err);
    struct rlimit rl = { .rlim_cur = arg_u64(s, 1, &err), .rlim_max = arg_u64(s, 2, &err) };
    if (err)
        return err;
    return prlimit(0, res, &rl, NULL) < 0 ? sys_fail("prlimit64", NULL) : 0;
}

int op_umask(const struct step *s)
{
    int err = 0;
    mode_t m = (mode_t)arg_u64(s, 0, &err);
    if (err)
        return err;
    umask(m);
    return 0;
}

int op_chdir(const struct step *s)
{
    return chdir(s->argv[0]) < 0 ? sys_fail("chdir", NULL) : 0;
}

int op_setsid(const struct step *s)
{
    (void)s;
    return setsid() < 0 ? sys_fail("setsid", NULL) : 0;
}

int op_hostname(const struct step *s)
{
    return sethostname(s->argv[0], s->lens[0]) < 0 ? sys_fail("sethostname", NULL) : 0;
}

/*
 * Brings `lo` up in our network namespace: the one interface a new namespace has, and down (network_namespaces(7)).
 * Two ioctls on any socket of the namespace (netdevice(7)), no netlink needed.
 */
int op_loopback_up(const struct step *s)
{
    (void)s;
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return sys_fail("socket", "a socket to bring lo up");
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, "lo");
    int r = 0;
    if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
        r = sys_fail("ioctl", "SIOCGIFFLAGS lo");
    else if (!(ifr.ifr_flags & IFF_UP)) {
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
            r = sys_fail("ioctl", "SIOCSIFFLAGS lo");
    }
    close(fd);
    return r;
}

int op_domainname(const struct step *s)
{
    return setdomainname(s->argv[0], s->lens[0]) < 0 ? sys_fail("setdomainname", NULL) : 0;
}

/*
 * A new (or, by name, the existing) session keyring. The kernel creates it with no search permission for its
 * owner user (keyrings(7)), so a later `exec` could not find it by name and would make a second one: add
 * KEY_USR_SEARCH as runc does.
 */
int op_keyring(const struct step *s)
{
    long id = syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, s->argv[0]);
    if (id < 0) {
        /* Kernels without keyring support: nothing to isolate. */
        if (errno == ENOSYS)
            return 0;
        return -errno;
    }
    char desc[256];
    long n = syscall(SYS_keyctl, KEYCTL_DESCRIBE, id, desc, sizeof desc);
    if (n < 0)
        return -errno;
    desc[sizeof desc - 1] = 0;
    /* "type;uid;gid;perm;description", perm in hex. */
    const char *p = desc;
    for (int field = 0; field < 3 && p; field++) {
        p = strchr(p, ';');
        if (p)
            p++;
    }
    if (!p)
        return -EPROTO;
    unsigned long perm = strtoul(p, NULL, 16);
    if (syscall(SYS_keyctl, KEYCTL_SETPERM, id, perm | 0x00080000UL) < 0)
        return -errno;
    return 0;
}

int op_personality(const struct step *s)
{
    int err = 0;
    unsigned long p = arg_u64(s, 0, &err);
    if (err)
        return err;
    return personality(p) < 0 ? sys_fail("personality", NULL) : 0;
}

int op_ioprio(const struct step *s)
{
    int err = 0;
    int v = (int)arg_u64(s, 0, &err);
    if (err)
        return err;
    return syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, v) < 0 ? sys_fail("ioprio_set", NULL) : 0;
}

int op_sched(const struct step *s)
{
    int err = 0;
    struct sched_attr attr = {
        .size = sizeof attr,
        .sched_policy = (__u32)arg_u64(s, 0, &err),
        .sched_flags = arg_u64(s, 1, &err),
        .sched_nice = (__s32)arg_i64(s, 2, &err),
        .sched_priority = (__u32)arg_u64(s, 3, &err),
        .sched_runtime = arg_u64(s, 4, &err),
        .sched_deadline = arg_u64(s, 5, &err),
        .sched_period = arg_u64(s, 6, &err),
    };
    if (err)
        return err;
    return syscall(SYS_sched_setattr, 0, &attr, 0) < 0 ? sys_fail("sched_setattr", NULL) : 0;
}

/* Every fd from `first` on is closed by execve: nothing of ours leaks into the container (CVE-2024-21626). */
int op_close_fds(const struct step *s)
{
    int err = 0;
    unsigned first = (unsigned)arg_u64(s, 0, &err);
    if (err)
        return err;
    return fds_from(first, 1);
}

/* The system calls glibc makes for stat(2) and access(2) here, named in errors. */
#ifdef SYS_newfstatat
#define STAT_SYSCALL "newfstatat"
#else
#define STAT_SYSCALL "fstatat64"
#endif
#ifdef SYS_access
#define ACCESS_SYSCALL "access"
#else
#define ACCESS_SYSCALL "faccessat"
#endif

/*
 * access(2), not faccessat(2): since glibc 2.33 faccessat tries faccessat2 first and falls back only on ENOSYS, and a
 * seccomp filter older than faccessat2 (Linux 5.8) answers EPERM. This step may run under the container's filter.
 */
static int is_executable(const char *path)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return sys_fail(STAT_SYSCALL, "stat %s", path);
    if (!S_ISREG(st.st_mode))
        return -EACCES;
    return access(path, X_OK) < 0 ? sys_fail(ACCESS_SYSCALL, "access %s", path) : 0;
}

/* The errors execvp(3) goes past to the next $PATH entry (EACCES too, remembered); any other ends the search. */
static int search_goes_on(int err)
{
    return err == ENOENT || err == ENOTDIR || err == ESTALE || err == ENODEV || err == ETIMEDOUT || err == EACCES;
}

/* execvp(3)'s search, but in the container's $PATH and before `ready`, so create can report a missing binary. */
int op_resolve_exec(const struct step *s)
{
    const char *name = s->argv[0];
    if (!name[0])
        return -ENOENT;
    if (strchr(name, '/')) {
        int r = is_executable(name);
        if (r < 0)
            return r;
        g.exec_path = strdup(name);
        return g.exec_path ? 0 : -ENOMEM;
    }
    int best = -ENOENT;
    char *path = strdup(s->argv[1]);
    if (!path)
        return -ENOMEM;
    for (char *dir = strtok(path, ":"); dir; dir = strtok(NULL, ":")) {
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", dir[0] ? dir : ".", name);
        int r = is_executable(full);
        if (r == 0) {
            g.exec_path = strdup(full);
            free(path);
            return g.exec_path ? 0 : -ENOMEM;
        }
        /* An EPERM is no missing file: a seccomp filter refused the lookup, and "not found" would hide that. */
        if (!search_goes_on(-r)) {
            free(path);
            return r;
        }
        if (r == -EACCES)
            best = r;
    }
    free(path);
    failed_syscall = NULL;
    /* podman maps exactly these words to exit status 127 (docs/runc-errors.md). */
    set_detail("executable file not found in $PATH");
    return best;
}

/* argc args... envc env..., starting at argv[start]; NULL-terminated arrays point into the step. */
static int take_vector(const struct step *s, int *at, char ***out)
{
    int err = 0;
    if (*at >= s->argc)
        return -EINVAL;
    unsigned long long n = arg_u64(s, *at, &err);
    if (err || n > (unsigned long long)(s->argc - *at - 1)) {
        set_detail("bad vector length");
        return -EINVAL;
    }
    char **v = calloc(n + 1, sizeof *v);
    if (!v)
        return -ENOMEM;
    for (unsigned long long i = 0; i < n; i++)
        v[i] = s->argv[*at + 1 + i];
    *at += 1 + (int)n;
    *out = v;
    return 0;
}

/* Ignored signals and the blocked mask survive execve(2): hand the container a clean slate. */
void reset_signals(void)
{
    sigset_t none;
    sigemptyset(&none);
    for (int sig = 1; sig < NSIG; sig++)
        signal(sig, SIG_DFL);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

int op_exec(const struct step *s)
{
    char **args, **env;
    int at = 0, r;
    if ((r = take_vector(s, &at, &args)) < 0 || (r = take_vector(s, &at, &env)) < 0)
        return r;
    if (!g.exec_path) {
        set_detail("exec before resolve-exec");
        return -EINVAL;
    }
    reset_signals();
    execve(g.exec_path, args, env);
    return sys_fail("execve", "exec %s", g.exec_path);
}

/* timespec arithmetic: end - now, negative tv_sec when end has passed. */
static struct timespec time_left(const struct timespec *end)
{
    struct timespec now, left;
    clock_gettime(CLOCK_MONOTONIC, &now);
    left.tv_sec = end->tv_sec - now.tv_sec;
    left.tv_nsec = end->tv_nsec - now.tv_nsec;
    if (left.tv_nsec < 0) {
        left.tv_nsec += 1000000000L;
        left.tv_sec--;
    }
    return left;
}

/*
 * Waits for the hook, killed after `timeout` seconds (0: no limit). The caller blocked SIGCHLD before the fork, so
 * the hook's exit stays pending for sigtimedwait(2) (a blocked signal is never discarded, signal(7)). No pidfd_open:
 * this may run under the container's seccomp filter, and one older than Linux 5.3 refuses it.
 */
static int wait_hook(const char *path, pid_t pid, unsigned long long timeout, int *status)
{
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    struct timespec end;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += (time_t)timeout;
    for (;;) {
        pid_t r = waitpid(pid, status, timeout ? WNOHANG : 0);
        if (r == pid)
            return 0;
        if (r < 0 && errno != EINTR)
            return sys_fail("wait4", "wait for hook %s", path);
        if (r < 0 || !timeout)
            continue;
        struct timespec left = time_left(&end);
        if (left.tv_sec < 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            set_detail("hook %s timed out after %llus", path, timeout);
            return -ETIMEDOUT;
        }
        if (sigtimedwait(&chld, NULL, &left) < 0 && errno != EAGAIN && errno != EINTR)
            return sys_fail("rt_sigtimedwait", "wait for hook %s", path);
    }
}

/* The hook's stdin: a hook that does not read it, or stops early, is fine (no SIGPIPE, the rest dropped). */
static void write_all_quietly(int fd, const char *data, size_t len)
{
    signal(SIGPIPE, SIG_IGN);
    for (size_t off = 0; off < len;) {
        ssize_t n = write(fd, data + off, len - off);
        if (n <= 0)
            break;
        off += n;
    }
    signal(SIGPIPE, SIG_DFL);
}

/* A hook inside the container (startContainer): path timeout stdin argc args... envc env... */
int op_hook(const struct step *s)
{
    int err = 0;
    if (s->argc < 5)
        return -EINVAL;
    unsigned long long timeout = arg_u64(s, 1, &err);
    if (err)
        return err;
    const char *in = s->argv[2];
    size_t in_len = s->lens[2];
    if (!strcmp(in, "@state")) {
        in = g.state ? g.state : "";
        in_len = g.state ? g.state_len : 0;
    }
    char **args, **env;
    int at = 3, r;
    if ((r = take_vector(s, &at, &args)) < 0 || (r = take_vector(s, &at, &env)) < 0)
        return r;
    /* stdin, and a close-on-exec pipe on which the child reports why execve failed (EOF: it ran). */
    int p[2], ep[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return sys_fail("pipe2", NULL);
    if (pipe2(ep, O_CLOEXEC) < 0) {
        r = sys_fail("pipe2", NULL);
        close(p[0]);
        close(p[1]);
        return r;
    }
    sigset_t chld, saved;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &saved);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(p[0], 0);
        reset_signals();
        execve(s->argv[0], args, env);
        int e = errno;
        (void)!write(ep[1], &e, sizeof e);
        _exit(127);
    }
    int fork_errno = errno;
    close(p[0]);
    close(ep[1]);
    if (pid < 0) {
        close(p[1]);
        close(ep[0]);
        sigprocmask(SIG_SETMASK, &saved, NULL);
        errno = fork_errno;
        return sys_fail("clone", "fork for hook %s", s->argv[0]);
    }
    int exec_errno;
    if (read(ep[0], &exec_errno, sizeof exec_errno) == (ssize_t)sizeof exec_errno) {
        errno = exec_errno;
        r = sys_fail("execve", "hook %s", s->argv[0]);
    }
    close(ep[0]);
    if (r == 0)
        write_all_quietly(p[1], in, in_len);
    close(p[1]);
    int status = 0;
    if (r == 0)
        r = wait_hook(s->argv[0], pid, timeout, &status);
    else
        waitpid(pid, NULL, 0);
    sigprocmask(SIG_SETMASK, &saved, NULL);
    if (r < 0)
        return r;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    set_detail("hook %s: %s %d", s->argv[0], WIFEXITED(status) ? "exit status" : "killed by signal",
               WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return -ECANCELED;
}
