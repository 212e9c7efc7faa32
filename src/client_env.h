/*
 * client_env: the environment that sends a client through patchscope and
 * makes it trust patchscope's CA: proxy variables, CA bundle variables for
 * each kind of client. One list, used by `env` (printed as exports), by the
 * serving commands' `-- CMD` (set in CMD's environment) and by `doctor`.
 * Pure but for the files the CA writes (its bundle).
 */
#ifndef PATCHSCOPE_CLIENT_ENV_H
#define PATCHSCOPE_CLIENT_ENV_H

#include <stddef.h>

struct ca;

/* Name and value pairs, in the order `env` prints them. */
struct client_env {
	char	**names;
	char	**values;
	size_t	  n;
};

/*
 * Fill env with the variables for a proxy at host:port (a numeric address
 * or a name; IPv6 is bracketed in the URL) and the CA ca (its bundle is
 * written if needed). Return 0, or -1 with *cause set (the caller frees);
 * env is then empty.
 */
int	client_env_build(struct client_env *env, const char *host, int port,
	    struct ca *ca, char **cause);
/*
 * Return the value of JAVA_TOOL_OPTIONS for a proxy at host:port and the
 * JKS trust store at truststore (caller frees).
 */
char	*client_env_java(const char *host, int port, const char *truststore);
/* Append (or replace) one variable; both strings are copied. */
void	client_env_set(struct client_env *env, const char *name,
	    const char *value);
/* Return the value of name, or NULL. */
const char *client_env_get(const struct client_env *env, const char *name);
/* Free what the list holds; it is then empty. */
void	client_env_free(struct client_env *env);

#endif
