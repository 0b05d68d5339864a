/* The attach socket (docs/monitor.md "Attach protocol"): clients connect, receive the container's output from the
 * moment they are registered, send stdin, close it, resize the terminal, ask for the log to be reopened. A client
 * that goes away, or speaks the protocol wrongly, is dropped; the container never notices. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "monitor.h"

#define MAX_CLIENTS 32
/* At the end, how long a client may take to accept what is left for it, and to close after EXIT. */
#define FINAL_SEND_TIMEOUT_S 2

struct client {
    int fd;                           /* -1: a free slot */
    unsigned char hdr[FRAME_HEADER];  /* the incoming frame's header ... */
    unsigned hdr_got;                 /* ... of which this much has arrived */
    uint32_t left;                    /* payload bytes of the incoming frame still to read */
    unsigned char arg[4];             /* a RESIZE payload */
    unsigned arg_got;
    size_t out_sent;                  /* how much of the current output frame it has taken */
    unsigned char reply[FRAME_HEADER + 4];  /* an answer (ATTACHED, LOG_REOPENED) waiting to go out */
    unsigned reply_len, reply_sent;
};

static struct client clients[MAX_CLIENTS];
static int listen_fd = -1;
static const struct attach_ops *ops;
static int final_mode;

/* The output frame being delivered: its header and the monitor's read buffer, which the monitor leaves alone
 * until every client has taken the frame (attach_busy() is 0). */
static unsigned char out_hdr[FRAME_HEADER];
static const char *out_data;
static size_t out_len; /* header + data */
/* Stdin payload read from a client; the monitor may keep pointing into it until stdin_busy() is 0 again. */
static char in_buf[4096];

static void put_header(unsigned char *h, enum frame_type type, uint32_t len)
{
    h[0] = (unsigned char)type;
    h[1] = h[2] = h[3] = 0;
    h[4] = (unsigned char)(len >> 24);
    h[5] = (unsigned char)(len >> 16);
    h[6] = (unsigned char)(len >> 8);
    h[7] = (unsigned char)len;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void attach_init(int fd, const struct attach_ops *o)
{
    listen_fd = fd;
    ops = o;
    for (int i = 0; i < MAX_CLIENTS; i++)
        clients[i].fd = -1;
}

static void drop(struct client *c)
{
    close(c->fd);
    c->fd = -1;
}

/* Sends the parts, of which *sent bytes are already out; 0 when all is out, 1 when the socket is full, -1 on an
 * error (the client went away, or at the end did not take it in time). */
static int send_part(struct client *c, const struct iovec *parts, int nparts, size_t *sent)
{
    for (;;) {
        struct iovec iov[2];
        int n = 0;
        size_t skip = *sent;
        for (int i = 0; i < nparts; i++) {
            if (skip >= parts[i].iov_len) {
                skip -= parts[i].iov_len;
                continue;
            }
            iov[n++] = (struct iovec){ (char *)parts[i].iov_base + skip, parts[i].iov_len - skip };
            skip = 0;
        }
        if (n == 0)
            return 0;
        struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)n };
        ssize_t r = sendmsg(c->fd, &msg, MSG_NOSIGNAL | (final_mode ? 0 : MSG_DONTWAIT));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN && !final_mode)
            return 1;
        if (r < 0)
            return -1;
        *sent += (size_t)r;
    }
}

/* Pushes what the client has pending: the rest of the output frame, then its answer. -1 if it was dropped. */
static int flush_client(struct client *c)
{
    int r = 0;
    if (c->out_sent < out_len) {
        struct iovec frame[2] = { { out_hdr, FRAME_HEADER }, { (void *)out_data, out_len - FRAME_HEADER } };
        r = send_part(c, frame, 2, &c->out_sent);
    }
    if (r == 0 && c->reply_len) {
        struct iovec reply = { c->reply, c->reply_len };
        size_t sent = c->reply_sent;
        r = send_part(c, &reply, 1, &sent);
        c->reply_sent = (unsigned)sent;
        if (r == 0)
            c->reply_len = c->reply_sent = 0;
    }
    if (r < 0) {
        drop(c);
        return -1;
    }
    return 0;
}

