/*
 * ddb-lambda: the Lambda Runtime API loop of bootstrap, in C.  Each
 * invocation runs ddb-to-s3 on the event and answers the API; the loop
 * itself starts no process, so an invocation costs the batch's work and
 * little more.  Its log lines start "bootstrap:", the name Lambda runs it
 * under.  make builds it (all) but never installs it: only the Lambda
 * package (make lambda-zip) carries it, beside bootstrap.
 */
#include <limits.h>
#include <dirent.h>
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "ddb.h"

#define PROG "bootstrap"
#define BASE "/2018-06-01/runtime/"
/* an answer of the API larger than this is refused unread: Lambda's own
 * limit on an invocation's payload is 6 MB */
#define MAX_ANSWER (16L << 20)
/* once an answer has begun (and for the whole of a POST): this long at
 * most, or to the invocation's deadline if that comes first; the API is
 * on the loopback */
#define ANSWER_SECS 30
/* ddb-to-s3 is stopped this long before the deadline, so that the error
 * is still posted in time */
#define DEADLINE_MARGIN_MS 1000

enum { HTTP_OK, HTTP_NONE = -1, HTTP_HUGE = -2, HTTP_CUT = -3,
    HTTP_SLOW = -4 };

static char host[256], port[16];
static char tmp[4096];
static char work[4200];		/* ddb-to-s3 --work-dir: emptied after each run */
static const char *what = "init";	/* the invocation, for POST messages */
static int code;		/* HTTP status of the last request, 0: none */
static long long deadline_ms;	/* the invocation's, epoch ms; 0: none */
static char etype[65];		/* the API's errorType in its answer */
static CURL *curl;		/* every exchange's, its connection kept */

static void
logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
logf_(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	putc('\n', stderr);
}

static const char *
path_of(char *buf, size_t size, const char *name)
{
	if ((size_t)snprintf(buf, size, "%s/%s", tmp, name) >= size)
		errx(DDB_EXIT_IO, "%s: path too long", tmp);
	return buf;
}

static int
read_file(const char *path, struct ddb_buf *b)
{
	ssize_t n;
	int fd;

	b->n = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	for (;;) {
		ddb_buf_reserve(b, 65536);
		if ((n = read(fd, b->p + b->n, b->cap - b->n)) <= 0)
			break;
		b->n += (size_t)n;
	}
	close(fd);
	return n < 0 ? -1 : 0;
}

static void
write_file(const char *path, const char *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || ddb_write_all(fd, p, n) == -1)
		err(DDB_EXIT_IO, "%s", path);
	if (close(fd) != 0)
		err(DDB_EXIT_IO, "%s", path);
}

static void header(const struct ddb_buf *hdrs, const char *name, char *dst,
    size_t size);

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Lambda-Runtime-Deadline-Ms of a head (n bytes at p), epoch ms; 0: none */
static long long
deadline_of(const struct ddb_buf *hdrs)
{
	char v[32];
	long d;

	header(hdrs, "lambda-runtime-deadline-ms:", v, sizeof v);
	return ddb_long_arg(v, 1, LONG_MAX, &d) == 0 ? d : 0;
}

/* a head's deadline, if it names one, brings *limit forward */
static void
head_deadline(const char *p, size_t n, long long *limit)
{
	struct ddb_buf h = { 0 };
	long long d;

	ddb_buf_put(&h, p, n);
	ddb_buf_put(&h, "\r\n", 3);
	h.n -= 1;
	if ((d = deadline_of(&h)) != 0 && d < *limit)
		*limit = d;
	free(h.p);
}

/* an exchange in progress: where its head and body go, and its time */
struct xfer {
	struct ddb_buf *hdrs, *resp;
	long long limit;	/* epoch ms it must be whole by; 0: unbounded */
	int huge;		/* the body passed MAX_ANSWER: not read on */
};

