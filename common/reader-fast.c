/* reader-fast.c: a value the input buffer holds whole, parsed where it lies */
#include <string.h>

#include "reader-int.h"

/*
 * The common case: a JSON object or array that r->in holds whole (or does
 * once what is left of the buffer moves to its front), parsed where it
 * lies, without the plain path's scan and copy (or given to r->take first:
 * DDB_NEXT_TAKEN if it took the value).  DDB_NEXT_VALUE and *out; else
 * DDB_NEXT_END, and the plain path reads the value (gzip, bare values, an
 * event to split, a value longer than the buffer, bad data).
 *
 * The rule that makes this safe, checked by tests/reader-diff.c: a value
 * that parses here scans to the same end on the plain path, is not Python
 * repr (T, F, N and ' outside a string are not JSON) and parses to the
 * same tree.
 */
int
reader_fast_value(struct ddb_reader *r, struct jv **out)
{
	const char *s;
	size_t i, n, m, used;
	int e, retried = 0, took = 0;

	if (!r->sniffed || r->gz != NULL)
		return DDB_NEXT_END;
	for (;;) {
		if (!reader_skip_blank(r))
			return DDB_NEXT_END;
		s = r->in + r->inpos;
		n = r->inend - r->inpos;
		if (*s != '{' && *s != '[')
			return DDB_NEXT_END;
		if ((r->flags & DDB_READ_SPLIT) && *s == '{') {
			i = reader_skip_ws(s, n, 1);
			if (n - i < 9 || memcmp(s + i, "\"Records\"", 9) == 0)
				return DDB_NEXT_END;
		}
		if (r->take != NULL) {
			r->vline = r->line;
			if ((used = r->take(r->takectx, s, n)) > 0) {
				took = 1;
				break;
			}
		}
		ddb_arena_reset(&r->arena);
		e = ddb_json_parse_prefix(&r->arena, &r->st, s, n, r->depth,
		    &r->v, &used);
		if (e == 0)
			break;
		if (e != DDB_JSON_EOF || retried || r->eof || r->inpos == 0 ||
		    r->in != r->inbuf)
			return DDB_NEXT_END;
		/* what is left to the front, more read after it */
		memmove(r->in, s, n);
		r->inpos = 0;
		r->inend = n;
		m = fread(r->in + n, 1, sizeof r->inbuf - n, r->fp);
		if (m == 0)
			return DDB_NEXT_END;
		r->inend += m;
		retried = 1;
	}
	r->vline = r->line;
	r->line += reader_newlines(s, used);
	r->inpos += used;
	r->val.n = 0;
	r->vn = 0;
	if (took)
		return DDB_NEXT_TAKEN;
	*out = &r->v;
	return DDB_NEXT_VALUE;
}
