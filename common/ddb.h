/* ddb.h: what the ddb-to-s3 tools share */
#ifndef DDB_H
#define DDB_H

#include <stddef.h>
#include <stdio.h>
#include <json-c/json.h>

#ifndef DDB_VERSION
#define DDB_VERSION "0.1.0"
#endif

/* exit statuses, the same in every tool */
enum {
	DDB_EXIT_OK = 0,
	DDB_EXIT_DATA = 1,	/* bad input data */
	DDB_EXIT_USAGE = 2,	/* bad command line */
	DDB_EXIT_IO = 3		/* a file could not be read or written */
};

/* how the tools write JSON: compact, '/' not escaped */
#define DDB_JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/*
 * JSON nesting the readers accept.  DynamoDB allows 32 levels of M and L;
 * in typed form each level costs two JSON levels, and a Lambda event wraps
 * the item in four more.
 */
#define DDB_MAX_DEPTH 32
#define DDB_READ_DEPTH 80

/* util.c */
void ddb_errat(const char *name, long line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ddb_close_stdout(void);
void ddb_print_version(void);
int ddb_is_json_number(const char *s, size_t n);
int ddb_fwrite_all(FILE *fp, const char *s, size_t n);

/* reader.c: a stream of JSON values, read losslessly, one at a time */
struct ddb_reader;
#define DDB_READ_PYREPR 1	/* also accept Python repr (single quotes, True) */
#define DDB_READ_SPLIT 2	/* {"Records":[...]}: one record at a time */
struct ddb_reader *ddb_reader_open(const char *path, int depth, int flags);
int ddb_reader_next(struct ddb_reader *r, json_object **out);
const char *ddb_reader_name(const struct ddb_reader *r);
long ddb_reader_line(const struct ddb_reader *r);
/* DDB_READ_SPLIT: index of the record in its event (-1: a whole value) */
long ddb_reader_part(const struct ddb_reader *r);
int ddb_reader_part_last(const struct ddb_reader *r);
int ddb_reader_ioerror(const struct ddb_reader *r);
int ddb_reader_close(struct ddb_reader *r);

/* pyrepr.c */
int ddb_pyrepr_to_json(const char *in, size_t n, char **out, size_t *outlen,
    size_t *errpos, const char **errmsg);

#endif
