/*
 * run_cmd: the serving commands' "-- CMD [ARGS...]": CMD runs as a child
 * of patchscope, with the environment of `env` plus PATCHSCOPE_URL, in a
 * process group of its own (the terminal's foreground group when
 * patchscope holds the terminal), as a shell runs a job. Its end is seen
 * from the event loop (SIGCHLD); SIGINT and SIGTERM sent to patchscope
 * are passed on to it.
 */
#ifndef PATCHSCOPE_RUN_CMD_H
#define PATCHSCOPE_RUN_CMD_H

struct client_env;
struct event_base;
struct options;
struct run_cmd;

/*
 * Start opts->command for the proxy listening at address ("ADDR:PORT",
 * as proxy_address() gives it); done(arg) is called from the loop once
 * CMD has ended. Return the run, or NULL with *cause set (the caller
 * frees) and *status the exit status to end with: 127 when CMD was not
 * found, 126 when it could not be executed (the child was reaped), 2
 * when patchscope could not start it (CMD not run).
 */
struct run_cmd *run_cmd_start(struct event_base *, const struct options *,
	    const char *address, void (*done)(void *), void *arg, int *status,
	    char **cause);
/*
 * Pass signal sig on to CMD's process group. Return 0, or -1 when CMD
 * has already ended (nothing sent).
 */
int	run_cmd_signal(struct run_cmd *, int sig);
/*
 * Free the run and return CMD's exit status as a shell reports it. A
 * CMD still running (the loop ended early) is killed and reaped first,
 * so it never outlives patchscope.
 */
int	run_cmd_finish(struct run_cmd *);

/* Pure helpers (unit-tested). */

/* Map a waitpid status to a shell's: the exit code, or 128+N for signal N. */
int	run_cmd_wait_status(int wstatus);
/* The status of a failed exec, as shells give it: 127 not found, else 126. */
int	run_cmd_exec_status(int err);
/*
 * The exit status of a run with a command: CMD's own when it is nonzero,
 * else patchscope's (1 for --strict findings, 2 for an I/O error, 0).
 */
int	run_cmd_exit(int cmd_status, int serve_status);
/*
 * The environment for CMD: every "NAME=VALUE" of environ whose NAME env
 * does not set, then env's variables, in env's order; NULL-terminated.
 * The caller frees it with run_cmd_envp_free.
 */
char	**run_cmd_envp(char *const *environ, const struct client_env *env);
/* Free what run_cmd_envp returned (NULL is fine). */
void	run_cmd_envp_free(char **envp);

#endif
