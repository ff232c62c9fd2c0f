/*
 * statedir.h: what ddb-stream and ddb-scan share: a state directory (its
 * lock, files replaced in one atomic step, the state file's lines) and the
 * consumer a batch is handed to
 */
#ifndef STATEDIR_H
#define STATEDIR_H

#include <signal.h>
#include <stddef.h>

/*
 * DIR (made if missing) locked through DIR/lock, held in *fd until exit:
 * 0, -1 if another run holds it (said if verbose: nothing is wrong, the
 * run just does nothing), DDB_EXIT_STALE if that run has shown no sign of
 * life for DDB_LOCK_STALE seconds (said), or DDB_EXIT_IO (said).  Temp
 * files of a killed run (DIR/.state.*) are removed.  The lock file holds
 * the holder's pid; its mtime is the holder's last sign of life.
 */
int ddb_dir_lock(const char *dir, int *fd, int verbose);
/* a sign of life of the run holding the lock (none held: nothing) */
void ddb_dir_alive(void);
/* DIR/NAME replaced by p[0..n) in one atomic step: 0 or DDB_EXIT_IO (said) */
int ddb_put_file(const char *dir, const char *name, const char *p, size_t n);
/*
 * SIGTERM, SIGINT and SIGHUP ask a run to stop where it can: the handler
 * ddb_catch_stop() sets leaves the signal's number in ddb_stop (0: none)
 */
extern volatile sig_atomic_t ddb_stop;
void ddb_catch_stop(void);

/*
 * The state format every source shares: DIR/state, one line each, fields
 * separated by one space, replaced as a whole (ddb_put_file):
 *   ddb-state 2
 *   source KIND ...               stream or scan, and what it reads
 *   ...                           the source's settings and cursor lines
 *   batch PART COUNT BYTES SHA256[ REST]   the staged batch, if any
 * DIR/state, its first line DDB_STATE_MAGIC or the source's older one
 * (legacy, or NULL), each other line to line(arg, text, number) without its
 * newline, then once line(arg, NULL, lines read) to check what the file
 * must hold.  0 with *exists 1 (DDB_STATE_MAGIC) or 2 (legacy) or, if there
 * is no such file, 0 with *exists untouched; else the first non-zero of
 * line() or DDB_EXIT_IO (said: "not a KIND state file").
 */
#define DDB_STATE_MAGIC "ddb-state 2"
int ddb_state_read(const char *dir, const char *legacy, const char *kind,
    int (*line)(void *arg, char *text, long number), void *arg, int *exists);
/* "DIR/state:LINE: WHAT" said; DDB_EXIT_IO */
int ddb_state_bad(const char *dir, long line, const char *what);

/*
 * The environment a consumer runs with: ours without the variables whose
 * names start with drop, then the "NAME=value" strings of add (up to a
 * NULL).  Free the array alone.
 */
char **ddb_consumer_env(const char *drop, char *const *add);
/*
 * Run cmd with fd (closed here) on its standard input and env, and wait:
 * 0 if it exits 0 (it took the batch); else said ("batch not committed")
 * and the suite's status: its own exit status where it is one of the
 * suite's (1 to 7, 75), DDB_EXIT_SOFTWARE for a signal or another status.
 * Its standard error goes to ours as it comes; if msg is not NULL, its
 * last line (at most DDB_MSG_MAX bytes, control characters as '?') is
 * left there ("" if none).
 */
#define DDB_MSG_MAX 512
int ddb_consume(char *const *cmd, int fd, char *const *env, char *msg);

/*
 * A batch's life cycle, the same for every source:
 *   stage    its records to DIR/batch.PART (ddb_batch_begin, ddb_batch_add,
 *            ddb_batch_stage: temp file, fsync, rename), then the caller
 *            records the batch line (ddb_batch_fmt) and the cursors after
 *            the batch in DIR/state, one atomic step, before any consumer
 *            runs;
 *   consume  ddb_batch_run: the file, checked against its size and
 *            SHA-256, on the consumer's standard input;
 *   commit   the caller replaces DIR/state with the new cursors and no
 *            batch line (one atomic step), then ddb_batch_remove.
 * After a crash the state names the staged batch: it is handed on first,
 * byte for byte, from its file alone (never read again from the source).
 * A batch file no batch line names is stale (a crash between the rename
 * and the state): it is never read, and the next staging replaces it.
 */
#define DDB_SHA256_HEX 65	/* 64 hex digits and a NUL */
#define DDB_RANGES 80		/* ranges of a bisection at most: halving
				   leaves one pending range a level */
struct ddb_batch {
	long part;		/* DIR/batch.PART */
	long count;		/* records */
	size_t bytes;		/* the file's size */
	char sha[DDB_SHA256_HEX];	/* its SHA-256, lowercase hex */
	/*
	 * Its progress, the state's "todo" line: the records still to hand
	 * on as ranges [lo, hi) of record indexes, in order, each record
	 * before the first one taken (handed on, or dead-lettered); nr 0:
	 * the whole batch.  attempts: the consumer's temporary failures
	 * (exit 75) on the first range since a range was last taken.
	 */
	int nr;
	long lo[DDB_RANGES], hi[DDB_RANGES];
	long attempts;
	/* while staging */
	int fd;
	char *tmp;
	void *md;		/* the digest so far (EVP_MD_CTX) */
};