static int pending(const struct client *c)
{
    return c->fd >= 0 && (c->out_sent < out_len || c->reply_len);
}

static void answer(struct client *c, enum frame_type type, const void *payload, uint32_t len)
{
    put_header(c->reply, type, len);
    if (len)
        memcpy(c->reply + FRAME_HEADER, payload, len);
    c->reply_len = FRAME_HEADER + len;
    c->reply_sent = 0;
    flush_client(c);
}

static void accept_client(void)
{
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return; /* EAGAIN (another wakeup took it), or the client gave up: nothing to do */
    struct client *c = NULL;
    for (int i = 0; i < MAX_CLIENTS && !c; i++)
        if (clients[i].fd < 0)
            c = &clients[i];
    if (!c) {
        close(fd); /* full: the client sees the connection closed before ATTACHED */
        return;
    }
    *c = (struct client){ .fd = fd, .out_sent = out_len /* the frame in flight predates it */ };
    answer(c, FRAME_ATTACHED, NULL, 0);
}

/* The stdin payload may only be read while the container's stdin has taken everything before it. */
static int can_read(const struct client *c)
{
    if (c->reply_len)
        return 0;
    return !(c->hdr_got == FRAME_HEADER && c->hdr[0] == FRAME_STDIN && ops->stdin_busy());
}

/* Starts the frame whose header just arrived; 0, or -1 for a protocol error. */
static int frame_start(struct client *c)
{
    c->left = be32(c->hdr + 4);
    if (c->hdr[1] | c->hdr[2] | c->hdr[3])
        return -1;
    switch (c->hdr[0]) {
    case FRAME_STDIN:
        break;
    case FRAME_RESIZE:
        if (c->left != 4)
            return -1;
        c->arg_got = 0;
        break;
    case FRAME_CLOSE_STDIN:
        if (c->left)
            return -1;
        ops->close_stdin();
        break;
    case FRAME_REOPEN_LOG: {
        if (c->left)
            return -1;
        uint32_t e = (uint32_t)-ops->reopen_log();
        unsigned char be[4] = { (unsigned char)(e >> 24), (unsigned char)(e >> 16), (unsigned char)(e >> 8), (unsigned char)e };
        answer(c, FRAME_LOG_REOPENED, be, 4);
        break;
    }
    default:
        return -1;
    }
    if (c->left == 0)
        c->hdr_got = 0;
    return 0;
}

/* One read from the client: part of a header, or part of a payload. Level-triggered poll brings us back. */
static void client_read(struct client *c)
{
    ssize_t n;
    if (c->hdr_got < FRAME_HEADER) {
        n = recv(c->fd, c->hdr + c->hdr_got, FRAME_HEADER - c->hdr_got, MSG_DONTWAIT);
        if (n > 0 && (c->hdr_got += (unsigned)n) == FRAME_HEADER && frame_start(c) < 0)
            n = -1, errno = EPROTO;
    } else if (c->hdr[0] == FRAME_STDIN) {
        n = recv(c->fd, in_buf, c->left < sizeof in_buf ? c->left : sizeof in_buf, MSG_DONTWAIT);
        if (n > 0) {
            c->left -= (uint32_t)n;
            ops->stdin_data(in_buf, (size_t)n);
        }
    } else { /* FRAME_RESIZE */
        n = recv(c->fd, c->arg + c->arg_got, 4 - c->arg_got, MSG_DONTWAIT);
        if (n > 0 && (c->arg_got += (unsigned)n) == 4) {
            c->left = 0;
            ops->resize((unsigned short)(c->arg[0] << 8 | c->arg[1]), (unsigned short)(c->arg[2] << 8 | c->arg[3]));
        }
    }
    if (n > 0 && c->hdr_got == FRAME_HEADER && c->left == 0)
        c->hdr_got = 0;
    /* EOF: the client detached (a client that only shuts down its sending side is detached as well). */
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        drop(c);
}

int attach_max_fds(void)
{
    return 1 + MAX_CLIENTS;
}

