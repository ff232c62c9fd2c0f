/* csv-emit.h: what csv-emit's files share */
#include <stdint.h>
#include <stdio.h>

#include "ddb.h"

/* names.c: every name seen, with an id in first-seen order */
struct names {
	char **name;
	uint32_t *hash;
	unsigned long *count;	/* for the caller: cells of each name */
	size_t n, cap;
	uint32_t *tab;		/* open addressing: id + 1, 0 is empty */
	size_t mask;
};
long names_find(struct names *nm, const char *s, int add);
void names_free(struct names *nm);

/* spool.c: rows that wait for the header, in a private temporary file */
FILE *spool_open(void);
int spool_put(FILE *fp, const struct ddb_buf *row);
void spool_rewind(FILE *fp);
int spool_get(FILE *fp, struct ddb_buf *row);
