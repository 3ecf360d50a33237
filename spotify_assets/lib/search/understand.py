"""What a query's words mean: hard filters for what is stated exactly, soft preferences for
what is vague.

- Genre: a catalog genre named in any spelling ("death metal", "Hip Hop", "drum & bass",
  "dnb", "k pop", "r and b", "lofi") becomes `genre = <catalog spelling>`. Both sides are
  normalised (case, accents, spaces/hyphens/underscores, "&"/"and"/"n") and a few synonyms
  map onto the catalog's spelling; the longest genre named wins and its words are not
  reused ("death metal" → death-metal, never metal). One genre filter per search (filters
  are and-ed; a song rarely has two genres); other genres named stay in the semantic query.
- A word that is both a mood and a genre ("sad", "happy", "chill", "romance", "acoustic",
  "dance", …) is a mood unless the query says genre ("sad genre", "genre: happy").
- Vague words ("fast", "sad", "loud", "dark", "live", "spoken word", "acoustic", …) become
  soft preferences: a ramp on a feature that re-ranks without removing any track.
- Explicit numbers and categories are hard filters: "over 140 bpm", "tempo above 120",
  "128 bpm" (±5), "after 2010", "since 2010", "before 2000", "in 1999", "from the 90s",
  "nineties", "1990s"; "minor key", "in minor", "major key" (mode); "in C minor",
  "in F# major", "key of Bb" (key, and mode when named). "in a minor key" is read as the
  article ("a minor key": mode only); "in A minor" as the key A minor.

Ramps follow the bands track descriptions use (lib/analyses/describe.py) and Spotify's
documented thresholds (speechiness > 0.66 spoken word, 0.33–0.66 music with speech such as
rap; liveness > 0.8 strongly live).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from spotify_assets.lib.search.filters import Filter, format_number, shown

PITCH_CLASSES = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
MAX_GENRE_WORDS = 5


@dataclass(frozen=True)
class Preference:
    """Prefer tracks whose `column` is near `high` rather than `low`: closeness rises linearly
    from 0 at `low` to 1 at `high` (low > high prefers small values). A track without the
    value gets 0: kept, not preferred."""

    column: str
    low: float
    high: float
    source: str = ""
    label: str = ""  # "higher tempo", "minor mode"

    def closeness(self, value: float | None) -> float:
        if value is None or value != value:  # None or NaN
            return 0.0
        return min(1.0, max(0.0, (float(value) - self.low) / (self.high - self.low)))

    def describe(self) -> str:
        direction = "higher" if self.high > self.low else "lower"
        text = self.label or f"{direction} {self.column}"
        ramp = f"{self.column} {format_number(self.low)}→{format_number(self.high)}"
        return f"prefer {text} ({ramp})"


@dataclass
class Understanding:
    """A query's understood words: hard filters, soft preferences, and what each word became."""

    filters: list[Filter] = field(default_factory=list)
    preferences: list[Preference] = field(default_factory=list)
    # (words as typed or normalised, what they became), in the order understood
    terms: list[tuple[str, str]] = field(default_factory=list)

    def add_filter(self, source: str, *filters: Filter) -> None:
        self.filters.extend(filters)
        conditions = " and ".join(f"{f.column} {f.op} {_value(f.value)}" for f in filters)
        self.terms.append((source, f"hard filter {conditions}"))

    def add_preferences(self, source: str, *preferences: Preference) -> None:
        self.preferences.extend(preferences)
        self.terms.append((source, "soft: " + "; ".join(p.describe() for p in preferences)))

    def add_note(self, source: str, meaning: str) -> None:
        self.terms.append((source, meaning))


def _value(value: float | str) -> str:
    return f"'{shown(value)}'" if isinstance(value, str) else format_number(value)


def _ramp(column: str, low: float, high: float, label: str) -> tuple[str, float, float, str]:
    return (column, low, high, label)


