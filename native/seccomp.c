/* seccomp filters: compiled by libseccomp, installed with seccomp(2). TypeScript chose every action, arch, comparison
 * and flag (docs/launch-plan.md). */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "skiff-init.h"

static scmp_filter_ctx filter;
static int listener = -1; /* connected by seccomp-connect while the host path is still reachable */

int op_seccomp_init(const struct step *s)
{
    int err = 0;
    uint32_t action = (uint32_t)arg_u64(s, 0, &err);
    if (err)
        return err;
    filter = seccomp_init(action);
    if (!filter) {
        set_detail("seccomp_init: bad default action");
        return -EINVAL;
    }
    return 0;
}

int op_seccomp_arch(const struct step *s)
{
    if (!filter)
        return -EINVAL;
    uint32_t arch = seccomp_arch_resolve_name(s->argv[0]);
    if (arch == 0) {
        set_detail("unknown architecture %s", s->argv[0]);
        return -EINVAL;
    }
    int r = seccomp_arch_add(filter, arch);
    return (r < 0 && r != -EEXIST) ? r : 0;
}

/* syscall action nargs [index op value valueTwo]... */
int op_seccomp_rule(const struct step *s)
{
    int err = 0;
    if (!filter || s->argc < 3)
        return -EINVAL;
    uint32_t action = (uint32_t)arg_u64(s, 1, &err);
    unsigned long long n = arg_u64(s, 2, &err);
    if (err)
        return err;
    if (n > 6 || s->argc != 3 + 4 * (int)n) {
        set_detail("bad argument count");
        return -EINVAL;
    }
    int nr = seccomp_syscall_resolve_name(s->argv[0]);
    if (nr == __NR_SCMP_ERROR) {
        report_warn(s, "unknown syscall %s: rule skipped", s->argv[0]);
        return 0;
    }
    struct scmp_arg_cmp cmp[6];
    for (unsigned i = 0; i < n; i++) {
        int b = 3 + 4 * (int)i;
        cmp[i] = (struct scmp_arg_cmp){
            .arg = (unsigned)arg_u64(s, b, &err),
            .op = (enum scmp_compare)arg_u64(s, b + 1, &err),
            .datum_a = arg_u64(s, b + 2, &err),
            .datum_b = arg_u64(s, b + 3, &err),
        };
    }
    if (err)
        return err;
    int r = seccomp_rule_add_array(filter, action, nr, (unsigned)n, cmp);
    if (r < 0)
        set_detail("seccomp rule for %s", s->argv[0]);
    return r < 0 ? r : 0;
}

/* The SECCOMP_FILTER_FLAG_* bits the runtime may ask for (seccomp(2)). */
static int flag_bits(const char *list, unsigned int *bits)
{
    static const struct { const char *name; unsigned int bit; } known[] = {
        {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
        {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
        {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
        {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
    };
    char *copy = strdup(list);
    if (!copy)
        return -ENOMEM;
    int r = 0;
    char *save = NULL;
    for (char *f = strtok_r(copy, ",", &save); f && r == 0; f = strtok_r(NULL, ",", &save)) {
        size_t i = 0;
        while (i < sizeof known / sizeof known[0] && strcmp(known[i].name, f))
            i++;
        if (i == sizeof known / sizeof known[0]) {
            set_detail("unknown seccomp flag %s", f);
            r = -EINVAL;
        } else {
            *bits |= known[i].bit;
        }
    }
    free(copy);
    return r;
}

/* The filter as the classic BPF program libseccomp compiled: seccomp_export_bpf writes it to a memfd. */
static int export_program(struct sock_fprog *prog)
{
    int fd = memfd_create("skiff-seccomp", MFD_CLOEXEC);
    if (fd < 0)
        return -errno;
    int r = seccomp_export_bpf(filter, fd);
    off_t len = r < 0 ? 0 : lseek(fd, 0, SEEK_END);
    if (r == 0 && (len <= 0 || len % sizeof(struct sock_filter)))
        r = len < 0 ? -errno : -EINVAL;
    struct sock_filter *insns = r == 0 ? malloc((size_t)len) : NULL;
    if (r == 0 && !insns)
        r = -ENOMEM;
    if (r == 0 && pread(fd, insns, (size_t)len, 0) != len)
        r = -EIO;
    close(fd);
    if (r < 0) {
        free(insns);
        set_detail("seccomp_export_bpf");
        return r;
    }
    prog->len = (unsigned short)(len / sizeof(struct sock_filter));
    prog->filter = insns;
    return 0;
}

/* seccomp-connect path: the listener is a host path, so connect before pivot-root (or setns into the mount ns). */
int op_seccomp_connect(const struct step *s)
{
    int fd = connect_unix(s->argv[0]);
    if (fd < 0)
        return fd;
    listener = fd;
    return 0;
}

static int send_listener(int nfd, const char *path, const char *payload, size_t len)
{
    if (listener < 0) {
        set_detail("no connection to the seccomp listener %s (seccomp-connect must come first)", path);
        return -ENOTCONN;
    }
    int r = send_fd(listener, nfd, payload, len);
    close(listener);
    listener = -1;
    return r;
}

/*
 * flags listenerPath listenerPayload. The program is installed with seccomp(2) itself rather than seccomp_load, so
 * every flag the kernel knows can be passed (libseccomp 2.5 has no attribute for WAIT_KILLABLE_RECV); runc loads
 * its filters the same way. Without no_new_privs the kernel wants CAP_SYS_ADMIN, which the plan still holds then.
 */
int op_seccomp_load(const struct step *s)
{
    if (!filter)
        return -EINVAL;
    unsigned int flags = 0;
    int r = flag_bits(s->argv[0], &flags);
    if (r < 0)
        return r;
    int notify = s->argv[1][0] != 0;
    if (notify)
        flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    /* seccomp(2): TSYNC and NEW_LISTENER together need TSYNC_ESRCH, or the kernel refuses them (EINVAL). */
    if ((flags & SECCOMP_FILTER_FLAG_TSYNC) && notify)
        flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
    struct sock_fprog prog;
    r = export_program(&prog);
    if (r < 0)
        return r;
    seccomp_release(filter);
    filter = NULL;
    long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
    int saved = errno;
    free(prog.filter);
    if (fd < 0) {
        errno = saved;
        return sys_fail("seccomp", "seccomp(SECCOMP_SET_MODE_FILTER, 0x%x)", flags);
    }
    if (!notify)
        return 0;
    int substitute = !strcmp(s->argv[2], "@process-state");
    r = send_listener((int)fd, s->argv[1], substitute ? g.process_state : s->argv[2],
                      substitute ? g.process_state_len : s->lens[2]);
    close((int)fd);
    return r;
}
