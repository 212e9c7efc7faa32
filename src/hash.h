/*
 * hash: FNV-1a, 64 bits, for hash tables and quick equality tests (never
 * for anything an attacker must not be able to collide: see sha256.h).
 */
#ifndef HASH_H
#define HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV_OFFSET	0xcbf29ce484222325ULL	/* the offset basis */
#define HASH_FNV_PRIME	0x100000001b3ULL

/* Continue hash h over len bytes of data (start from HASH_FNV_OFFSET). */
static inline uint64_t
hash_bytes(uint64_t h, const void *data, size_t len)
{
	const unsigned char	*p = data;
	size_t			 i;

	for (i = 0; i < len; i++)
		h = (h ^ p[i]) * HASH_FNV_PRIME;
	return h;
}

/* Continue hash h over the string s (its NUL not included). */
static inline uint64_t
hash_str(uint64_t h, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;

	for (; *p != '\0'; p++)
		h = (h ^ *p) * HASH_FNV_PRIME;
	return h;
}

#endif /* HASH_H */