static size_t
on_head(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;

	n *= size;
	/* an interim answer's head (100 Continue) is not the answer's */
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0)
		x->hdrs->n = 0;
	/* the answer has begun: ANSWER_SECS from now at most */
	if (x->limit == 0)
		x->limit = now_ms() + ANSWER_SECS * 1000LL;
	ddb_buf_put(x->hdrs, p, n);
	/* the head is in: the deadline it names bounds the rest */
	if (n == 2 && p[0] == '\r' && p[1] == '\n')
		head_deadline(x->hdrs->p, x->hdrs->n, &x->limit);
	return n;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;

	n *= size;
	if (x->resp->n + n > (size_t)MAX_ANSWER) {
		x->huge = 1;
		return 0;
	}
	ddb_buf_put(x->resp, p, n);
	return n;
}

static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	const struct xfer *x = arg;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return x->limit != 0 && now_ms() >= x->limit;
}

/* the connection's socket is the loop's own: no child inherits it */
static curl_socket_t
on_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	(void)arg, (void)purpose;
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/*
 * One HTTP/1.1 exchange with the Runtime API through libcurl, on the one
 * handle (its connection kept from exchange to exchange): METHOD BASE
 * PATH, with BODY when not NULL and the extra header HDR.  Sets code (0:
 * no answer); the answer's head in *hdrs, its body in *resp.  HTTP_OK
 * when a whole answer came; else HTTP_NONE (none), HTTP_HUGE (over
 * MAX_ANSWER: not read on), HTTP_CUT (less than its Content-Length, or
 * chunks without their end), HTTP_SLOW (not whole in time); the head, if
 * it came, is in *hdrs all the same.  A GET of the next invocation waits
 * as long as it takes for its answer to begin; from then on (a POST: from
 * the start) the answer has ANSWER_SECS, or until the invocation's
 * deadline.
 */
static int
http(const char *method, const char *path, const char *hdr,
    const struct ddb_buf *body, struct ddb_buf *hdrs, struct ddb_buf *resp)
{
	struct xfer x = { hdrs, resp, 0, 0 };
	struct curl_slist *l = NULL;
	char url[512];
	long status = 0;
	CURLcode cc;

	code = 0;
	hdrs->n = resp->n = 0;
	snprintf(url, sizeof url, "http://%s%s%s:%s" BASE "%s",
	    strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
	    port, path);
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "ddb-lambda");
	curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, on_socket);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_head);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &x);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)MAX_ANSWER);
	if (hdr != NULL)
		l = curl_slist_append(l, hdr);
	if (body != NULL) {
		l = curl_slist_append(l, "Content-Type: application/json");
		l = curl_slist_append(l, "Expect:");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->p ? body->p :
		    "");
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)body->n);
		x.limit = now_ms() + ANSWER_SECS * 1000LL;
	}
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, l);
	cc = curl_easy_perform(curl);
	curl_slist_free_all(l);
	ddb_buf_putc(hdrs, '\0');
	hdrs->n--;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	code = (int)status;
	if (cc == CURLE_OK)
		return HTTP_OK;
	if (x.huge || cc == CURLE_FILESIZE_EXCEEDED)
		return HTTP_HUGE;
	if (cc == CURLE_ABORTED_BY_CALLBACK || cc == CURLE_OPERATION_TIMEDOUT)
		return HTTP_SLOW;
	if (code != 0 && (cc == CURLE_PARTIAL_FILE || cc == CURLE_RECV_ERROR))
		return HTTP_CUT;
	return HTTP_NONE;
}

/* the value of header NAME (lower case, with its colon) in hdrs, or "" */
static void
header(const struct ddb_buf *hdrs, const char *name, char *dst, size_t size)
{
	const char *p = hdrs->p, *e;
	size_t k = strlen(name), n;

	dst[0] = '\0';
	while ((p = strstr(p, "\r\n")) != NULL) {
		p += 2;
		if (strncasecmp(p, name, k) != 0)
			continue;
		p += k;
		p += strspn(p, " \t");
		e = strstr(p, "\r\n");
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n < size) {
			memcpy(dst, p, n);
			dst[n] = '\0';
		}
		return;
	}
}