/* an empty batch DIR/batch.PART being staged: 0 or DDB_EXIT_IO (said) */
int ddb_batch_begin(struct ddb_batch *b, const char *dir, long part);
/* p[0..n), records more records, appended: 0 or DDB_EXIT_IO (said) */
int ddb_batch_add(struct ddb_batch *b, const char *p, size_t n, long records);
/* the staged file in its place, durable, its SHA-256 in b->sha: 0 or
 * DDB_EXIT_IO (said) */
int ddb_batch_stage(struct ddb_batch *b, const char *dir);
/* staging given up: the temp file removed */
void ddb_batch_drop(struct ddb_batch *b);
/*
 * "PART COUNT BYTES SHA256[ REST]" (a batch line after "batch "):
 * 0 with b filled and *rest the text after the digest ("" if none), or -1
 */
int ddb_batch_parse(char *text, struct ddb_batch *b, char **rest);
/*
 * "batch PART COUNT BYTES SHA256[ REST]\n", allocated; then, if b has
 * progress, "todo PART ATTEMPTS LO-HI[,LO-HI]...\n" (a source's loader
 * gives that line's text after "todo " to ddb_todo_parse)
 */
char *ddb_batch_fmt(const struct ddb_batch *b, const char *rest);
/* the PART of a todo line's text, or -1 */
long ddb_todo_part(const char *text);
/* a todo line's text into b (its batch, parsed before): 0, or -1 */
int ddb_todo_parse(const char *text, struct ddb_batch *b);

/* a record of a staged batch as its source names it (ddb_sink.name) */
struct ddb_record_name {
	char *label;		/* for the log: "shard ID seq N", no item data */
	char *file;		/* its dead letter's name: [A-Za-z0-9._-] */
	char *meta;		/* JSON members ("k":v,...) saying where it is from */
};

/* s made a file name: each byte other than [A-Za-z0-9._-] as '_' */
void ddb_safe_name(char *s);

/*
 * How a source hands a staged batch on (ddb_batch_run), and what the run
 * counted.  A consumer that exits 1 (bad data) has the batch bisected: it
 * gets each half, in order, until the records it refuses are single.  A
 * single refused record goes to the dead-letter place (or, with none,
 * the run stops there, exit 1, the good records before it taken).  A
 * temporary failure (exit 75) ends the run; the max_attempts-th one in a
 * row on a range sends that range's records to the dead-letter place (or,
 * with none, ends the run with DDB_EXIT_ATTEMPTS; nothing is dropped).
 * Each step is saved (save: the source's state with the batch's progress
 * as given, nr, lo, hi and attempts, one atomic step) before the next
 * consumer runs, so a killed run's
 * successor never hands on again a range that holds records already
 * taken.
 */
struct ddb_sink {
	char *const *cmd;
	char *const *env;
	const char *dead;	/* a directory or s3://BUCKET/PREFIX; NULL: none */
	long max_attempts;	/* 0: no bound */
	int (*save)(void *arg, const struct ddb_batch *progress);
	/* record i (rec[0..n), its newline included) named: see above */
	void (*name)(void *arg, long i, const char *rec, size_t n,
	    struct ddb_record_name *out);
	void *arg;
	/* counted by ddb_batch_run, added to */
	long delivered;		/* records the consumer took */
	long bisected;		/* ranges split in two */
	long dead_count;	/* records dead-lettered */
	long tempfails;		/* the consumer's exits 75 */
};

/*
 * The staged batch, or what its progress leaves of it, handed on as
 * ddb_sink says: its file checked first (size and SHA-256; a file
 * altered or cut is refused, said, DDB_EXIT_IO, and never handed on).
 * 0 once every record is taken (the caller commits); else the status to
 * end the run with (said), the progress saved.
 */
int ddb_batch_run(const char *dir, const struct ddb_batch *b,
    struct ddb_sink *s);
/* "; bisected: records 3, 4, 5-8 still to hand on" if b's progress says
 * so, else "": static */
const char *ddb_todo_text(const struct ddb_batch *b);
/*
 * The options both sources take for the batches a command refuses or fails:
 * DDB_SINK_LONGOPTS in their getopt_long table, and ddb_sink_opt() for
 * DDB_OPT_DEAD and DDB_OPT_ATTEMPTS (the sources' own option values stay
 * below 512)
 */
enum { DDB_OPT_DEAD = 512, DDB_OPT_ATTEMPTS };
#define DDB_SINK_LONGOPTS \
	{ "dead-letter", required_argument, NULL, DDB_OPT_DEAD }, \
	{ "batch-attempts", required_argument, NULL, DDB_OPT_ATTEMPTS }
/* --dead-letter's place into s->dead, --batch-attempts into
 * s->max_attempts: 0, or -1 (said) */
int ddb_sink_opt(struct ddb_sink *s, int c, const char *arg);
/* "; N bisections, N records dead-lettered, N temporary failures" for the
 * counts that are not 0 ("" if none), static */
const char *ddb_sink_counts(long bisected, long dead, long tempfails);
/* DIR/batch.PART removed once committed (a stale one is never read) */
void ddb_batch_remove(const char *dir, long part);
/*
 * Each DIR/batch.PART for which staged(arg, PART) is 0 removed: a batch
 * committed, or staged and never recorded, by a run killed before it
 * removed the file (the lock held, the state read)
 */
void ddb_batch_sweep(const char *dir, int (*staged)(void *arg, long part),
    void *arg);

#endif
