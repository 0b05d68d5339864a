/* Mounts and files. Paths marked in-root are resolved inside a root with openat2(2) RESOLVE_IN_ROOT, so a symlink
 * in the image (absolute, relative, or a chain of ..) never leads outside it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "skiff-init.h"

int open_in_root(const char *root, const char *path, int flags)
{
    int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        set_detail("open root %s", root);
        return -errno;
    }
    struct open_how how = {
        .flags = (unsigned long long)(flags | O_CLOEXEC),
        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    };
    int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
    int e = errno;
    close(rootfd);
    return fd < 0 ? -e : fd;
}

static void fd_path(int fd, char *buf, size_t len)
{
    snprintf(buf, len, "/proc/self/fd/%d", fd);
}

static const char *opt(const char *s)
{
    return s[0] ? s : NULL;
}

int op_mount(const struct step *s)
{
    int err = 0;
    unsigned long flags = arg_u64(s, 3, &err);
    if (err)
        return err;
    if (mount(opt(s->argv[0]), s->argv[1], opt(s->argv[2]), flags, opt(s->argv[4])) < 0)
        return -errno;
    return 0;
}

/* mount(2) onto /proc/self/fd/N follows the magic link to the directory we opened safely inside the root. */
int op_umount(const struct step *s)
{
    int err = 0;
    int flags = (int)arg_u64(s, 1, &err);
    if (err)
        return err;
    return umount2(s->argv[0], flags) < 0 ? -errno : 0;
}

int op_mount_in(const struct step *s)
{
    int err = 0;
    unsigned long flags = arg_u64(s, 4, &err);
    if (err)
        return err;
    int fd = open_in_root(s->argv[0], s->argv[2], O_PATH);
    if (fd < 0) {
        set_detail("target %s", s->argv[2]);
        return fd;
    }
    char target[64];
    fd_path(fd, target, sizeof target);
    int r = mount(opt(s->argv[1]), target, opt(s->argv[3]), flags, opt(s->argv[5]));
    int e = errno;
    close(fd);
    return r < 0 ? -e : 0;
}

/*
 * mkdir -p with every component resolved in-root. A dangling symlink on the way (an image may hold one) is followed
 * the way the kernel would inside the root: its target, taken relative to the root or to the link's directory, is
 * created instead, so the mount lands inside the rootfs and never beside it on the host.
 */
static int mkdir_in_root_depth(const char *root, const char *path, mode_t mode, int depth)
{
    if (depth > 40)
        return -ELOOP;
    char *copy = strdup(path);
    if (!copy)
        return -ENOMEM;
    size_t len = strlen(copy);
    for (size_t i = 1; i <= len; i++) {
        if (copy[i] != '/' && copy[i] != 0)
            continue;
        char saved = copy[i];
        copy[i] = 0;
        int fd = open_in_root(root, copy, O_PATH | O_DIRECTORY);
        if (fd == -ENOENT) {
            char *slash = strrchr(copy, '/');
            const char *name = slash ? slash + 1 : copy;
            int pfd;
            if (slash && slash != copy) {
                *slash = 0;
                pfd = open_in_root(root, copy, O_PATH | O_DIRECTORY);
                *slash = '/';
            } else {
                pfd = open_in_root(root, "/", O_PATH | O_DIRECTORY);
            }
            if (pfd < 0) {
                free(copy);
                return pfd;
            }
            int r = mkdirat(pfd, name, mode);
            int e = errno;
            if (r < 0 && e == EEXIST) {
                char target[4096];
                ssize_t n = readlinkat(pfd, name, target, sizeof target - 1);
                if (n > 0) {
                    target[n] = 0;
                    close(pfd);
                    char next[8192];
                    const char *rest = saved ? copy + i + 1 : "";
                    if (slash && slash != copy)
                        *slash = 0;
                    snprintf(next, sizeof next, "%s%s%s%s%s", target[0] == '/' ? "" : (slash && slash != copy ? copy : ""),
                             target[0] == '/' ? "" : "/", target, rest[0] ? "/" : "", rest);
                    free(copy);
                    return mkdir_in_root_depth(root, next, mode, depth + 1);
                }
            }
            close(pfd);
            if (r < 0 && e != EEXIST) {
                set_detail("mkdir %s", copy);
                free(copy);
                return -e;
            }
            fd = open_in_root(root, copy, O_PATH | O_DIRECTORY);
        }
        if (fd < 0) {
            set_detail("%s", copy);
            free(copy);
            return fd;
        }
        close(fd);
        copy[i] = saved;
    }
    free(copy);
    return 0;
}

