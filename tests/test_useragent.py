"""transformer.useragent: the answers ua-parser-js 1.0.40 gives (each expectation was taken from it).

The parsing is ua-parser's (uap-core rules), translated to ua-parser-js's names and versions; the
cases cover the common browsers and systems and each rule of the translation."""

from __future__ import annotations

import dataclasses

import pytest

from transformer.useragent import MAX_LENGTH, UserAgent, parse

_CHROME_MAC = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
               "Chrome/86.0.4240.111 Safari/537.36")
_WIN10 = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
_ANDROID_WV = ("Mozilla/5.0 (Linux; Android 12; SM-G991B Build/SP1A.210812.016; wv) AppleWebKit/537.36 "
               "(KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.144 Mobile Safari/537.36")
_IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "

# (user agent, browser, browser version, os, os version)
CASES = [
    # The common browsers and systems.
    (_CHROME_MAC, "Chrome", "86.0.4240.111", "Mac OS", "10.15.7"),
    (_WIN10 + "Chrome/120.0.0.0 Safari/537.36", "Chrome", "120.0.0.0", "Windows", "10"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0",
     "Firefox", "120.0", "Windows", "10"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.1 Safari/605.1.15", "Safari", "17.1", "Mac OS", "10.15.7"),
    (_WIN10 + "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91", "Edge", "120.0.2210.91", "Windows", "10"),
    (_WIN10 + "Chrome/120.0.0.0 Safari/537.36 OPR/106.0.0.0", "Opera", "106.0.0.0", "Windows", "10"),
    ("Opera/9.80 (Windows NT 6.1; WOW64) Presto/2.12.388 Version/12.18", "Opera", "12.18", "Windows", "7"),
    ("Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
     "Samsung Internet", "23.0", "Android", "13"),
    ("Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko", "IE", "11.0", "Windows", "7"),
    ("Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; Trident/6.0)", "IE", "10.0", "Windows", "8"),
    ("Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0)", "IE", "8.0", "Windows", "XP"),
    ("Mozilla/5.0 (Windows NT 6.3; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/109.0.0.0 Safari/537.36", "Chrome", "109.0.0.0", "Windows", "8.1"),
    ("Mozilla/5.0 (Windows NT 6.2; ARM; Trident/7.0; Touch; rv:11.0; WPDesktop; Lumia 1520) like Gecko",
     "IE", "11.0", "Windows", "RT"),
    ("Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Mobile Safari/537.36", "Chrome", "120.0.0.0", "Android", "13"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/16.0 Mobile/15E148 Safari/604.1", "Mobile Safari", "16.0", "iOS", "16.0"),
    ("Mozilla/5.0 (iPad; CPU OS 15_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "CriOS/96.0.4664.53 Mobile/15E148 Safari/604.1", "Chrome", "96.0.4664.53", "iOS", "15.0"),
    (_IPHONE + "FxiOS/121.0 Mobile/15E148 Safari/605.1.15", "Firefox", "121.0", "iOS", "17.2"),
    (_IPHONE + "EdgiOS/120.0.2210.126 Version/17.0 Mobile/15E148 Safari/604.1",
     "Edge", "120.0.2210.126", "iOS", "17.2"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
     "Safari/537.36", "Chrome", "120.0.0.0", "Linux", "x86_64"),
    ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0",
     "Firefox", "115.0", "Ubuntu", None),
    ("Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/120.0.0.0 Safari/537.36", "Chrome", "120.0.0.0", "Chromium OS", "14541.0.0"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0",
     "Firefox", "121.0", "Mac OS", "10.15"),
    ("Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0",
     "Firefox", "125.0", "Android", "14"),
    ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile "
     "Safari/537.36 EdgA/124.0.2478.64", "Edge", "124.0.2478.64", "Android", "10"),
    ("Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
     "Mobile/15E148 Safari/604.1", "Mobile Safari", "17.4", "iOS", "17.4"),
    # Versions as the string writes them: in full where uap-core keeps fewer numbers, "a2" kept,
    # "5" not read as the "5.0" of "Mozilla/5.0", the OS's numbers without the word after them.
    ("Mozilla/5.0 (Windows NT 6.1; rv:15.0) Gecko/20120716 Firefox/15.0a2",
     "Firefox", "15.0a2", "Windows", "7"),
    ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile "
     "Safari/537.36 DuckDuckGo/5", "DuckDuckGo", "5", "Android", "10"),
    ("Mozilla/5.0 (Linux; Android 2.1-update1; ru-RU; YP-G50 Build/ECLAIR) AppleWebKit/537.31 (KHTML, like "
     "Gecko) Chrome/26.0.1410.58 Mobile Safari/537.31", "Chrome", "26.0.1410.58", "Android", "2.1"),
    # Browsers built on Chrome or Safari that name themselves, and in-app views.
    (_WIN10 + "Chrome/118.0.0.0 YaBrowser/23.11.0.0 Safari/537.36", "Yandex", "23.11.0.0", "Windows", "10"),
    (_WIN10 + "Chrome/120.0.0.0 Safari/537.36 Vivaldi/6.5.3206.48",
     "Vivaldi", "6.5.3206.48", "Windows", "10"),
    (_WIN10 + "Chrome/120.0.0.0 Safari/537.36 Avast/120.0.0.0",
     "Avast Secure Browser", "120.0.0.0", "Windows", "10"),
    (_ANDROID_WV, "Chrome WebView", "120.0.6099.144", "Android", "12"),
    (_ANDROID_WV + " [FB_IAB/FB4A;FBAV/444.0.0.35.110;]", "Facebook", "444.0.0.35.110", "Android", "12"),
    ("Mozilla/5.0 (Linux; U; Android 12; en-US; SM-A125F Build/SP1A.210812.016) AppleWebKit/537.36 (KHTML, "
     "like Gecko) Version/4.0 Chrome/100.0.4896.58 UCBrowser/13.5.8.1314 Mobile Safari/537.36",
     "UCBrowser", "13.5.8.1314", "Android", "12"),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 "
     "Safari/537.36", "Chrome Headless", "120.0.0.0", "Linux", "x86_64"),
    ("Mozilla/5.0 (Linux; Android 10; ELE-L29; HMSCore 6.12.0.302) AppleWebKit/537.36 (KHTML, like "
     "Gecko) Chrome/99.0.4844.88 HuaweiBrowser/14.0.2.311 Mobile Safari/537.36",
     "Huawei Browser", "14.0.2.311", "Android", "10"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 14_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Mobile/15E148", "WebKit", "605.1.15", "iOS", "14.4"),
    # Other systems.
    ("Mozilla/5.0 (compatible; MSIE 10.0; Windows Phone 8.0; Trident/6.0; IEMobile/10.0; ARM; Touch; "
     "NOKIA; Lumia 920)", "IEMobile", "10.0", "Windows Phone", "8.0"),
    ("Mozilla/5.0 (X11; FreeBSD amd64; rv:109.0) Gecko/20100101 Firefox/115.0",
     "Firefox", "115.0", "FreeBSD", None),
    # Apps and tools.
    ("Dalvik/2.1.0 (Linux; U; Android 10; Redmi K20 Pro MIUI/V12.0.3.0.QFKINXM)",
     None, None, "Android", "10"),
    ("PostmanRuntime/7.26.8", None, None, None, None),
    ("curl/7.68.0", None, None, None, None),
    ("Googlebot/2.1 (+http://www.google.com/bot.html)", None, None, None, None),
    ("", None, None, None, None),
]


