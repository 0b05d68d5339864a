/* Shared declarations of the native helper. See docs/launch-plan.md for the contract. */
#ifndef SKIFF_INIT_H
#define SKIFF_INIT_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

struct step {
    int index;     /* position in the plan, reported with errors */
    int argc;      /* fields after the op name */
    char **argv;   /* NUL-terminated copies of the fields after the op name */
    size_t *lens;  /* their lengths (the state JSON and hook stdin may be long) */
};

/* What the steps share while the plan runs. */
struct ctx {
    int chan;               /* the channel to the runtime */
    int console_fd;         /* connected console socket (console-connect), -1 */
    int proxy_fd[2];        /* socketpair: the child sends the pty master to a `wait` parent that proxies it */
    int fifo_fd;            /* the exec fifo, open for reading and writing (exec-fifo), -1 */
    int fifo_released;      /* exec-wait got its byte: errors also go to the fifo (fail()) */
    char *exec_path;        /* set by resolve-exec */
    char *state;            /* state JSON received after `pid` (stdin of `hook @state`) */
    size_t state_len;
    char *process_state;    /* ContainerProcessState JSON for the seccomp listener (`@process-state`) */
    size_t process_state_len;
    int monitor_sync;       /* the `monitor` step's socket to the monitor: clone sends it the container's pid */
    int cgroup_fds[16];     /* cgroup `tasks` files cgroup-open opened, for cgroup-join */
    const char *cgroup_paths[16];
    int cgroup_nfds;
};

extern struct ctx g;

/* context.c: len bytes from fd (retrying EINTR); -1 on EOF or error. */
int read_full(int fd, void *buf, size_t len);

/* The channel's netstring (docs/launch-plan.md "Encoding"), malloc'd; NULL when the channel closed or is malformed. */
char *read_netstring(int fd, size_t *out_len);

/* After `pid`, the runtime's two netstrings (docs/launch-plan.md "Protocol") into g.state and g.process_state;
 * -1 when the channel closed first. */
int read_pid_answer(void);

/* Report to the runtime (docs/launch-plan.md "Protocol"). */
void chan_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void report_warn(const struct step *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An op returns 0, or -errno with an optional detail set through set_detail(); context.c holds it. */
extern char detail[512];
void set_detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A system call failed: records its name, which the `error` line carries so the runtime can tell when a seccomp
 * filter may be what refused it, and a detail (the name itself when fmt is NULL). Returns -errno:
 * `return sys_fail("setresuid", "setresuid %u", uid);`
 */
extern const char *failed_syscall;
int sys_fail(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse a decimal argument; on a bad number sets *err to -EINVAL (and a detail). */
unsigned long long arg_u64(const struct step *s, int i, int *err);
long long arg_i64(const struct step *s, int i, int *err);

/* fs-ops.c: mounts and files, paths resolved inside a root where the op says so. */
int op_mount(const struct step *s);
int op_umount(const struct step *s);
int op_mount_in(const struct step *s);
int op_mkdir_in(const struct step *s);
int op_touch_in(const struct step *s);
int op_pivot_root(const struct step *s);
int op_move_root(const struct step *s);
int op_chroot(const struct step *s);
int op_holder_propagation(const struct step *s);
int op_mknod(const struct step *s);
int op_symlink(const struct step *s);
int op_mask(const struct step *s);
int op_readonly(const struct step *s);
int op_write(const struct step *s);
int op_cgroup_open(const struct step *s);
int op_cgroup_join(const struct step *s);
int op_mkfifo(const struct step *s);
int op_bpf_devices(const struct step *s);

/* process-ops.c: identity, privileges, limits, exec. */
int op_user(const struct step *s);
int op_keepcaps(const struct step *s);
int op_capbset(const struct step *s);
int op_capset(const struct step *s);
int op_no_new_privs(const struct step *s);
int op_rlimit(const struct step *s);
int op_umask(const struct step *s);
int op_chdir(const struct step *s);
int op_setsid(const struct step *s);
int op_hostname(const struct step *s);
int op_domainname(const struct step *s);
int op_loopback_up(const struct step *s);
int op_keyring(const struct step *s);
int op_personality(const struct step *s);
int op_ioprio(const struct step *s);
int op_sched(const struct step *s);
int op_close_fds(const struct step *s);
int op_resolve_exec(const struct step *s);
int op_exec(const struct step *s);
int op_hook(const struct step *s);

/* fds.c: every fd >= first closed, or (cloexec) marked close-on-exec; 0 or -errno with a detail. */
int fds_from(unsigned first, int cloexec);

/* fs-ops.c: `path` opened inside `root` (openat2 RESOLVE_IN_ROOT), or -errno. */
int open_in_root(const char *root, const char *path, int flags);

/* layer-ops.c */
int op_mknod_in(const struct step *s);
int op_xattr_in(const struct step *s);
int op_link_in(const struct step *s);
void reset_signals(void);

/* console.c */
int op_console_connect(const struct step *s);
int op_console(const struct step *s);
int send_fd(int sock, int fd, const char *payload, size_t len);
int connect_unix(const char *path); /* fd, or -errno with a detail */
int connect_unix_abstract(const char *name); /* the same, for a name in the abstract namespace (unix(7)) */
int recv_fd(int sock);

/* parent.c: what a `wait` parent does after clone. parent_signals blocks SIGCHLD and the forwarded signals and
 * returns a signalfd for them (or -errno); *saved gets the previous mask for the child to restore. */
int parent_signals(sigset_t *saved);
int parent_wait(pid_t child, int proxy, int sfd);
/* The same with the pty master already in hand (-1: no terminal). */
int parent_wait_master(pid_t child, int master, int sfd);

/* monitor-start.c: the `monitor` step; monitor.c: the monitor process (`skiff-init monitor ...`). */
int op_monitor(const struct step *s);
/* A listening unix socket (0600) at path, or -errno with a detail that calls it `what`. */
int listen_unix(const char *path, const char *what);
int monitor_main(int argc, char **argv, char **envp);

/* oci-binary.c: another OCI runtime's binary makes the container (under the monitor) or runs an exec. */
int op_oci_create(const struct step *s);
int op_oci_exec(const struct step *s);

/* pause.c */
int pause_main(void);

/* skiff-init.c: runs the plan read from the channel fd (the `init` mode). */
int init_main(const char *chan_arg);

/* zygote.c: forks helpers for a long-lived caller; a helper child runs `init` (init_main) on its channel fd. */
int zygote_main(const char *socket_path, int (*init)(const char *chan_arg));

/* seccomp.c */
int op_seccomp_init(const struct step *s);
int op_seccomp_arch(const struct step *s);
int op_seccomp_rule(const struct step *s);
int op_seccomp_load(const struct step *s);
int op_seccomp_connect(const struct step *s);

#endif
