/*
 * api: what patchscope knows of the profile API's URLs. Pure: no sockets,
 * no printing.
 */
#ifndef PATCHSCOPE_API_H
#define PATCHSCOPE_API_H

/*
 * Recognise a profile API request target ("/v1/{accountId}/profiles/
 * {profileId}" or "/v1/profiles/{profileId}", any query; an absolute-form
 * "http(s)://host/..." target is accepted too); return 0 and set *account
 * (NULL for the short form), *profile and *fields (percent-decoded value of
 * the "fields" query parameter, several joined with ",", NULL when absent),
 * all caller-freed; -1 when the target is not a profile URL (the three are
 * then NULL).
 */
int	api_profile_target(const char *target, char **account, char **profile,
	    char **fields);

#endif