FASTER = _ramp("tempo", 105, 145, "faster tempo")
SLOWER = _ramp("tempo", 115, 80, "slower tempo")
SADDER = _ramp("valence", 0.55, 0.2, "lower valence (sadder)")
HAPPIER = _ramp("valence", 0.45, 0.8, "higher valence (happier)")
MINOR = _ramp("mode", 1, 0, "minor mode")
MAJOR = _ramp("mode", 0, 1, "major mode")
LOUDER = _ramp("loudness", -10, -4, "louder")
QUIETER = _ramp("loudness", -6, -16, "quieter")
CALMER = _ramp("energy", 0.65, 0.3, "lower energy")
MORE_ENERGY = _ramp("energy", 0.55, 0.85, "higher energy")
ACOUSTIC = _ramp("acousticness", 0.3, 0.8, "acoustic")
INSTRUMENTAL = _ramp("instrumentalness", 0.2, 0.7, "instrumental")
DANCEABLE = _ramp("danceability", 0.5, 0.8, "danceable")
LIVE = _ramp("liveness", 0.3, 0.8, "live recording")
SPOKEN = _ramp("speechiness", 0.5, 0.8, "spoken word (speechiness > 0.66)")
RAPPED = _ramp("speechiness", 0.1, 0.35, "rap-like vocals (speechiness 0.33–0.66)")
POPULAR = _ramp("popularity", 40, 80, "more popular")
LONGER = _ramp("duration_ms", 240_000, 420_000, "longer (over ~4–7 minutes)")
SHORTER = _ramp("duration_ms", 200_000, 120_000, "shorter (under ~2–3 minutes)")

# (pattern on the normalised query, ramps); earlier rules claim their words first
_VAGUE_RULES: list[tuple[str, tuple]] = [
    (r"spoken word|spoken|poetry|audiobook|podcast|talking|speech", (SPOKEN,)),
    (r"rap|rapping|rapped|rapper|rappers|bars", (RAPPED,)),
    (r"(?:no|without) (?:vocals|singing|lyrics|words)|instrumentals?", (INSTRUMENTAL,)),
    (r"live (?:recordings?|versions?|performances?|shows?|albums?)|live|concerts?|in concert",
     (LIVE,)),
    (r"very fast|fast|faster|fastest|uptempo|up tempo|quick|high tempo|high bpm", (FASTER,)),
    (r"slow|slower|slowest|downtempo|down tempo|low tempo|low bpm", (SLOWER,)),
    (r"dark|darker|moody|brooding|sinister|ominous|gloomy", (SADDER, MINOR)),
    (r"bright|sunny|uplifting", (HAPPIER, MAJOR)),
    (r"sad|sadder|saddest|melancholic|melancholy|depressing|depressed|heartbroken|"
     r"heartbreak|crying|cry|unhappy|tearjerkers?|feeling down|feeling blue|rainy days?|blue",
     (SADDER,)),
    (r"happy|happier|cheerful|joyful|joyous|euphoric|feel good|feelgood|upbeat|positive|"
     r"good mood|good vibes|sunshine",
     (HAPPIER,)),
    (r"loud|louder|loudest|noisy|blasting|deafening", (LOUDER,)),
    (r"quiet|quieter|soft|softer|hushed|gentle|whisper(?:ed|ing)?", (QUIETER,)),
    (r"high energy|energetic|intense|powerful|hype|pumped|pump up|workout|gym", (MORE_ENERGY,)),
    (r"calm|calming|chill|chilled|chillout|relaxing|relaxed|relax|mellow|peaceful|soothing|"
     r"laid back|sleepy|sleep|low energy", (CALMER,)),
    (r"acoustic|unplugged", (ACOUSTIC,)),
    (r"danceable|dance|dancing|to dance to|groovy|dancefloor", (DANCEABLE,)),
    (r"popular|hits?|well known|famous|top", (POPULAR,)),
    (r"long|longer|longest|epic|extended|lengthy", (LONGER,)),
    (r"short|shorter|shortest|brief", (SHORTER,)),
]  # fmt: skip

# right before a vague word, these turn it round ("rock that isn't loud" prefers quieter)
_NEGATION = re.compile(
    r"(?:\b(?:not|isnt|arent|wasnt|never|nothing|no|without being|less)(?: too| very| so| that| overly)?"
    r"|\b(?:hard|difficult|impossible|tough|cant|cannot)(?: to)?)"
    r"\s*$"
)

