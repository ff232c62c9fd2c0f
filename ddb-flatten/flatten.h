/* flatten.h: what ddb-flatten.c and formats.c share (private to the tool) */
#ifndef DDB_FLATTEN_H
#define DDB_FLATTEN_H

#include "ddb.h"

/* where a bad value is: the input, its line, the record, the attribute */
struct seg {
	const char *key;	/* NULL: an array index */
	size_t idx;
};

struct ctx {
	const char *name;
	long line;
	const char *eventid;	/* NULL if unknown */
	long recno;		/* index in Records, -1 for a lone record */
	struct seg path[DDB_MAX_DEPTH + 8];
	int npath;
	struct ddb_arena *arena;	/* where a record's new parts go */
	/* what is wrong with the record checked, held until the loop says it
	   (or forgets it, when the event is read again): lines, each ending
	   in a newline; notime: one is the missing export time (exit 2) */
	struct ddb_buf msg;
	int notime;
};

/* ddb-flatten.c: a bad record's message, held in c->msg until say() */
void bad(struct ctx *c, const struct jv *quote, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void say(struct ctx *c);

/* ddb-flatten.c: ApproximateCreationDateTime, a JSON number or ISO 8601 */
int time_of(const struct jv *o, struct ddb_time *t);

/* output.c: an event's lines, held until flush_lines() or drop_lines() */
void lines_to(const char *dir, size_t partlen);
void lines_reserve(size_t n);
void add_line(const struct jv *rec);
void flush_lines(void);
void drop_lines(void);
void split_finish(void);
void lines_free(void);

/*
 * formats.c: the inputs beside DynamoDB's stream records (a Lambda event,
 * get-records output, Kinesis, exports, NDJSON, Python repr), told apart
 * by which keys they hold; struct input: one file, record by record
 */
struct input {
	struct ddb_reader *r;
	long part;		/* the record's index in its event, -1: lone */
	int last;		/* the event's last record (or a lone one) */
	const struct jv *recs;	/* a whole value's Records, given one by one */
	size_t next;
};
int next_record(struct input *in, struct ctx *c, struct jv **rec);
int unwrap_record(struct ctx *c, struct jv *rec);
int kinesis_seq_ok(const struct jv *o);
int set_export_time(struct ddb_arena *a, const char *s, size_t n, int number);
void read_manifest(const char *path, struct ddb_arena *keep);
void formats_free(void);

#endif
