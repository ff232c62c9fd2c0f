/* flatten-value.c: libFuzzer harness for ddb-flatten's unmarshalling of typed attribute values and its time parser */
#include <stdint.h>

#define main ddb_flatten_main
#include "../../ddb-flatten/ddb-flatten.c"
#include "../../ddb-flatten/formats.c"
#include "../../ddb-flatten/output.c"
#undef main
#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input is read as one JSON value (losslessly, by the shared reader)
 * and converted as an item: a map of attribute names to typed values.
 * What comes out must print as JSON that reads back.
 */
/*
 * The input's bytes as an ApproximateCreationDateTime, number and string:
 * what is taken formats as 16 bytes of YYYYMMDDTHHMMSSZ, and its ISO 8601
 * form reads back to the same time.
 */
static void
check_time(const char *s, size_t n)
{
	struct ddb_time t, u;
	char c[DDB_TIME_COMPACT], iso[80];
	int number, k;
	size_t nf;

	for (number = 0; number < 2; number++) {
		if (ddb_time_parse(s, n, number, &t) != 0)
			continue;
		if (t.sec < 0 || t.sec > 253402300799LL ||
		    ddb_time_format(&t, 0, c, sizeof c) != 16 ||
		    strspn(c, "0123456789") != 8 || c[8] != 'T' ||
		    strspn(c + 9, "0123456789") != 6 || c[15] != 'Z')
			abort();
		k = ddb_time_format(&t, 1, iso, sizeof iso);
		/* the ISO form reads back as the same instant: the same
		   fraction but for its trailing zeros */
		nf = strlen(t.frac);
		while (nf > 0 && t.frac[nf - 1] == '0')
			nf--;
		if (k < 20 || (size_t)k >= sizeof iso ||
		    ddb_time_parse(iso, (size_t)k, 0, &u) != 0 ||
		    u.sec != t.sec || strlen(u.frac) != nf ||
		    strncmp(u.frac, t.frac, nf) != 0)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ddb_reader *r;
	struct jv *o = NULL;
	struct ctx c;
	FILE *fp;

	if (size < 128)
		check_time((const char *)data, size);
	if ((r = fuzz_open_mem(data, size, DDB_READ_DEPTH, 0, &fp)) == NULL)
		return 0;
	if (ddb_reader_next(r, &o) == DDB_NEXT_VALUE && o->type == JV_OBJECT) {
		memset(&c, 0, sizeof c);
		c.name = "fuzz";
		c.recno = -1;
		c.arena = ddb_reader_arena(r);
		if (convert_item(&c, o, 0) == 0) {
			struct ddb_buf b = { NULL, 0, 0 };
			ddb_json_write(&b, o);
			ddb_buf_putc(&b, '\n');
			fuzz_check_json_lines(b.p, b.n);
			free(b.p);
		}
		say(&c);
		free(c.msg.p);
	}
	ddb_reader_close(r);
	fclose(fp);
	return 0;
}
