/* reader.c: libFuzzer harness for the shared reader (common/reader.c) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* a reader on a memory buffer: the reader reads stdin when given no path */
static struct ddb_reader *
open_mem(const void *p, size_t n, int depth, int flags, FILE **fp)
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

/* what the tools print must read back as the same value */
static void
check_roundtrip(const char *s, size_t len, int depth)
{
	struct ddb_reader *r;
	json_object *o = NULL;
	FILE *fp;
	size_t len2;
	const char *s2;

	if ((r = open_mem(s, len, depth, 0, &fp)) == NULL)
		return;
	if (ddb_reader_next(r, &o) != 1)
		abort();	/* printed JSON did not read back */
	s2 = json_object_to_json_string_length(o, DDB_JSON_FLAGS, &len2);
	if (len2 != len || memcmp(s, s2, len) != 0)
		abort();	/* a value changed on the way through */
	json_object_put(o);
	ddb_reader_close(r);
	fclose(fp);
}

/*
 * The first byte picks the flags and the depth; the rest is the stream,
 * read through stdio as from a file.  Every value must come back as a
 * json-c object that prints as JSON and reads back unchanged.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ddb_reader *r;
	json_object *o;
	FILE *fp;
	int flags, depth, n, values = 0;

	if (size < 2)
		return 0;
	flags = data[0] & 1 ? DDB_READ_PYREPR : 0;
	depth = data[0] & 2 ? 4 : DDB_READ_DEPTH;
	if ((r = open_mem(data + 1, size - 1, depth, flags, &fp)) == NULL)
		return 0;
	while ((n = ddb_reader_next(r, &o)) != 0 && n != -2 &&
	    values++ < 10000) {
		if (n == 1) {
			size_t len;
			const char *s = json_object_to_json_string_length(o,
			    DDB_JSON_FLAGS, &len);
			if (s == NULL || strlen(s) != len)
				abort();	/* a raw NUL in printed JSON */
			check_roundtrip(s, len, depth);
			json_object_put(o);
		}
		(void)ddb_reader_line(r);
	}
	ddb_reader_close(r);
	fclose(fp);
	return 0;
}
