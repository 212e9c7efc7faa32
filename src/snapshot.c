/*
 * snapshot: what a GET of a profile showed, for diagnosing a later PATCH.
 *
 * A snapshot owns a deep copy of the GET's "actions" array (the caller may
 * redact or free its document afterwards), an index from action id to
 * position (the first action wins when ids repeat), the set of action
 * fields the GET's projection included, and the sets of values the actions
 * use. Everything is built once, in time linear in the body.
 *
 * The store is a small array searched linearly (its bound is a few thousand
 * at most); each entry carries the sequence number of its last put, and the
 * oldest goes when the store is full.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "rules.h"
#include "snapshot.h"
#include "xmalloc.h"

/* The kinds of value snapshot_knows() answers for. */
enum snapshot_kind {
	SK_TYPE,
	SK_ANCHOR,
	SK_FIELD,
	SK_PLACEHOLDER,
	SK_COUNT
};

static const char *const snapshot_kind_names[SK_COUNT] = {
	"type", "anchor", "field", "placeholder"
};

/* What the API returns for actions when "fields" does not name them. */
static const char *const snapshot_default_fields[] = {
	"id", "type", "anchor", "status", "title", NULL
};

struct snapshot {
	json_t	*actions;		/* the GET's actions (own copy) */
	json_t	*index;			/* id -> position in actions */
	json_t	*included;		/* action fields the GET included */
	int	 all_fields;		/* ... or every one of them */
	json_t	*known[SK_COUNT];	/* value -> true, per kind */
	char	*fields;		/* the GET's "fields", or NULL */
};

struct snapshot_entry {
	char		*key;		/* host NUL account NUL profile */
	size_t		 keylen;
	uint64_t	 hash;		/* of the key */
	uint64_t	 seq;		/* when it was last put */
	struct snapshot	*snap;
};

struct snapshot_store {
	struct snapshot_entry	*v;
	size_t			 n;
	size_t			 max;
	size_t			*slots;		/* open addressing: index in v
						   plus one, 0 = empty */
	size_t			 mask;		/* slots - 1 (a power of 2) */
	uint64_t		 seq;
};

static void
snapshot_mark(json_t *set, const char *value)
{
	json_object_set_new(set, value, json_true());
}

/*
 * Read the "fields" projection: which keys of each action the GET asked
 * for. See snapshot_has_field() in snapshot.h for the rules.
 */
static void
snapshot_projection(struct snapshot *s, const char *fields)
{
	const char	*p, *end, *item;
	size_t		 n, i;
	char		*name;
	int		 whole = 0, star = 0, sub = 0;

	for (p = fields; p != NULL && *p != '\0'; p = end) {
		end = p + strcspn(p, ",");
		item = p;
		n = (size_t)(end - p);
		if (*end == ',')
			end++;
		while (n > 0 && (*item == ' ' || *item == '\t')) {
			item++;
			n--;
		}
		while (n > 0 && (item[n - 1] == ' ' || item[n - 1] == '\t'))
			n--;
		if ((n == 7 && memcmp(item, "actions", 7) == 0) ||
		    (n == 1 && *item == '*'))
			whole = 1;
		else if (n == 9 && memcmp(item, "actions.*", 9) == 0)
			star = 1;
		else if (n > 8 && memcmp(item, "actions.", 8) == 0) {
			sub = 1;
			i = strcspn(item + 8, ".");
			if (i > n - 8)
				i = n - 8;
			name = xstrndup(item + 8, i);
			snapshot_mark(s->included, name);
			free(name);
		}
	}
	if (star || (whole && !sub))
		s->all_fields = 1;
	else if (!sub)
		for (i = 0; snapshot_default_fields[i] != NULL; i++)
			snapshot_mark(s->included, snapshot_default_fields[i]);
}

static void
snapshot_placeholder_cb(const char *name, size_t namelen, size_t off,
    void *arg)
{
	struct snapshot	*s = arg;
	char		*v;

	(void)off;
	v = xstrndup(name, namelen);
	snapshot_mark(s->known[SK_PLACEHOLDER], v);
	free(v);
}

