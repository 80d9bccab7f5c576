"""Names of people after a role word ("RP", "caller", "victim named", "suspect name: ...").

A bare name cannot be told from a street or a business, so names are looked for only after
a marker: the words following it, in any case, up to `MAX_WORDS` (hyphens and apostrophes
inside a word, particles such as "de la", "Last, First", "X and Y"), until a stop word:
a verb, a preposition, a dispatch word, a digit, another marker, or a word the policy
withholds calls by ("subject suicidal" stays whole for the publication gate). The name
becomes one "[name]" and everything around it stays, so the sentence still reads ("victim
named [name] was hurt"). Over-scrubbing an ordinary word after a marker is preferred to
leaking a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from townsquare.privacy.gate import call_type_pattern
from townsquare.privacy.policy import default_policy

NAME = "[name]"
MAX_WORDS = 4

_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’.\-](?=[^\W\d_]))*\.?(?=[\s,;:!?)\]\"\-—–]|$)")
_BETWEEN = re.compile(r"[ \t]+")
_LAST_FIRST = re.compile(r",[ \t]+(?=[^\W\d_])")
_AND = re.compile(r"[ \t]+(?:and|&)[ \t]+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)
_PARTICLES = frozenset({"de", "la", "del", "della", "van", "von", "der", "den", "da", "di", "du"})
_PARTICLES |= {"le", "st", "st.", "bin", "ibn", "al", "el", "mac", "ter", "ten", "dos", "das"}
_CONSTRUCT = (
    r"(?:['’]s[ \t]+name(?!\w)(?:[ \t]+is|[ \t]*[:=\-])?[ \t]*"  # caller's name is / name:
    r"|,?[ \t]+(?:named|name[ \t]+is|name[ \t]*[:=\-]|name|by[ \t]+the[ \t]+name[ \t]+of"
    r"|identified[ \t]+as|aka|a\.k\.a\.|is|was)(?!\w)[ \t]*"  # victim named / suspect, named
    r"|[ \t]*[:=#\-—–][ \t]*"  # RP: / RP-
    r"|,?[ \t]+)"  # caller tom baker
    r"(?:\[(?:phone|email)\][ \t]*,?[ \t]*)*"  # caller [phone] Jane Doe
)
_STOP_WORDS = """
a an the this that these those his her hers him he she they them their theirs it its my
mine our your you i we me us who whom whose which what where when why how there here
at in on near by from to into onto of off over under with w without wo for about around
behind inside outside across along between through via toward towards against after
before during since until upon per and or but nor so yet if as than then because while
is are was were be been being am has have had do does did will would can could should
may might must shall wont cant not no yes none only also again still now just back
report reports reported reporting states stated stating state says said saying say
advises advised advising advise called calling calls call callback cb requests
requested requesting request wants wanted want needs needed need refuses refused refusing
declined declines left leaving leaves fled fleeing flee ran run running runs walking
walked walks driving drove drives headed heading heads going went goes came coming comes
arrived arriving seen saw sees see heard hears hearing found finds located transported
transport transporting treated released arrested detained cited booked taken took gone
missing lost injured injury injuries hurt bleeding unconscious conscious breathing alert
awake asleep down up out screaming yelling fighting fight armed possibly possible poss
unk unknown unable unavail unavailable standing sitting lying laying last described
wearing carrying holding threatening threatened believes thinks think knows know
involved inv info information contact contacted phone ph tel telephone number num nbr
cell mobile email address location loc vehicle veh car truck van suv sedan motorcycle
bike bicycle scene on-scene onscene side dispute problem problems complaint trouble issue
issues assist assistance check checking welfare stop notified notification advised
refusal removal lockout locked alarm response responding request needed required pickup
description desc custody circulating statement services service disturbance runaway
trapped stuck fell fallen collapsed choking drowning overdose intoxicated drunk deceased
dead attempt attempted interview follow followup follow-up standby stabbed shot
assaulted bitten struck hit sick ill male female man woman men women boy girl adult
adults child children kid kids baby infant teen teenager elderly white black hispanic
asian latino latina wm bm hm wf bf hf age aged years yrs yo yoa approx approximately
old young tall short thin heavy medium build hair shirt jacket pants hoodie hat
unit units apt apartment house home residence room floor building store business
vs versus per via etc aka keeps kept keep parking parked parks park lives lived living
owns owned works working worked told tells tell asked asks ask yelled threw throwing
broke broken breaking stole stolen stealing take takes taking grabbed punched pushed
kicked followed following entered entering exited exiting approached approaching tried
trying refuses unresponsive responsive missing aid fall fell falling
"""
_STOP = frozenset(_STOP_WORDS.split())
_DESCRIBING = frozenset(
    {"white", "black", "hispanic", "asian", "latino", "latina", "old", "young", "tall"}
    | {"short", "thin", "heavy", "medium"}
)


@lru_cache(maxsize=64)
def marker_pattern(markers: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for every marker, longest first, with the constructions that lead to a name."""
    words = "|".join(
        re.escape(m).replace(r"\ ", r"[ \t]+") for m in sorted(markers, key=len, reverse=True)
    )
    return re.compile(rf"(?<![\w/])(?:{words})(?![\w/])({_CONSTRUCT})", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Stops:
    """Words a name never runs over: ordinary words, the markers, and the call-type words the
    policy withholds by, since the publication gate reads the scrubbed call type ("subject
    suicidal" must keep "suicidal", and so must a word a source's own policy adds)."""

    words: frozenset[str]
    withheld: re.Pattern[str] | None

    def __contains__(self, word: str) -> bool:
        return word in self.words or (
            self.withheld is not None and self.withheld.match(word) is not None
        )


@lru_cache(maxsize=64)
def _stops(markers: tuple[str, ...], withheld: tuple[str, ...] | None) -> _Stops:
    words = _STOP | {word.lower() for marker in markers for word in marker.split()}
    if withheld is None:
        withheld = tuple(default_policy().withhold.call_type_words)
    return _Stops(words, call_type_pattern(withheld))


def scrub_names(
    text: str, markers: tuple[str, ...], withheld: tuple[str, ...] | None = None
) -> str:
    """`text` with the name after each marker replaced by "[name]"; `withheld` are the
    policy's call-type words (the default policy's when None), never taken for a name."""
    if not markers:
        return text
    pattern = marker_pattern(markers)
    stop = _stops(markers, withheld)
    position = 0
    while (found := pattern.search(text, position)) is not None:
        start = found.end()
        end = _name_end(text, start, stop)
        if end is None:
            # No name here: search again from just after the marker word, since the
            # construction may have run over another marker ("caller, victim Jane Roe").
            position = found.start(1)
            continue
        replacement, end = _replacement(text, start, end, stop)
        text = text[:start] + replacement + text[end:]
        position = start + len(replacement)
    return text


def _replacement(text: str, start: int, end: int, stop: _Stops) -> tuple[str, int]:
    """ "[name]" for the name at start..end, and "and [name]" for each name joined to it."""
    out = NAME + _possessive(text[start:end])
    while (joined := _AND.match(text, end)) is not None:
        after = _name_end(text, joined.end(), stop)
        if after is None:
            break
        out += text[end : joined.end()] + NAME + _possessive(text[joined.end() : after])
        end = after
    return out, end


def _possessive(name: str) -> str:
    tail = _POSSESSIVE.search(name)
    return tail[0] if tail else ""


def _name_end(text: str, start: int, stop: _Stops) -> int | None:
    """Where the name starting at `start` ends, or None if no name word starts there."""
    end: int | None = None
    position, words = start, 0
    while words < MAX_WORDS and (word := _WORD.match(text, position)) is not None:
        plain = _POSSESSIVE.sub("", word[0]).rstrip(".").lower()
        # After a first name, a describing word may be a surname ("John White").
        if plain in stop and (end is None or plain not in _DESCRIBING):
            break
        if plain not in _PARTICLES:
            words += 1
            end = word.end() - (1 if _full_stop(word[0]) else 0)
        if _POSSESSIVE.search(word[0]):
            break
        gap = _BETWEEN.match(text, word.end())
        if gap is None and words == 1 and word[0][:1].isupper():
            gap = _LAST_FIRST.match(text, word.end())
        if gap is None:
            break
        position = gap.end()
    return end


def _full_stop(word: str) -> bool:
    """A sentence's full stop after a name stays; an initial's ("J.") goes with the name."""
    return word.endswith(".") and len(word.rstrip(".")) > 1