/*
 * POST file FILE to the API's PATH, with the error type TYPE when not
 * NULL: only a 2xx is success; anything else is logged, with the status
 * and the API's errorType, as what's failure
 */
static int
post(const char *path, const struct ddb_buf *body, const char *type)
{
	struct ddb_buf hdrs = { 0 }, resp = { 0 };
	char hdr[128];
	const char *p, *q;
	size_t n;
	int r;

	etype[0] = '\0';
	if (type != NULL)
		snprintf(hdr, sizeof hdr,
		    "Lambda-Runtime-Function-Error-Type: %s", type);
	r = http("POST", path, type != NULL ? hdr : NULL, body, &hdrs, &resp);
	free(hdrs.p);
	if (r == 0 && code >= 200 && code <= 299) {
		free(resp.p);
		return 0;
	}
	if (r != 0) {
		code = 0;
		logf_("%s: POST %s: no answer from the runtime API", what, path);
		free(resp.p);
		return -1;
	}
	/* the API's own error type, when it is one we can print safely */
	ddb_buf_putc(&resp, '\0');
	if ((p = strstr(resp.p, "\"errorType\"")) != NULL) {
		p += 11;
		p += strspn(p, " ");
		if (*p == ':') {
			p++;
			p += strspn(p, " ");
		} else
			p = NULL;
		if (p != NULL && *p == '"') {
			p++;
			q = p + strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "abcdefghijklmnopqrstuvwxyz0123456789_.:-");
			n = (size_t)(q - p);
			if (*q == '"' && n >= 1 && n <= 64) {
				memcpy(etype, p, n);
				etype[n] = '\0';
			}
		}
	}
	free(resp.p);
	logf_("%s: POST %s: HTTP %d%s%s%s, not accepted", what, path, code,
	    etype[0] ? " (" : "", etype, etype[0] ? ")" : "");
	return -1;
}

/*
 * The last 20 lines of LOG as a JSON string in b: \ and " escaped, TAB as
 * \t, line ends as \n, other control characters as \u00XX, valid UTF-8
 * kept, each byte of invalid UTF-8 (and NUL) as \ufffd
 */
static void
json_tail(struct ddb_buf *b, const struct ddb_buf *log)
{
	const unsigned char *s = (const unsigned char *)log->p;
	size_t n = log->n, i, start = 0, j, len;
	int lines = 0;
	unsigned lo, hi;

	/* the start of the 20th line from the end (tail -n 20) */
	if (n > 0) {
		for (i = n - (s[n - 1] == '\n'); i > 0; i--)
			if (s[i - 1] == '\n' && ++lines == 20) {
				start = i;
				break;
			}
	}
	if (n > 0 && s[n - 1] == '\n')
		n--;
	ddb_buf_putc(b, '"');
	for (i = start; i < n; i++) {
		unsigned c = s[i];
		char u[8];

		if (c == '\\' || c == '"') {
			ddb_buf_putc(b, '\\');
			ddb_buf_putc(b, (char)c);
		} else if (c == '\n')
			ddb_buf_put(b, "\\n", 2);
		else if (c == '\t')
			ddb_buf_put(b, "\\t", 2);
		else if (c == 0)
			ddb_buf_put(b, "\\ufffd", 6);
		else if (c < 32 || c == 127) {
			snprintf(u, sizeof u, "\\u%04x", c);
			ddb_buf_put(b, u, 6);
		} else if (c < 128)
			ddb_buf_putc(b, (char)c);
		else {
			len = 0;
			lo = 128;
			hi = 191;
			if (c >= 194 && c <= 223)
				len = 2;
			else if (c >= 224 && c <= 239) {
				len = 3;
				if (c == 224)
					lo = 160;
				else if (c == 237)
					hi = 159;
			} else if (c >= 240 && c <= 244) {
				len = 4;
				if (c == 240)
					lo = 144;
				else if (c == 244)
					hi = 143;
			}
			for (j = 1; len > 0 && j < len; j++) {
				if (i + j >= n || s[i + j] < lo || s[i + j] > hi)
					len = 0;
				lo = 128;
				hi = 191;
			}
			if (len > 0) {
				ddb_buf_put(b, (const char *)s + i, len);
				i += len - 1;
			} else
				ddb_buf_put(b, "\\ufffd", 6);
		}
	}
	ddb_buf_putc(b, '"');
}

