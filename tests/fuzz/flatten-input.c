/* flatten-input.c: libFuzzer harness for ddb-flatten on a whole input */
#include <stdint.h>

#define main ddb_flatten_main
#include "../../ddb-flatten/ddb-flatten.c"
#include "../../ddb-flatten/formats.c"
#include "../../ddb-flatten/output.c"
#undef main
#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
run(void *arg)
{
	(void)arg;
	return flatten_file(NULL);
}

/* the input as ddb-flatten's stdin; every line it prints must be JSON */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *save = stdin;

	if ((stdin = fmemopen((void *)data, size, "r")) == NULL) {
		stdin = save;
		return 0;
	}
	fuzz_capture(run, NULL, 1);
	fclose(stdin);
	stdin = save;
	return 0;
}
