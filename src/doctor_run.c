/*
 * doctor_run: children with time limits, the doctor's own proxy, and its
 * temporary files (see doctor_run.h). A child gets its own process group,
 * so a client that starts helpers of its own (a JVM, `go run` and the
 * program it built) is stopped whole when it runs out of time.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "doctor_run.h"
#include "doctor_serve.h"
#include "xmalloc.h"

#define RUN_OUTPUT_MAX		(64 * 1024)
#define PROXY_START_MS		20000	/* the listening line, under ASan */
#define PROXY_STOP_MS		6000	/* its own shutdown waits 5 s */
#define CHECK_MS		3000	/* a running proxy's doctor answer */

/* Milliseconds on a clock that does not jump. */
static long long
doctor_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Wait for pid, killing its group at deadline (*timed_out then set): a
 * client that closed its output may still hang. Its status as a shell
 * gives it.
 */
static int
doctor_wait(pid_t pid, long long deadline, int *timed_out)
{
	pid_t	w;
	int	st;

	for (;;) {
		w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w == -1 && errno != EINTR)
			return 127;
		if (w == 0 && !*timed_out && (doctor_signal != 0 ||
		    doctor_now_ms() >= deadline)) {
			*timed_out = 1;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
		}
		if (w == 0)
			usleep(5 * 1000);
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 127;
}

/* In the child: stdin from /dev/null, stdout and stderr to fd, exec. */
static void
doctor_exec(char *const argv[], char *const envp[], const char *dir, int fd,
    int errfd)
{
	int	null;

	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	null = open("/dev/null", O_RDONLY);
	if (null == -1 || dup2(null, 0) == -1 || dup2(fd, 1) == -1 ||
	    dup2(errfd, 2) == -1 || (dir != NULL && chdir(dir) == -1))
		_exit(127);
	if (envp != NULL)
		execvpe(argv[0], argv, envp);
	else
		execvp(argv[0], argv);
	_exit(127);
}

volatile sig_atomic_t	doctor_signal;

static void
doctor_signal_handler(int sig)
{
	doctor_signal = sig;
}

/* Catch SIGINT, SIGTERM and SIGHUP; interrupted calls fail with EINTR. */
void
doctor_catch_signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = doctor_signal_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* End by the signal caught, with its default action. */
void
doctor_reraise(void)
{
	int	sig = (int)doctor_signal;

	if (sig == 0)
		return;
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Run a client with a time limit. */
int
doctor_run(char *const argv[], char *const envp[], const char *dir,
    unsigned timeout_ms, struct buf *out, int *status, int *timed_out,
    char **cause)
{
	struct pollfd	 pfd;
	char		 chunk[4096];
	long long	 deadline;
	ssize_t		 n;
	pid_t		 pid;
	int		 fds[2], left;

	*timed_out = 0;
	*status = 127;
	if (pipe2(fds, O_CLOEXEC) == -1) {
		*cause = xasprintf("cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		*cause = xasprintf("cannot start %s: %s", argv[0],
		    strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0)
		doctor_exec(argv, envp, dir, fds[1], fds[1]);
	close(fds[1]);
	deadline = doctor_now_ms() + timeout_ms;
	pfd.fd = fds[0];
	pfd.events = POLLIN;
	for (;;) {
		left = (int)(deadline - doctor_now_ms());
		if (doctor_signal != 0)
			left = 0;
		if (left <= 0) {
			*timed_out = 1;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			break;
		}
		/* A signal between the check and poll is seen within 200 ms. */
		if (poll(&pfd, 1, left < 200 ? left : 200) == -1 &&
		    errno != EINTR)
			break;
		if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) == 0)
			continue;
		n = read(fds[0], chunk, sizeof chunk);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (out->len < RUN_OUTPUT_MAX)
			buf_add(out, chunk, (size_t)n < RUN_OUTPUT_MAX -
			    out->len ? (size_t)n : RUN_OUTPUT_MAX - out->len);
	}
	close(fds[0]);
	*status = doctor_wait(pid, deadline, timed_out);
	/* Helpers it left behind (a compiler's children) go with it. */
	kill(-pid, SIGKILL);
	return 0;
}

