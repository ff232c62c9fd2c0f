/* credsrc.h: the credential sources behind creds_find(), and renewal */
#ifndef CREDSRC_H
#define CREDSRC_H

#include <time.h>

#include "aws.h"

/* a source that is not configured: the chain goes on to the next */
#define CREDS_NONE (-1)
/* role_arn -> source_profile -> ... at most this many roles deep */
#define CREDS_MAX_CHAIN 8
/* renew this long before the expiry (or at half the lifetime, if shorter) */
#define CREDS_RENEW_MARGIN 300

/* profile.c: the shared config and credentials files */
enum { CONF_CREDENTIALS = 1, CONF_CONFIG = 2, CONF_BOTH = 3 };
char *prof_get(const char *profile, const char *key, int files, int *found);
char *conf_section_get(const char *section, const char *key, int *found);
char *conf_service_get(const char *services, const char *service,
    const char *key);
char *trim_space(char *s);
char *creds_file(int which);
int creds_profile(struct http *h, const char *profile, int explicit_profile,
    struct creds *c);
char *creds_region(const char *profile);
time_t creds_time(const char *s);
int creds_set(struct creds *c, const char *akid, const char *secret,
    const char *token, const char *expiration, const char *source);
int creds_take(struct creds *c, char *akid, char *secret, char *token,
    char *expiration, const char *source);
char *creds_jv_str(const struct jv *o, const char *key);
void wipe_free(char *s);

/* creds.c */
int creds_container(struct http *h, struct creds *c);
/* why: where a failed call is described (not said), or NULL */
int creds_imds(struct http *h, struct creds *c, char *why, size_t n);

/* sts.c: AssumeRole (signed with src) and AssumeRoleWithWebIdentity */
struct sts_role {
	const char *profile;	/* for messages: the profile, or NULL (env) */
	const char *ep_profile;	/* whose endpoint settings reach STS */
	const char *arn, *session, *external_id;
	long duration;		/* 0: STS's default */
};
int sts_assume_role(struct http *h, const char *region,
    const struct creds *src, const struct sts_role *r, struct creds *out);
int sts_web_identity(struct http *h, const char *region,
    const char *token_file, const struct sts_role *r, struct creds *out);

/* sso.c: IAM Identity Center (SSO) */
int creds_sso(struct http *h, const char *profile, const char *ep_profile,
    struct creds *c);

/* process.c: credential_process */
int creds_process(const char *profile, const char *cmd, struct creds *c);

#endif
