/*
 * reader-split.c: DDB_READ_SPLIT, the records of a {"Records":[...]} event
 * one at a time (each parsed alone: no tree of the whole event)
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "reader-int.h"

/* the closing quote of the string whose opening quote is s[i], or n */
static size_t
string_end(const char *s, size_t n, size_t i)
{
	const char *q;
	size_t k;

	for (i++; i < n; i = (size_t)(q - s) + 1) {
		if ((q = memchr(s + i, '"', n - i)) == NULL)
			return n;
		/* escaped if an odd number of backslashes come before it */
		for (k = 0; q - k > s + i && q[-(ptrdiff_t)k - 1] == '\\'; k++)
			;
		if (k % 2 == 0)
			return (size_t)(q - s);
	}
	return n;
}

/* the end of the JSON value at s[i], or 0 if none */
static size_t
value_end(const char *s, size_t n, size_t i)
{
	int depth = 0;

	for (; i < n; i++) {
		switch (s[i]) {
		case '"':
			i = string_end(s, n, i);
			if (i >= n)
				return 0;
			if (depth == 0)
				return i + 1;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			if (depth-- == 0)
				return i;	/* a bare token ends */
			if (depth == 0)
				return i + 1;
			break;
		case ',':
		case ' ':
		case '\t':
		case '\n':
		case '\r':
			if (depth == 0)
				return i;
			break;
		}
	}
	return depth == 0 ? n : 0;
}

/*
 * If the value text is a {"Records":[...]} event whose shape is sound, list
 * where its records lie and return 0; else -1 and the value is parsed whole
 * (the parser then says what is wrong, or the tool that the value is no
 * event).  Members after Records (get-records'
 * NextShardIterator) are checked here.
 */
int
reader_split(struct ddb_reader *r, char *s, size_t n)
{
	size_t i, e, tail;

	r->nparts = r->nextpart = 0;
	i = reader_skip_ws(s, n, 0);
	if (i >= n || s[i] != '{')
		return -1;
	i = reader_skip_ws(s, n, i + 1);
	if (n - i < 9 || memcmp(s + i, "\"Records\"", 9) != 0)
		return -1;
	i = reader_skip_ws(s, n, i + 9);
	if (i >= n || s[i] != ':')
		return -1;
	i = reader_skip_ws(s, n, i + 1);
	if (i >= n || s[i] != '[')
		return -1;
	i = reader_skip_ws(s, n, i + 1);
	if (i < n && s[i] == ']')
		goto tail;
	for (;;) {
		if ((e = value_end(s, n, i)) <= i)
			return -1;
		if (r->nparts == r->capparts) {
			size_t cap = r->capparts ? r->capparts * 2 : 256;
			r->parts = xreallocarray(r->parts, cap,
			    sizeof *r->parts);
			r->capparts = cap;
		}
		r->parts[r->nparts].off = i;
		r->parts[r->nparts].len = e - i;
		r->nparts++;
		i = reader_skip_ws(s, n, e);
		if (i < n && s[i] == ']')
			break;
		if (i >= n || s[i] != ',')
			return -1;
		i = reader_skip_ws(s, n, i + 1);
	}
tail:
	i = reader_skip_ws(s, n, i + 1);
	if (i < n && s[i] == ',') {
		/* more members: quietly, they must make an object without Records */
		struct jv o;
		size_t erroff;
		int ok;
		char c;
		tail = i;
		for (e = n; e > tail && s[e - 1] != '}'; e--)
			;
		if (e <= tail + 1 || reader_skip_ws(s, n, e) != n)
			return -1;
		c = s[tail];
		s[tail] = '{';
		ddb_arena_reset(&r->arena);
		ok = ddb_json_parse(&r->arena, &r->st, s + tail, e - tail,
		    r->depth, &o, &erroff) == 0 && o.type == JV_OBJECT &&
		    jv_get(&o, "Records") == NULL;
		s[tail] = c;
		if (!ok)
			r->nparts = 0;
		return ok ? 0 : -1;
	}
	if (i >= n || s[i] != '}' || reader_skip_ws(s, n, i + 1) != n)
		return -1;
	return 0;
}

/* the next record of a split event */
int
reader_next_part(struct ddb_reader *r, struct jv **out)
{
	struct part *p = &r->parts[r->nextpart];
	int rc;

	r->part = (long)r->nextpart++;
	rc = reader_parse_text(r, r->evtext + p->off, p->len, p->off,
	    r->evconv != NULL, out);
	if (r->nextpart == r->nparts) {
		free(r->evconv);
		r->evconv = NULL;
	}
	return rc;
}