/* Index one fetched action and note the values it uses. */
static void
snapshot_scan_action(struct snapshot *s, size_t pos, const json_t *a)
{
	const char	*key, *id;
	const json_t	*v;

	id = json_string_value(json_object_get(a, "id"));
	if (id != NULL && json_object_get(s->index, id) == NULL)
		json_object_set_new(s->index, id,
		    json_integer((json_int_t)pos));
	json_object_foreach((json_t *)a, key, v) {
		snapshot_mark(s->known[SK_FIELD], key);
		snapshot_mark(s->included, key);
		if (!json_is_string(v))
			continue;
		if (strcmp(key, "type") == 0)
			snapshot_mark(s->known[SK_TYPE], json_string_value(v));
		else if (strcmp(key, "anchor") == 0)
			snapshot_mark(s->known[SK_ANCHOR],
			    json_string_value(v));
		rules_placeholders(json_string_value(v), json_string_length(v),
		    snapshot_placeholder_cb, s);
	}
}

/* Make a snapshot from a GET body; see snapshot.h. */
struct snapshot *
snapshot_new(const json_t *body, const char *fields)
{
	struct snapshot	*s;
	const json_t	*actions, *a;
	size_t		 i;
	int		 k;

	actions = json_object_get(body, "actions");
	if (!json_is_array(actions))
		return NULL;
	s = xcalloc(1, sizeof *s);
	s->actions = json_deep_copy(actions);
	s->index = json_object();
	s->included = json_object();
	for (k = 0; k < SK_COUNT; k++)
		s->known[k] = json_object();
	if (fields != NULL)
		s->fields = xstrdup(fields);
	snapshot_projection(s, fields);
	json_array_foreach(s->actions, i, a)
		if (json_is_object(a))
			snapshot_scan_action(s, i, a);
	return s;
}

/* Free a snapshot. */
void
snapshot_free(struct snapshot *s)
{
	int	k;

	if (s == NULL)
		return;
	json_decref(s->actions);
	json_decref(s->index);
	json_decref(s->included);
	for (k = 0; k < SK_COUNT; k++)
		json_decref(s->known[k]);
	free(s->fields);
	free(s);
}

/* Number of fetched actions. */
size_t
snapshot_count(const struct snapshot *s)
{
	return json_array_size(s->actions);
}

/* The id of fetched action i, or NULL. */
const char *
snapshot_action_id(const struct snapshot *s, size_t i)
{
	return json_string_value(json_object_get(json_array_get(s->actions, i),
	    "id"));
}

/* Does the snapshot hold an action with this id? */
int
snapshot_has_id(const struct snapshot *s, const char *id)
{
	return id != NULL && json_object_get(s->index, id) != NULL;
}

/* The fetched action with this id, or NULL. */
const json_t *
snapshot_action(const struct snapshot *s, const char *id)
{
	const json_t	*i;

	if (id == NULL)
		return NULL;
	i = json_object_get(s->index, id);
	if (i == NULL)
		return NULL;
	return json_array_get(s->actions, (size_t)json_integer_value(i));
}

/* Did the GET include this field of the actions? */
int
snapshot_has_field(const struct snapshot *s, const char *field)
{
	return s->all_fields || json_object_get(s->included, field) != NULL;
}

/* The GET's "fields", or NULL. */
const char *
snapshot_fields(const struct snapshot *s)
{
	return s->fields;
}

/* Does a fetched action use value (of kind)? */
int
snapshot_knows(const struct snapshot *s, const char *kind, const char *value)
{
	int	k;

	if (s == NULL || value == NULL)
		return 0;
	for (k = 0; k < SK_COUNT; k++)
		if (strcmp(kind, snapshot_kind_names[k]) == 0)
			return json_object_get(s->known[k], value) != NULL;
	return 0;
}

/* Make an empty store of at most max snapshots. */
struct snapshot_store *
snapshot_store_new(size_t max)
{
	struct snapshot_store	*st;

	st = xcalloc(1, sizeof *st);
	st->max = max;
	if (max > 0) {
		st->v = xcalloc(max, sizeof *st->v);
		/* At most half full, so probes stay short. */
		st->mask = 1;
		while (st->mask < 2 * max)
			st->mask <<= 1;
		st->slots = xcalloc(st->mask, sizeof *st->slots);
		st->mask--;
	}
	return st;
}

/* Free the store and its snapshots. */
void
snapshot_store_free(struct snapshot_store *st)
{
	size_t	i;

	if (st == NULL)
		return;
	for (i = 0; i < st->n; i++) {
		free(st->v[i].key);
		snapshot_free(st->v[i].snap);
	}
	free(st->v);
	free(st->slots);
	free(st);
}

