"""User-agent strings to browser and operating system, named as ua-parser-js 1.x names them.

Destinations that describe a web event's browser (PostHog, Mixpanel, ...) send what the reference
transformer's ua-parser-js 1.0.x reports. The parsing here is ua-parser's (uap-python, with the
uap-core rules of ua-parser-builtins); this module translates its answers into ua-parser-js's:

* names: uap-core says "Chrome Mobile", "Mac OS X", "Chrome OS" where ua-parser-js says "Chrome",
  "Mac OS", "Chromium OS" (``_BROWSER_NAMES``, ``_OS_NAMES``);
* browser versions: ua-parser-js reports the version word as the string writes it, where uap-core
  keeps some of its numbers ("6.5.3206" of "Vivaldi/6.5.3206.48");
* OS versions: both give the numbers ("10.15.7" of "Mac OS X 10_15_7") or the Windows release
  ("10" of "Windows NT 10.0"); for Linux, ua-parser-js reports the word after "Linux" ("x86_64").

>>> ua = parse("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
...            "(KHTML, like Gecko) Chrome/86.0.4240.111 Safari/537.36")
>>> ua.browser, ua.browser_version, ua.browser_major, ua.os, ua.os_version
('Chrome', '86.0.4240.111', '86', 'Mac OS', '10.15.7')

uap-core also names HTTP clients, bots and apps ("curl", "Googlebot", "Dalvik" as "Android"),
which ua-parser-js does not report as browsers, so a browser family missing from
``_BROWSER_NAMES`` is reported as no browser; operating systems keep uap-core's name unless
``_OS_NAMES`` renames it. Where one project tells apart what the other does not, the answers
differ: uap-core reports HarmonyOS as Android and an Xbox as Windows, names apps built on Chrome
or WebKit (Steam, Telegram, Spotify) that ua-parser-js calls Chrome or Safari, and, as its rules
mostly match case, does not recognise an all-lowercase string.

ua-parser matches in pure Python unless its Rust matcher is installed (``ua-parser[regex]``), which
gives the same answers much faster; either way results are cached here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import takewhile

import ua_parser
from ua_parser import Domain

#: ua-parser-js looks at no more than this many characters of a longer string.
MAX_LENGTH = 500


@dataclass(frozen=True, slots=True)
class UserAgent:
    """What a user-agent string says; None for what it does not say."""

    browser: str | None = None
    browser_version: str | None = None
    os: str | None = None
    os_version: str | None = None

    @property
    def browser_major(self) -> str | None:
        """The browser version's first number ("86" of "86.0.4240.111")."""
        if self.browser_version is None:
            return None
        return re.sub(r"[^\d.]", "", self.browser_version).split(".")[0]


#: uap-core's browser families that ua-parser-js 1.x reports too, with ua-parser-js's name.
_BROWSER_NAMES: dict[str, str] = {
    # Chrome and the browsers built on it
    "Chrome": "Chrome",
    "Chrome Mobile": "Chrome",
    "Chrome Mobile iOS": "Chrome",
    "Chrome Mobile WebView": "Chrome WebView",
    "HeadlessChrome": "Chrome Headless",
    "Chromium": "Chromium",
    "Edge": "Edge",
    "Edge Mobile": "Edge",
    "Opera": "Opera",
    "Opera Mobile": "Opera",
    "Opera Mini": "Opera Mini",
    "Opera Coast": "Opera Coast",
    "Opera Touch": "Opera Touch",
    "Opera Tablet": "Opera Tablet",
    "Samsung Internet": "Samsung Internet",
    "Yandex Browser": "Yandex",
    "Vivaldi": "Vivaldi",
    "Brave": "Brave",
    "Whale": "Whale",
    "Coc Coc": "Coc Coc",
    "Avast Secure Browser": "Avast Secure Browser",
    "AVG": "AVG Secure Browser",
    "Huawei Browser": "Huawei Browser",
    "MiuiBrowser": "MIUI Browser",
    "VivoBrowser": "Vivo Browser",
    "HeyTap Browser": "HeyTap",
    "Smart Lenovo Browser": "Smart Lenovo Browser",
    "Oculus Browser": "Oculus Browser",
    "DuckDuckGo": "DuckDuckGo",
    "DuckDuckGo Mobile": "DuckDuckGo",
    "Iron": "Iron",
    "Puffin": "Puffin",
    "Amazon Silk": "Silk",
    "Electron": "Electron",
    # Firefox and its relatives
    "Firefox": "Firefox",
    "Firefox Mobile": "Firefox",
    "Firefox iOS": "Firefox",
    "Firefox Alpha": "Firefox",
    "Firefox Beta": "Firefox",
    "Waterfox": "Waterfox",
    "Pale Moon": "PaleMoon",
    "SeaMonkey": "SeaMonkey",
    "IceCat": "IceCat",
    "Iceweasel": "Iceweasel",
    "Camino": "Camino",
    # Safari and WebKit
    "Safari": "Safari",
    "Mobile Safari": "Mobile Safari",
    "Mobile Safari UI/WKWebView": "WebKit",  # an app's web view: ua-parser-js names the engine
    "BlackBerry WebKit": "Safari",
    "WebKit Nightly": "Safari",
    "Epiphany": "Epiphany",
    "Midori": "Midori",
    "Konqueror": "Konqueror",
    # Internet Explorer
    "IE": "IE",
    "IE Mobile": "IEMobile",
    # In-app browsers
    "Facebook": "Facebook",
    "Instagram": "Instagram",
    "Snapchat": "Snapchat",
    "Twitter": "Twitter",
    "TikTok": "TikTok",
    "LINE": "Line",
    "WeChat Browser": "WeChat",
    # Browsers of China's phones and portals
    "UC Browser": "UCBrowser",
    "QQ Browser": "QQBrowser",
    "QQ Browser Mobile": "QQBrowser",
    "QQ Browser Mini": "QQBrowser",
    "Baidu Browser": "Baidu",
    "Sogou Explorer": "Sogou Explorer",
    "Maxthon": "Maxthon",
    # Older phones and other devices
    "Dolfin": "Dolphin",
    "Ovi Browser": "OviBrowser",
    "NetFront": "NetFront",
    "UP.Browser": "UP.Browser",
    "Obigo": "Obigo",
    "Polaris": "Polaris",
    "Jasmine": "Jasmine",
    "Kindle": "Kindle",
    "Tizen Browser": "Tizen Browser",
    "Sailfish Browser": "Sailfish Browser",
    # Text browsers
    "Links": "Links",
    "Lynx": "Lynx",
}

