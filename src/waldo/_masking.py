"""Hiding secrets from everything Waldo shows, logs or stores.

Two rules, used by every layer: :func:`looks_secret` says whether a name (a parameter,
a catalog key, a URL's query key) holds a secret, and :func:`mask_url` hides the
password of a URL in any of the forms people write one: ``user:pw@host``, ``:pw@host``
(no user), ``?password=pw``, and unencoded passwords with a space or an ``@``.
:func:`mask_text` does the same inside a longer text (an error message), and also
hides the secrets of the URLs it is given wherever they appear.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from fnmatch import fnmatchcase
from urllib.parse import unquote

MASK = "***"

# Words of a name that make it a secret on their own ("db_password", "hf_token").
_SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "passphrase",
        "pwd",
        "secret",
        "secrets",
        "token",
        "credential",
        "credentials",
        "apikey",
        "auth",
        "dsn",
    }
)
# Secret words written without a separator ("dbpassword", "clientsecret", "myapikey").
_SECRET_INSIDE = ("password", "passwd", "secret", "apikey", "credential")
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_SCHEME = re.compile(r"\b(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)")
# In free text a URL ends at whitespace or a quote; its user info at its last "@".
_USERINFO_IN_TEXT = re.compile(
    r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s'\"]*:)[^\s'\"]*@(?=[^\s@'\"])"
)
_QUERY_PAIR = re.compile(r"(?P<head>(?:^|[?&;\s])(?P<key>[A-Za-z_][\w.-]*)=)(?P<value>[^&#;\s]*)")
_URL_QUERY_PAIR = re.compile(r"(?P<head>(?:^|[&;])(?P<key>[^=&;#]+)=)(?P<value>[^&;#]*)")
# Secrets shorter than this are not searched for inside texts: masking every "ab" of
# a message would make it unreadable, and such a password is no protection anyway.
_MIN_SECRET_IN_TEXT = 4


def words_of(name: str) -> list[str]:
    """The lower-case words of a name: ``apiKey`` and ``API_KEY`` give ``api``, ``key``."""
    return [w.lower() for w in _WORD.findall(name)]


def looks_secret(name: str, patterns: Iterable[str] = ()) -> bool:
    """Whether a name (a parameter, a setting, a URL query key) holds a secret.

    A name is secret when one of its words is a secret word (``password``, ``token``,
    ``secret``, ``credential``...), when it ends with the word ``key`` (``api_key``,
    ``secret_key``, ``key``), or when it matches one of ``patterns`` (names or
    shell-style patterns such as ``*_salt``, compared without regard to case).
    """
    words = words_of(name)
    if any(w in _SECRET_WORDS for w in words) or (words and words[-1] == "key"):
        return True
    joined = "".join(words)
    if any(part in joined for part in _SECRET_INSIDE):
        return True
    lowered = name.lower()
    return any(fnmatchcase(lowered, p.lower()) for p in patterns)


def _mask_query(query: str) -> str:
    def hide(match: re.Match[str]) -> str:
        if match.group("value") and looks_secret(unquote(match.group("key"))):
            return match.group("head") + MASK
        return match.group(0)

    return _URL_QUERY_PAIR.sub(hide, query)


def _split_url(url: str) -> tuple[str, str, str, str] | None:
    """(scheme://, user info, rest of the authority and path, query) of a URL, the user
    info ending at the last ``@`` (an unencoded password may hold one), or None."""
    match = _SCHEME.match(url.strip())
    if match is None:
        return None
    scheme = match.group("scheme")
    rest = url.strip()[len(scheme) :]
    query_at = rest.find("?")
    at = rest.rfind("@", 0, query_at) if query_at >= 0 else -1
    at = at if at >= 0 else rest.rfind("@")
    userinfo, place = (rest[:at], rest[at + 1 :]) if at >= 0 else ("", rest)
    if "/" in userinfo.partition(":")[0]:
        userinfo, place = "", rest  # no user info: the "@" is in a path
    place, question, query = place.partition("?")
    return scheme, userinfo, place, question + query


def mask_url(url: str) -> str:
    """The URL with its password (in the user info or the query) replaced by ``***``."""
    parts = _split_url(url)
    if parts is None:
        return mask_text(_mask_broken_userinfo(url))
    scheme, userinfo, place, query = parts
    if userinfo:
        user, colon, password = userinfo.partition(":")
        userinfo = (user + colon + (MASK if password else "")) + "@"
    if query:
        query = "?" + _mask_query(query[1:])
    return scheme + userinfo + place + query


def _mask_broken_userinfo(text: str) -> str:
    """A URL too broken to parse (``postgresql:/u:pw@h/db``): mask what sits between the
    user's ``:`` and the last ``@``, as its password would."""
    head, at, tail = text.rpartition("@")
    if not at:
        return text
    before, slash, userinfo = head.rpartition("/")
    user, colon, password = userinfo.partition(":")
    if not colon or not password:
        return text
    return f"{before}{slash}{user}:{MASK}@{tail}"


def url_secrets(url: str) -> list[str]:
    """The secrets a URL carries (its password, secret query values), as written and
    percent-decoded: what :func:`mask_text` hides wherever it appears."""
    parts = _split_url(url)
    found: set[str] = set()
    if parts is not None:
        _scheme, userinfo, _place, query = parts
        password = userinfo.partition(":")[2]
        found.update({password, unquote(password)})
        for match in _URL_QUERY_PAIR.finditer(query[1:]):
            if looks_secret(unquote(match.group("key"))):
                found.update({match.group("value"), unquote(match.group("value"))})
    return sorted(s for s in found if len(s) >= _MIN_SECRET_IN_TEXT)


def mask_text(text: str, urls: Iterable[str] = ()) -> str:
    """A text (an error message, a log line) with the passwords of the URLs in it, any
    ``password=...`` pair, and every secret of ``urls`` wherever it appears, masked."""
    secrets = {s for url in urls for s in url_secrets(url)}
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _USERINFO_IN_TEXT.sub(rf"\g<head>{MASK}@", text)

    def hide(match: re.Match[str]) -> str:
        if match.group("value") and looks_secret(match.group("key")):
            return match.group("head") + MASK
        return match.group(0)

    return _QUERY_PAIR.sub(hide, text)