static uint64_t
snapshot_hash(const struct buf *key)
{
	uint64_t	h = 1469598103934665603ULL;	/* FNV-1a */
	size_t		i;

	for (i = 0; i < key->len; i++)
		h = (h ^ (unsigned char)key->data[i]) * 1099511628211ULL;
	return h;
}

/* Take entry e (its key) out of the index: backward-shift deletion. */
static void
snapshot_unindex(struct snapshot_store *st, const struct snapshot_entry *e)
{
	size_t	i, j, want, idx = (size_t)(e - st->v) + 1;

	for (i = e->hash & st->mask; st->slots[i] != idx;
	    i = (i + 1) & st->mask)
		if (st->slots[i] == 0)
			return;
	for (j = (i + 1) & st->mask; st->slots[j] != 0;
	    j = (j + 1) & st->mask) {
		want = st->v[st->slots[j] - 1].hash & st->mask;
		/* Move j back to i when i lies on j's probe path. */
		if (((j - want) & st->mask) >= ((j - i) & st->mask)) {
			st->slots[i] = st->slots[j];
			i = j;
		}
	}
	st->slots[i] = 0;
}

static void
snapshot_index(struct snapshot_store *st, const struct snapshot_entry *e)
{
	size_t	i;

	for (i = e->hash & st->mask; st->slots[i] != 0; i = (i + 1) & st->mask)
		;
	st->slots[i] = (size_t)(e - st->v) + 1;
}

/* Build the key "host NUL account NUL profile" in b. */
static void
snapshot_key(struct buf *b, const char *host, const char *account,
    const char *profile)
{
	buf_add(b, host != NULL ? host : "", strlen(host != NULL ? host : "")
	    + 1);
	buf_add(b, account != NULL ? account : "",
	    strlen(account != NULL ? account : "") + 1);
	buf_adds(b, profile != NULL ? profile : "");
}

static struct snapshot_entry *
snapshot_store_find(const struct snapshot_store *st, const struct buf *key,
    uint64_t h)
{
	struct snapshot_entry	*e;
	size_t			 i;

	if (st->slots == NULL)
		return NULL;
	for (i = h & st->mask; st->slots[i] != 0; i = (i + 1) & st->mask) {
		e = &st->v[st->slots[i] - 1];
		if (e->hash == h && e->keylen == key->len &&
		    memcmp(e->key, key->data, key->len) == 0)
			return e;
	}
	return NULL;
}

/* Keep snap as the latest for the key; see snapshot.h. */
void
snapshot_store_put(struct snapshot_store *st, const char *host,
    const char *account, const char *profile, struct snapshot *snap)
{
	struct buf		 key = { NULL, 0, 0 };
	struct snapshot_entry	*e;
	uint64_t		 h;
	size_t			 i;

	if (snap == NULL)
		return;
	if (st->max == 0) {
		snapshot_free(snap);
		return;
	}
	snapshot_key(&key, host, account, profile);
	h = snapshot_hash(&key);
	e = snapshot_store_find(st, &key, h);
	if (e == NULL && st->n < st->max)
		e = &st->v[st->n++];
	else if (e == NULL) {
		/* Full: the entry put longest ago makes room. */
		e = &st->v[0];
		for (i = 1; i < st->n; i++)
			if (st->v[i].seq < e->seq)
				e = &st->v[i];
		snapshot_unindex(st, e);
		free(e->key);
		e->key = NULL;
	}
	snapshot_free(e->snap);
	if (e->key == NULL) {
		e->key = xmalloc(key.len);
		memcpy(e->key, key.data, key.len);
		e->keylen = key.len;
		e->hash = h;
		snapshot_index(st, e);
	}
	e->snap = snap;
	e->seq = ++st->seq;
	buf_free(&key);
}

/* The latest snapshot for the key, or NULL. */
const struct snapshot *
snapshot_store_get(const struct snapshot_store *st, const char *host,
    const char *account, const char *profile)
{
	struct buf		 key = { NULL, 0, 0 };
	struct snapshot_entry	*e;

	snapshot_key(&key, host, account, profile);
	e = snapshot_store_find(st, &key, snapshot_hash(&key));
	buf_free(&key);
	return e != NULL ? e->snap : NULL;
}

/* Number of snapshots held. */
size_t
snapshot_store_count(const struct snapshot_store *st)
{
	return st->n;
}
