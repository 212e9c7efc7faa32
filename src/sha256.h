/*
 * sha256: SHA-256 of FIPS 180-4, self-contained so that the pure core
 * (redact) needs no crypto library. Not for keys or passwords: it only
 * names values by a short hash.
 */
#ifndef PATCHSCOPE_SHA256_H
#define PATCHSCOPE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_DIGEST_LEN	32
#define SHA256_BLOCK_LEN	64

/* An incremental hash; fill with sha256_init, no need to free. */
struct sha256_ctx {
	uint32_t	 h[8];
	uint64_t	 bytes;			/* message length so far */
	unsigned char	 block[SHA256_BLOCK_LEN];
	size_t		 fill;			/* bytes waiting in block */
};

/* Start a hash. */
void	sha256_init(struct sha256_ctx *);
/* Hash len more bytes of data. */
void	sha256_update(struct sha256_ctx *, const void *data, size_t len);
/* Finish: write the digest into out; ctx must be initialized again
 * before reuse. */
void	sha256_final(struct sha256_ctx *, unsigned char out[SHA256_DIGEST_LEN]);
/* Write the digest of len bytes of data into out. */
void	sha256(const void *data, size_t len,
	    unsigned char out[SHA256_DIGEST_LEN]);

#endif
