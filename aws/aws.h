/*
 * aws.h: what any AWS client of the suite needs: one HTTP exchange with
 * its redacted log, the retry wait, settings and the credential chain.
 * Nothing here prints a program's name or exits: functions return a
 * DDB_EXIT_* status, messages go through warnx(3) (the program's name).
 * The signer is sigv4.h, the JSON 1.0 client awsjson.h.
 */
#ifndef AWS_H
#define AWS_H

#include <stddef.h>
#include <time.h>
#include <curl/curl.h>

#include "ddb.h"

#define AWS_RESP_MAX (1 << 20)	/* response bodies kept, at most */
#define AWS_LOW_SPEED 1024L	/* bytes/s: slower for stall_timeout is a stall */

struct http {
	CURL *curl;
	int verbose;
	long connect_timeout;	/* seconds */
	long stall_timeout;	/* abort a transfer idle this long */
	long max_time;		/* a whole request, 0 for no limit */
	int max_attempts;
	double backoff;		/* first retry waits up to this, doubling */
	const char *ca_bundle;
	int insecure;
};

struct resp {
	long status;
	char *body;		/* NUL-terminated, at most AWS_RESP_MAX */
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
	time_t expires;		/* when they stop working; 0: never */
	time_t obtained;	/* when the chain found them */
	char *profile;		/* what creds_renew() walks again */
	int explicit_profile;
};

/* http.c */
void *xmalloc(size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void resp_free(struct resp *r);
CURLcode http_do(struct http *h, const struct hreq *q, struct resp *r);
/* full jitter before retry attempt (1, 2, ...); log: say so, and why */
void aws_backoff(const struct http *h, int attempt, int log, const char *what,
    const char *why);
char *xml_value(const char *xml, const char *tag);

/* creds.c */
char *conf_get(const char *profile, const char *key, int *found);
int creds_find(struct http *h, const char *profile, int explicit_profile,
    struct creds *c);
void creds_free(struct creds *c);
/* profile.c: renewed shortly before they expire (force: now) */
int creds_renew(struct http *h, struct creds *c, int force);

#endif
