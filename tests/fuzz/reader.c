/* reader.c: libFuzzer harness for the shared reader (common/reader.c) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ddb.h"
#include "check.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* json-c seeds its key hash at random: fix it, so a run can be repeated */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	json_global_set_string_hash(JSON_C_STR_HASH_PERLLIKE);
	return 0;
}

/*
 * An integer token json-c would not print back as it is: 19 digits or more
 * (it may clamp), or minus zero.
 */
static int
jsonc_alters(const char *s, size_t n)
{
	size_t i = 0, b;

	while (i < n) {
		if (s[i] == '"') {
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			i++;
			continue;
		}
		if (s[i] != '-' && (s[i] < '0' || s[i] > '9')) {
			i++;
			continue;
		}
		b = i;
		if (s[i] == '-')
			i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i < n && (s[i] == '.' || s[i] == 'e' || s[i] == 'E')) {
			while (i < n && strchr("0123456789.eE+-", s[i]) != NULL)
				i++;
			continue;
		}
		if (i - b >= 19 || (i - b == 2 && s[b] == '-' && s[b + 1] == '0'))
			return 1;
	}
	return 0;
}

/*
 * What the tools print must read back as the same value, and json-c, an
 * independent strict parser, must take it too and print the same text.
 */
static void
check_roundtrip(const char *s, size_t len, int depth)
{
	struct ddb_reader *r;
	struct jv *o = NULL;
	struct ddb_buf b = { NULL, 0, 0 };
	json_tokener *tok;
	json_object *j;
	FILE *fp;

	if ((r = fuzz_open_mem(s, len, depth, 0, &fp)) == NULL)
		return;
	if (ddb_reader_next(r, &o) != DDB_NEXT_VALUE)
		abort();	/* printed JSON did not read back */
	ddb_json_write(&b, o);
	if (b.n != len || memcmp(s, b.p, len) != 0)
		abort();	/* a value changed on the way through */
	ddb_reader_close(r);
	fclose(fp);

	if ((tok = json_tokener_new_ex(depth + 8)) == NULL)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	/* the NUL ends a bare number, which json-c would otherwise wait on */
	ddb_buf_putc(&b, '\0');
	j = json_tokener_parse_ex(tok, b.p, (int)b.n);
	b.n--;
	if (j == NULL || json_tokener_get_error(tok) != json_tokener_success)
		abort();	/* json-c refuses what we printed */
	if (!jsonc_alters(b.p, b.n)) {
		size_t l2;
		const char *s2 = json_object_to_json_string_length(j,
		    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		    &l2);
		if (l2 != b.n || memcmp(s2, b.p, l2) != 0)
			abort();	/* json-c reads another value */
	}
	json_object_put(j);
	json_tokener_free(tok);
	free(b.p);
}

/* all values printed, Records split out; 1 if every value was good */
static int
read_all(const uint8_t *data, size_t size, int depth, int flags, char **out,
    size_t *outlen)
{
	struct ddb_reader *r;
	struct jv *o, *recs;
	struct ddb_buf b = { NULL, 0, 0 };
	int n, good = 1, values = 0;
	FILE *fp;
	size_t i;

	*out = NULL;
	*outlen = 0;
	if ((r = fuzz_open_mem(data, size, depth, flags, &fp)) == NULL)
		return -1;
	while ((n = ddb_reader_next(r, &o)) != DDB_NEXT_END &&
	    values++ < 10000) {
		if (n != DDB_NEXT_VALUE) {
			good = 0;
			if (n == DDB_NEXT_FATAL)
				break;
			continue;
		}
		if (!(flags & DDB_READ_SPLIT) &&
		    (recs = jv_get(o, "Records")) != NULL &&
		    recs->type == JV_ARRAY)
			for (i = 0; i < recs->n; i++) {
				ddb_json_write(&b, &recs->u.a[i]);
				ddb_buf_putc(&b, '\n');
			}
		else {
			ddb_json_write(&b, o);
			ddb_buf_putc(&b, '\n');
		}
	}
	ddb_reader_close(r);
	fclose(fp);
	*out = b.p;
	*outlen = b.n;
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

	if (ga != gb || (ga == 1 && (alen != blen ||
	    (alen > 0 && memcmp(a, b, alen) != 0))))
		abort();
	free(a);
	free(b);
}

/*
 * The first byte picks the flags and the depth; the rest is the stream,
 * read through stdio as from a file.  Every value must print as JSON that
 * reads back unchanged.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ddb_reader *r;
	struct ddb_buf b = { NULL, 0, 0 };
	struct jv *o;
	FILE *fp;
	int flags, depth, n, values = 0;

	if (size < 2)
		return 0;
	flags = (data[0] & 1 ? DDB_READ_PYREPR : 0) |
	    (data[0] & 4 ? DDB_READ_SPLIT : 0);
	depth = data[0] & 2 ? 4 : DDB_READ_DEPTH;
	if ((r = fuzz_open_mem(data + 1, size - 1, depth, flags, &fp)) == NULL)
		return 0;
	while ((n = ddb_reader_next(r, &o)) != DDB_NEXT_END &&
	    n != DDB_NEXT_FATAL && values++ < 10000) {
		if (n == DDB_NEXT_VALUE) {
			b.n = 0;
			ddb_json_write(&b, o);
			if (memchr(b.p, '\0', b.n) != NULL)
				abort();	/* a raw NUL in printed JSON */
			check_roundtrip(b.p, b.n, depth);
		}
		(void)ddb_reader_line(r);
		if (ddb_reader_part(r) < -1 || (ddb_reader_part_last(r) &&
		    ddb_reader_part(r) < 0))
			abort();
	}
	free(b.p);
	ddb_reader_close(r);
	fclose(fp);
	if (flags & DDB_READ_SPLIT)
		check_split(data + 1, size - 1, depth, flags);
	return 0;
}