# Genre names that describe a sound or a mood first (moods, activities, instruments): a genre
# only when the query says "genre" next to them.
MOOD_GENRES = frozenset(
    {"sad", "happy", "chill", "romance", "acoustic", "dance", "party", "sleep", "study",
     "guitar", "piano"}
)  # fmt: skip

# squashed spelling → the squashed spelling catalogs use (squash: normalised, no spaces)
GENRE_SYNONYMS = {
    "rnb": "randb",
    "rhythmandblues": "randb",
    "dnb": "drumandbass",
    "drumbass": "drumandbass",
    "hiphop": "hiphop",
    "hiphip": "hiphop",
    "rocknroll": "rockandroll",
    "rockroll": "rockandroll",
    "electronicdancemusic": "edm",
    "lofi": "lofi",
    "lowfi": "lofi",
    "triphop": "triphop",
    "synthpop": "synthpop",
    "kpop": "kpop",
    "koreanpop": "kpop",
    "jpop": "jpop",
    "japanesepop": "jpop",
    "jrock": "jrock",
    "altrock": "altrock",
    "alternativerock": "altrock",
    "psychedelicrock": "psychrock",
    "showtune": "showtunes",
    "worldmusic": "worldmusic",
    "world": "worldmusic",
    "singersongwriters": "singersongwriter",
    "musicalatina": "latin",
    "latinmusic": "latin",
    "musicaltheatre": "showtunes",
    "musicaltheater": "showtunes",
    "broadway": "showtunes",
}


def normalize(text: str) -> str:
    """Lower case, accents off, '&' as 'and', punctuation (but '#', '.' in numbers) as spaces,
    apostrophes dropped ('90s → 90s, rock 'n' roll → rock n roll), one space between words."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("&", " and ").replace("'", "").replace("’", "").replace("‘", "")
    text = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", text)
    text = re.sub(r"[^\w#.]+|_", " ", text)
    return " ".join(text.split())


def _squash(words: Sequence[str]) -> str:
    return "".join("and" if w == "n" else w for w in words)


@functools.lru_cache(maxsize=8192)  # each query indexes the catalog's genres again
def genre_key(name: str) -> str:
    """One spelling for every way of writing a genre: 'Hip-Hop', 'hip hop' and 'hiphop' →
    'hiphop'; 'R&B', 'r-n-b', 'rnb' → 'randb'; synonyms to the catalog's usual form."""
    key = _squash(normalize(name).split())
    return GENRE_SYNONYMS.get(key, key)


def _genre_index(genres: Iterable[str], subgenres: Iterable[str] = ()) -> dict[str, tuple]:
    """name key → (column, the catalog's spelling: the first of several, sorted); a name that
    is both a genre and a subgenre is the genre."""
    index: dict[str, tuple[str, str]] = {}
    for column, names in (("genre", genres), ("subgenre", subgenres)):
        for name in sorted({g for g in names if g and g.strip()}):
            index.setdefault(genre_key(name), (column, name))
    return index


def _find_genres(words: list[str], index: dict[str, tuple]) -> list[tuple[int, int, tuple]]:
    """(start, end, (column, name)) spans, longest names first, non-overlapping."""
    spans = []
    for start in range(len(words)):
        for end in range(start + 1, min(len(words), start + MAX_GENRE_WORDS) + 1):
            if not words[end - 1]:  # a word already read (blanked): spans never cross it
                break
            typed = _squash(words[start:end])
            key = GENRE_SYNONYMS.get(typed, typed)
            if key in index:  # the longest as typed wins ("electronic dance music" > "dance")
                spans.append((len(typed), start, end, index[key]))
    chosen: list[tuple[int, int, tuple]] = []
    taken: set[int] = set()
    for _, start, end, named in sorted(spans, key=lambda s: (-s[0], s[1])):
        if _mood_and_genre(words[start:end], index) and not _says_genre(words, start, end):
            continue  # "sad rap": the genre rap and a sad mood, not a micro-genre 'sad rap'
        if taken.isdisjoint(range(start, end)):
            chosen.append((start, end, named))
            taken.update(range(start, end))
    return chosen


