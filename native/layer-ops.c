/*
 * Steps for unpacking image layers (src/image/unpack/layer-writer.ts runs one plan per layer with them): the nodes
 * Node cannot make (devices, fifos, overlayfs whiteouts), extended attributes, and hard links to such nodes. Every
 * path is resolved inside the layer directory with openat2(RESOLVE_IN_ROOT), so a symlink the layer planted in place
 * of a parent directory cannot send anything outside it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "skiff-init.h"

/* The directory holding `path` (resolved in `root`) as an O_PATH fd, and the last component in *name. */
static int parent_in_root(const char *root, const char *path, const char **name)
{
    const char *slash = strrchr(path, '/');
    if (!slash || !slash[1]) {
        set_detail("bad path %s", path);
        return -EINVAL;
    }
    *name = slash + 1;
    char *dir = strndup(path, (size_t)(slash - path));
    if (!dir)
        return -ENOMEM;
    int fd = open_in_root(root, dir[0] ? dir : "/", O_PATH | O_DIRECTORY);
    if (fd < 0)
        set_detail("parent of %s", path);
    free(dir);
    return fd;
}

/* mknod-in ROOT PATH MODE MAJOR MINOR UID GID MTIME_NS: an existing path is left as it is (a later entry won). */
int op_mknod_in(const struct step *s)
{
    int err = 0;
    mode_t mode = (mode_t)arg_u64(s, 2, &err);
    unsigned maj = (unsigned)arg_u64(s, 3, &err), min = (unsigned)arg_u64(s, 4, &err);
    uid_t uid = (uid_t)arg_u64(s, 5, &err);
    gid_t gid = (gid_t)arg_u64(s, 6, &err);
    unsigned long long mtime = arg_u64(s, 7, &err);
    if (err)
        return err;
    const char *name;
    int dfd = parent_in_root(s->argv[0], s->argv[1], &name);
    if (dfd < 0)
        return dfd;
    int r = 0;
    struct timespec times[2] = { { (time_t)(mtime / 1000000000ULL), (long)(mtime % 1000000000ULL) } };
    times[1] = times[0];
    if (mknodat(dfd, name, mode, makedev(maj, min)) < 0)
        r = errno == EEXIST ? 0 : -errno;
    else if (fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
        r = -errno;
    /* mknod(2) applies the umask, and chown(2) clears setuid/setgid: the mode is set exactly, after the owner. */
    else if (fchmodat(dfd, name, mode & 07777, 0) < 0)
        r = -errno;
    else if (utimensat(dfd, name, times, AT_SYMLINK_NOFOLLOW) < 0)
        r = -errno;
    close(dfd);
    return r;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* xattr-in ROOT PATH NAME HEX: lsetxattr(2) on PATH ("/" is the layer directory itself); the value in lowercase hex. */
int op_xattr_in(const struct step *s)
{
    const char *hex = s->argv[3];
    size_t len = strlen(hex) / 2;
    unsigned char *value = malloc(len + 1);
    if (!value)
        return -ENOMEM;
    for (size_t i = 0; i < len; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0 || strlen(hex) % 2) {
            free(value);
            set_detail("bad hex value");
            return -EINVAL;
        }
        value[i] = (unsigned char)(hi << 4 | lo);
    }
    char path[64];
    int fd, r = 0;
    if (strcmp(s->argv[1], "/") == 0) {
        fd = open_in_root(s->argv[0], "/", O_PATH | O_DIRECTORY);
        if (fd >= 0) {
            /* The magic link itself is followed to the directory it names. */
            snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
            if (setxattr(path, s->argv[2], value, len, 0) < 0)
                r = -errno;
        }
    } else {
        const char *name;
        fd = parent_in_root(s->argv[0], s->argv[1], &name);
        if (fd >= 0) {
            char *full;
            if (asprintf(&full, "/proc/self/fd/%d/%s", fd, name) < 0) {
                r = -ENOMEM;
            } else {
                if (lsetxattr(full, s->argv[2], value, len, 0) < 0)
                    r = -errno;
                free(full);
            }
        }
    }
    free(value);
    if (fd < 0)
        return fd;
    close(fd);
    if (r < 0)
        set_detail("xattr %s", s->argv[2]);
    return r;
}

/* link-in ROOT TARGET PATH: a hard link to a node made earlier in the same plan; an existing PATH is left (a later entry won). */
int op_link_in(const struct step *s)
{
    const char *tname, *pname;
    int tfd = parent_in_root(s->argv[0], s->argv[1], &tname);
    if (tfd < 0)
        return tfd;
    int pfd = parent_in_root(s->argv[0], s->argv[2], &pname);
    if (pfd < 0) {
        close(tfd);
        return pfd;
    }
    int r = linkat(tfd, tname, pfd, pname, 0) < 0 && errno != EEXIST ? -errno : 0;
    close(tfd);
    close(pfd);
    return r;
}
