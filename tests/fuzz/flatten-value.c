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
	json_object *o = NULL;
	struct ctx c;
	FILE *fp;

	if ((r = fuzz_open_mem(data, size, DDB_READ_DEPTH, 0, &fp)) == NULL)
		return 0;
	if (ddb_reader_next(r, &o) == 1 &&
	    json_object_is_type(o, json_type_object)) {
		memset(&c, 0, sizeof c);
		c.name = "fuzz";
		c.recno = -1;
		if (convert_item(&c, o, 0) == 0) {
			size_t len;
			const char *s = json_object_to_json_string_length(o,
			    DDB_JSON_FLAGS, &len);
			char *line = malloc(len + 1);
			memcpy(line, s, len);
			line[len] = '\n';
			fuzz_check_json_lines(line, len + 1);
			free(line);
		}
	}
	json_object_put(o);
	ddb_reader_close(r);
	fclose(fp);
	return 0;
}
