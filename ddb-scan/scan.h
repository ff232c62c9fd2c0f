/* scan.h: what ddb-scan's files share */
#ifndef SCAN_H
#define SCAN_H

#include <stddef.h>

#include "ddb.h"
#include "awsjson.h"		/* the JSON 1.0 client (aj_*) */
#include "sigv4.h"		/* sigv4_sha256_hex */
#include "statedir.h"		/* the lock, ddb_put_file, the consumer */

/* one segment of the parallel scan */
struct seg {
	char *pos;		/* ExclusiveStartKey as JSON, NULL: the start */
	int done;		/* read to its end, every page acknowledged */
	long pages, items;	/* acknowledged */
	/* the batch handed on, not yet acknowledged (pending != 0) */
	int pending;
	struct ddb_batch pb;	/* DIR/batch.I: its items, size, SHA-256 */
	char *pnext;		/* LastEvaluatedKey after it, NULL: the end */
};

struct sstate {
	const char *dir;
	int lockfd;		/* DIR/lock, held (ddb_dir_lock) */
	int exists;		/* a state file was there (2: the older format) */
	char *table, *arn;
	char *created;		/* created_at: JSON text (number or string) */
	long segments, page_size;	/* page_size 0: no Limit */
	int consistent;
	struct seg *seg;
};

int sstate_load(struct sstate *st);
int sstate_save(struct sstate *st);
void sstate_free(struct sstate *st);

#endif
