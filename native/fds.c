/* Every fd from a number on, closed or marked close-on-exec: close_range(2), or a walk of /proc/self/fd where it
 * cannot be used. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "skiff-init.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* The fallback: runc's and crun's, one fcntl(2) or close(2) per fd /proc/self/fd lists. */
static int walk_proc_fds(unsigned first, int cloexec)
{
    int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return sys_fail("openat", "open /proc/self/fd (close_range is not available either)");
    /* Only the kernel's own list will do: a directory mounted over /proc could hide an fd from us. */
    struct statfs sfs;
    if (fstatfs(dfd, &sfs) < 0) {
        int r = sys_fail("fstatfs", "fstatfs /proc/self/fd");
        close(dfd);
        return r;
    }
    if (sfs.f_type != PROC_SUPER_MAGIC) {
        close(dfd);
        set_detail("/proc/self/fd is not on a proc filesystem (close_range is not available either)");
        return -EXDEV;
    }
    DIR *dir = fdopendir(dfd);
    if (!dir) {
        int r = sys_fail("fdopendir", NULL);
        close(dfd);
        return r;
    }
    int r = 0;
    struct dirent *e;
    /* getdents64(2) reads the fd table as it is at each call: closing fds already listed does not hide later ones. */
    while (r == 0 && (errno = 0, e = readdir(dir))) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end || end == e->d_name || fd < (long)first || fd == dirfd(dir))
            continue;
        if (cloexec && fcntl((int)fd, F_SETFD, FD_CLOEXEC) < 0)
            r = sys_fail("fcntl", "mark fd %ld close-on-exec", fd);
        else if (!cloexec && close((int)fd) < 0 && errno != EBADF)
            r = sys_fail("close", "close fd %ld", fd);
    }
    if (r == 0 && errno)
        r = sys_fail("getdents64", "read /proc/self/fd");
    closedir(dir);
    return r;
}

int fds_from(unsigned first, int cloexec)
{
    if (syscall(SYS_close_range, first, UINT_MAX, cloexec ? CLOSE_RANGE_CLOEXEC : 0) == 0)
        return 0;
    /*
     * ENOSYS: a kernel before 5.9 (5.11 for CLOSE_RANGE_CLOEXEC, EINVAL before it). EPERM: a seccomp filter older
     * than close_range, the container's when it is loaded before this step, or one our caller runs under.
     */
    if (errno != ENOSYS && errno != EINVAL && errno != EPERM)
        return sys_fail("close_range", NULL);
    return walk_proc_fds(first, cloexec);
}
