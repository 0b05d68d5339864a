/* The monitor process (docs/monitor.md): what monitor.c, log-writer.c and attach.c share. */
#ifndef SKIFF_MONITOR_H
#define SKIFF_MONITOR_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* ---- log-writer.c: the CRI-format log, rotated at a size limit, reopened on request ---- */

struct log_writer {
    const char *path;             /* "" = no log */
    int fd;                       /* -1 while there is none */
    unsigned long long max_size;  /* rotate before a record would make the file bigger; 0 = never */
    unsigned max_files;           /* rotated files kept: path.1 .. path.N */
    unsigned long long size;      /* bytes in the current file */
};

/* Takes over an fd already open on path (or -1). */
int log_init(struct log_writer *w, const char *path, int fd, unsigned long long max_size, unsigned max_files);
/* Appends `data` read from `stream` as CRI lines: complete lines tagged F, a trailing piece without newline P. */
void log_write(struct log_writer *w, const char *stream, const char *data, size_t len);
/* Closes the file and opens path again (CRI ReopenContainerLog, after the kubelet renamed it); 0 or -errno. */
int log_reopen(struct log_writer *w);
/* "2006-01-02T15:04:05.999999999Z": RFC 3339 in UTC with nanoseconds, always 9 digits (31 bytes with the NUL
 * until the year 10000). */
#define TIME_LEN 40
void format_time(char out[TIME_LEN], const struct timespec *ts);

/* ---- attach.c: the attach socket's clients and their frames ---- */

/* Frame types (docs/monitor.md): an 8-byte header, type then 3 zero bytes then the payload length (big-endian). */
enum frame_type {
    FRAME_STDIN = 0,        /* client -> monitor: bytes for the container's stdin */
    FRAME_STDOUT = 1,       /* monitor -> client: the container's stdout (or its terminal) */
    FRAME_STDERR = 2,       /* monitor -> client: the container's stderr */
    FRAME_CLOSE_STDIN = 3,  /* client -> monitor: close the container's stdin */
    FRAME_RESIZE = 4,       /* client -> monitor: rows, cols (uint16 big-endian each) */
    FRAME_REOPEN_LOG = 5,   /* client -> monitor: reopen the log file */
    FRAME_LOG_REOPENED = 6, /* monitor -> client: the answer to REOPEN_LOG, an errno (uint32 big-endian, 0 = done) */
    FRAME_EXIT = 7,         /* monitor -> client: the container exited; payload: the exit file's JSON */
    FRAME_ATTACHED = 8,     /* monitor -> client: registered; output from now on reaches this client */
};

#define FRAME_HEADER 8

/* What the attach server calls back into the monitor for. */
struct attach_ops {
    /* Bytes for the container's stdin; `data` stays valid until stdin_busy() returns 0. */
    void (*stdin_data)(const char *data, size_t len);
    int (*stdin_busy)(void);  /* 1 while earlier stdin bytes still wait for the container to read them */
    void (*close_stdin)(void);
    void (*resize)(unsigned short rows, unsigned short cols);
    int (*reopen_log)(void);  /* 0 or -errno */
};

void attach_init(int listen_fd, const struct attach_ops *ops);
/* Adds the server's fds to `fds` (at most attach_max_fds()); returns how many. */
int attach_poll_fds(struct pollfd *fds);
int attach_max_fds(void);
/* Handles the revents of the fds attach_poll_fds() added, in the same order. */
void attach_handle(const struct pollfd *fds, int n);
/* Sends one output frame to every client; returns 1 while some client has not taken all of it yet. */
int attach_broadcast(enum frame_type type, const char *data, size_t len);
/* 1 while some client still has a frame or an answer to take: new output waits for it. */
int attach_busy(void);
/* The end: stop accepting and reading; from now on frames go out blocking, a client that takes none for a while
 * is dropped. Delivers what is pending. */
void attach_final(void);
/* Sends EXIT with `json` to every client and closes them. */
void attach_close_all(const char *json, size_t len);

#endif