/* POST an error of TYPE to PATH, its message the last lines of LOG */
static int
post_error(const char *path, const char *type, const struct ddb_buf *log)
{
	struct ddb_buf b = { 0 };
	int r;

	ddb_buf_put(&b, "{\"errorType\":\"", 14);
	ddb_buf_put(&b, type, strlen(type));
	ddb_buf_put(&b, "\",\"errorMessage\":", 17);
	json_tail(&b, log);
	ddb_buf_putc(&b, '}');
	r = post(path, &b, type);
	free(b.p);
	return r;
}

/* remove the files ddb-to-s3 left in work (it makes no directories there) */
static void
empty_work(void)
{
	char p[4600];
	struct dirent *e;
	DIR *d;

	if ((d = opendir(work)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(p, sizeof p, "%s/%s", work, e->d_name) <
		    sizeof p)
			unlink(p);
	}
	closedir(d);
}

/*
 * ddb-to-s3 with the arguments ARGS (NULL-terminated), then --work-dir,
 * -- EVENT; its
 * messages on stderr (each line ended, so that ours start a line) and in
 * *log.  Its status as a shell gives it (128 + N for signal N).  Stopped,
 * with all it started, DEADLINE_MARGIN_MS before the invocation's
 * deadline (*late then 1).
 */
