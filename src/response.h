/*
 * response: the final answer as patchscope passes it to the client,
 * whether it came from an origin or from a cassette: diagnosis headers,
 * a copy kept to learn a profile from, or the whole body held so the
 * diagnoses can go into the API's errors array.
 */
#ifndef PATCHSCOPE_RESPONSE_H
#define PATCHSCOPE_RESPONSE_H

#include <stddef.h>

struct conn;

/*
 * Decide what happens to a final response (its head in the origin half):
 * annotate its headers, keep a copy to learn from, or hold it whole.
 */
void	response_inspect(struct conn *, int no_body);
/*
 * The part of response_inspect after annotation, for an answer with a body
 * from the profile API: json says its Content-Type names JSON.
 */
void	response_decide(struct conn *, int json);
/* Send the response head as it stands in the origin half's headers. */
void	response_send_head(struct conn *);
/* Send a head made ahead: len bytes of head, then taillen of tail. */
void	response_send_prebuilt(struct conn *, const char *head, size_t len,
	    const char *tail, size_t taillen);
/* A held response grew past --max-body-buffer: send it on unannotated. */
void	response_release(struct conn *);
/* The whole response is in: send a held one annotated; learn from it. */
void	response_complete(struct conn *);

#endif