# mood words that, in front of a genre the catalog has, say how it should feel: "sad rap",
# "chill pop", "happy hardcore" is read as the genre plus the mood, not as a catalog's
# micro-genre of that name ('sad rap': 3 tracks on a 1,202-genre catalog); sound words that
# name established genres ("soft rock", "hard rock", "acoustic blues") are not in it
MOOD_WORDS = frozenset({
    "sad", "happy", "chill", "chilled", "calm", "relaxing", "mellow", "dark", "moody", "upbeat",
    "melancholic", "melancholy", "gloomy", "cheerful", "energetic", "romantic", "angry",
})  # fmt: skip


def _mood_and_genre(words: list[str], index: dict[str, tuple]) -> bool:
    """Whether a multi-word genre name is a mood word before a genre of its own."""
    if len(words) < 2 or words[0] not in MOOD_WORDS:
        return False
    rest = _squash(words[1:])
    return GENRE_SYNONYMS.get(rest, rest) in index


def _says_genre(words: list[str], start: int, end: int) -> bool:
    before = words[start - 1] if start > 0 else ""
    before2 = words[start - 2] if start > 1 else ""
    after = words[end] if end < len(words) else ""
    return (
        before in ("genre", "genres")
        or (before2 == "genre" and before in ("is", "of"))
        or after in ("genre", "genres")
    )


_N = r"(\d{2,3}(?:\.\d+)?)"
_YEAR = r"((?:19|20)\d\d)"
_DECADE_WORDS = {"twenties": 1920, "thirties": 1930, "forties": 1940, "fifties": 1950,
                 "sixties": 1960, "seventies": 1970, "eighties": 1980, "nineties": 1990,
                 "two thousands": 2000, "noughties": 2000, "aughts": 2000, "twenty tens": 2010,
                 "twenty twenties": 2020}  # fmt: skip
_ABOVE = r"over|above|faster than|more than|greater than|higher than|at least|min|minimum"
_BELOW = r"under|below|slower than|less than|lower than|at most|max|maximum|up to"
_BPM = r"(?:bpm|beats per minute|beats a minute)"
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
                 "twenty": 20, "thirty": 30, "a": 1, "an": 1}  # fmt: skip
_MINUTES_N = rf"(\d{{1,3}}(?:\.\d+)?|{'|'.join(_NUMBER_WORDS)})(?: and a half)?"
_MIN = r"(?:minutes?|mins?)"
_LONGER = r"over|above|longer than|more than|at least"
_SHORTER = r"under|below|shorter than|less than|at most|up to"


def _ms(match_number: str, text: str) -> int:
    """Minutes ("2", "2.5", "two", "two and a half") in the matched text → milliseconds."""
    value = float(_NUMBER_WORDS.get(match_number, 0) or match_number)
    return int((value + (0.5 if "and a half" in text else 0)) * 60_000)


