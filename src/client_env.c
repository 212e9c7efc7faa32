/*
 * client_env: the variables that route clients through patchscope and make
 * them trust its CA (see client_env.h). Every variable that replaces a
 * client's trust store points at a bundle (the system roots plus the CA),
 * so hosts that are not intercepted keep working; only
 * NODE_EXTRA_CA_CERTS, which adds to Node's own roots, names the CA alone.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
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

/*
 * One -Dname=value for JAVA_TOOL_OPTIONS, which the JVM splits at white
 * space: quoted when the value holds any (the JVM takes '...' and "...").
 */
static void
client_env_java_prop(struct buf *b, const char *name, const char *value)
{
	const char	*q = "";

	if (strpbrk(value, " \t\n'\"") != NULL)
		q = strchr(value, '"') == NULL ? "\"" : "'";
	if (b->len > 0)
		buf_adds(b, " ");
	buf_printf(b, "%s-D%s=%s%s", q, name, value, q);
}

/*
 * JAVA_TOOL_OPTIONS: the proxy for http and https (the default
 * ProxySelector, which java.net.http.HttpClient and URLConnection use) and
 * the JKS trust store (Java 17 sees no certificate in a PKCS12 store
 * written without Oracle's trusted-key-usage attribute).
 */
char *
client_env_java(const char *host, int port, const char *truststore)
{
	struct buf	 b = { NULL, 0, 0 };
	char		 ports[16];
	char		*s;

	snprintf(ports, sizeof ports, "%d", port);
	client_env_java_prop(&b, "http.proxyHost", host);
	client_env_java_prop(&b, "http.proxyPort", ports);
	client_env_java_prop(&b, "https.proxyHost", host);
	client_env_java_prop(&b, "https.proxyPort", ports);
	client_env_java_prop(&b, "javax.net.ssl.trustStore", truststore);
	client_env_java_prop(&b, "javax.net.ssl.trustStorePassword",
	    CA_JKS_PASSWORD);
	client_env_java_prop(&b, "javax.net.ssl.trustStoreType", "JKS");
	s = xstrdup(buf_str(&b));
	buf_free(&b);
	return s;
}

/* Fill env for the proxy at host:port and the CA. */
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
	char			*url, *jks, *java;
	size_t			 i;

	memset(env, 0, sizeof *env);
	if ((bundle = ca_write_bundle(ca, cause)) == NULL)
		return -1;
	if ((jks = ca_write_truststore(ca, cause)) == NULL)
		return -1;
	url = strchr(host, ':') != NULL ?
	    xasprintf("http://[%s]:%d", host, port) :
	    xasprintf("http://%s:%d", host, port);
	for (i = 0; i < sizeof proxy_vars / sizeof proxy_vars[0]; i++)
		client_env_set(env, proxy_vars[i], url);
	/* Tools that take one file get the system store plus our CA. */
	for (i = 0; i < sizeof bundle_vars / sizeof bundle_vars[0]; i++)
		client_env_set(env, bundle_vars[i], bundle);
	/* Go and Ruby read SSL_CERT_FILE, set above. */
	/* Node adds these to its built-in roots: the CA alone is right. */
	client_env_set(env, "NODE_EXTRA_CA_CERTS", ca_cert_path(ca));
	/* Node 24 and later; older ones ignore it (see the README). */
	client_env_set(env, "NODE_USE_ENV_PROXY", "1");
	java = client_env_java(host, port, jks);
	client_env_set(env, "JAVA_TOOL_OPTIONS", java);
	free(java);
	free(jks);
	free(url);
	return 0;
}