static int mkdir_in_root(const char *root, const char *path, mode_t mode)
{
    return mkdir_in_root_depth(root, path, mode, 0);
}

int op_mkdir_in(const struct step *s)
{
    int err = 0;
    mode_t mode = (mode_t)arg_u64(s, 2, &err);
    if (err)
        return err;
    return mkdir_in_root(s->argv[0], s->argv[1], mode);
}

int op_touch_in(const struct step *s)
{
    int err = 0;
    mode_t mode = (mode_t)arg_u64(s, 2, &err);
    if (err)
        return err;
    int fd = open_in_root(s->argv[0], s->argv[1], O_PATH);
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    char *dir = strdup(s->argv[1]);
    if (!dir)
        return -ENOMEM;
    char *slash = strrchr(dir, '/');
    const char *name = slash ? slash + 1 : dir;
    if (slash)
        *slash = 0;
    int r = mkdir_in_root(s->argv[0], slash && dir[0] ? dir : "/", 0755);
    if (r < 0) {
        free(dir);
        return r;
    }
    int pfd = open_in_root(s->argv[0], slash && dir[0] ? dir : "/", O_PATH | O_DIRECTORY);
    if (pfd < 0) {
        free(dir);
        return pfd;
    }
    fd = openat(pfd, slash ? name : s->argv[1], O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, mode);
    int e = errno;
    close(pfd);
    free(dir);
    if (fd < 0)
        return -e;
    close(fd);
    return 0;
}

/*
 * pivot_root(2): "pivot_root(".", ".")" stacks the old root on top of the new one at "/", so it can be unmounted
 * without a directory for it in the new root. The old root is made rslave first so the unmount does not propagate
 * back to the host. "." must then name the old root: a path walk of "." does not climb onto the mount stacked on
 * the cwd, so the cwd moves to the old root by a descriptor opened before (as runc does). Otherwise the rslave
 * would land on the new root and every container mount, turning a shared bind into a slave of the host's.
 */
int op_pivot_root(const struct step *s)
{
    int oldroot = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (oldroot < 0) {
        set_detail("open the old root");
        return -errno;
    }
    int r = 0;
    if (chdir(s->argv[0]) < 0) {
        set_detail("chdir %s", s->argv[0]);
        r = -errno;
    } else if (syscall(SYS_pivot_root, ".", ".") < 0) {
        set_detail("pivot_root %s", s->argv[0]);
        r = -errno;
    } else if (fchdir(oldroot) < 0) {
        set_detail("chdir to the old root");
        r = -errno;
    } else if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0) {
        set_detail("make old root rslave");
        r = -errno;
    } else if (umount2(".", MNT_DETACH) < 0) {
        set_detail("unmount old root");
        r = -errno;
    }
    close(oldroot);
    if (r < 0)
        return r;
    return chdir("/") < 0 ? -errno : 0;
}

/* The current directory becomes the root, and the cwd its "/". */
static int chroot_here(void)
{
    if (chroot(".") < 0)
        return -errno;
    return chdir("/") < 0 ? -errno : 0;
}

/* --no-pivot: move the rootfs mount onto / and chroot into it (weaker: the old root stays reachable by mounts). */
int op_move_root(const struct step *s)
{
    if (chdir(s->argv[0]) < 0)
        return -errno;
    if (mount(s->argv[0], "/", NULL, MS_MOVE, NULL) < 0) {
        set_detail("move %s to /", s->argv[0]);
        return -errno;
    }
    return chroot_here();
}

/* No mount namespace of its own: nothing may be mounted, so the root is only changed with chroot(2). */
int op_chroot(const struct step *s)
{
    if (chdir(s->argv[0]) < 0) {
        set_detail("chdir %s", s->argv[0]);
        return -errno;
    }
    return chroot_here();
}