def _hard_rules(text: str, u: Understanding) -> str:
    """Explicit numbers, years, decades, keys and modes → hard filters; returns the text with
    the words used blanked out (so "in 1999" is not read again)."""

    def use(match: re.Match, *filters: tuple[str, str, float]) -> None:
        source = match.group(0).strip()
        u.add_filter(source, *(Filter(c, op, v, source=source, understood=True)
                               for c, op, v in filters))  # fmt: skip

    def blank(match: re.Match) -> str:
        return " " * len(match.group(0))

    def each(pattern: str, handle) -> None:
        nonlocal text
        for match in list(re.finditer(pattern, text)):
            handle(match)
        text = re.sub(pattern, blank, text)

    # tempo
    each(rf"\b(?:between |from )?{_N} (?:and |to |through )?{_N} {_BPM}\b",
         lambda m: use(m, ("tempo", ">=", float(m[1])), ("tempo", "<=", float(m[2]))))  # fmt: skip
    each(rf"\b(?:(?:tempo|bpm) (?:is |of )?(?:{_ABOVE}) {_N}(?: {_BPM})?|"
         rf"(?:{_ABOVE}) {_N} {_BPM})\b",
         lambda m: use(m, ("tempo", ">=" if re.search(r"least|min", m[0]) else ">",
                           float(m[1] or m[2]))))  # fmt: skip
    each(rf"\b(?:(?:tempo|bpm) (?:is |of )?(?:{_BELOW}) {_N}(?: {_BPM})?|"
         rf"(?:{_BELOW}) {_N} {_BPM})\b",
         lambda m: use(m, ("tempo", "<=" if re.search(r"most|max|up to", m[0]) else "<",
                           float(m[1] or m[2]))))  # fmt: skip
    each(rf"\b(?:(?:tempo|bpm) (?:of |around |about |near |is )*{_N}(?: {_BPM})?|"
         rf"(?:around |about |near )?{_N} ?{_BPM})\b",
         lambda m: use(m, ("tempo", ">=", float(m[1] or m[2]) - 5),
                       ("tempo", "<=", float(m[1] or m[2]) + 5)))  # fmt: skip
    # song length: "under two minutes", "over 8 min", "longer than 6 minutes", "3 minute songs"
    each(rf"\b(?:{_LONGER}) {_MINUTES_N} {_MIN}\b",
         lambda m: use(m, ("duration_ms", ">=" if "least" in m[0] else ">", _ms(m[1], m[0]))))  # fmt: skip
    each(rf"\b(?:{_SHORTER}) {_MINUTES_N} {_MIN}\b",
         lambda m: use(m, ("duration_ms", "<=" if re.search(r"most|up to", m[0]) else "<",
                           _ms(m[1], m[0]))))  # fmt: skip
    each(rf"\b{_MINUTES_N} {_MIN}(?: long)?\b(?= (?:songs?|tracks?|music|pieces?|long)\b|$)",
         lambda m: use(m, ("duration_ms", ">=", _ms(m[1], m[0]) - 30_000),
                       ("duration_ms", "<=", _ms(m[1], m[0]) + 30_000)))  # fmt: skip
    # years
    each(rf"\b(?:between |from )?{_YEAR} (?:and |to |through |thru |until |till )?{_YEAR}\b",
         lambda m: use(m, ("release_year", ">=", int(m[1])), ("release_year", "<=", int(m[2]))))  # fmt: skip
    each(
        rf"\b(?:after|newer than|later than|post) {_YEAR}\b",
        lambda m: use(m, ("release_year", ">", int(m[1]))),
    )
    each(rf"\b(?:since {_YEAR}|(?:from )?{_YEAR} (?:on|onwards?|or later|and later))\b",
         lambda m: use(m, ("release_year", ">=", int(m[1] or m[2]))))  # fmt: skip
    each(
        rf"\b(?:before|older than|earlier than|pre|until|till) {_YEAR}\b",
        lambda m: use(m, ("release_year", "<", int(m[1]))),
    )
    decade = rf"(?:(?:19|20)\d0s|\d0s|{'|'.join(_DECADE_WORDS)})"
    each(rf"\b(?:(early|mid|late) )?{decade}\b", lambda m: use(m, *_decade(m[0], m[1])))
    each(
        rf"\b(?:in|from|of|released in|year) {_YEAR}\b(?!s)",
        lambda m: use(m, ("release_year", "=", int(m[1]))),
    )
    each(  # "2012 music", "2019 hits": a year right before a music word
        rf"\b{_YEAR} (?=(?:songs?|music|tracks?|hits|tunes|releases|bangers|jams)\b)",
        lambda m: use(m, ("release_year", "=", int(m[1]))),
    )
    # keys and modes
    note = r"([a-g])(?: ?(#|sharp|flat|b)(?!\w))?"
    each(rf"\b(?:in |key of |in the key of ){note} (major|minor)\b(?! key)",
         lambda m: use(m, ("key", "=", _pitch(m[1], m[2])), ("mode", "=", _mode(m[3]))))  # fmt: skip
    each(
        rf"\b(?:key of |in the key of ){note}\b", lambda m: use(m, ("key", "=", _pitch(m[1], m[2])))
    )
    each(
        r"\b(?:in (?:a )?|a )?(major|minor)(?: key| keys| mode| scale| tonality)\b|"
        r"\bin (major|minor)\b",
        lambda m: use(m, ("mode", "=", _mode(m[1] or m[2]))),
    )
    # a key named without "in" ("d minor songs", "C major tracks"); "in G" at the end ("a" is
    # left out there: "in a" is almost always the article)
    each(rf"\b{note} (major|minor)\b",
         lambda m: use(m, ("key", "=", _pitch(m[1], m[2])), ("mode", "=", _mode(m[3]))))  # fmt: skip
    each(
        r"\bin ([b-g])(?: ?(#|sharp|flat|b)(?!\w))?$",
        lambda m: use(m, ("key", "=", _pitch(m[1], m[2]))),
    )
    return text


