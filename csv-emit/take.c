/*
 * take.c: csv-emit's fast row path, compiled into csv-emit.c (and with it
 * into parquet-emit), whose row buffer, names and cells it shares.
 *
 * A row as ddb-expand writes it (compact JSON with the writer's escapes,
 * keys already known as columns) is rendered from its text, with no tree
 * built and no map or list written again: they are copied, checked by
 * ddb_json_canon_len with the parser's grammar; strings are decoded by the
 * parser's decoder.  Any other row, and any row with something wrong in
 * it, is left to the parser and render_row (0 here), so its cells and
 * messages are what the plain path gives.  The rule, "a row take_row
 * takes gives render_row's cells", is tests/rowpath-test.c's: both paths
 * on the fixtures, the fuzz corpus and random rows, the same CSV, the
 * same messages, the same status.
 */
static unsigned long *rowseen, rowgen;	/* names given a cell in this row */
static size_t nrowseen;

static size_t
take_row(void *ctx, const char *s, size_t n)
{
	struct ddb_reader *r = ctx;
	const char *name = ddb_reader_name(r), *p = s + 1, *end = s + n, *k;
	size_t len, klen, prev = 0;
	long line = ddb_reader_line(r), id;
	int esc;

	if (*s != '{')
		return 0;
	if (nrowseen < nm.n) {
		rowseen = xreallocarray(rowseen, nm.n, sizeof *rowseen);
		memset(rowseen + nrowseen, 0,
		    (nm.n - nrowseen) * sizeof *rowseen);
		nrowseen = nm.n;
	}
	rowgen++;
	row.n = 0;
	if (p < end && *p == '}')
		goto done;
	for (;;) {
		if (p >= end || *p != '"' ||
		    (klen = ddb_json_canon_str(p, (size_t)(end - p), &esc)) == 0 ||
		    esc)
			return 0;
		k = p + 1;
		klen -= 2;
		p += klen + 2;
		if ((id = key_id(prev, k, klen, 0)) < 0)
			return 0;		/* a new name: render_row adds it */
		prev = (size_t)id + 1;
		if (rowseen[id] == rowgen)
			return 0;		/* a duplicate key */
		rowseen[id] = rowgen;
		if (cflag != NULL && ((size_t)id >= nfixed ||
		    (xflag == X_GATHER && (size_t)id == gid)))
			return 0;		/* for --extra */
		if (p >= end || *p++ != ':' || p >= end)
			return 0;
		switch (*p) {
		case '"':
			if ((len = ddb_json_canon_str(p, (size_t)(end - p),
			    &esc)) == 0)
				return 0;
			if (!esc) {
				/* no '"', CR or LF: they would be escaped */
				if (add_plain((size_t)id, p + 1, len - 2) < 0)
					return 0;
				break;
			}
			/* the writer's escapes, undone as the parser does */
			tmp.n = 0;
			ddb_json_canon_decode(&tmp, p, len);
			if (add_cell(name, line, (size_t)id, tmp.p, tmp.n) < 0)
				return 0;
			break;
		case 'n':
			if (end - p < 4 || memcmp(p, "null", 4) != 0)
				return 0;
			len = 4;	/* written like a missing cell */
			break;
		default:
			/* maps and lists copied; numbers, true and false too */
			if ((len = ddb_json_canon_len(p, (size_t)(end - p), 1,
			    DDB_READ_DEPTH)) == 0 ||
			    (*p == '{' || *p == '[' ?
			    add_cell(name, line, (size_t)id, p, len) :
			    add_plain((size_t)id, p, len)) < 0)
				return 0;
		}
		CSV_EMIT_KIND((size_t)id, *p);
		p += len;
		if (p >= end)
			return 0;
		if (*p == '}')
			break;
		if (*p++ != ',')
			return 0;
	}
done:
	put_row(name, line);
	return (size_t)(p + 1 - s);
}

