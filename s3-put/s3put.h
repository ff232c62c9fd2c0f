/* s3put.h: what s3-put's files share */
#ifndef S3PUT_H
#define S3PUT_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <openssl/evp.h>

#include "aws.h"

/* exit statuses: DDB_EXIT_* of ddb.h (EXIT STATUS in s3-put.1) */

#define S3_MAX_TIME 600L	/* seconds: -M's default, a request's deadline */

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
	{ (fp), (nm), 0, (partsize), -1, 0, NULL, NULL, 0, NULL }

/* what the store says it stored */
struct result {
	char *etag, *version_id;
};

/* s3.c: signed S3 calls, retried; S3's XML errors */
int s3_do(struct s3 *s, const struct s3_call *c, struct resp *r);
void s3_report(const struct s3_call *c, const struct resp *r, int attempts);

/* body.c */
ssize_t body_read(struct body *b, char *buf, size_t n);
int open_keep(struct body *b, const char *dir);
int keep_body(struct body *b, char *buf, const char *uri);
void keep_discard(struct body *b);
int spool(struct body *b, int fd, char *buf, char sha[65]);

/* upload.c */
int put_single(struct s3 *s, const char *ekey, const char *what, char *buf,
    size_t n, char **h, size_t nh, struct result *res);
int put_multipart(struct s3 *s, struct body *b, const char *key,
    const char *ekey, const char *uri, char *buf, size_t n, char **h,
    size_t nh, struct result *res);

#endif
