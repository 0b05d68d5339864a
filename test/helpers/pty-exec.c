/*
 * pty-exec CMD [ARG...]: runs CMD on a new pseudo-terminal (forkpty(3)) for the streaming tests' backend, which
 * has no terminal of its own to give a process. Copies stdin to the terminal and the terminal to stdout; a line
 * "ROWS COLS" on fd 3 resizes the terminal (TIOCSWINSZ, which sends the process SIGWINCH). Exits with CMD's status
 * (128+N for a signal), after what it printed.
 */
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

static int write_all(int fd, const char *buf, ssize_t n) {
	while (n > 0) {
		ssize_t w = write(fd, buf, (size_t)n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += w;
		n -= w;
	}
	return 0;
}

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: pty-exec CMD [ARG...]\n");
		return 2;
	}
	int master;
	struct winsize ws = {.ws_row = 24, .ws_col = 80};
	pid_t pid = forkpty(&master, NULL, NULL, &ws);
	if (pid < 0) {
		perror("forkpty");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		perror(argv[1]);
		_exit(127);
	}
	struct pollfd fds[3] = {{.fd = 0, .events = POLLIN}, {.fd = master, .events = POLLIN}, {.fd = 3, .events = POLLIN}};
	char buf[8192], line[64];
	size_t line_len = 0;
	for (;;) {
		if (poll(fds, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("poll");
			return 1;
		}
		if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(master, buf, sizeof buf);
			/* EIO: the last process holding the terminal is gone. */
			if (n <= 0)
				break;
			if (write_all(1, buf, n) < 0)
				break;
		}
		if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(0, buf, sizeof buf);
			if (n <= 0)
				fds[0].fd = -1;
			else if (write_all(master, buf, n) < 0)
				break;
		}
		if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			char c;
			ssize_t n = read(3, &c, 1);
			if (n <= 0) {
				fds[2].fd = -1;
			} else if (c != '\n' && line_len < sizeof line - 1) {
				line[line_len++] = c;
			} else if (c == '\n') {
				line[line_len] = 0;
				line_len = 0;
				unsigned rows, cols;
				if (sscanf(line, "%u %u", &rows, &cols) == 2) {
					ws.ws_row = (unsigned short)rows;
					ws.ws_col = (unsigned short)cols;
					if (ioctl(master, TIOCSWINSZ, &ws) < 0)
						perror("TIOCSWINSZ");
				}
			}
		}
	}
	int status;
	if (waitpid(pid, &status, 0) < 0) {
		perror("waitpid");
		return 1;
	}
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
