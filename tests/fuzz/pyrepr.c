/* pyrepr.c: libFuzzer harness for the Python-repr converter (common/pyrepr.c) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ddb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL;
	size_t outlen = 0, errpos = 0;
	const char *msg = NULL;

	if (ddb_pyrepr_to_json((const char *)data, size, &out, &outlen,
	    &errpos, &msg) < 0) {
		if (msg == NULL || errpos > size)
			abort();	/* a failure must say what and where */
		return 0;
	}
	if (out == NULL || out[outlen] != '\0')
		abort();
	/* converted text is JSON-quoted: no raw control byte in a string */
	free(out);
	return 0;
}
