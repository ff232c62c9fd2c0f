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
 */
int ddb_consume(char *const *cmd, int fd, char *const *env);

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
struct ddb_batch {
	long part;		/* DIR/batch.PART */
	long count;		/* records */
	size_t bytes;		/* the file's size */
	char sha[DDB_SHA256_HEX];	/* its SHA-256, lowercase hex */
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
/* "batch PART COUNT BYTES SHA256[ REST]\n", allocated */
char *ddb_batch_fmt(const struct ddb_batch *b, const char *rest);
/*
 * The staged batch on cmd's standard input, with env: its file checked
 * first (size and SHA-256; a file altered or cut is refused, said,
 * DDB_EXIT_IO, and never handed on); then ddb_consume's status.
 */
int ddb_batch_run(const char *dir, const struct ddb_batch *b,
    char *const *cmd, char *const *env);
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
