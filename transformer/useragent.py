"""User-agent strings to browser and operating system, named as ua-parser-js 1.x names them.

Destinations that describe a web event's browser (PostHog, Mixpanel, ...) send what the reference
transformer's ua-parser-js 1.0.40 reports, so this module gives the same answers: Chrome, Firefox,
Safari and Mobile Safari, Edge, Opera, Samsung Internet, IE, and the in-app and Chromium-based
browsers that would otherwise pass for Chrome; Windows with its marketing version ("NT 10.0" is
"10"), Mac OS, iOS, Android, "Chromium OS" (ua-parser-js 1.x's name for Chrome OS), Linux and its
distributions, the BSDs, consoles.

>>> ua = parse("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
...            "(KHTML, like Gecko) Chrome/86.0.4240.111 Safari/537.36")
>>> ua.browser, ua.browser_version, ua.browser_major, ua.os, ua.os_version
('Chrome', '86.0.4240.111', '86', 'Mac OS', '10.15.7')

As in ua-parser-js, rules are tried in order and the first whose pattern occurs anywhere in the
string decides; a name taken from the string keeps its spelling ("Firefox", "Android"). The rule
tables follow ua-parser-js 1.0.40's browser and OS tables (MIT licence, (c) Faisal Salman), which
is what makes the answers agree; device, engine and CPU detection are left out. As in
JavaScript, word characters and word boundaries in the patterns are ASCII-only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

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


# --- rules ------------------------------------------------------------------------------------

Name = str | int  # a fixed name, or the number of the group whose text is the name
Mapper = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class _Rule:
    patterns: tuple[re.Pattern[str], ...]
    name: Name
    version: int | None
    #: "{} Browser" turns the name group "Huawei" into "Huawei Browser".
    name_format: str
    version_map: Mapper | None


def _rule(patterns: str | Sequence[str], name: Name, version: int | None = None, *,
          name_format: str = "{}", version_map: Mapper | None = None) -> _Rule:
    sources = [patterns] if isinstance(patterns, str) else list(patterns)
    compiled = tuple(re.compile(p, re.IGNORECASE | re.ASCII) for p in sources)
    return _Rule(compiled, name, version, name_format, version_map)


def _group(match: re.Match[str], index: int) -> str | None:
    if index > (match.re.groups or 0):
        return None
    return match.group(index) or None  # an empty group counts as absent, as in JavaScript


def _apply(rules: Sequence[_Rule], ua: str) -> tuple[str | None, str | None]:
    for rule in rules:
        for pattern in rule.patterns:
            match = pattern.search(ua)
            if match is None:
                continue
            if isinstance(rule.name, str):
                name: str | None = rule.name
            else:
                text = _group(match, rule.name)
                name = rule.name_format.format(text) if text is not None else None
            version = _group(match, rule.version) if rule.version is not None else None
            if version is not None and rule.version_map is not None:
                version = rule.version_map(version)
            return name, version
    return None, None


def _first_containing(table: Sequence[tuple[str | None, tuple[str, ...]]]) -> Mapper:
    """Maps a string to the first key one of whose needles it contains, else to itself."""

    def mapper(value: str) -> str | None:
        lowered = value.lower()
        for key, needles in table:
            if any(needle.lower() in lowered for needle in needles):
                return key
        return value

    return mapper


def _underscores_to_dots(value: str) -> str:
    return value.replace("_", ".")


#: Safari before 3.0 had no Version/ token; its build number stands for the version.
_old_safari = _first_containing((
    ("1.0", ("/8",)), ("1.2", ("/1",)), ("1.3", ("/3",)), ("2.0", ("/412",)),
    ("2.0.2", ("/416",)), ("2.0.3", ("/417",)), ("2.0.4", ("/419",)), (None, ("/",)),
))

#: The kernel version Windows reports, as the version it was sold as.
_windows_version = _first_containing((
    ("ME", ("4.90",)), ("NT 3.11", ("NT3.51",)), ("NT 4.0", ("NT4.0",)), ("2000", ("NT 5.0",)),
    ("XP", ("NT 5.1", "NT 5.2")), ("Vista", ("NT 6.0",)), ("7", ("NT 6.1",)), ("8", ("NT 6.2",)),
    ("8.1", ("NT 6.3",)), ("10", ("NT 6.4", "NT 10.0")), ("RT", ("ARM",)),
))

_BROWSERS: tuple[_Rule, ...] = (
    _rule(r"\b(?:crmo|crios)/([\w.]+)", "Chrome", 1),  # Chrome for Android (old) and iOS
    _rule(r"edg(?:e|ios|a)?/([\w.]+)", "Edge", 1),
    _rule([r"(opera mini)/([-\w.]+)", r"(opera [mobiletab]{3,6})\b.+version/([-\w.]+)",
           r"(opera)(?:.+version/|[/ ]+)([\w.]+)"], 1, 2),  # Presto Opera
    _rule(r"opios[/ ]+([\w.]+)", "Opera Mini", 1),
    _rule(r"\bop(?:rg)?x/([\w.]+)", "Opera GX", 1),
    _rule(r"\bopr/([\w.]+)", "Opera", 1),
    _rule(r"\bb[ai]*d(?:uhd|[ub]*[aekoprswx]{5,6})[/ ]?([\w.]+)", "Baidu", 1),
    _rule(r"\b(?:mxbrowser|mxios|myie2)/?([-\w.]*)\b", "Maxthon", 1),
    _rule([r"(kindle)/([\w.]+)", r"(lunascape|maxthon|netfront|jasmine|blazer|sleipnir)[/ ]?([\w.]*)",
           r"(avant|iemobile|slim(?:browser|boat|jet))[/ ]?([\d.]*)", r"(?:ms|\()(ie) ([\w.]+)",
           r"(flock|rockmelt|midori|epiphany|silk|skyfire|ovibrowser|bolt|iron|vivaldi|iridium"
           r"|phantomjs|bowser|qupzilla|falkon|rekonq|puffin|brave|whale(?!.+naver)|qqbrowserlite"
           r"|duckduckgo|klar|helio|(?=comodo_)?dragon)/([-\w.]+)",
           r"(heytap|ovi|115)browser/([\d.]+)", r"(weibo)__([\d.]+)"], 1, 2),
    _rule(r"quark(?:pc)?/([-\w.]+)", "Quark", 1),
    _rule(r"\bddg/([\w.]+)", "DuckDuckGo", 1),
    _rule(r"(?:\buc? ?browser|(?:juc.+)ucweb)[/ ]?([\w.]+)", "UCBrowser", 1),
    _rule([r"microm.+\bqbcore/([\w.]+)", r"\bqbcore/([\w.]+).+microm",
           r"micromessenger/([\w.]+)"], "WeChat", 1),
    _rule(r"konqueror/([\w.]+)", "Konqueror", 1),
    _rule(r"trident.+rv[: ]([\w.]{1,9})\b.+like gecko", "IE", 1),  # IE 11
    _rule(r"ya(?:search)?browser/([\w.]+)", "Yandex", 1),
    _rule(r"slbrowser/([\w.]+)", "Smart Lenovo Browser", 1),
    _rule(r"(avast|avg)/([\w.]+)", 1, 2, name_format="{} Secure Browser"),
    _rule(r"\bfocus/([\w.]+)", "Firefox Focus", 1),
    _rule(r"\bopt/([\w.]+)", "Opera Touch", 1),
    _rule(r"coc_coc\w+/([\w.]+)", "Coc Coc", 1),
    _rule(r"dolfin/([\w.]+)", "Dolphin", 1),
    _rule(r"coast/([\w.]+)", "Opera Coast", 1),
    _rule(r"miuibrowser/([\w.]+)", "MIUI Browser", 1),
    _rule(r"fxios/([\w.-]+)", "Firefox", 1),  # Firefox for iOS
    _rule(r"\bqihoobrowser/?([\w.]*)", "360", 1),
    _rule(r"\b(qq)/([\w.]+)", 1, 2, name_format="{}Browser"),
    _rule(r"(oculus|sailfish|huawei|vivo|pico)browser/([\w.]+)", 1, 2, name_format="{} Browser"),
    _rule(r"samsungbrowser/([\w.]+)", "Samsung Internet", 1),
    _rule(r"metasr[/ ]?([\d.]+)", "Sogou Explorer", 1),
    _rule(r"(sogou)mo\w+/([\d.]+)", "Sogou Mobile", 2),
    _rule([r"(electron)/([\w.]+) safari", r"(tesla)(?: qtcarbrowser|/(20\d\d\.[-\w.]+))",
           r"m?(qqbrowser|2345(?=browser|chrome|explorer))\w*[/ ]?v?([\w.]+)"], 1, 2),
    _rule([r"(lbbrowser|rekonq)", r"\[(linkedin)app\]"], 1),
    _rule([r"ome/([\w.]+) \w* ?(iron) saf", r"ome/([\w.]+).+qihu (360)[es]e"], 2, 1),
    _rule(r"((?:fban/fbios|fb_iab/fb4a)(?!.+fbav)|;fbav/([\w.]+);)", "Facebook", 2),
    _rule([r"(Klarna)/([\w.]+)", r"(kakao(?:talk|story))[/ ]([\w.]+)", r"(naver)\(.*?(\d+\.[\w.]+).*\)",
           r"safari (line)/([\w.]+)", r"\b(line)/([\w.]+)/iab", r"(alipay)client/([\w.]+)",
           r"(twitter)(?:and| f.+e/([\w.]+))", r"(chromium|instagram|snapchat)[/ ]([-\w.]+)"], 1, 2),
    _rule(r"\bgsa/([\w.]+) .*safari/", "GSA", 1),  # the Google app on iOS
    _rule(r"musical_ly(?:.+app_?version/|_)([\w.]+)", "TikTok", 1),
    _rule(r"headlesschrome(?:/([\w.]+)| )", "Chrome Headless", 1),
    _rule(r" wv\).+(chrome)/([\w.]+)", "Chrome WebView", 2),
    _rule(r"droid.+ version/([\w.]+)\b.+(?:mobile safari|safari)", "Android Browser", 1),
    _rule(r"(chrome|omniweb|arora|[tizenoka]{5} ?browser)/v?([\w.]+)", 1, 2),
    _rule(r"version/([\w.,]+) .*mobile/\w+ (safari)", "Mobile Safari", 1),
    _rule(r"version/([\w(.|,)]+) .*(mobile ?safari|safari)", 2, 1),
    _rule(r"webkit.+?(mobile ?safari|safari)(/[\w.]+)", 1, 2, version_map=_old_safari),
    _rule(r"(webkit|khtml)/([\w.]+)", 1, 2),
    _rule(r"(navigator|netscape\d?)/([-\w.]+)", "Netscape", 2),
    _rule(r"(wolvic|librewolf)/([\w.]+)", 1, 2),
    _rule(r"mobile vr; rv:([\w.]+)\).+firefox", "Firefox Reality", 1),
    _rule([r"ekiohf.+(flow)/([\w.]+)", r"(swiftfox)",
           r"(icedragon|iceweasel|camino|chimera|fennec|maemo browser|minimo|conkeror)[/ ]?([\w.+]+)",
           r"(seamonkey|k-meleon|icecat|iceape|firebird|phoenix|palemoon|basilisk|waterfox)/([-\w.]+)$",
           r"(firefox)/([\w.]+)", r"(mozilla)/([\w.]+) .+rv:.+gecko/\d+",
           r"(polaris|lynx|dillo|icab|doris|amaya|w3m|netsurf|obigo|mosaic|(?:go|ice|up)[. ]?browser)"
           r"[-/ ]?v?([\w.]+)", r"(links) \(([\w.]+)"], 1, 2, version_map=_underscores_to_dots),
    _rule(r"(cobalt)/([\w.]+)", 1, 2, version_map=lambda v: re.sub(r"master.|lts.", "", v, count=1)),
)

_OSES: tuple[_Rule, ...] = (
    _rule(r"microsoft (windows) (vista|xp)", 1, 2),  # iTunes
    _rule(r"(windows (?:phone(?: os)?|mobile))[/ ]?([\d.\w ]*)", 1, 2,
          version_map=_windows_version),
    _rule([r"windows nt 6\.2; (arm)", r"windows[/ ]?([ntce\d. ]+\w)(?!.+xbox)",
           r"(?:win(?=3|9|n)|win 9x )([nt\d.]+)"], "Windows", 1, version_map=_windows_version),
    _rule([r"ip[honead]{2,4}\b(?:.*os (\w+) like mac|; opera)",
           r"(?:ios;fbsv/|iphone.+ios[/ ])([\d.]+)", r"cfnetwork/.+darwin"], "iOS", 1,
          version_map=_underscores_to_dots),
    _rule([r"(mac os x) ?([\w. ]*)", r"(macintosh|mac_powerpc\b)(?!.+haiku)"], "Mac OS", 2,
          version_map=_underscores_to_dots),
    _rule(r"droid ([\w.]+)\b.+(android[- ]x86|harmonyos)", 2, 1),
    _rule([r"(android|webos|qnx|bada|rim tablet os|maemo|meego|sailfish|openharmony)[-/ ]?([\w.]*)",
           r"(blackberry)\w*/([\w.]*)", r"(tizen|kaios)[/ ]([\w.]+)", r"\((series40);"], 1, 2),
    _rule(r"\(bb(10);", "BlackBerry", 1),
    _rule(r"(?:symbian ?os|symbos|s60(?=;)|series60)[-/ ]?([\w.]*)", "Symbian", 1),
    _rule(r"mozilla/[\d.]+ \((?:mobile|tablet|tv|mobile; [\w ]+); rv:.+ gecko/([\w.]+)",
          "Firefox OS", 1),
    _rule([r"web0s;.+rt(tv)", r"\b(?:hp)?wos(?:browser)?/([\w.]+)"], "webOS", 1),
    _rule(r"watch(?: ?os[,/]|\d,\d/)([\d.]+)", "watchOS", 1),
    _rule(r"crkey/([\d.]+)", "Chromecast", 1),
    _rule(r"(cros) \w+(?:\)| ([\w.]+)\b)", "Chromium OS", 2),
    _rule([r"panasonic;(viera)", r"(netrange)mmh", r"(nettv)/(\d+\.[\w.]+)",
           r"(nintendo|playstation) ([wids345portablevuch]+)", r"(xbox); +xbox ([^);]+)",
           r"\b(joli|palm)\b ?(?:os)?/?([\w.]*)", r"(mint)[/() ]?(\w*)", r"(mageia|vectorlinux)[; ]",
           r"([kxln]?ubuntu|debian|suse|opensuse|gentoo|arch(?= linux)|slackware|fedora|mandriva"
           r"|centos|pclinuxos|red ?hat|zenwalk|linpus|raspbian|plan 9|minix|risc os|contiki|deepin"
           r"|manjaro|elementary os|sabayon|linspire)(?: gnu/linux)?(?: enterprise)?(?:[- ]linux)?"
           r"(?:-gnu)?[-/ ]?(?!chrom|package)([-\w.]*)",
           r"(hurd|linux) ?([\w.]*)", r"(gnu) ?([\w.]*)",
           r"\b([-frentopcghs]{0,5}bsd|dragonfly)[/ ]?(?!amd|[ix346]{1,2}86)([\w.]*)",
           r"(haiku) (\w+)"], 1, 2),
    _rule(r"(sunos) ?([\w.\d]*)", "Solaris", 2),
    _rule([r"((?:open)?solaris)[-/ ]?([\w.]*)", r"(aix) ((\d)(?=\.|\)| )[\w.])*",
           r"\b(beos|os/2|amigaos|morphos|openvms|fuchsia|hp-ux|serenityos)", r"(unix) ?([\w.]*)"],
          1, 2),
)


@lru_cache(maxsize=4096)
def parse(ua: str) -> UserAgent:
    """The browser and operating system a user-agent string names (cached: the same few
    strings come back all the time)."""
    if len(ua) > MAX_LENGTH:
        ua = ua.lstrip()[:MAX_LENGTH]
    browser, browser_version = _apply(_BROWSERS, ua)
    os_name, os_version = _apply(_OSES, ua)
    return UserAgent(browser, browser_version, os_name, os_version)
