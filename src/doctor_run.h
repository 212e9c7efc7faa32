/*
 * doctor_run: the processes and files of `patchscope doctor`: clients run
 * as children with a time limit, the proxy it starts for itself, the check
 * of one already running, and the temporary directory for the probes.
 */
#ifndef PATCHSCOPE_DOCTOR_RUN_H
#define PATCHSCOPE_DOCTOR_RUN_H

#include <sys/types.h>
#include <signal.h>

struct buf;

/* The proxy doctor checks through. */
struct doctor_proxy {
	pid_t	 pid;		/* ours, or -1 for one already running */
	int	 fd;		/* its stdout, kept open while it runs */
	char	*host;		/* where it listens */
	int	 port;
};

/*
 * Run argv (argv[0] looked for in PATH) with exactly the environment envp,
 * in dir, stdin from /dev/null, stdout and stderr into out (the first 64
 * KiB kept). After timeout_ms its process group is killed. Return 0 with
 * *status set (the exit status, 128+N for a signal N, 127 when it could
 * not be executed) and *timed_out, or -1 with *cause set (caller frees)
 * when no process could be made.
 */
int	doctor_run(char *const argv[], char *const envp[], const char *dir,
	    unsigned timeout_ms, struct buf *out, int *status, int *timed_out,
	    char **cause);
/*
 * SIGINT, SIGTERM or SIGHUP received since doctor_catch_signals (0 when
 * none): doctor_run then kills its client at once, and doctor stops its
 * proxy and removes its files before it ends by that signal.
 */
extern volatile sig_atomic_t doctor_signal;
/* Catch those signals without restarting what they interrupt. */
void	doctor_catch_signals(void);
/* End by doctor_signal as if it had not been caught. */
void	doctor_reraise(void);
/* Return 1 when program is an executable file in PATH, else 0. */
int	doctor_which(const char *program);
/*
 * Start this program as `proxy -l 127.0.0.1:0 -q --ca-dir ca_dir`, its log
 * appended to logpath, and wait for its listening line. Return 0 with p
 * filled in, or -1 with *cause set (caller frees).
 */
int	doctor_proxy_start(struct doctor_proxy *p, const char *ca_dir,
	    const char *logpath, char **cause);
/*
 * Ask host:port for patchscope's doctor answer. Return 1 when a
 * patchscope proxy answers there, else 0 with *why set (caller frees).
 */
int	doctor_proxy_check(const char *host, int port, char **why);
/*
 * Stop the proxy doctor started (SIGTERM, then SIGKILL after 6 s) and free
 * p's fields. Return its exit status (128+N for a signal N), or 0 when
 * doctor did not start it.
 */
int	doctor_proxy_stop(struct doctor_proxy *p);
/*
 * Make a private temporary directory (under $TMPDIR, else /tmp). Return
 * its path (caller frees), or NULL with *cause set.
 */
char	*doctor_tmpdir(char **cause);
/* Remove dir and everything under it. */
void	doctor_rmtree(const char *dir);
/* Write text to dir/name. Return 0, or -1 with *cause set. */
int	doctor_write(const char *dir, const char *name, const char *text,
	    char **cause);

#endif
