/*
 * client_env: the variables that route clients through patchscope and make
 * them trust its CA (see client_env.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "client_env.h"
#include "xmalloc.h"

void
client_env_set(struct client_env *env, const char *name, const char *value)
{
	size_t	i;

	for (i = 0; i < env->n; i++) {
		if (strcmp(env->names[i], name) == 0) {
			free(env->values[i]);
			env->values[i] = xstrdup(value);
			return;
		}
	}
	env->names = xreallocarray(env->names, env->n + 1,
	    sizeof *env->names);
	env->values = xreallocarray(env->values, env->n + 1,
	    sizeof *env->values);
	env->names[env->n] = xstrdup(name);
	env->values[env->n] = xstrdup(value);
	env->n++;
}

const char *
client_env_get(const struct client_env *env, const char *name)
{
	size_t	i;

	for (i = 0; i < env->n; i++)
		if (strcmp(env->names[i], name) == 0)
			return env->values[i];
	return NULL;
}

void
client_env_free(struct client_env *env)
{
	size_t	i;

	for (i = 0; i < env->n; i++) {
		free(env->names[i]);
		free(env->values[i]);
	}
	free(env->names);
	free(env->values);
	memset(env, 0, sizeof *env);
}

int
client_env_build(struct client_env *env, const char *host, int port,
    struct ca *ca, char **cause)
{
	static const char	*proxy_vars[] = {
		"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"
	};
	static const char	*bundle_vars[] = {
		"CURL_CA_BUNDLE", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
		"GIT_SSL_CAINFO"
	};
	const char		*bundle;
	char			*url;
	size_t			 i;

	memset(env, 0, sizeof *env);
	if ((bundle = ca_write_bundle(ca, cause)) == NULL)
		return -1;
	url = strchr(host, ':') != NULL ?
	    xasprintf("http://[%s]:%d", host, port) :
	    xasprintf("http://%s:%d", host, port);
	for (i = 0; i < sizeof proxy_vars / sizeof proxy_vars[0]; i++)
		client_env_set(env, proxy_vars[i], url);
	/* Tools that take one file get the system store plus our CA. */
	for (i = 0; i < sizeof bundle_vars / sizeof bundle_vars[0]; i++)
		client_env_set(env, bundle_vars[i], bundle);
	client_env_set(env, "NODE_EXTRA_CA_CERTS", ca_cert_path(ca));
	client_env_set(env, "NODE_USE_ENV_PROXY", "1");
	free(url);
	return 0;
}
