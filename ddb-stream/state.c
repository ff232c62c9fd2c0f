/* state.c: ddb-stream's state file: the positions, the batch in flight */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

/*
 * DIR/state (statedir.h's format), one line each, fields separated by one
 * space:
 *   ddb-state 2
 *   source stream ARN
 *   committed EPOCH               when the last batch was committed
 *   shard ID SEQ|- open|done      a cursor: the last committed record
 *   batch 0 COUNT BYTES SHA256    the staged batch, DIR/batch.0
 *   todo 0 ATTEMPTS LO-HI,...     its progress, if any (statedir.h)
 *   range ID FIRST LAST COUNT     its records of shard ID: at the commit
 *                                 the shard's cursor becomes LAST
 * It is replaced as a whole (ddb_put_file: temp file, fsync, rename, fsync
 * of DIR), so a crash leaves the old state or the new one, never a mix.
 *
 * The older format ("ddb-stream-state 1", "stream ARN", no staged batch
 * but "batch ID FIRST LAST COUNT" ranges read again from the stream) is
 * read, and replaced by this one at the next save.  Its ranges are not
 * kept: the cursors stand before them, so their records are read again
 * from the stream as the start of the next batch.
 */
#define STATE_LEGACY "ddb-stream-state 1"

/* order of two sequence numbers as numbers */
int
seq_cmp(const char *a, const char *b)
{
	size_t na, nb;
	int c;

	while (*a == '0' && a[1])
		a++;
	while (*b == '0' && b[1])
		b++;
	na = strlen(a);
	nb = strlen(b);
	if (na != nb)
		return na < nb ? -1 : 1;
	c = strcmp(a, b);
	return c < 0 ? -1 : c > 0;
}

/* n bytes of s, each printable ASCII other than a space */
static int
graph_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return 1;
}

/*
 * ShardId: 28 to 65 characters (the Streams API reference gives no
 * pattern); printable ASCII without a space is what the state file's
 * space-separated lines can hold
 */
int
shard_id_ok(const char *s)
{
	size_t n = strlen(s);

	return n >= 28 && n <= 65 && graph_ok(s, n);
}

/*
 * StreamArn: 37 to 1024 characters (the Streams API reference), shaped
 * arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL;
 * printable ASCII without a space, as for a ShardId
 */
int
stream_arn_ok(const char *s)
{
	size_t n = strlen(s);
	struct ddb_arn a;

	return n >= 37 && n <= 1024 && graph_ok(s, n) &&
	    ddb_arn_parse(s, n, &a) == 0 && ddb_arn_is_stream(&a);
}

struct shard *
state_shard(struct state *st, const char *id, int add)
{
	size_t i;

	for (i = 0; i < st->nsh; i++)
		if (strcmp(st->sh[i].id, id) == 0)
			return &st->sh[i];
	if (!add)
		return NULL;
	if (st->nsh == st->capsh) {
		st->capsh = st->capsh ? st->capsh * 2 : 16;
		st->sh = xreallocarray(st->sh, st->capsh, sizeof *st->sh);
	}
	memset(&st->sh[st->nsh], 0, sizeof st->sh[0]);
	st->sh[st->nsh].id = xstrdup(id);
	return &st->sh[st->nsh++];
}

static struct pending *
range_add(struct state *st)
{
	st->pend = xreallocarray(st->pend, st->npend + 1, sizeof *st->pend);
	return memset(&st->pend[st->npend++], 0, sizeof *st->pend);
}

void
state_ranges_free(struct state *st)
{
	size_t i;

	for (i = 0; i < st->npend; i++) {
		free(st->pend[i].id);
		free(st->pend[i].first);
		free(st->pend[i].last);
	}
	free(st->pend);
	st->pend = NULL;
	st->npend = 0;
}