int attach_poll_fds(struct pollfd *fds)
{
    fds[0] = (struct pollfd){ .fd = final_mode ? -1 : listen_fd, .events = POLLIN };
    for (int i = 0; i < MAX_CLIENTS; i++) {
        struct client *c = &clients[i];
        short ev = (short)((pending(c) ? POLLOUT : 0) | (c->fd >= 0 && can_read(c) ? POLLIN : 0));
        /* A client waiting for the container's stdin, with nothing to send it, is left out: its hangup can wait. */
        fds[1 + i] = (struct pollfd){ .fd = ev ? c->fd : -1, .events = ev };
    }
    return 1 + MAX_CLIENTS;
}

void attach_handle(const struct pollfd *fds, int n)
{
    if (n > 0 && fds[0].revents & POLLIN)
        accept_client();
    for (int i = 0; i + 1 < n && i < MAX_CLIENTS; i++) {
        struct client *c = &clients[i];
        short re = fds[1 + i].revents;
        if (c->fd < 0 || fds[1 + i].fd != c->fd || !re)
            continue;
        if (re & POLLOUT && flush_client(c) < 0)
            continue;
        if (re & POLLIN)
            client_read(c);
        else if (re & (POLLHUP | POLLERR | POLLNVAL))
            drop(c);
    }
}

int attach_busy(void)
{
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (pending(&clients[i]))
            return 1;
    return 0;
}

int attach_broadcast(enum frame_type type, const char *data, size_t len)
{
    put_header(out_hdr, type, (uint32_t)len);
    out_data = data;
    out_len = FRAME_HEADER + len;
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i].fd < 0)
            continue;
        clients[i].out_sent = 0;
        flush_client(&clients[i]);
    }
    return attach_busy();
}

void attach_final(void)
{
    final_mode = 1;
    if (listen_fd >= 0)
        close(listen_fd);
    listen_fd = -1;
    struct timeval tv = { .tv_sec = FINAL_SEND_TIMEOUT_S };
    for (int i = 0; i < MAX_CLIENTS; i++) {
        struct client *c = &clients[i];
        if (c->fd < 0)
            continue;
        int fl = fcntl(c->fd, F_GETFL);
        /* Blocking sends with a timeout (socket(7) SO_SNDTIMEO); a client that cannot be set up so is dropped. */
        if (fl < 0 || fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK) < 0 ||
            setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0) {
            drop(c);
            continue;
        }
        flush_client(c);
    }
}

/*
 * A graceful close: after EXIT we shut down our sending side and wait (bounded) for each client to close its own,
 * discarding what it still sends. Closing at once would make a client's late write fail with EPIPE, or our close
 * with unread data reset its connection (unix(7)); either can cost it the output and EXIT it has not read yet.
 */
void attach_close_all(const char *json, size_t len)
{
    attach_broadcast(FRAME_EXIT, json, len);
    struct pollfd fds[MAX_CLIENTS];
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < MAX_CLIENTS; i++) {
        fds[i] = (struct pollfd){ .fd = clients[i].fd, .events = POLLIN };
        if (clients[i].fd >= 0 && shutdown(clients[i].fd, SHUT_WR) < 0)
            drop(&clients[i]), fds[i].fd = -1;
    }
    for (;;) {
        int open = 0;
        for (int i = 0; i < MAX_CLIENTS; i++)
            open |= clients[i].fd >= 0;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left_ms = FINAL_SEND_TIMEOUT_S * 1000 - (now.tv_sec - start.tv_sec) * 1000 - (now.tv_nsec - start.tv_nsec) / 1000000;
        if (!open || left_ms <= 0 || (poll(fds, MAX_CLIENTS, (int)left_ms) < 0 && errno != EINTR))
            break;
        for (int i = 0; i < MAX_CLIENTS; i++) {
            if (fds[i].fd < 0 || !fds[i].revents)
                continue;
            ssize_t n = recv(fds[i].fd, in_buf, sizeof in_buf, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                drop(&clients[i]), fds[i].fd = -1;
        }
    }
    for (int i = 0; i < MAX_CLIENTS; i++)
        if (clients[i].fd >= 0)
            drop(&clients[i]);
}
