/* s3-key.c: libFuzzer harness for s3-put's key template expansion and key encoding */
#include <stdint.h>

#define main s3_put_main
#include "../../s3-put/s3-put.c"
#undef main

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
unhex(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ?
	    c - 'A' + 10 : -1;
}

/*
 * The first byte says whether the body's SHA-256 is known yet; the rest is
 * a key template.  The expanded key, percent-encoded, must hold only the
 * bytes SigV4 leaves alone and decode back to the key.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char sha[] =
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	char *t, *key, *enc;
	size_t i, o, n;
	int needs;

	if (size < 1)
		return 0;
	if ((t = malloc(size)) == NULL)
		return 0;
	memcpy(t, data + 1, size - 1);
	t[size - 1] = '\0';
	key = expand_key(t, data[0] & 1 ? sha : NULL, &needs);
	free(t);
	if (key == NULL)
		return 0;
	n = strlen(key);
	enc = sigv4_encode(key, n, data[0] & 2);
	for (i = o = 0; enc[i] != '\0'; o++) {
		unsigned char c = (unsigned char)enc[i];
		if (c == '%') {
			int h = unhex(enc[i + 1]), l = h < 0 ? -1 : unhex(enc[i + 2]);
			if (l < 0)
				abort();	/* not %XX with uppercase hex */
			c = (unsigned char)(h * 16 + l);
			i += 3;
		} else {
			if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			    (c >= '0' && c <= '9') || strchr("-_.~/", c) != NULL) ||
			    (c == '/' && !(data[0] & 2)))
				abort();	/* a byte that must be encoded */
			i++;
		}
		if (o >= n || (unsigned char)key[o] != c)
			abort();	/* does not decode to the key */
	}
	if (o != n)
		abort();
	free(enc);
	free(key);
	return 0;
}