def _decade(text: str, part: str | None) -> list[tuple[str, str, int]]:
    words = text.removeprefix(f"{part} ") if part else text
    if words in _DECADE_WORDS:
        start = _DECADE_WORDS[words]
    elif len(words) == 5:  # 1990s
        start = int(words[:4])
    else:  # 90s
        digit = int(words[0])
        start = (1900 if digit >= 3 else 2000) + digit * 10
    low, high = {"early": (0, 3), "mid": (3, 6), "late": (6, 9)}.get(part or "", (0, 9))
    return [("release_year", ">=", start + low), ("release_year", "<=", start + high)]


def _pitch(letter: str, accidental: str | None) -> int:
    shift = {"#": 1, "sharp": 1, "b": -1, "flat": -1}.get(accidental or "", 0)
    return (PITCH_CLASSES[letter] + shift) % 12


def _mode(word: str) -> int:
    return 1 if word == "major" else 0


def understand_query(
    text: str, genres: Iterable[str] = (), subgenres: Iterable[str] = ()
) -> Understanding:
    """The query's words as hard filters and soft preferences (see the module docstring).
    `subgenres`: the catalog's subgenre names ("hard rock", "southern hip hop" in TidyTuesday),
    matched like genres; the longest name of either wins."""
    u = Understanding()
    normalised = normalize(text)
    rest = _hard_rules(normalised, u)
    words = rest.split(" ")  # blanked words stay as empty strings: positions are kept
    index = _genre_index(genres, subgenres)
    spans = _find_genres(words, index)
    genre_done = False
    for start, end, (column, genre) in spans:  # longest first
        typed = " ".join(words[start:end])
        says = _says_genre(words, start, end)
        if genre_key(genre) in MOOD_GENRES and not says:
            continue  # a mood word: the vague rules below read it
        if genre_done:
            u.add_note(typed, f"{column} {genre} (left to the semantic match: one genre filter)")
        else:
            u.add_filter(typed, Filter(column, "=", genre, source=typed, understood=True))
            genre_done = True
        for i in range(start, end):
            words[i] = ""
        if says:  # "genre" itself is not a word to read again
            for i in (start - 1, end):
                if 0 <= i < len(words) and words[i] in ("genre", "genres"):
                    words[i] = ""
    rest = " ".join(words)
    claimed: set[str] = set()
    for pattern, ramps in _VAGUE_RULES:
        found = re.search(rf"(?<![\w#.])(?:{pattern})(?![\w#])", rest)
        if not found:
            continue
        rest = rest[: found.start()] + " " * len(found.group(0)) + rest[found.end() :]
        fresh = [r for r in ramps if r[0] not in claimed]
        if not fresh:
            u.add_note(found.group(0), "already understood from an earlier word")
            continue
        claimed.update(r[0] for r in fresh)
        source = found.group(0)
        if negated := _NEGATION.search(rest[: found.start()]):  # "not too loud": the opposite
            source = f"{negated.group(0).strip()} {source}"
            fresh = [(c, hi, lo, f"not {lab}") for c, lo, hi, lab in fresh]
        u.add_preferences(
            source, *(Preference(c, lo, hi, source=source, label=lab) for c, lo, hi, lab in fresh)
        )
    return u


def parse_query(
    text: str, genres: Iterable[str] = (), subgenres: Iterable[str] = ()
) -> list[Filter]:
    """The hard filters a query states in words (soft preferences are left out)."""
    return understand_query(text, genres, subgenres).filters
