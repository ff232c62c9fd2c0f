/* csv-emit.h: what csv-emit's files share */
#include <stdint.h>
#include <stdio.h>

#include "ddb.h"

/* names.c: every name seen, with an id in first-seen order */
struct names {
	char **name;
	size_t *len;		/* strlen of each name */
	uint32_t *hash;
	unsigned long *count;	/* for the caller: cells of each name */
	size_t n, cap;
	uint32_t *tab;		/* open addressing: id + 1, 0 is empty */
	size_t mask;
};
long names_find(struct names *nm, const char *s, int add);
void names_free(struct names *nm);

/* spool.c: rows that wait for the header, as CSV lines in temporary files */
struct spool {
	int fd;			/* the lines */
	FILE *ix;		/* each line's length and later cells' place */
	FILE *in;		/* the lines, read back */
	struct ddb_buf buf;	/* lines to append: spool_add, then written */
	uint64_t off;		/* bytes written to fd */
};
void spool_open(struct spool *sp);
int spool_add(struct spool *sp, size_t start, size_t head);
uint64_t spool_tell(const struct spool *sp);
void spool_rewind(struct spool *sp);
int spool_get(struct spool *sp, struct ddb_buf *line, size_t *head);
void spool_copy(struct spool *sp, uint64_t from, int out, void (*fail)(void));
void spool_close(struct spool *sp);

/* jsonl.c: -f jsonl, the CSV as JSON lines */
void jsonl_begin(void);
void jsonl_end(int ok, int delim, const char *nulltext);
