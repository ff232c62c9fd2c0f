/* check.h: what every harness checks about JSON a tool printed */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb.h"

/* a reader on a memory buffer: the reader reads stdin when given no path */
static struct ddb_reader *
fuzz_open_mem(const void *p, size_t n, int depth, int flags, FILE **fp)
{
	struct ddb_reader *r;
	FILE *save = stdin;

	if ((*fp = fmemopen((void *)p, n, "r")) == NULL)
		return NULL;
	stdin = *fp;
	r = ddb_reader_open(NULL, depth, flags);
	stdin = save;
	if (r == NULL)
		fclose(*fp);
	return r;
}

/* every line of s must be one JSON value the reader takes; abort if not */
static void
fuzz_check_json_lines(const char *s, size_t n)
{
	struct ddb_reader *r;
	struct jv *o;
	FILE *fp;
	size_t i, lines = 0, values = 0;
	int rc;

	for (i = 0; i < n; i++)
		if (s[i] == '\n')
			lines++;
	if (n > 0 && s[n - 1] != '\n')
		abort();	/* output must end with a newline */
	if (n == 0 || (r = fuzz_open_mem(s, n, DDB_READ_DEPTH, 0, &fp)) == NULL)
		return;
	while ((rc = ddb_reader_next(r, &o)) == DDB_NEXT_VALUE)
		values++;
	if (rc != DDB_NEXT_END || values != lines)
		abort();	/* the tool printed something that is not JSON lines */
	ddb_reader_close(r);
	fclose(fp);
}

/* run fn with stdout captured; check the output; 0 or fn's result */
static int
fuzz_capture(int (*fn)(void *), void *arg, int check)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *save = stdout, *mem = open_memstream(&buf, &len);
	int rc;

	if (mem == NULL)
		return 0;
	stdout = mem;
	rc = fn(arg);
	stdout = save;
	fclose(mem);
	if (check)
		fuzz_check_json_lines(buf, len);
	free(buf);
	return rc;
}