static int
batch(const char *const *args, const char *event, struct ddb_buf *log,
    int *late)
{
	char lpath[4200];
	const char *argv[16];
	int n = 0, st, fd;
	pid_t pid;

	argv[n++] = "ddb-to-s3";
	while (*args != NULL && n < 11)
		argv[n++] = *args++;
	argv[n++] = "--work-dir";
	argv[n++] = work;
	argv[n++] = "--";
	argv[n++] = event;
	argv[n] = NULL;
	path_of(lpath, sizeof lpath, "log");
	fflush(stderr);
	if ((pid = fork()) < 0)
		err(DDB_EXIT_IO, "fork");
	if (pid == 0) {
		setpgid(0, 0);	/* its own group: the deadline stops it all */
		fd = open(lpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || dup2(fd, 2) < 0)
			_exit(126);
		close(fd);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "%s: %s: %s\n", PROG, argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	*late = 0;
	for (;;) {
		pid_t w = waitpid(pid, &st, deadline_ms ? WNOHANG : 0);
		struct timespec ts = { 0, 20000000 };

		if (w == pid)
			break;
		if (w < 0) {
			if (errno == EINTR)
				continue;
			err(DDB_EXIT_IO, "waitpid");
		}
		if (now_ms() >= deadline_ms - DEADLINE_MARGIN_MS) {
			/* Lambda would end it all at the deadline anyway;
			 * stopped now, the error is posted in time */
			kill(-pid, SIGKILL);
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			*late = 1;
			break;
		}
		nanosleep(&ts, NULL);
	}
	empty_work();
	if (read_file(lpath, log) < 0)
		log->n = 0;
	fwrite(log->p, 1, log->n, stderr);
	if (log->n > 0 && log->p[log->n - 1] != '\n')
		putc('\n', stderr);
	fflush(stderr);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static const char *
error_type(int st)
{
	switch (st) {
	case DDB_EXIT_DATA: return "DataError";
	case DDB_EXIT_TEMPFAIL: return "UploadFailed";
	case DDB_EXIT_REFUSED: return "S3Refused";
	default: return "RuntimeError";
	}
}

static char id[256];

/*
 * answer the invocation with RESP and log MSG; when the API does not
 * accept it, report an invocation error instead, so that Lambda retries
 * the batch (its objects are overwritten, never doubled)
 */
static int
respond(const struct ddb_buf *resp, struct ddb_buf *log, const char *msg)
{
	char path[400], line[200];
	int n;

	snprintf(path, sizeof path, "invocation/%s/response", id);
	if (post(path, resp, NULL) == 0) {
		logf_("%s: %s", id, msg);
		return 0;
	}
	if (log->n > 0 && log->p[log->n - 1] != '\n')
		ddb_buf_putc(log, '\n');
	n = snprintf(line, sizeof line, "the runtime API did not accept the "
	    "response (HTTP %03d%s%s)\n", code, etype[0] ? " " : "", etype);
	ddb_buf_put(log, line, (size_t)n);
	logf_("%s: response not accepted, reporting an invocation error", id);
	snprintf(path, sizeof path, "invocation/%s/error", id);
	return post_error(path, "ResponseNotAccepted", log);
}

/*
 * a --refused report: its lines INDEX TAB ID; the first index in *first
 * (-1: no line) and its id in fid; the ids as batchItemFailures in *out
 * when not NULL.  -1 when an id is not a SequenceNumber (digits).
 */
static int
read_refused(const char *path, long *first, char *fid, size_t fidsize,
    struct ddb_buf *out)
{
	struct ddb_buf b = { 0 };
	char *p, *nl, *tab;
	int rc = 0, k = 0;

	*first = -1;
	fid[0] = '\0';
	if (read_file(path, &b) < 0) {
		free(b.p);
		return 0;
	}
	ddb_buf_putc(&b, '\0');
	if (out != NULL)
		ddb_buf_put(out, "{\"batchItemFailures\":[", 22);
	for (p = b.p; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		*nl = '\0';
		if ((tab = strchr(p, '\t')) == NULL)
			continue;
		*tab++ = '\0';
		if (*first < 0) {
			*first = atol(p);
			snprintf(fid, fidsize, "%s", tab);
		}
		if (tab[0] == '\0' || strspn(tab, "0123456789") != strlen(tab))
			rc = -1;
		if (out != NULL) {
			if (k++ > 0)
				ddb_buf_putc(out, ',');
			ddb_buf_put(out, "{\"itemIdentifier\":\"", 19);
			ddb_buf_put(out, tab, strlen(tab));
			ddb_buf_put(out, "\"}", 2);
		}
	}
	if (out != NULL)
		ddb_buf_put(out, "]}", 2);
	free(b.p);
	return rc;
}

static void
invoke(const char *event, int rbif)
{
	static const struct ddb_buf empty = { "{\"batchItemFailures\":[]}", 24, 0 };
	struct ddb_buf log = { 0 }, log2 = { 0 }, out = { 0 };
	char path[400], rpath[4200], rest[4200], kbuf[32], fid[160], msg[400];
	const char *args[6] = { NULL };
	const char *type;
	long k, k2;
	int st, late;

	snprintf(path, sizeof path, "invocation/%s/error", id);
	path_of(rpath, sizeof rpath, "refused");
	path_of(rest, sizeof rest, "rest");
	unlink(rpath);
	unlink(rest);
	if (rbif) {
		args[0] = "--refused";
		args[1] = rpath;
	}
	st = batch(args, event, &log, &late);
	if (late) {
		static const char m[] = "ddb-to-s3 still running at the "
		    "deadline: stopped\n";
		logf_("%s: ddb-to-s3 still running at the deadline: stopped, "
		    "invocation error", id);
		ddb_buf_put(&log, m, sizeof m - 1);
		if (post_error(path, "Timeout", &log) != 0)
			logf_("%s: could not post the result", id);
		goto out;
	}
	if (st == 0) {
		if (respond(&empty, &log, "ok") != 0)
			logf_("%s: could not post the result", id);
		goto out;
	}
	type = error_type(st);
	/*
	 * Only bad data can be a partial answer.  A failed upload (75, 4) or
	 * any other failure is the whole batch's: Lambda retries all of it
	 * (or its halves), and each table's key depends on its first record
	 * only, so the retry overwrites.  A batchItemFailures list would make
	 * Lambda retry from a record whose table may already be written: a
	 * second object holding the same records.
	 */
	if (st != DDB_EXIT_DATA || !rbif) {
		logf_("%s: %s (ddb-to-s3 exit %d), invocation error", id, type,
		    st);
		if (post_error(path, type, &log) != 0)
			logf_("%s: could not post the result", id);
		goto out;
	}
	/*
	 * bad data, ReportBatchItemFailures: ddb-flatten named the records it
	 * refused; write what precedes the first, report it and every record
	 * after it
	 */
	read_refused(rpath, &k, fid, sizeof fid, NULL);
	if (k < 0) {
		logf_("%s: no record named as bad (the bad data is not one "
		    "ddb-flatten refuses), invocation error", id);
		goto error;
	}
	if (fid[0] == '-' || fid[0] == '\0') {
		logf_("%s: a record has no SequenceNumber, invocation error", id);
		goto error;
	}
	snprintf(kbuf, sizeof kbuf, "%ld", k);
	args[0] = "--head";
	args[1] = kbuf;
	args[2] = "--refused";
	args[3] = rest;
	st = batch(args, event, &log2, &late);
	if (late || st != 0) {
		if (late)
			st = DDB_EXIT_TEMPFAIL;
		logf_("%s: records before the first bad one: %s (ddb-to-s3 "
		    "exit %d), invocation error", id, error_type(st), st);
		ddb_buf_put(&log, log2.p, log2.n);
		type = error_type(st);
		if (post_error(path, type, &log) != 0)
			logf_("%s: could not post the result", id);
		goto out;
	}
	if (read_refused(rest, &k2, msg, sizeof msg, &out) != 0 || k2 != k) {
		logf_("%s: a record has no SequenceNumber, invocation error", id);
		goto error;
	}
	snprintf(msg, sizeof msg, "record %ld (SequenceNumber %s) is bad: %ld "
	    "record%s written, the rest reported as batchItemFailures", k + 1,
	    fid, k, k == 1 ? "" : "s");
	if (respond(&out, &log, msg) != 0)
		logf_("%s: could not post the result", id);
	goto out;
error:
	if (post_error(path, "DataError", &log) != 0)
		logf_("%s: could not post the result", id);
out:
	free(log.p);
	free(log2.p);
	free(out.p);
}

/*
 * An event that did not come whole (r: http()'s HTTP_HUGE, HTTP_CUT or
 * HTTP_SLOW) is never handed on: its invocation is an error, which Lambda
 * retries
 */
static void
refuse(int r)
{
	struct ddb_buf log = { 0 };
	char path[400], line[160];
	int n;

	if (r == HTTP_HUGE)
		n = snprintf(line, sizeof line, "the event is larger than %ld "
		    "bytes", MAX_ANSWER);
	else if (r == HTTP_CUT)
		n = snprintf(line, sizeof line, "the event is cut off (shorter "
		    "than its Content-Length)");
	else
		n = snprintf(line, sizeof line, "the event did not arrive by "
		    "the deadline");
	logf_("%s: %s: refused, invocation error", id, line);
	ddb_buf_put(&log, line, (size_t)n);
	snprintf(path, sizeof path, "invocation/%s/error", id);
	if (post_error(path, "EventRefused", &log) != 0)
		logf_("%s: could not post the result", id);
	free(log.p);
}

static void
cleanup(void)
{
	static const char *const names[] = { "event.json", "log", "refused",
		"rest" };
	char p[4200];
	size_t i;

	if (curl != NULL) {
		curl_easy_cleanup(curl);
		curl_global_cleanup();
		curl = NULL;
	}
	if (tmp[0] == '\0')
		return;
	empty_work();
	rmdir(work);
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		unlink(path_of(p, sizeof p, names[i]));
	rmdir(tmp);
}

static void
on_signal(int sig)
{
	/* Lambda's shutdown: leave no files behind */
	static const char *const names[] = { "event.json", "log", "refused",
		"rest" };
	char p[4200];
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		int n = snprintf(p, sizeof p, "%s/%s", tmp, names[i]);
		if (n > 0 && (size_t)n < sizeof p)
			unlink(p);
	}
	rmdir(work);	/* when ddb-to-s3 left nothing there */
	rmdir(tmp);
	_exit(128 + sig);
}

int
main(int argc, char *argv[])
{
	struct ddb_buf hdrs = { 0 }, body = { 0 }, log = { 0 };
	const char *api, *v, *colon;
	char event[4200], trace[1024];
	int rbif = 0, rc = 1;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "usage: ddb-lambda (run by bootstrap, with "
		    "AWS_LAMBDA_RUNTIME_API set)\n");
		return DDB_EXIT_USAGE;
	}
	if ((api = getenv("AWS_LAMBDA_RUNTIME_API")) == NULL || *api == '\0' ||
	    (colon = strrchr(api, ':')) == NULL ||
	    (size_t)(colon - api) >= sizeof host || strlen(colon + 1) >= sizeof port) {
		logf_("AWS_LAMBDA_RUNTIME_API is not set to HOST:PORT");
		return 1;
	}
	memcpy(host, api, (size_t)(colon - api));
	host[colon - api] = '\0';
	snprintf(port, sizeof port, "%s", colon + 1);
	v = getenv("DDB_TO_S3_REPORT_BATCH_ITEM_FAILURES");
	if (v != NULL && (strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 ||
	    strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0))
		rbif = 1;
	snprintf(tmp, sizeof tmp, "%s/bootstrap.XXXXXX",
	    getenv("TMPDIR") != NULL && *getenv("TMPDIR") ? getenv("TMPDIR") :
	    "/tmp");
	if (mkdtemp(tmp) == NULL)
		err(DDB_EXIT_IO, "%s", tmp);
	atexit(cleanup);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (curl = curl_easy_init()) == NULL)
		errx(DDB_EXIT_SOFTWARE, "libcurl did not start");
	snprintf(work, sizeof work, "%s/work", tmp);
	if (mkdir(work, 0700) != 0)
		err(DDB_EXIT_IO, "%s", work);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);

	if ((v = getenv("DDB_TO_S3_BUCKET")) == NULL || *v == '\0') {
		static const char m[] = "DDB_TO_S3_BUCKET is not set\n";
		ddb_buf_put(&log, m, sizeof m - 1);
		logf_("DDB_TO_S3_BUCKET is not set");
		post_error("init/error", "InitError", &log);
		free(log.p);
		return 1;
	}
	path_of(event, sizeof event, "event.json");
	for (;;) {
		int r = http("GET", "invocation/next", NULL, NULL, &hdrs, &body);

		if (r == HTTP_NONE) {
			logf_("runtime API: next invocation failed");
			break;
		}
		if (code != 200) {
			logf_("runtime API: next invocation: HTTP %d", code);
			break;
		}
		header(&hdrs, "lambda-runtime-aws-request-id:", id, sizeof id);
		header(&hdrs, "lambda-runtime-trace-id:", trace, sizeof trace);
		deadline_ms = deadline_of(&hdrs);
		if (id[0] == '\0' || strlen(id) > 128 || strspn(id,
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789._-") != strlen(id)) {
			/* no way to answer it: Lambda times it out and
			 * retries; a pause, should the API insist */
			logf_("runtime API: an invocation without a valid "
			    "request id: skipped (Lambda retries it after its "
			    "timeout)");
			sleep(1);
			continue;
		}
		what = id;
		if (r != HTTP_OK) {
			refuse(r);
			continue;
		}
		if (trace[0] != '\0')
			setenv("_X_AMZN_TRACE_ID", trace, 1);
		write_file(event, body.p, body.n);
		invoke(event, rbif);
		unlink(event);
	}
	free(hdrs.p);
	free(body.p);
	return rc;
}