#: uap-core's operating systems that ua-parser-js 1.x names differently; the others keep their name.
_OS_NAMES: dict[str, str | None] = {
    "Mac OS X": "Mac OS",
    "Chrome OS": "Chromium OS",
    "Chromecast Linux": "Chromecast",
    "WatchOS": "watchOS",
    "Web0S": "webOS",
    "BlackBerry OS": "BlackBerry",
    "BlackBerry Tablet OS": "RIM Tablet OS",
    "Symbian OS": "Symbian",
    "Symbian^3 Anna": "Symbian",
    "Symbian^3 Belle": "Symbian",
    "Nokia Series 40": "Series40",
    "KaiOS": "KAIOS",
    "Linux Mint": "Mint",
    "Arch Linux": "Arch",
    "Other": None,
}

_DIGITS = frozenset("0123456789")
_NUMERIC = _DIGITS | {"."}
#: The rest of a version word, as ua-parser-js reads one ("86.0.4240.111", "121.0a1", "x86_64").
_VERSION_TAIL = re.compile(r"[\w.]*", re.ASCII)
#: ua-parser-js's version for Linux is whatever word follows the name.
_AFTER_LINUX = re.compile(r"linux ?([\w.]*)", re.IGNORECASE | re.ASCII)
#: ua-parser-js names an app's web view for its engine, and versions it by the engine.
_WEBKIT_VERSION = re.compile(r"webkit/([\w.]+)", re.IGNORECASE | re.ASCII)


def _parts(found: ua_parser.UserAgent | ua_parser.OS) -> list[str]:
    """The parts of a version uap-core found, in order: ["121", "0", "a1"] of "121.0a1"."""
    parts = []
    for part in (found.major, found.minor, found.patch, found.patch_minor):
        if part is None:
            break
        parts.append(part)
    return parts


def _as_written(ua: str, version: str) -> str:
    """``version`` as the string writes it: itself if the string has it as a whole word, else the
    first word that starts with it ("6.5.3206.48" for "6.5.3206", "7.4.0.65" for "7.4.0" of
    "UC Browser7.4.0.65"), else itself."""
    longer = None
    start = ua.find(version)
    while start != -1:
        end = start + len(version)
        if ua[start - 1:start] not in _NUMERIC and ua[end:end + 1] not in _DIGITS:
            tail = _VERSION_TAIL.match(ua, end)
            word = ua[start:tail.end() if tail else end]
            if word == version:
                return version
            longer = longer or word
        start = ua.find(version, start + 1)
    return longer or version


def _browser(ua: str, found: ua_parser.UserAgent | None) -> tuple[str | None, str | None]:
    name = _BROWSER_NAMES.get(found.family) if found is not None else None
    if found is None or name is None:
        return None, None
    if name == "WebKit":
        webkit = _WEBKIT_VERSION.search(ua)
        return (name, webkit.group(1)) if webkit else (None, None)
    version = ""
    for part in _parts(found):  # a part that is not a number follows without a dot: "121.0a1"
        version += "." + part if version and part[:1] in _DIGITS else part
    return name, _as_written(ua, version) if version else None


def _os(ua: str, found: ua_parser.OS | None) -> tuple[str | None, str | None]:
    name = _OS_NAMES.get(found.family, found.family) if found is not None else None
    if found is None or name is None:
        return None, None
    if name == "Linux":
        after = _AFTER_LINUX.search(ua)
        return name, (after.group(1) or None) if after else None
    # The release ("10", "XP", "13") and the numbers after it, up to a word ("2.1" of "2.1-update1").
    parts = _parts(found)
    return name, ".".join([parts[0], *takewhile(str.isdigit, parts[1:])]) if parts else None


@lru_cache(maxsize=4096)
def parse(ua: str) -> UserAgent:
    """The browser and operating system a user-agent string names (cached: the same few
    strings come back all the time)."""
    if len(ua) > MAX_LENGTH:
        ua = ua.lstrip()[:MAX_LENGTH]
    found = ua_parser.parser(ua, Domain.USER_AGENT | Domain.OS)
    return UserAgent(*_browser(ua, found.user_agent), *_os(ua, found.os))
