/* flatten-value.c: libFuzzer harness for ddb-flatten's unmarshalling of typed attribute values */
#include <stdint.h>

#define main ddb_flatten_main
#include "../../ddb-flatten/ddb-flatten.c"
#undef main
#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The input is read as one JSON value (losslessly, by the shared reader)
 * and converted as an item: a map of attribute names to typed values.
 * What comes out must print as JSON that reads back.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ddb_reader *r;
	struct jv *o = NULL;
	struct ctx c;
	FILE *fp;

	if ((r = fuzz_open_mem(data, size, DDB_READ_DEPTH, 0, &fp)) == NULL)
		return 0;
	if (ddb_reader_next(r, &o) == 1 && o->type == JV_OBJECT) {
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
	}
	ddb_reader_close(r);
	fclose(fp);
	return 0;
}
