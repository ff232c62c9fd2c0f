/* reader.c: libFuzzer harness for the shared reader (common/reader.c) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ddb.h"
#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* what the tools print must read back as the same value */
static void
check_roundtrip(const char *s, size_t len, int depth)
{
	struct ddb_reader *r;
	json_object *o = NULL;
	FILE *fp;
	size_t len2;
	const char *s2;

	if ((r = fuzz_open_mem(s, len, depth, 0, &fp)) == NULL)
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

/* all values printed, Records split out; 1 if every value was good */
static int
read_all(const uint8_t *data, size_t size, int depth, int flags, char **out,
    size_t *outlen)
{
	struct ddb_reader *r;
	json_object *o, *recs;
	FILE *fp, *mem;
	int n, good = 1, values = 0;
	size_t i;

	*out = NULL;
	*outlen = 0;
	if ((r = fuzz_open_mem(data, size, depth, flags, &fp)) == NULL)
		return -1;
	if ((mem = open_memstream(out, outlen)) == NULL)
		abort();
	while ((n = ddb_reader_next(r, &o)) != 0 && values++ < 10000) {
		if (n < 0) {
			good = 0;
			if (n == -2)
				break;
			continue;
		}
		if (!(flags & DDB_READ_SPLIT) &&
		    json_object_is_type(o, json_type_object) &&
		    json_object_object_get_ex(o, "Records", &recs) &&
		    json_object_is_type(recs, json_type_array))
			for (i = 0; i < json_object_array_length(recs); i++)
				fprintf(mem, "%s\n", json_object_to_json_string_ext(
				    json_object_array_get_idx(recs, i),
				    DDB_JSON_FLAGS));
		else
			fprintf(mem, "%s\n", json_object_to_json_string_ext(o,
			    DDB_JSON_FLAGS));
		json_object_put(o);
	}
	fclose(mem);
	ddb_reader_close(r);
	fclose(fp);
	return good;
}

/*
 * Reading an event record by record (DDB_READ_SPLIT) must give the same
 * records as reading it whole, and find fault exactly where whole does.
 */
static void
check_split(const uint8_t *data, size_t size, int depth, int flags)
{
	char *a, *b;
	size_t alen, blen;
	int ga = read_all(data, size, depth, flags & ~DDB_READ_SPLIT, &a, &alen);
	int gb = read_all(data, size, depth, flags | DDB_READ_SPLIT, &b, &blen);

	if (ga != gb || (ga == 1 && (alen != blen || memcmp(a, b, alen) != 0)))
		abort();
	free(a);
	free(b);
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
	flags = (data[0] & 1 ? DDB_READ_PYREPR : 0) |
	    (data[0] & 4 ? DDB_READ_SPLIT : 0);
	depth = data[0] & 2 ? 4 : DDB_READ_DEPTH;
	if ((r = fuzz_open_mem(data + 1, size - 1, depth, flags, &fp)) == NULL)
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
		if (ddb_reader_part(r) < -1 || (ddb_reader_part_last(r) &&
		    ddb_reader_part(r) < 0))
			abort();
	}
	ddb_reader_close(r);
	fclose(fp);
	if (flags & DDB_READ_SPLIT)
		check_split(data + 1, size - 1, depth, flags);
	return 0;
}