/* Is program an executable in PATH? */
int
doctor_which(const char *program)
{
	const char	*path = getenv("PATH"), *p, *colon;
	char		*file;
	struct stat	 st;
	int		 found = 0;

	if (strchr(program, '/') != NULL)
		return access(program, X_OK) == 0;
	if (path == NULL || *path == '\0')
		path = "/usr/bin:/bin";
	for (p = path; !found; p = colon + 1) {
		colon = strchr(p, ':');
		if (colon == NULL)
			colon = p + strlen(p);
		file = xasprintf("%.*s/%s", (int)(colon - p), colon == p ?
		    "." : p, program);
		found = stat(file, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(file, X_OK) == 0;
		free(file);
		if (*colon == '\0')
			break;
	}
	return found;
}

/* Read the proxy's "listening on HOST:PORT" line from fd. */
static int
doctor_listening(int fd, struct doctor_proxy *p, char **cause)
{
	struct pollfd	 pfd = { fd, POLLIN, 0 };
	char		 line[256], *colon;
	long long	 deadline = doctor_now_ms() + PROXY_START_MS;
	size_t		 len = 0;
	ssize_t		 n;
	int		 left;

	while (len < sizeof line - 1 && memchr(line, '\n', len) == NULL) {
		left = (int)(deadline - doctor_now_ms());
		if (left <= 0 || poll(&pfd, 1, left) <= 0) {
			*cause = xstrdup("the proxy did not start in time");
			return -1;
		}
		n = read(fd, line + len, sizeof line - 1 - len);
		if (n <= 0) {
			*cause = xstrdup("the proxy stopped before it "
			    "listened");
			return -1;
		}
		len += (size_t)n;
	}
	line[len] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (strncmp(line, "listening on ", 13) != 0 ||
	    (colon = strrchr(line, ':')) == NULL) {
		*cause = xstrdup("the proxy did not say where it listens");
		return -1;
	}
	*colon = '\0';
	p->host = xstrdup(line + 13);
	p->port = atoi(colon + 1);
	return 0;
}

/* Start our own proxy. */
int
doctor_proxy_start(struct doctor_proxy *p, const char *ca_dir,
    const char *logpath, char **cause)
{
	char	 self[4096];
	char	*argv[] = { self, (char *)"proxy", (char *)"-l",
	    (char *)"127.0.0.1:0", (char *)"-q", (char *)"--ca-dir",
	    (char *)ca_dir, NULL };
	ssize_t	 n;
	int	 fds[2], logfd;

	memset(p, 0, sizeof *p);
	p->pid = -1;
	p->fd = -1;
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0) {
		*cause = xasprintf("cannot find this program to start a proxy: "
		    "%s", strerror(errno));
		return -1;
	}
	self[n] = '\0';
	logfd = open(logpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (logfd == -1 || pipe2(fds, O_CLOEXEC) == -1) {
		*cause = xasprintf("cannot start a proxy: %s",
		    strerror(errno));
		if (logfd != -1)
			close(logfd);
		return -1;
	}
	if ((p->pid = fork()) == -1) {
		*cause = xasprintf("cannot start a proxy: %s",
		    strerror(errno));
		close(fds[0]);
		close(fds[1]);
		close(logfd);
		return -1;
	}
	if (p->pid == 0)
		doctor_exec(argv, NULL, NULL, fds[1], logfd);
	close(fds[1]);
	close(logfd);
	p->fd = fds[0];
	if (doctor_listening(p->fd, p, cause) == -1) {
		doctor_proxy_stop(p);
		return -1;
	}
	return 0;
}

/* Stop our proxy, if we started one; its exit status. */
int
doctor_proxy_stop(struct doctor_proxy *p)
{
	long long	deadline;
	int		st = 0, rc = 0;
	pid_t		w;

	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		deadline = doctor_now_ms() + PROXY_STOP_MS;
		while ((w = waitpid(p->pid, &st, WNOHANG)) == 0) {
			if (doctor_now_ms() > deadline) {
				kill(p->pid, SIGKILL);
				w = waitpid(p->pid, &st, 0);
				break;
			}
			usleep(20 * 1000);
		}
		if (w == -1)
			rc = 127;
		else if (WIFEXITED(st))
			rc = WEXITSTATUS(st);
		else if (WIFSIGNALED(st))
			rc = 128 + WTERMSIG(st);
	}
	if (p->fd != -1)
		close(p->fd);
	free(p->host);
	p->host = NULL;
	p->pid = -1;
	p->fd = -1;
	return rc;
}

