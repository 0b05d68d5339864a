/* seccomp filters through libseccomp. TypeScript chose every action, arch and comparison (docs/launch-plan.md). */
#include <errno.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "skiff-init.h"

static scmp_filter_ctx filter;
static uint32_t default_action;
static int listener = -1; /* connected by seccomp-connect while the host path is still reachable */

int op_seccomp_init(const struct step *s)
{
    int err = 0;
    default_action = (uint32_t)arg_u64(s, 0, &err);
    if (err)
        return err;
    filter = seccomp_init(default_action);
    if (!filter) {
        set_detail("seccomp_init: bad default action");
        return -EINVAL;
    }
    /* libseccomp sets no_new_privs on load by default; whether to set it is the config's choice (its own step). */
    int r = seccomp_attr_set(filter, SCMP_FLTATR_CTL_NNP, 0);
    return r < 0 ? r : 0;
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
    /* libseccomp refuses a rule whose action is the default one; it would change nothing. */
    if (action == default_action)
        return 0;
    int r = seccomp_rule_add_array(filter, action, nr, (unsigned)n, cmp);
    if (r < 0)
        set_detail("seccomp rule for %s", s->argv[0]);
    return r < 0 ? r : 0;
}

static int set_flag(const char *name)
{
    if (!strcmp(name, "SECCOMP_FILTER_FLAG_LOG"))
        return seccomp_attr_set(filter, SCMP_FLTATR_CTL_LOG, 1);
    if (!strcmp(name, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
        return seccomp_attr_set(filter, SCMP_FLTATR_CTL_SSB, 1);
    if (!strcmp(name, "SECCOMP_FILTER_FLAG_TSYNC"))
        return seccomp_attr_set(filter, SCMP_FLTATR_CTL_TSYNC, 1);
    set_detail("seccomp flag %s is not supported by this libseccomp", name);
    return -EOPNOTSUPP;
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

static int send_listener(const char *path, const char *payload, size_t len)
{
    if (listener < 0) {
        set_detail("no connection to the seccomp listener %s (seccomp-connect must come first)", path);
        return -ENOTCONN;
    }
    int nfd = seccomp_notify_fd(filter);
    if (nfd < 0) {
        set_detail("seccomp_notify_fd");
        return nfd;
    }
    int r = send_fd(listener, nfd, payload, len);
    close(listener);
    listener = -1;
    close(nfd);
    return r;
}

/* flags listenerPath listenerPayload */
int op_seccomp_load(const struct step *s)
{
    if (!filter)
        return -EINVAL;
    char *flags = strdup(s->argv[0]);
    if (!flags)
        return -ENOMEM;
    int r = 0;
    for (char *f = strtok(flags, ","); f && r == 0; f = strtok(NULL, ","))
        r = set_flag(f);
    free(flags);
    if (r < 0)
        return r;
    r = seccomp_load(filter);
    if (r < 0) {
        set_detail("seccomp_load");
        return r;
    }
    if (s->argv[1][0]) {
        int substitute = !strcmp(s->argv[2], "@process-state");
        r = send_listener(s->argv[1], substitute ? g.process_state : s->argv[2],
                          substitute ? g.process_state_len : s->lens[2]);
    }
    seccomp_release(filter);
    filter = NULL;
    return r;
}