/* one line of DIR/state after the first; NULL: the end */
static int
state_line(void *arg, char *line, long ln)
{
	struct state *st = arg;
	char *f[6], *s = line, *save = NULL, *rest;
	int nf = 0;

	st->legacy = st->exists == 2;
	if (line == NULL) {
		if (ln == 0 || st->arn == NULL)
			return ddb_state_bad(st->dir, ln, "no source line");
		if (st->staged && st->npend == 0)
			return ddb_state_bad(st->dir, ln,
			    "a batch without its ranges");
		if (!st->staged && st->npend > 0)
			return ddb_state_bad(st->dir, ln,
			    "ranges without their batch");
		return 0;
	}
	if (strncmp(line, "todo ", 5) == 0 && !st->legacy) {
		if (!st->staged || ddb_todo_parse(line + 5, &st->bt) != 0)
			return ddb_state_bad(st->dir, ln, "not a state line");
		return 0;
	}
	if (strncmp(line, "batch ", 6) == 0 && !st->legacy) {
		if (st->staged || ddb_batch_parse(line + 6, &st->bt, &rest) != 0 ||
		    *rest != '\0' || st->bt.part != 0)
			return ddb_state_bad(st->dir, ln, "not a state line");
		st->staged = 1;
		return 0;
	}
	while (nf < 6 && (f[nf] = strtok_r(s, " ", &save)) != NULL) {
		s = NULL;
		nf++;
	}
	if (nf == 3 && !st->legacy && st->arn == NULL &&
	    strcmp(f[0], "source") == 0 && strcmp(f[1], "stream") == 0 &&
	    stream_arn_ok(f[2])) {
		st->arn = xstrdup(f[2]);
	} else if (nf >= 2 && !st->legacy && strcmp(f[0], "source") == 0) {
		return ddb_state_bad(st->dir, ln,
		    "the state of another kind of source "
		    "(not a stream)");
	} else if (nf == 2 && st->legacy && strcmp(f[0], "stream") == 0 &&
	    stream_arn_ok(f[1])) {
		free(st->arn);
		st->arn = xstrdup(f[1]);
	} else if (nf == 4 && strcmp(f[0], "shard") == 0 &&
	    shard_id_ok(f[1]) && (strcmp(f[2], "-") == 0 ||
	    ddb_seq_ok(f[2], strlen(f[2]))) && (strcmp(f[3], "open") == 0 ||
	    strcmp(f[3], "done") == 0)) {
		struct shard *sh = state_shard(st, f[1], 1);
		free(sh->seq);
		sh->seq = strcmp(f[2], "-") ? xstrdup(f[2]) : NULL;
		sh->done = strcmp(f[3], "done") == 0;
		sh->known = 1;
	} else if (nf == 5 && strcmp(f[0], "batch") == 0 && st->legacy &&
	    shard_id_ok(f[1]) && ddb_seq_ok(f[2], strlen(f[2])) &&
	    ddb_seq_ok(f[3], strlen(f[3])) && atol(f[4]) > 0) {
		st->oldbatch = 1;	/* read again from the stream */
	} else if (nf == 2 && strcmp(f[0], "committed") == 0 && !st->legacy &&
	    strspn(f[1], "0123456789") == strlen(f[1]) && strlen(f[1]) < 15) {
		st->committed = atol(f[1]);
	} else if (nf == 5 && strcmp(f[0], "range") == 0 && !st->legacy &&
	    shard_id_ok(f[1]) && ddb_seq_ok(f[2], strlen(f[2])) &&
	    ddb_seq_ok(f[3], strlen(f[3])) && atol(f[4]) > 0 &&
	    seq_cmp(f[2], f[3]) <= 0) {
		struct pending *pd = range_add(st);
		pd->id = xstrdup(f[1]);
		pd->first = xstrdup(f[2]);
		pd->last = xstrdup(f[3]);
		pd->count = atol(f[4]);
	} else {
		return ddb_state_bad(st->dir, ln, "not a state line");
	}
	return 0;
}

int
state_load(struct state *st)
{
	int rc = ddb_state_read(st->dir, STATE_LEGACY, "ddb-stream",
	    state_line, st, &st->exists);

	st->legacy = st->exists == 2;
	return rc;
}

/*
 * Replace DIR/state with the cursors in st and, if st->staged, the staged
 * batch and its ranges: one atomic step.
 */
int
state_save(struct state *st)
{
	struct ddb_buf b = { 0 };
	size_t i;
	int rc;
	char *l;

	/* what the loader would refuse is never written (the service's
	 * answers and the command line are checked before they get here) */
	if (!stream_arn_ok(st->arn)) {
		warnx("%s/state: not saved: the stream ARN is not one", st->dir);
		return DDB_EXIT_SOFTWARE;
	}
	for (i = 0; i < st->nsh; i++)
		if (st->sh[i].known && !shard_id_ok(st->sh[i].id)) {
			warnx("%s/state: not saved: a ShardId is not one",
			    st->dir);
			return DDB_EXIT_SOFTWARE;
		}
	l = xasprintf(DDB_STATE_MAGIC "\nsource stream %s\n", st->arn);
	ddb_buf_put(&b, l, strlen(l));
	free(l);
	if (st->committed > 0) {
		l = xasprintf("committed %ld\n", st->committed);
		ddb_buf_put(&b, l, strlen(l));
		free(l);
	}
	for (i = 0; i < st->nsh; i++) {
		const struct shard *sh = &st->sh[i];

		if (!sh->known)
			continue;
		l = xasprintf("shard %s %s %s\n", sh->id,
		    sh->seq ? sh->seq : "-", sh->done ? "done" : "open");
		ddb_buf_put(&b, l, strlen(l));
		free(l);
	}
	if (st->staged) {
		l = ddb_batch_fmt(&st->bt, NULL);
		ddb_buf_put(&b, l, strlen(l));
		free(l);
		for (i = 0; i < st->npend; i++) {
			l = xasprintf("range %s %s %s %ld\n", st->pend[i].id,
			    st->pend[i].first, st->pend[i].last,
			    st->pend[i].count);
			ddb_buf_put(&b, l, strlen(l));
			free(l);
		}
	}
	rc = ddb_put_file(st->dir, "state", b.p, b.n);
	free(b.p);
	if (rc == 0)
		st->legacy = 0;
	return rc;
}