/*
 * Sets the propagation of the mount holding `path`: the path itself if it is a mount point, else its nearest
 * ancestor that is one. mount(2) fails with EINVAL when asked to change the propagation of a directory that is not
 * a mount point, so each directory is tried in turn from `path` up to "/". The path is resolved first, in the mount
 * namespace the step runs in (a joined one included), so a symlink cannot make the walk miss the real mount.
 */
int op_holder_propagation(const struct step *s)
{
    int err = 0;
    unsigned long flags = arg_u64(s, 1, &err);
    if (err)
        return err;
    char *p = realpath(s->argv[0], NULL);
    if (!p) {
        set_detail("resolve %s", s->argv[0]);
        return -errno;
    }
    for (;;) {
        if (mount(NULL, p, NULL, flags, NULL) == 0) {
            free(p);
            return 0;
        }
        int e = errno;
        char *slash = strrchr(p, '/');
        if (e != EINVAL || !slash || p[1] == 0) {
            set_detail("mount holding %s", s->argv[0]);
            free(p);
            return -e;
        }
        /* "/a" becomes "/", "/a/b" becomes "/a". */
        slash[slash == p ? 1 : 0] = 0;
    }
}

static int split_in_root(const char *path, char **dir, const char **name)
{
    *dir = strdup(path);
    if (!*dir)
        return -ENOMEM;
    char *slash = strrchr(*dir, '/');
    if (!slash || !slash[1]) {
        free(*dir);
        set_detail("bad path %s", path);
        return -EINVAL;
    }
    *name = slash + 1;
    *slash = 0;
    int fd = open_in_root("/", (*dir)[0] ? *dir : "/", O_PATH | O_DIRECTORY);
    if (fd < 0) {
        set_detail("parent of %s", path);
        free(*dir);
    }
    return fd;
}

