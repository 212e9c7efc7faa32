"""The code under test in the examples: a tiny client of the profile API.

It takes its base URL as an argument, as most API clients do; the tests
give it patchscope's address instead of the real API's.
"""

import requests


class ProfileClient:
    def __init__(self, base_url, account="acc1", api_key="my-api-key"):
        self.base_url = base_url.rstrip("/")
        self.account = account
        self.session = requests.Session()
        self.session.auth = (account, api_key)

    def _url(self, profile_id):
        return "%s/v1/%s/profiles/%s" % (self.base_url, self.account,
                                         profile_id)

    def get(self, profile_id, fields="id,title,actions.id"):
        r = self.session.get(self._url(profile_id),
                             params={"fields": fields}, timeout=10)
        r.raise_for_status()
        return r.json()

    def rename(self, profile_id, title):
        r = self.session.patch(self._url(profile_id), json={"title": title},
                               timeout=10)
        r.raise_for_status()
        return r.json()
