/* sigv4.h: AWS Signature Version 4 on OpenSSL, and the digests S3 wants */
#ifndef SIGV4_H
#define SIGV4_H

#include <stddef.h>

#define SIGV4_SHA256_HEX 65	/* 64 hex digits and a NUL */
#define SIGV4_MD5_B64 25	/* base64 of 16 bytes and a NUL */

struct sigv4_header {
	const char *name;	/* any case; signed lowercased */
	const char *value;	/* trimmed and inner spaces folded when signed */
};

struct sigv4_param {
	const char *key;	/* raw bytes, encoded when canonicalised */
	const char *value;
};

struct sigv4_request {
	const char *method;
	const char *uri;	/* canonical URI, already percent-encoded */
	const char *query;	/* canonical query string ("" if none) */
	const struct sigv4_header *headers;	/* all signed, host included */
	size_t nheaders;
	const char *payload_hash;	/* hex SHA-256 of the body */
};

struct sigv4_key {
	const char *access_key_id;
	const char *secret_access_key;
	const char *region;
	const char *service;
};

/* sigv4.c */
char *sigv4_encode(const char *s, size_t n, int keep_slash);
char *sigv4_canonical_query(const struct sigv4_param *p, size_t n);
char *sigv4_canonical_request(const struct sigv4_request *r,
    char **signed_headers);
char *sigv4_authorization(const struct sigv4_request *r,
    const struct sigv4_key *k, const char *amz_date);
void sigv4_sha256_hex(const void *data, size_t n, char out[SIGV4_SHA256_HEX]);
void sigv4_base64(const unsigned char *d, size_t n, char *out);

#endif
