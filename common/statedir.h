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
/* all of p[0..n) to fd: 0, or -1 with errno */
int ddb_write_all(int fd, const char *p, size_t n);

/*
 * DIR/state, its first line MAGIC ("not a KIND state file" if not), each
 * other line to line(arg, text, number) without its newline, then once
 * line(arg, NULL, lines read) to check what the file must hold.  0 (*exists
 * 1) or, if there is no such file, 0 with *exists untouched; else the
 * first non-zero of line() or DDB_EXIT_IO (said).
 */
int ddb_state_read(const char *dir, const char *magic, const char *kind,
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

#endif
