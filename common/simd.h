/*
 * simd.h: the JSON and CSV scans' sixteen- and eight-byte steps (SSE2,
 * SWAR), private to the files that scan strings (json.c, reader.c,
 * csv-emit.c); every step has a byte-by-byte twin beside it
 */
#ifndef DDB_SIMD_H
#define DDB_SIMD_H

#include <stddef.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/*
 * Eight bytes at a time, for the scans of strings (GCC or Clang on a
 * little-endian 64-bit machine; elsewhere the scans go byte by byte).  In
 * each mask the first byte found is exact; a borrow can only mark bytes
 * after it, so the lowest mark of an OR of masks is the first byte any of
 * them finds.
 */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__LP64__)
#define DDB_SWAR 1
#define DDB_B8(c) (0x0101010101010101ULL * (unsigned char)(c))
static inline unsigned long long
ddb_load8(const void *p)
{
	unsigned long long x;

	memcpy(&x, p, 8);
	return x;
}
/* the high bit of the bytes of x equal to c */
static inline unsigned long long
ddb_eq8(unsigned long long x, int c)
{
	unsigned long long y = x ^ DDB_B8(c);

	return (y - DDB_B8(1)) & ~y & DDB_B8(0x80);
}
/* the high bit of the bytes of x below c (c at most 0x80) */
static inline unsigned long long
ddb_lt8(unsigned long long x, int c)
{
	return (x - DDB_B8(c)) & ~x & DDB_B8(0x80);
}
/* the high bit of every byte of x equal to c, exactly (no borrows) */
static inline unsigned long long
ddb_eq8x(unsigned long long x, int c)
{
	unsigned long long y = x ^ DDB_B8(c);

	return ~(((y & DDB_B8(0x7f)) + DDB_B8(0x7f)) | y) & DDB_B8(0x80);
}
/* the index of the first byte marked in t (not 0) */
static inline size_t
ddb_first8(unsigned long long t)
{
	return (size_t)__builtin_ctzll(t) >> 3;
}
#endif

#ifdef __SSE2__
/*
 * the bytes of p[0..16) that are '"', '\\' or below 0x20 as bits, the
 * first byte lowest; with high, also those from 0x80 up (a signed byte
 * below 0x20 is either)
 */
static inline unsigned
ddb_mark16(const unsigned char *p, int high)
{
	__m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i t = _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')),
	    _mm_cmpeq_epi8(x, _mm_set1_epi8('\\')));

	t = _mm_or_si128(t, high ? _mm_cmplt_epi8(x, _mm_set1_epi8(0x20)) :
	    _mm_cmpeq_epi8(_mm_max_epu8(x, _mm_set1_epi8(0x1f)),
	    _mm_set1_epi8(0x1f)));
	return (unsigned)_mm_movemask_epi8(t);
}
#endif

/*
 * p moved on sixteen or eight bytes at a time over a string's plain bytes:
 * to the first '"', '\\', control or non-ASCII byte, or to where fewer than
 * eight bytes are left (byte by byte from there is the caller's)
 */
static inline const unsigned char *
ddb_skip_plain8(const unsigned char *p, const unsigned char *end)
{
#ifdef __SSE2__
	while (end - p >= 16) {
		unsigned m = ddb_mark16(p, 1);
		if (m != 0)
			return p + __builtin_ctz(m);
		p += 16;
	}
#endif
#ifdef DDB_SWAR
	while (end - p >= 8) {
		unsigned long long x = ddb_load8(p), t;
		t = ddb_eq8(x, '"') | ddb_eq8(x, '\\') | ddb_lt8(x, 0x20) |
		    (x & DDB_B8(0x80));
		if (t != 0)
			return p + ddb_first8(t);
		p += 8;
	}
#else
	(void)end;
#endif
	return p;
}

#endif
