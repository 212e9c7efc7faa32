/*
 * cmd_sanitize: sanitize, patchscope's redaction for a HAR file from any
 * tool (sanitize.c does it); this file reads the file, writes the result
 * (stdout, or -o FILE crash-safely), says on stderr what was redacted,
 * and picks the exit status: 0 done (or clean, with --check), 1 --check
 * found something to redact, 2 a usage error, a file that cannot be read
 * or written, or one that is not a HAR. Nothing is written on an error.
 */
#include "config.h"

#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "options.h"
#include "proxy.h"
#include "redact.h"
#include "sanitize.h"
#include "xmalloc.h"

static int	cmd_sanitize(struct options *);

const struct cmd_entry cmd_sanitize_entry = {
	.mode = OPTIONS_SANITIZE,
	.summary = "redact a HAR file that any tool captured",
	.args = "[-o OUT | --check] [OPTIONS] FILE",
	.about =
	    "Redact the secrets in FILE, a HAR file that any tool wrote (a "
	    "browser's\ndevtools export from Chrome or Firefox, another "
	    "proxy, an old cassette), by\nthe rules patchscope record uses: "
	    "Authorization, Cookie, Set-Cookie, API\nkey and other "
	    "secret-looking headers; every cookie of the cookies arrays;\n"
	    "query parameters (in URLs and queryString) and form fields "
	    "(postData.params,\nform bodies) whose names look like secrets "
	    "(token, secret, password, api\nkey, auth...); JSON keys that "
	    "look like secrets, at any depth, in request and\nresponse "
	    "bodies (base64 bodies too). Each value found is then replaced "
	    "wherever\nelse it occurs in the file (a page title, another "
	    "entry). A redacted value\nbecomes redacted:<first 12 hex digits "
	    "of its SHA-256>, as in a cassette; a\nvalue that already is one "
	    "stays, so sanitizing twice changes nothing.\n"
	    "\n"
	    "Only the redacted values change: every other byte of FILE "
	    "(spacing, key\norder, other tools' fields) is kept. The result "
	    "goes to stdout, or to OUT\nwith -o (FILE itself only when -o "
	    "names it). One line on stderr says what\nwas redacted, by place "
	    "and count, never the values.\n",
	.notes =
	    "Exit status: 0 done (with --check: nothing to redact), 1 "
	    "--check found\nsomething to redact, 2 usage error, a file that "
	    "cannot be read or written,\nor one that is not a HAR (nothing "
	    "is written then).\n",
	.run = cmd_sanitize
};

/*
 * Write text to path crash-safely: a temporary file in the same
 * directory, fsync, rename over path, fsync of the directory (a crash
 * leaves the old file or the new one). A symbolic link stays and its
 * target is replaced. A new file gets 0666 less the umask; an existing
 * one keeps its mode.
 */
static int
sanitize_write(const char *path, const struct buf *text, char **cause)
{
	struct stat	 st;
	char		 real[PATH_MAX], *target;
	mode_t		 mode, mask;
	int		 rc;

	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		if (realpath(path, real) == NULL) {
			*cause = xasprintf("cannot follow the symbolic link "
			    "%s: %s", path, strerror(errno));
			return -1;
		}
		target = xstrdup(real);
	} else
		target = xstrdup(path);
	mask = umask(0);
	umask(mask);
	mode = 0666 & ~mask;
	if (stat(target, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			*cause = xasprintf("cannot write %s: not a regular "
			    "file", path);
			free(target);
			return -1;
		}
		mode = st.st_mode & 07777;
	}
	rc = cmd_file_replace(target, path, "sanitize", mode, text->data,
	    text->len, cause);
	free(target);
	return rc;
}

/* sanitize: redact a HAR file. */
static int
cmd_sanitize(struct options *opts)
{
	struct sanitize_report	 rep;
	struct redactor		*r;
	struct cmd_file		 in;
	struct buf		 out = { NULL, 0, 0 }, line = { NULL, 0, 0 };
	const char		*file;
	char			*cause = NULL;
	int			 rc = 2, same;

	if (opts->n_operands != 1)
		return cmd_usage_error("sanitize", opts->n_operands == 0 ?
		    "missing FILE (the HAR file to sanitize)" :
		    "more than one FILE (sanitize takes one HAR file)");
	if (opts->check && opts->output != NULL)
		return cmd_usage_error("sanitize", "-o and --check do not go "
		    "together (--check writes nothing)");
	file = opts->operands[0];
	memset(&rep, 0, sizeof rep);
	r = proxy_redactor_new(opts);
	if (cmd_file_open(file, &in, &cause) != 0) {
		fprintf(stderr, "patchscope: %s\n", cause);
		goto done;
	}
	if (sanitize_har(r, in.data, in.len, &out, &rep, &cause) != 0) {
		fprintf(stderr, "patchscope: %s: %s\n", file, cause);
		goto done;
	}
	same = out.len == in.len && memcmp(buf_str(&out), in.data,
	    in.len) == 0;
	sanitize_report_text(&rep, opts->check ? "would redact" : "redacted",
	    &line);
	if (opts->check) {
		fprintf(stderr, "patchscope: %s: %s\n", file, buf_str(&line));
		rc = same ? 0 : 1;
		goto done;
	}
	if (opts->output != NULL) {
		if (sanitize_write(opts->output, &out, &cause) != 0) {
			fprintf(stderr, "patchscope: %s\n", cause);
			goto done;
		}
	} else if (fwrite(buf_str(&out), 1, out.len, stdout) != out.len ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "patchscope: cannot write to standard output: "
		    "%s\n", strerror(errno));
		goto done;
	}
	fprintf(stderr, "patchscope: %s: %s\n", file, buf_str(&line));
	rc = 0;
done:
	free(cause);
	buf_free(&out);
	buf_free(&line);
	sanitize_report_free(&rep);
	cmd_file_close(&in);
	redact_free(r);
	return rc;
}
