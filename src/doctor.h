/*
 * doctor: what `patchscope doctor` knows about clients, and how it judges
 * a run of one. Pure: the table of clients (what to run, what to set when
 * one fails), the reading of a probe's output and of curl's and git's
 * exit status, and the verdict of a row. No processes, no printing; the
 * shell is doctor_run.c and cmd_doctor.c.
 *
 * A probe asks https://DOCTOR_HOST/NAME and http://DOCTOR_HOST/NAME
 * through the proxy that the client environment names. The name never
 * resolves, so an answer proves the client used the proxy; a TLS failure
 * can only come from patchscope's interception (the client went through
 * the proxy but does not trust the CA); a failure to resolve says the
 * client skipped the proxy.
 */
#ifndef PATCHSCOPE_DOCTOR_H
#define PATCHSCOPE_DOCTOR_H

#include <stddef.h>

/* What one request of a probe came to. */
enum doctor_outcome {
	DOCTOR_NOT_RUN,		/* no line for it */
	DOCTOR_OK,		/* patchscope's doctor answer came back */
	DOCTOR_DNS,		/* the client resolved the name itself */
	DOCTOR_TLS,		/* the client refused patchscope's certificate */
	DOCTOR_ERROR		/* anything else (see the detail) */
};

/* How a client is run. */
enum doctor_kind {
	DOCTOR_CURL,		/* curl, judged by its exit status */
	DOCTOR_GIT,		/* git ls-remote, judged by its messages */
	DOCTOR_PROGRAM		/* a probe program that prints result lines */
};

/* One client doctor knows. */
struct doctor_client {
	const char	*name;		/* the row's name */
	const char	*program;	/* looked for in PATH */
	const char	*package;	/* Debian package, when not installed */
	enum doctor_kind kind;
	const char	*file;		/* probe program's file name, or NULL */
	const char	*source;	/* its text */
	unsigned	 timeout_s;	/* the whole run's limit */
	const char	*fix_proxy;	/* what to set when it skips the proxy */
	const char	*fix_trust;	/* ... when it does not trust the CA */
};

/* The clients, in the order of the table doctor prints. */
extern const struct doctor_client doctor_clients[];
extern const size_t doctor_nclients;

/* What a run of one client came to. */
struct doctor_result {
	int			 installed;
	int			 timed_out;
	char			 version[64];	/* "" when unknown */
	enum doctor_outcome	 https, http;
	enum doctor_outcome	 tunnel;	/* Node: CONNECT made by hand */
	char			 detail[200];	/* the first failure's text */
};

/*
 * Read a probe's output into r: "version V", "https|http|tunnel OUTCOME
 * [DETAIL]" lines (OUTCOME ok, dns, tls or error), "missing WHAT" (the
 * client's library is not installed). Other lines are ignored; text is
 * bounded and made printable.
 */
void	doctor_parse(const char *out, size_t len, struct doctor_result *r);
/* Judge curl's exit status for one request. */
enum doctor_outcome doctor_curl_outcome(int status);
/* Judge git ls-remote by its exit status and its messages. */
enum doctor_outcome doctor_git_outcome(int status, const char *out);
/* Keep the first failure's text (bounded, printable) in r->detail. */
void	doctor_note(struct doctor_result *r, const char *text, size_t len);

/* A row of the table. */
struct doctor_row {
	const char	*proxy;		/* "yes", "no", "http only", ... */
	const char	*trust;		/* "yes", "no", "-" */
	char		 fix[512];	/* what to set, or "" */
	int		 pass;		/* installed and both requests ok */
};

/* Judge a client's result; Node's advice follows its version. */
void	doctor_verdict(const struct doctor_client *,
	    const struct doctor_result *, struct doctor_row *);
/*
 * Return 1 when Node of version v ("v22.21.0") sends fetch() through
 * HTTPS_PROXY with NODE_USE_ENV_PROXY=1 (22.21 and later 22s, 24 and
 * up), else 0.
 */
int	doctor_node_env_proxy(const char *v);

#endif