/* Connect to host:port within CHECK_MS; the socket, or -1 with *why. */
static int
doctor_connect(const char *host, int port, char **why)
{
	struct addrinfo	 hints, *res = NULL, *ai;
	struct timeval	 tv = { CHECK_MS / 1000, 0 };
	char		 ports[16];
	int		 fd = -1, rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(ports, sizeof ports, "%d", port);
	if ((rc = getaddrinfo(host, ports, &hints, &res)) != 0) {
		*why = xasprintf("%s: %s", host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd == -1)
			continue;
		/* On Linux, SO_SNDTIMEO bounds connect too. */
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
			*why = xasprintf("nothing answers at %s:%d (%s)", host,
			    port, strerror(errno));
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd != -1) {
		free(*why);
		*why = NULL;
	} else if (*why == NULL)
		*why = xasprintf("cannot connect to %s:%d", host, port);
	return fd;
}

/* Is a patchscope proxy answering at host:port? */
int
doctor_proxy_check(const char *host, int port, char **why)
{
	static const char	 req[] = "GET http://" DOCTOR_HOST "/ping "
	    "HTTP/1.1\r\nHost: " DOCTOR_HOST "\r\nConnection: close\r\n\r\n";
	char			 answer[1024];
	size_t			 len = 0;
	ssize_t			 n;
	int			 fd;

	*why = NULL;
	if ((fd = doctor_connect(host, port, why)) == -1)
		return 0;
	if (write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
		*why = xasprintf("%s:%d did not take a request", host, port);
		close(fd);
		return 0;
	}
	while (len < sizeof answer - 1 &&
	    (n = read(fd, answer + len, sizeof answer - 1 - len)) > 0)
		len += (size_t)n;
	close(fd);
	answer[len] = '\0';
	if (strncmp(answer, "HTTP/1.1 200", 12) != 0 ||
	    strstr(answer, "patchscope doctor: ") == NULL) {
		*why = xasprintf("what answers at %s:%d is not a patchscope "
		    "proxy (or an older one)", host, port);
		return 0;
	}
	return 1;
}

/* Make the temporary directory. */
char *
doctor_tmpdir(char **cause)
{
	const char	*tmp = getenv("TMPDIR");
	char		*dir;

	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	dir = xasprintf("%s/patchscope-doctor.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL) {
		*cause = xasprintf("cannot make a directory in %s: %s", tmp,
		    strerror(errno));
		free(dir);
		return NULL;
	}
	return dir;
}

/* First pass: let us write in every directory (Go makes some read-only). */
static int
doctor_open_cb(const char *path, const struct stat *st, int flag,
    struct FTW *f)
{
	(void)f;
	if (flag == FTW_D && (st->st_mode & 0700) != 0700)
		chmod(path, 0700);
	return 0;
}

/* Second pass, deepest first: remove. */
static int
doctor_rm_cb(const char *path, const struct stat *st, int flag,
    struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	remove(path);
	return 0;
}

/* Remove the temporary directory. */
void
doctor_rmtree(const char *dir)
{
	nftw(dir, doctor_open_cb, 16, FTW_PHYS);
	nftw(dir, doctor_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write a probe program. */
int
doctor_write(const char *dir, const char *name, const char *text,
    char **cause)
{
	char	*path;
	FILE	*f;
	int	 rc = 0;

	path = xasprintf("%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL || fputs(text, f) == EOF) {
		*cause = xasprintf("cannot write %s: %s", path,
		    strerror(errno));
		rc = -1;
	}
	if (f != NULL && fclose(f) == EOF && rc == 0) {
		*cause = xasprintf("cannot write %s: %s", path,
		    strerror(errno));
		rc = -1;
	}
	free(path);
	return rc;
}
