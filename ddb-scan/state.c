/* state.c: ddb-scan's state directory: settings, positions, the batch */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan.h"

/*
 * DIR/state, one line each, fields separated by one space:
 *   ddb-scan-state 1
 *   table NAME
 *   arn TABLE-ARN
 *   segments N
 *   page-size N                  0: no Limit
 *   consistent 0|1
 *   created-at TEXT              JSON: a number or a string
 *   segment I open|done PAGES ITEMS KEY|-
 *   batch I COUNT BYTES SHA256 NEXT|-
 * KEY and NEXT are ExclusiveStartKey and LastEvaluatedKey as JSON on one
 * line (the rest of the line: they may hold spaces).  A batch line is the
 * batch handed on, not yet acknowledged: its records are DIR/batch.I,
 * BYTES long, that SHA-256.  Every file is replaced as a whole
 * (ddb_put_file: temp file, fsync, rename, fsync of DIR).
 */
#define STATE_MAGIC "ddb-scan-state 1"

static int
bad(const struct sstate *st, long line, const char *what)
{
	return ddb_state_bad(st->dir, line, what);
}

static int
count(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* a key as JSON text: an object, one line */
static int
key_ok(const char *s)
{
	struct ddb_arena a = { 0 };
	struct ddb_json_stack js = { 0 };
	struct jv v;
	size_t off;
	int ok;

	ok = ddb_json_parse(&a, &js, s, strlen(s), DDB_READ_DEPTH, &v,
	    &off) == 0 && v.type == JV_OBJECT && v.n > 0;
	ddb_arena_free(&a);
	ddb_json_stack_free(&js);
	return ok;
}

/* the first n space-separated fields of s; *rest: what follows them */
static int
fields(char *s, char **f, int n, char **rest)
{
	int i;

	for (i = 0; i < n; i++) {
		f[i] = s;
		if ((s = strchr(s, ' ')) == NULL)
			return i + 1 == n && rest == NULL ? n : -1;
		*s++ = '\0';
	}
	if (rest == NULL)
		return -1;
	*rest = s;
	return n;
}

/* one line of DIR/state after the first; NULL: the end */
static int
line_of(void *arg, char *l, long ln)
{
	struct sstate *st = arg;
	char *f[6], *rest;
	long v, i;

	if (l == NULL)
		return st->table == NULL || st->arn == NULL || st->seg == NULL ||
		    st->created == NULL ? bad(st, ln, "no table, arn, segments "
		    "or created-at line") : 0;
	if (strncmp(l, "table ", 6) == 0 && st->table == NULL &&
	    ddb_table_name_ok(l + 6, strlen(l + 6)))
		st->table = xstrdup(l + 6);
	else if (strncmp(l, "arn ", 4) == 0 && st->arn == NULL && l[4])
		st->arn = xstrdup(l + 4);
	else if (strncmp(l, "segments ", 9) == 0 && st->seg == NULL &&
	    count(l + 9, 1, 1000000, &st->segments) == 0) {
		st->seg = calloc((size_t)st->segments, sizeof *st->seg);
		if (st->seg == NULL)
			errx(DDB_EXIT_IO, "out of memory");
	} else if (strncmp(l, "page-size ", 10) == 0 &&
	    count(l + 10, 0, 1000000000L, &st->page_size) == 0)
		;
	else if (strcmp(l, "consistent 0") == 0 ||
	    strcmp(l, "consistent 1") == 0)
		st->consistent = l[11] == '1';
	else if (strncmp(l, "created-at ", 11) == 0 && st->created == NULL &&
	    l[11])
		st->created = xstrdup(l + 11);
	else if (strncmp(l, "segment ", 8) == 0 && st->seg &&
	    fields(l + 8, f, 4, &rest) == 4 &&
	    count(f[0], 0, st->segments - 1, &i) == 0 &&
	    (strcmp(f[1], "open") == 0 || strcmp(f[1], "done") == 0) &&
	    count(f[2], 0, 0x7fffffffL, &st->seg[i].pages) == 0 &&
	    count(f[3], 0, 0x7fffffffL, &st->seg[i].items) == 0 &&
	    (strcmp(rest, "-") == 0 || key_ok(rest))) {
		st->seg[i].done = f[1][0] == 'd';
		free(st->seg[i].pos);
		st->seg[i].pos = strcmp(rest, "-") ? xstrdup(rest) : NULL;
	} else if (strncmp(l, "batch ", 6) == 0 && st->seg &&
	    fields(l + 6, f, 4, &rest) == 4 &&
	    count(f[0], 0, st->segments - 1, &i) == 0 &&
	    count(f[1], 1, 0x7fffffffL, &st->seg[i].pcount) == 0 &&
	    count(f[2], 1, 0x7fffffffL, &v) == 0 &&
	    strlen(f[3]) == SIGV4_SHA256_HEX - 1 &&
	    strspn(f[3], "0123456789abcdef") == SIGV4_SHA256_HEX - 1 &&
	    (strcmp(rest, "-") == 0 || key_ok(rest))) {
		st->seg[i].pending = 1;
		st->seg[i].pbytes = (size_t)v;
		memcpy(st->seg[i].psha, f[3], SIGV4_SHA256_HEX);
		st->seg[i].pnext = strcmp(rest, "-") ? xstrdup(rest) : NULL;
	} else
		return bad(st, ln, "not a state line");
	return 0;
}

int
sstate_load(struct sstate *st)
{
	return ddb_state_read(st->dir, STATE_MAGIC, "ddb-scan", line_of, st,
	    &st->exists);
}

char *
batch_path(const struct sstate *st, long seg)
{
	return xasprintf("%s/batch.%ld", st->dir, seg);
}

/* DIR/state from st: the caller holds the lock of st (one writer) */
int
sstate_save(struct sstate *st)
{
	struct ddb_buf b = { 0 };
	long i;
	int rc;
	char *l;

	l = xasprintf(STATE_MAGIC "\ntable %s\narn %s\nsegments %ld\n"
	    "page-size %ld\nconsistent %d\ncreated-at %s\n", st->table,
	    st->arn, st->segments, st->page_size, st->consistent,
	    st->created);
	ddb_buf_put(&b, l, strlen(l));
	free(l);
	for (i = 0; i < st->segments; i++) {
		const struct seg *s = &st->seg[i];

		l = xasprintf("segment %ld %s %ld %ld %s\n", i,
		    s->done ? "done" : "open", s->pages, s->items,
		    s->pos ? s->pos : "-");
		ddb_buf_put(&b, l, strlen(l));
		free(l);
	}
	for (i = 0; i < st->segments; i++) {
		const struct seg *s = &st->seg[i];

		if (!s->pending)
			continue;
		l = xasprintf("batch %ld %ld %zu %s %s\n", i, s->pcount,
		    s->pbytes, s->psha, s->pnext ? s->pnext : "-");
		ddb_buf_put(&b, l, strlen(l));
		free(l);
	}
	rc = ddb_put_file(st->dir, "state", b.p, b.n);
	free(b.p);
	return rc;
}

void
sstate_free(struct sstate *st)
{
	long i;

	for (i = 0; st->seg && i < st->segments; i++) {
		free(st->seg[i].pos);
		free(st->seg[i].pnext);
	}
	free(st->seg);
	free(st->table);
	free(st->arn);
	free(st->created);
	if (st->dir && st->lockfd >= 0)
		close(st->lockfd);
	memset(st, 0, sizeof *st);
}