@pytest.mark.parametrize(("ua", "browser", "version", "os", "os_version"), CASES)
def test_parse_matches_ua_parser_js(ua: str, browser: str | None, version: str | None, os: str | None,
                                    os_version: str | None) -> None:
    """Each user agent gives the browser and system ua-parser-js 1.0.40 reports for it."""
    assert parse(ua) == UserAgent(browser, version, os, os_version)


@pytest.mark.parametrize("ua", [
    "curl/7.68.0",
    "PostmanRuntime/7.26.8",
    "Dalvik/2.1.0 (Linux; U; Android 10; Redmi K20 Pro MIUI/V12.0.3.0.QFKINXM)",
    "RudderLabs/1.0 CFNetwork/1410.0.3 Darwin/22.6.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
])
def test_clients_that_are_not_browsers_name_no_browser(ua: str) -> None:
    """uap-core names HTTP clients, apps and bots ("curl", "Android" for Dalvik); ua-parser-js
    reports no browser for them, and neither does parse."""
    assert parse(ua).browser is None
    assert parse(ua).browser_version is None


def test_browser_major_is_the_first_number_of_the_version() -> None:
    """browser_major is the version's first dotted number, None without a version."""
    assert parse(_CHROME_MAC).browser_major == "86"
    assert parse("curl/7.68.0").browser_major is None


def test_only_the_first_500_characters_count() -> None:
    """A long string is cut to its first 500 characters (after leading spaces) before parsing."""
    long_chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) " + "A" * 480 + " Chrome/120.0.0.0"
    assert len(long_chrome) > MAX_LENGTH
    assert parse(long_chrome) == UserAgent(None, None, "Windows", "10")
    assert parse("   " + "x" * 484 + " Firefox/1.0").browser == "Firefox"  # 499 characters in all
    assert parse("   " + "x" * 494 + " Firefox/1.0").browser is None  # the token is cut


def test_results_are_immutable() -> None:
    """A parsed user agent is a frozen value (results are cached and shared)."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse(_CHROME_MAC).browser = "x"  # type: ignore[misc]
