/*
 * aws.h: what any AWS client of the suite needs: one HTTP exchange with
 * its redacted log, the retry wait, settings and the credential chain.
 * Nothing here prints a program's name or exits: functions return 0 or
 * a DDB_EXIT_* status, messages go through warnx(3) (the program's name);
 * parsers of settings and answers (xml.c, aj_opt, creds_time) return 0
 * or -1 as common/ddb.h's helpers do.  Events, answers that are no
 * failure but ask the caller to act, are negative, apart from 0 and every
 * DDB_EXIT_* status: aws_retry's AWS_AGAIN and AWS_RENEW (below), and
 * aj_call's two (awsjson.h), returned only to a caller that takes them.
 * The signer is sigv4.h, the JSON 1.0 client awsjson.h.
 */
#ifndef AWS_H
#define AWS_H

#include <stddef.h>
#include <time.h>
#include <curl/curl.h>

#include "ddb.h"

#define AWS_RESP_MAX (64 << 20)	/* response bodies kept, at most: GetRecords
				   and Scan send up to 1 MB of items, which
				   typed JSON makes a few MB of answer */
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
	size_t cap;		/* bytes allocated at body */
	char *etag, *version_id, *request_id;
	char *date;		/* the Date header: the server's clock */
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
void aws_http_defaults(struct http *h, long max_time, int max_attempts);
void resp_free(struct resp *r);
CURLcode http_do(struct http *h, const struct hreq *q, struct resp *r);
/* full jitter before retry attempt (1, 2, ...); log: say so, and why */
void aws_backoff(const struct http *h, int attempt, int log, const char *what,
    const char *why);

/*
 * xml.c: an XML answer of S3 or STS, parsed by expat: its elements in
 * document order by local name (namespaces dropped), each with its text
 * (entities and CDATA undone).  A DTD is refused.
 */
struct xml_elem {
	char *name;		/* local name */
	char *text;		/* its own character data, "" if none */
	int depth;		/* 0: the root */
};
struct xml_doc {
	struct xml_elem *e;
	size_t n, cap;
};
#define XML_DOC ((size_t)-1)	/* xml_find() in the whole document */
#define XML_NONE ((size_t)-1)	/* no such element */
/* 0, or -1: not well-formed XML (leading white space is skipped) */
int xml_parse(struct xml_doc *d, const char *body, size_t len);
void xml_free(struct xml_doc *d);
/* the first element named name inside element from (XML_DOC: anywhere) */
size_t xml_find(const struct xml_doc *d, size_t from, const char *name);
/* the next element named name after element after (XML_NONE: the first) */
size_t xml_next(const struct xml_doc *d, size_t after, const char *name);
/* xml_find()'s text, NULL if there is no such element */
const char *xml_text(const struct xml_doc *d, size_t from, const char *name);
const char *xml_root(const struct xml_doc *d);	/* its name, NULL if none */
/* the text of the first element named tag of a whole answer, allocated;
 * NULL if there is none or the answer is no XML */
char *xml_value(const char *xml, const char *tag);
/* r's transfer error or XML <Code>: <Message>, as "HTTP 403 Code: ..." */
void aws_xml_describe(const struct resp *r, char *out, size_t n);
int aws_transport_permanent(CURLcode cc);
struct curl_slist *aws_header(struct curl_slist *l, const char *name,
    const char *value);

/*
 * A call for aws_retry(): send() signs (with the time and credentials of
 * now) and makes one attempt, 0 or a status that ends the call;
 * classify() says what the answer means: AWS_AGAIN (temporary: wait and
 * send again), AWS_RENEW (the credentials expired: renew() once, then
 * send again), or any other value, which ends the call and is returned.
 * classify() writes why for the log and the caller's message.
 */
enum { AWS_AGAIN = -1, AWS_RENEW = -2 };
struct aws_call {
	int (*send)(void *arg, struct resp *r);
	int (*classify)(void *arg, const struct resp *r, char *why, size_t n);
	int (*renew)(void *arg);	/* NULL: an AWS_RENEW ends the call */
	void *arg;
	const char *what;	/* names the call in the log */
	int log;		/* say each retry and its wait */
	int attempts;		/* out: attempts made */
	char why[512];		/* out: the last answer, described */
};
/* the last classify() or send() value; AWS_AGAIN: out of attempts */
int aws_retry(struct http *h, struct aws_call *c, struct resp *r);

/* an endpoint URL taken apart (aws_url_parse) */
struct aws_url {
	char *scheme, *host;
	char *port;		/* NULL: the scheme's */
	char *path;		/* no trailing '/'; "" for none */
};
int aws_url_parse(const char *url, struct aws_url *e);
void aws_url_free(struct aws_url *e);
/* the same, for a POST API: "host[:port]", path ("/" for none) and URL */
struct aws_ep {
	char *url, *host, *path;
};
int aws_ep_parse(const char *what, const char *url, struct aws_ep *ep);
void aws_ep_free(struct aws_ep *ep);
/* a POST's headers, signed with c for now (c NULL: not signed) */
struct sigv4_header;
struct curl_slist *aws_post_headers(const struct aws_ep *ep,
    const struct creds *c, const char *region, const char *service,
    const struct sigv4_header *extra, size_t nextra, const void *body,
    size_t len);

/*
 * creds.c: settings and credentials, found where the AWS CLI finds them.
 * A setting is the option, else its environment variables (empty is
 * unset), else the profile's key in ~/.aws/credentials or ~/.aws/config.
 */
char *conf_get(const char *profile, const char *key, int *found);
const char *aws_profile(const char *opt, int *how);	/* how: 1 opt,
							   2 AWS_PROFILE, 0 */
char *aws_setting(const char *opt, const char *env1, const char *env2,
    const char *profile, const char *key);
char *aws_region(const char *opt, const char *profile);	/* or us-east-1 */
/* where service ("s3", "dynamodb", "dynamodb_streams", "sts", "sso": the
 * AWS CLI's service identifiers) is reached: opt, AWS_ENDPOINT_URL_<SERVICE>,
 * AWS_ENDPOINT_URL, the profile's [services] block, its endpoint_url;
 * NULL: none set (or ignore_configured_endpoint_urls), the service's own */
char *aws_endpoint(const char *opt, const char *service, const char *profile);
int creds_find(struct http *h, const char *profile, int explicit_profile,
    struct creds *c);
void creds_free(struct creds *c);
/* profile.c: renewed shortly before they expire (force: now) */
int creds_renew(struct http *h, struct creds *c, int force);

#endif
