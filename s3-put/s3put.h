/* s3put.h: what s3-put's files share */
#ifndef S3PUT_H
#define S3PUT_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <curl/curl.h>
#include <openssl/evp.h>

#include "ddb.h"

/* exit statuses: DDB_EXIT_* of ddb.h (EXIT STATUS in s3-put.1) */

#define S3_RESP_MAX (1 << 20)	/* response bodies kept, at most */
#define S3_LOW_SPEED 1024L	/* bytes/s: slower for -W seconds is a stall */
#define S3_MAX_TIME 600L	/* seconds: -M's default, a request's deadline */

struct http {
	CURL *curl;
	int verbose;
	long connect_timeout;	/* seconds */
	long stall_timeout;	/* abort a transfer idle this long */
	long max_time;		/* a whole request (-M), 0 for no limit */
	int max_attempts;
	double backoff;		/* first retry waits up to this, doubling */
	const char *ca_bundle;
	int insecure;
};

struct resp {
	long status;
	char *body;		/* NUL-terminated, at most S3_RESP_MAX */
	size_t len;
	char *etag, *version_id, *request_id;
	CURLcode cc;
	char err[CURL_ERROR_SIZE];
};

struct hreq {
	const char *method;
	const char *url;
	struct curl_slist *headers;
	const void *body;
	size_t len;
	int secret_body;	/* the response holds secrets: never log it */
	long connect_timeout, max_time;	/* override the defaults if > 0 */
};

struct creds {
	char *akid, *secret, *token;
	const char *source;
};

struct s3 {
	struct http *h;
	struct creds *c;
	const char *region;
	char *base;		/* scheme://host[:port] for URLs */
	char *host;		/* the Host header, signed */
	char *prefix;		/* "/bucket" (path style) or "" (virtual) */
	char *region_buf, *ca;	/* owned settings */
};

struct s3_call {
	const char *method;
	const char *key;	/* percent-encoded, no leading '/' */
	const char *query;	/* canonical query string or "" */
	const char *const *headers;	/* extra "name:value", all signed */
	size_t nheaders;
	const void *body;
	size_t len;
	const char *sha256;	/* hex digest of body */
	const char *md5;	/* base64 Content-MD5 or NULL */
	int xml_error_in_200;	/* CompleteMultipartUpload's quirk */
	int quiet;		/* the caller reports a failure */
	const char *what;	/* for messages: "PUT s3://b/k" */
};

/* the body as it is read: from a stream, teed into the kept copy */
struct body {
	FILE *in;
	const char *name;
	pid_t gzip;		/* the gzip child feeding in, or 0 */
	off_t size;		/* bytes read so far */
	size_t bufsize;		/* the part size: how much is read at once */
	/* the kept copy (-k): a temp file in keepdir until it is whole */
	int keepfd;		/* or -1 */
	int teeing;		/* reads are still copied into keepfd */
	char *keepdir, *part;
	off_t kept_size;
	EVP_MD_CTX *md;		/* SHA-256 of the copy */
};
#define BODY_INIT(fp, nm, partsize) \
	{ (fp), (nm), 0, 0, (partsize), -1, 0, NULL, NULL, 0, NULL }

/* what the store says it stored */
struct result {
	char *etag, *version_id;
};

/* http.c */
void *xmalloc(size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void resp_free(struct resp *r);
CURLcode http_do(struct http *h, const struct hreq *q, struct resp *r);
int s3_do(struct s3 *s, const struct s3_call *c, struct resp *r);
char *xml_value(const char *xml, const char *tag);
void s3_report(const struct s3_call *c, const struct resp *r, int attempts);
void s3_describe(const struct resp *r, char *out, size_t n);

/* creds.c */
char *conf_get(const char *profile, const char *key, int *found);
int creds_find(struct http *h, const char *profile, int explicit_profile,
    struct creds *c);
void creds_free(struct creds *c);

/* body.c */
FILE *spawn_gzip(int fd, pid_t *pid);
int gzip_done(struct body *b);
ssize_t body_read(struct body *b, char *buf, size_t n);
int open_keep(struct body *b, const char *dir);
int keep_body(struct body *b, char *buf, const char *uri);
void keep_discard(struct body *b);
int sync_dir(const char *dir);
int spool(struct body *b, int fd, char *buf, char sha[65]);

/* upload.c */
int put_single(struct s3 *s, const char *ekey, const char *what, char *buf,
    size_t n, char **h, size_t nh, struct result *res);
int put_multipart(struct s3 *s, struct body *b, const char *key,
    const char *ekey, const char *uri, char *buf, size_t n, char **h,
    size_t nh, struct result *res);

#endif