int op_mknod(const struct step *s)
{
    int err = 0;
    mode_t mode = (mode_t)arg_u64(s, 1, &err);
    unsigned maj = (unsigned)arg_u64(s, 2, &err), min = (unsigned)arg_u64(s, 3, &err);
    uid_t uid = (uid_t)arg_u64(s, 4, &err);
    gid_t gid = (gid_t)arg_u64(s, 5, &err);
    if (err)
        return err;
    char *dir;
    const char *name;
    int dfd = split_in_root(s->argv[0], &dir, &name);
    if (dfd < 0)
        return dfd;
    int r = 0;
    if (mknodat(dfd, name, mode, makedev(maj, min)) < 0 && errno != EEXIST)
        r = -errno;
    else if (fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
        r = -errno;
    /* mknod(2) applies the umask; the spec's fileMode is exact. */
    else if (fchmodat(dfd, name, mode & 07777, 0) < 0)
        r = -errno;
    close(dfd);
    free(dir);
    return r;
}

int op_symlink(const struct step *s)
{
    if (symlink(s->argv[0], s->argv[1]) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

int op_mask(const struct step *s)
{
    struct stat st;
    if (stat(s->argv[0], &st) < 0)
        return errno == ENOENT ? 0 : -errno;
    if (S_ISDIR(st.st_mode))
        return mount("tmpfs", s->argv[0], "tmpfs", MS_RDONLY, NULL) < 0 ? -errno : 0;
    return mount("/dev/null", s->argv[0], NULL, MS_BIND, NULL) < 0 ? -errno : 0;
}

/*
 * mount(2): a bind mount ignores MS_RDONLY on creation; it takes a second MS_REMOUNT|MS_BIND call, which must keep
 * the flags the kernel locked on the mount (nosuid, nodev, noexec, atime) or it fails with EPERM in a user namespace.
 */
int op_readonly(const struct step *s)
{
    const char *p = s->argv[0];
    if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0)
        return errno == ENOENT ? 0 : -errno;
    struct statvfs sv;
    if (statvfs(p, &sv) < 0)
        return -errno;
    unsigned long keep = 0;
    if (sv.f_flag & ST_NOSUID) keep |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV) keep |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC) keep |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME) keep |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME) keep |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME) keep |= MS_RELATIME;
    if (mount(p, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
        return -errno;
    return 0;
}

int op_write(const struct step *s)
{
    int fd = open(s->argv[0], O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        set_detail("open %s", s->argv[0]);
        return -errno;
    }
    ssize_t n = write(fd, s->argv[1], s->lens[1]);
    int e = errno;
    close(fd);
    if (n < 0) {
        set_detail("write %s", s->argv[0]);
        return -e;
    }
    return (size_t)n == s->lens[1] ? 0 : -EIO;
}

int op_cgroup_open(const struct step *s)
{
    if (g.cgroup_nfds == (int)(sizeof g.cgroup_fds / sizeof g.cgroup_fds[0])) {
        set_detail("more than %d cgroup files", g.cgroup_nfds);
        return -E2BIG;
    }
    int fd = open(s->argv[0], O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        set_detail("open %s", s->argv[0]);
        return -errno;
    }
    g.cgroup_paths[g.cgroup_nfds] = s->argv[0];
    g.cgroup_fds[g.cgroup_nfds++] = fd;
    return 0;
}

/*
 * cgroups(7): a thread that writes 0 to a v1 `tasks` file moves itself, and the kernel does that without the global
 * rwsem a cgroup.procs write takes (whose writer first waits for an RCU grace period). The files were opened before
 * a mount namespace join could hide them; the kernel checks the opener's credentials and cgroup namespace.
 */
int op_cgroup_join(const struct step *s)
{
    (void)s;
    for (int i = 0; i < g.cgroup_nfds; i++) {
        if (write(g.cgroup_fds[i], "0", 1) != 1) {
            set_detail("write 0 to %s", g.cgroup_paths[i]);
            return -errno;
        }
        close(g.cgroup_fds[i]);
    }
    g.cgroup_nfds = 0;
    return 0;
}

int op_mkfifo(const struct step *s)
{
    int err = 0;
    mode_t mode = (mode_t)arg_u64(s, 1, &err);
    if (err)
        return err;
    if (mkfifo(s->argv[0], mode) < 0)
        return -errno;
    /* mkfifo(3) applies the umask. */
    return chmod(s->argv[0], mode) < 0 ? -errno : 0;
}

/*
 * bpf-devices: cgroup v2 has no devices.allow; access is decided by a BPF_PROG_TYPE_CGROUP_DEVICE program attached
 * to the cgroup (the program itself is compiled by TypeScript from the config's rules). The attachment holds the
 * program, so it outlives this process. args: cgroup-dir hex-instructions
 */
int op_bpf_devices(const struct step *s)
{
    size_t hex = s->lens[1];
    if (hex == 0 || hex % 16) {
        set_detail("program length %zu is not a whole number of instructions", hex / 2);
        return -EINVAL;
    }
    size_t n = hex / 2;
    unsigned char *insns = malloc(n);
    if (!insns)
        return -ENOMEM;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s->argv[1] + 2 * i, "%2x", &v) != 1) {
            free(insns);
            return -EINVAL;
        }
        insns[i] = (unsigned char)v;
    }
    static char license[] = "Apache-2.0";
    union bpf_attr load;
    memset(&load, 0, sizeof load);
    load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    load.insn_cnt = (__u32)(n / 8);
    load.insns = (__u64)(unsigned long)insns;
    load.license = (__u64)(unsigned long)license;
    int prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof load);
    int e = errno;
    free(insns);
    if (prog < 0) {
        set_detail("load the device filter");
        return -e;
    }
    int cg = open(s->argv[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (cg < 0) {
        close(prog);
        set_detail("open %s", s->argv[0]);
        return -errno;
    }
    union bpf_attr attach;
    memset(&attach, 0, sizeof attach);
    attach.target_fd = (__u32)cg;
    attach.attach_bpf_fd = (__u32)prog;
    attach.attach_type = BPF_CGROUP_DEVICE;
    attach.attach_flags = BPF_F_ALLOW_MULTI;
    int r = (int)syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof attach);
    e = errno;
    close(cg);
    close(prog);
    if (r < 0) {
        set_detail("attach the device filter to %s", s->argv[0]);
        return -e;
    }
    return 0;
}
