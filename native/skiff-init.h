/* Shared declarations of the native helper. See docs/launch-plan.md for the contract. */
#ifndef SKIFF_INIT_H
#define SKIFF_INIT_H

#include <stddef.h>

struct step {
    int index;     /* position in the plan, reported with errors */
    int argc;      /* fields after the op name */
    char **argv;   /* NUL-terminated copies of the fields after the op name */
    size_t *lens;  /* their lengths (fields may hold NUL bytes only where an op says so) */
};

/* Report to the runtime (docs/launch-plan.md "Protocol"). */
void report_warn(const struct step *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An op returns 0, or -errno with an optional detail set through set_detail(). */
void set_detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parse a decimal argument; on a bad number returns -EINVAL through *err. */
unsigned long long arg_u64(const struct step *s, int i, int *err);
long long arg_i64(const struct step *s, int i, int *err);

/* seccomp.c */
int op_seccomp_init(const struct step *s);
int op_seccomp_arch(const struct step *s);
int op_seccomp_rule(const struct step *s);
int op_seccomp_load(const struct step *s);

#endif
