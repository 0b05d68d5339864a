/* The container's terminal: a pty made from the container's own /dev/ptmx, its master handed over a unix socket
 * with SCM_RIGHTS (runc's console-socket protocol, which conmon and containerd speak). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "skiff-init.h"

int send_fd(int sock, int fd, const char *payload, size_t len)
{
    char cbuf[CMSG_SPACE(sizeof(int))];
    memset(cbuf, 0, sizeof cbuf);
    struct iovec iov = { .iov_base = (void *)payload, .iov_len = len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int recv_fd(int sock)
{
    char buf[256], cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
    if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) < 0)
        return -errno;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_type != SCM_RIGHTS)
        return -EBADMSG;
    int fd;
    memcpy(&fd, CMSG_DATA(c), sizeof(int));
    return fd;
}

/* `name` is what an error calls it. */
static int connect_addr(const struct sockaddr_un *addr, socklen_t len, const char *name)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (const struct sockaddr *)addr, len) < 0) {
        int e = errno;
        close(fd);
        set_detail("connect %s", name);
        return -e;
    }
    return fd;
}

int connect_unix(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof addr.sun_path) {
        set_detail("socket path %s is too long", path);
        return -ENAMETOOLONG;
    }
    strcpy(addr.sun_path, path);
    return connect_addr(&addr, sizeof addr, path);
}

/*
 * unix(7): an abstract address is a NUL, then the name, and all of the length passed to bind(2) counts. Node 20's
 * libuv binds with the whole sun_path, the name padded with NULs, so that is what we connect to.
 */
int connect_unix_abstract(const char *name)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    size_t len = strlen(name);
    if (len + 1 > sizeof addr.sun_path) {
        set_detail("abstract socket name %s is too long", name);
        return -ENAMETOOLONG;
    }
    memcpy(addr.sun_path + 1, name, len);
    return connect_addr(&addr, sizeof addr, name);
}

int op_console_connect(const struct step *s)
{
    if (!s->argv[0][0]) {
        if (g.proxy_fd[1] < 0) {
            set_detail("no parent to hold the terminal (parent mode is not wait, nor monitor with a terminal)");
            return -EINVAL;
        }
        g.console_fd = g.proxy_fd[1];
        return 0;
    }
    int fd = connect_unix(s->argv[0]);
    if (fd < 0)
        return fd;
    g.console_fd = fd;
    return 0;
}

/* Runs after pivot-root: /dev/ptmx is the container's (devpts newinstance), so the pty belongs to the container. */
int op_console(const struct step *s)
{
    int err = 0;
    unsigned short rows = (unsigned short)arg_u64(s, 0, &err), cols = (unsigned short)arg_u64(s, 1, &err);
    if (err)
        return err;
    if (g.console_fd < 0) {
        set_detail("console without console-connect");
        return -EINVAL;
    }
    int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (master < 0) {
        set_detail("open /dev/ptmx");
        return -errno;
    }
    int unlock = 0, n;
    if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0)
        return -errno;
    /* TIOCGPTPEER opens the slave through the master, so no path lookup can be raced. */
    int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
    if (slave < 0) {
        set_detail("open pty slave");
        return -errno;
    }
    if (rows || cols) {
        struct winsize ws = { .ws_row = rows, .ws_col = cols };
        if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
            return -errno;
    }
    char name[64];
    int len = snprintf(name, sizeof name, "/dev/pts/%d", n);
    int r = send_fd(g.console_fd, master, name, (size_t)len);
    if (r < 0) {
        set_detail("send the pty master over the console socket");
        return r;
    }
    close(master);
    close(g.console_fd);
    g.console_fd = -1;
    if (setsid() < 0 && errno != EPERM)
        return -errno;
    if (ioctl(slave, TIOCSCTTY, 0) < 0) {
        set_detail("make the pty the controlling terminal");
        return -errno;
    }
    for (int fd = 0; fd < 3; fd++)
        if (dup2(slave, fd) < 0)
            return -errno;
    if (slave > 2)
        close(slave);
    return 0;
}
