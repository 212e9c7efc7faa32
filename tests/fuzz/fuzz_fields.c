/*
 * fuzz_fields: the "fields" query parameter wherever patchscope reads it:
 * api_profile_target (the URL of a profile, its percent-decoding), the
 * snapshot's projection (snapshot_has_field), and the query diagnoses.
 *
 * Input: the raw text of the parameter (the part after "fields="); the
 * whole input is also tried as a request target. Checked: a profile URL
 * is recognised whatever its "fields" holds, and a snapshot keeps the
 * "fields" value it was given.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "diagnose.h"
#include "rules.h"
#include "snapshot.h"
#include "xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char profile[] =
    "{\"id\":\"p1\",\"actions\":[{\"id\":\"act_1\",\"type\":\"WEBHOOK\","
    "\"anchor\":\"BOOKING_CREATED\",\"to\":\"https://x.example/h\","
    "\"headers\":{\"x-auth-token\":\"t\"}},{\"id\":\"act_2\",\"type\":"
    "\"EMAIL\",\"anchor\":\"BOOKING_CREATED\",\"to\":\"{EMAIL}\"}]}";
static const char patch[] =
    "{\"actions\":[{\"id\":\"act_2\",\"type\":\"EMAIL\",\"anchor\":"
    "\"BOOKING_CREATED\",\"to\":\"{EMAIL}\"}]}";
static const char *names[] = {
	"id", "type", "anchor", "status", "title", "headers", "body", "to",
	"subject", "x-auth-token", "", "actions",
};

static struct rules	*rules;
static json_t		*profile_doc;

static void
target(const char *t, int must_match)
{
	char	*account, *prof, *fields;
	int	 rc;

	rc = api_profile_target(t, &account, &prof, &fields);
	if (rc != 0 && (account != NULL || prof != NULL || fields != NULL)) {
		fprintf(stderr, "fuzz_fields: -1 with results set\n");
		abort();
	}
	if (must_match && (rc != 0 || prof == NULL ||
	    strcmp(prof, "p") != 0)) {
		fprintf(stderr, "fuzz_fields: %s is not seen as a profile "
		    "URL\n", t);
		abort();
	}
	free(account);
	free(prof);
	free(fields);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct snapshot		*snap;
	struct diag_list	 list = { NULL, 0, 0 };
	char			*in, *url;
	size_t			 i;

	if (rules == NULL) {
		rules = rules_builtin();
		profile_doc = json_loads(profile, 0, NULL);
	}
	in = xstrndup((const char *)data, len);
	/* A query stops at '#'; anything else stays in the parameter. */
	url = xasprintf("/v1/a/profiles/p?fields=%s", in);
	target(url, strchr(in, '#') == NULL);
	free(url);
	target(in, 0);

	snap = snapshot_new(profile_doc, in);
	if (snap == NULL || snapshot_fields(snap) == NULL ||
	    strcmp(snapshot_fields(snap), in) != 0) {
		fprintf(stderr, "fuzz_fields: the snapshot lost its fields\n");
		abort();
	}
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		(void)snapshot_has_field(snap, names[i]);
	diagnose_patch(patch, sizeof patch - 1, in, snap, rules, &list);
	diag_list_free(&list);
	diagnose_patch(patch, sizeof patch - 1, in, NULL, rules, &list);
	diag_list_free(&list);
	snapshot_free(snap);
	free(in);
	return 0;
}
