/* The container's log in the CRI format (kubelet's pkg/kubelet/kuberuntime/logs): one record per line,
 * "<RFC3339Nano> <stdout|stderr> <F|P> <content>\n", P when the content is not a whole line. Rotated at a size limit
 * (path -> path.1 -> ... -> path.N), reopened on request. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "monitor.h"

/* Lines per writev(2); a read of 8 KiB of short lines becomes a few calls instead of one per line. */
#define BATCH_LINES 64

void format_time(char out[TIME_LEN], const struct timespec *ts)
{
    struct tm tm;
    gmtime_r(&ts->tv_sec, &tm);
    size_t n = strftime(out, TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, TIME_LEN - n, ".%09ldZ", ts->tv_nsec);
}

static int open_log(struct log_writer *w)
{
    w->fd = open(w->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (w->fd < 0)
        return -errno;
    struct stat st;
    if (fstat(w->fd, &st) < 0) {
        int e = errno;
        close(w->fd);
        w->fd = -1;
        return -e;
    }
    w->size = (unsigned long long)st.st_size;
    return 0;
}

int log_init(struct log_writer *w, const char *path, int fd, unsigned long long max_size, unsigned max_files)
{
    *w = (struct log_writer){ .path = path, .fd = fd, .max_size = max_size, .max_files = max_files };
    if (fd < 0)
        return 0;
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -errno;
    w->size = (unsigned long long)st.st_size;
    return 0;
}

int log_reopen(struct log_writer *w)
{
    if (!w->path[0])
        return -ENOENT;
    if (w->fd >= 0)
        close(w->fd);
    return open_log(w);
}

/* path.N-1 -> path.N ... path -> path.1, then a new empty path (docker's json-file max-size/max-file). */
static void rotate(struct log_writer *w)
{
    size_t len = strlen(w->path) + 16;
    char *from = malloc(len), *to = malloc(len);
    if (!from || !to) {
        free(from);
        free(to);
        return; /* keep writing to the current file: better too big than lost */
    }
    for (unsigned i = w->max_files; i >= 1; i--) {
        if (i == 1)
            snprintf(from, len, "%s", w->path);
        else
            snprintf(from, len, "%s.%u", w->path, i - 1);
        snprintf(to, len, "%s.%u", w->path, i);
        /* ENOENT: fewer rotated files than max_files so far. Anything else leaves that older file in place. */
        (void)!rename(from, to);
    }
    if (w->max_files == 0)
        (void)!unlink(w->path);
    free(from);
    free(to);
    close(w->fd);
    /* If the new file cannot be made (a full disk), lines are dropped until the next rotation or reopen. */
    (void)!open_log(w);
}

/* A failed or short write (a full disk) drops those lines: the container must never wait for its log. */
static void flush(struct log_writer *w, struct iovec *iov, int n)
{
    if (n == 0)
        return;
    ssize_t done = writev(w->fd, iov, n);
    if (done > 0)
        w->size += (unsigned long long)done;
}

void log_write(struct log_writer *w, const char *stream, const char *data, size_t len)
{
    /* No log; or the last rotation or reopen could not make the file: try again now. */
    if (w->fd < 0 && (!w->path[0] || open_log(w) < 0))
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char when[TIME_LEN], full[TIME_LEN + 16], partial[TIME_LEN + 16];
    format_time(when, &ts);
    /* Every record of one read shares its time; only the tag differs. */
    int hl = snprintf(full, sizeof full, "%s %s F ", when, stream);
    snprintf(partial, sizeof partial, "%s %s P ", when, stream);

    struct iovec iov[BATCH_LINES * 3];
    int n = 0;
    size_t batch = 0;
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t line = nl ? (size_t)(nl - p) : (size_t)(end - p);
        size_t record = (size_t)hl + line + 1;
        if (w->max_size && w->size + batch > 0 && w->size + batch + record > w->max_size) {
            flush(w, iov, n);
            n = 0;
            batch = 0;
            rotate(w);
            if (w->fd < 0)
                return;
        }
        iov[n++] = (struct iovec){ nl ? full : partial, (size_t)hl };
        iov[n++] = (struct iovec){ (void *)p, line };
        iov[n++] = (struct iovec){ "\n", 1 };
        batch += record;
        if (n == BATCH_LINES * 3) {
            flush(w, iov, n);
            n = 0;
            batch = 0;
        }
        p += line + (nl ? 1 : 0);
    }
    flush(w, iov, n);
}
