"""Reading a question: normalization, spelling repair, role mentions, synonyms and stemming."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Mapping, Sequence

from rapidfuzz import process
from rapidfuzz.distance import OSA
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from spellchecker import SpellChecker

PM = "it-project-manager"
ITM = "it-manager"

# Chat filler that carries no topic: generic job words and question scaffolding.
FILLER = frozenset(
    """
    role roles job jobs position positions person people someone somebody guy gal thing things stuff
    tell explain know need needs needed want wants like exactly actually really basically usually
    typically generally kind sort lot lots bit pls plz please thanks thx hi hello hey ok okay yes
    does did doing done make makes made get gets got good best better much many way ways
    s t d ll re ve m im id ive youre whats whos hows wat wht u ur r ya yo abt bout
    btwn btw betw bw b4 question questions answer same handle handles handled handling
    nutshell gist briefly overall plain terms case instead ask asked asking asks actual equivalent
    mean means meaning entail entails involve involves practice
    wut wot whut wanna gonna tryna gotta kinda sorta lemme gimme dunno cuz coz tho idk tbh imo ngl
    """.split()
)
# Who and where the asker is ("my uncle at the city council"): the setting of a question, not its topic.
SETTING = frozenset(
    """
    uncle aunt dad mum mom father mother brother sister cousin friend friends wife husband daughter son kid kids
    neighbour neighbor mate colleague colleagues
    school schools hospital hospitals bank banks shop shops store stores factory factories council city town
    office offices startup startups restaurant restaurants hotel hotels charity charities clinic clinics
    warehouse warehouses chain agency firm firms company companies business businesses organisation organization hr
    government ministry nonprofit charity museum airline newspaper theatre theater club lab laboratory police
    workplace
    """.split()
)
# Words that ask for a comparison: read as a cue (see _STRONG_COMPARE), never as a topic.
COMPARE_WORDS = frozenset(
    """
    vs versus compare compared compares comparing comparison differ differs differed difference differences
    different differently diff distinguish distinguishes contrast apart similar similarity similarities alike stack stacks
    """.split()
)
# Words people use in questions about the roles that the knowledge itself never says.
CHAT_WORDS = frozenset(
    """
    vs versus compare compared comparing comparison difference differences differ different btwn between
    ppl mgr mgrs proj cert certs manager managers project projects pm pms it
    """.split()
)
# scikit-learn's list counts a few words as stop words that carry meaning here ("system", "detail").
STOPWORDS = (frozenset(ENGLISH_STOP_WORDS) - {"system", "detail", "interest", "bill"}) | FILLER | COMPARE_WORDS
# "it" is a stop word, but also the IT in "IT manager": role detection runs before stop words go.

# Role mentions over normalized tokens. Longest first so "it project manager" wins over "project manager".
_OUR = (
    r"(?:(?:the|our|a|an|my|their|its|this|that|your|his|her|one|some|every|any|big|small|little|new|"
    r"company s|our company s|a company s)\s)*"
)
_PROJECT_WORK = (
    r"(?:project|projects|rollout|rollouts|roll out|launch|launches|relaunch|go live|golive|migration|migrations|"
    r"implementation|upgrade|upgrades|build|initiative|programme|deployment|release|overhaul|revamp|switchover|"
    r"changeover|system change|system switch|software switch|switch to|move to|transition to|shift to|moving to|"
    r"switching to|migrating to|moving onto|"
    r"(?:computer|tech|technology|software|digital) change|rebuild|rebuilds|redesign|redesigns|refresh|replacement|rewrite)"
)
_LEADS = (
    r"(?:running|leading|heading up|heading|in charge of|managing|runs|leads|heads up|manages|is running|gets|getting|"
    r"pushing|shepherding|overseeing|oversees|"
    r"is leading|owns|owning|driving|drives|steering|steers|coordinating|coordinates|organizing|organising|"
    r"delivering|delivers|deliver|hired to deliver|brought in to lead|to lead|to run|to manage|to oversee|to deliver|"
    r"to coordinate|on|of|for)"
)
_IT_UNIT = (
    r"(?:it|tech|technology|computer|computers|information technology|systems|infrastructure) "
    r"(?:department|dept|team|side|operations|function|group|division|shop|services|section|unit|systems|crew|staff|"
    r"folks|people|guys)"
)
# A word that ends a department's name: "the tech staff" is the IT manager's, whatever follows it.
_UNIT_WORD = r"(?:department|dept|team|staff|crew|side|unit|people|folks|guys|division)"
_IT_WORD = r"(?:it|tech|technology|computer|computers|systems|support)"
_PERSON = r"(?:person|guy|gal|woman|lady|man|fellow|chap|bloke|dude|girl|someone|somebody)"
_ROLE_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"\b(?:it |information technology |tech |technology )?(?:project|proj) (?:manager|managers|mgr|mgrs|lead|leads|leader|leaders|guy|gal|person|lady|dude)\b", PM),
    (r"\b(?:it )?(?:pm|pms|itpm|itpms|pjm|projectmanager|projectmanagers|itprojectmanager)\b", PM),
    # "the rollout lead", "our migration coordinator": a lead named after the one-off work.
    (
        r"\b(?:rollout|launch|migration|implementation|deployment|upgrade|go live|delivery|"
        r"switchover|changeover|relaunch) (?:lead|leads|leader|leaders|owner|manager|boss|coordinator|head|person|guy|gal|"
        r"lady|woman|man)\b",
        PM,
    ),
    # The career: "moving into IT project management", "IT project management certs".
    (r"\b(?:it|information technology) (?:project|proj) management\b", PM),
    # A role described instead of named: "the guy in charge of our CRM rollout", "whoever runs the migration".
    (
        rf"\b(?:{_PERSON}|whoever|the one|lead|leader|owner|manager|boss|i m|"
        rf"i am|im)\b"
        rf"(?: who| that)?"
        rf"(?: is| was)? {_LEADS} {_OUR}(?:(?!{_IT_WORD} {_UNIT_WORD}\b)[a-z0-9]+ ){{0,5}}?{_PROJECT_WORK}\b",
        PM,
    ),
    # "the person delivering the new parent portal", "the lady leading our shop's new inventory system".
    (
        rf"\b(?:{_PERSON}|whoever|lead|leader|owner)\b(?: who| that)?(?: is| was)? "
        rf"{_LEADS} (?:(?:the|our|a|an|my|their|its|this|that) )*(?:[a-z0-9]+ ){{0,2}}?(?:[a-z0-9]+ s )?new "
        rf"(?:(?:[a-z0-9]+ ){{0,2}}?(?:system|systems|platform|portal|app|website|site|software|tool|intranet|crm|erp)\b|"
        rf"[a-z0-9]+\b)",
        PM,
    ),
    # "I'm the one getting our online ordering thing live", "whoever is turning our paper forms into an app".
    (
        rf"\b(?:{_PERSON}|whoever|the one|i m|i am|im)\b(?: who| that)?(?: is| was)? (?:getting|gets|get|taking|takes|"
        rf"bringing|brings|putting|puts) {_OUR}(?:[a-z0-9]+ ){{0,5}}?(?:live|online)\b",
        PM,
    ),
    # "whoever is rolling out new tills across our shops"
    (
        rf"\b(?:{_PERSON}|whoever|the one|i m|i am|im)\b(?: who| that)?(?: is| was)? (?:rolling out|rolls out|"
        rf"implementing|implements|deploying|deploys|launching|launches|introducing|introduces)\b",
        PM,
    ),
    (
        rf"\b(?:{_PERSON}|whoever|the one|i m|i am|im)\b(?: who| that)?(?: is| was)? (?:turning|turns|converting|"
        rf"converts|moving|moves|switching|switches|migrating|migrates) {_OUR}(?:[a-z0-9]+ ){{0,5}}?(?:into|onto|to) "
        rf"(?:an? |the |a new |our new )?(?:[a-z0-9]+ )?(?:app|system|software|platform|website|portal|cloud|tool)\b",
        PM,
    ),
    (r"\b(?:it|information technology|itm) (?:manager|managers|mgr|mgrs|director|directors|head|boss|chief|lead)\b", ITM),
    (r"\b(?:head|director|chief|boss|manager) of (?:the )?(?:it|information technology|technology|tech)(?: department| dept)?\b", ITM),
    (r"\b(?:head|director|chief|boss|manager) of (?:the |our )?(?:help desk|helpdesk|service desk|it support|tech support)(?: team| people| staff| crew)?\b", ITM),
    (
        rf"\b(?:head|heads|heading up|heads up|head up|boss|chief|director|manager|in charge of|runs|run|running|"
        rf"manage|manages|managing|oversees|overseeing|leads|leading|looks after|looking after|responsible for) (?:of )?{_OUR}"
        rf"(?:whole |entire |internal |all |all of )?{_OUR}(?:[a-z0-9]+ s )?{_IT_UNIT}\b",
        ITM,
    ),
    # "the guy who runs our servers", "whoever's in charge of all things tech", "the lady who keeps the computers going".
    (
        rf"\b(?:{_PERSON}|whoever|whoever s|boss|the one)\b(?: who| that| to)?(?: s| is)? "
        r"(?:runs|run|running|looks after|looking after|keeps|keeping|manages|managing|oversees|overseeing|"
        r"is in charge of|in charge of|takes care of|taking care of|handles|handling|is responsible for|responsible for) "
        rf"{_OUR}(?:whole |entire |all |all of |all the |every )?{_OUR}(?:[a-z0-9]+ s )?(?:[a-z]+ )?"
        r"(?:servers|computers|computer systems|network|networks|computer stuff|computer things?|tech|technology|"
        r"laptop|laptops|pcs|devices|wifi|wi fi|"
        r"things tech|it stuff|tech stuff|it things|systems|computers and network|computers and networks|"
        r"computer setup|computer set up|tech setup|tech set up|it setup|it set up)\b"
        r"(?! (?:project|projects|rollout|rollouts|launch|upgrade|migration|move|switch)\b)",
        ITM,
    ),
    # "the boss of the folks who fix our laptops", "I look after the people who keep our network running".
    (
        # the noun stays in the text ("what makes a good boss..." asks about leadership)
        rf"(?:(?<=\bboss )|(?<=\bhead )|(?<=\bmanager )|(?<=\bleader )|(?<=\blead )|(?<=\bsupervisor )|"
        rf"\b(?:in charge of|look after|looks after|looking after|manage|manages|managing|supervise|supervises|"
        rf"supervising|run|runs|running) )(?:of |for )?{_OUR}(?:folks|people|guys|"
        rf"team|crew|staff|techs|technicians|engineers) (?:who|that) (?:fix|fixes|repair|repairs|support|supports|"
        rf"look after|looks after|keep|keeps|maintain|maintains|run|runs|set up|sets up) {_OUR}(?:[a-z0-9]+ s )?"
        rf"(?:[a-z]+ )?(?:computers|laptops|servers|network|networks|systems|tech|pcs|devices|printers|phones|it)\b",
        ITM,
    ),
    # "the person who keeps the IT department running"
    (rf"\b(?:keeps|keep|keeping) {_OUR}(?:whole |entire )?{_IT_UNIT} (?:running|going|ticking|afloat|on track)\b", ITM),
    (r"\b(?:sysadmin|sysadmins|system admin|systems admin|network admin) (?:boss|head|manager|chief|lead)\b", ITM),
    (
        r"\b(?:boss|head|manager|chief) of (?:the |our )?(?:sysadmins|admins|techs|technicians|support staff|"
        r"support team)\b",
        ITM,
    ),
    (r"\b(?:itm|itms|itmanager|itmanagers)\b", ITM),
    (r"\btech (?:manager|managers|director|directors|head|boss|chief)\b", ITM),
    (rf"\b{_IT_UNIT} (?:boss|head|manager|director|chief)\b", ITM),
)
# A role described by what the person does ("the one responsible for network security") rather than named.
_ROLE_REGEXES = tuple((re.compile(pattern), role, _PERSON in pattern) for pattern, role in _ROLE_PATTERNS)
# Leading the one-off work, with no person named ("a degree to lead big system rollouts"): the PM, unless a
# role is named elsewhere ("does an IT manager lead projects?" asks about the IT manager).
_LEADS_THE_WORK = re.compile(
    rf"\b(?:lead|leading|run|running|manage|managing|steer|steering|coordinate|coordinating|head up|heading up|"
    rf"deliver|delivering) "
    rf"{_OUR}(?:[a-z0-9]+ ){{0,3}}?(?:{_PROJECT_WORK}|projects)\b"
)
# "Who leads a one-off system upgrade?": leading the work is running it, not leadership of people.
_LEAD_THE_WORK = re.compile(
    rf"\b(?:lead|leads|leading|led)(?= {_OUR}(?:[a-z0-9]+ ){{0,3}}?(?:{_PROJECT_WORK}|projects)\b(?! (?:team|teams|crew|staff|people|group)\b))|"
    # "the person leading it", the rollout just named
    r"\b(?:lead|leads|leading|led)(?= (?:it|this|that)\b(?! (?:team|department|dept|staff|crew)\b))"
)
# Words of the role patterns ("head", "rollout", "whoever"): spelling repair must leave them alone.
ROLE_WORDS = frozenset(w for pattern, _ in _ROLE_PATTERNS for w in re.findall(r"[a-z]{3,}", pattern))

_SUFFIXES = ("ational", "ations", "ation", "ings", "ing", "ities", "ity", "ies", "ment", "ments",
             "ers", "er", "ed", "es", "ly", "s")


# "the person heading up IT", "runs tech for a chain of restaurants": the department, said in one word.
# "IT" must be capitals here: "whoever is in charge of it" points at something else.
_RUNS = (
    r"\b(?:(?:[Hh]ead|[Hh]eading|[Hh]eads) up|[Hh]ead of|[Bb]oss of|[Rr]uns|[Rr]unning|[Rr]un|[Mm]anages|[Mm]anaging|"
    r"[Oo]versees|[Oo]verseeing|[Ll]ooks after|[Ll]ooking after|in charge of|responsible for) (?:all (?:of )?)?(?:the |our |their )?"
)
_IT_IN_ONE_WORD = re.compile(
    rf"({_RUNS})(IT|(?i:tech|technology|the computers|computers))\b(?! ?(?i:department|dept|team|project|projects|"
    rf"rollout|support|stack|side|staff|operations|crew|group|function))"
)


def spell_out_the_department(text: str) -> str:
    """Write "IT" or "tech" as the department it names after a verb of running ("heading up IT")."""
    return _IT_IN_ONE_WORD.sub(r"\1\2 department", text)


def normalize(text: str) -> str:
    """Lowercase, fold accents ('café' -> 'cafe') and unicode, punctuation to spaces, collapse whitespace."""
    # NFKD splits 'é' into 'e' and a mark to drop, so the letter survives; casefold also turns 'ß' into 'ss'.
    text = unicodedata.normalize("NFKD", text).casefold()
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = text.replace("’", "'").replace("‘", "'")
    text = re.sub(r"'(s|re|ve|ll|d|m|t)\b", r" \1", text)
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    """Split normalized text into word tokens."""
    return normalize(text).split()


def stem(word: str) -> str:
    """Strip a common English suffix so 'vendors', 'negotiating' and 'negotiate' meet."""
    if word.endswith(("ization", "isation", "izations", "isations")):
        return word.rstrip("s")  # an "organization" is not being "organized"
    if word.endswith("ies") and not word.endswith("ities") and len(word) >= 5:
        return word[:-3] + "y"  # "duties" meets "duty", "policies" meets "policy"
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    if word.endswith("e") and len(word) > 5:
        return word[:-1]
    return word


def content_words(words: Iterable[str], *, keep: frozenset[str] = frozenset()) -> list[str]:
    """Keep the words that can carry a topic: no stop words (except `keep`), no filler, no bare numbers."""
    return [w for w in words if (w not in STOPWORDS or w in keep) and not w.isdigit() and len(w) > 1]


@dataclass(frozen=True)
class RoleMentions:
    """Which roles a text names, and the text with those mentions cut out."""

    roles: tuple[str, ...]
    remainder: str


def find_roles(normalized: str) -> RoleMentions:
    """Find role mentions ("PM", "IT PM", "project manager", "IT manager") in normalized text."""
    found: list[tuple[int, str]] = []
    remainder = f" {normalized} "
    named: set[str] | None = None  # the roles named outright, worked out only when a description is met
    for regex, role, described in _ROLE_REGEXES:
        starts = [match.start() for match in regex.finditer(remainder)]
        found.extend((start, role) for start in starts)
        if described and starts:
            if named is None:
                text = f" {normalized} "
                named = {r for rx, r, d in _ROLE_REGEXES if not d and rx.search(text)}
            if role in named:
                # "Is the IT manager the one responsible for network security?": a description of a role
                # already named says what the question is about, so its words stay.
                continue
        remainder = regex.sub(" ", remainder)
    # ...or set beside a named IT manager: "how leading a new app launch differs from running the computer systems".
    if (not found or (_STRONG_COMPARE.search(normalized) and PM not in {r for _, r in found})) and _LEADS_THE_WORK.search(
        remainder
    ):
        found.append((0, PM))  # the words stay: "how do I manage a project" is still about project management
    roles: list[str] = []
    for _, role in sorted(found):
        if role not in roles:
            roles.append(role)
    return RoleMentions(roles=tuple(roles), remainder=" ".join(remainder.split()))


COMMON_WORD_COUNT = 2000
"""A word seen this often in pyspellchecker's English corpus (1.6 billion words) is a word, not a typo..."""
REAL_WORD_SLIP = 0.01
"""...unless a word one edit away is 1 / this times as common: "dose" is a slip for "does", "pride" is no
slip for "price"."""


@lru_cache(maxsize=1)
def english_word_counts() -> Mapping[str, int]:
    """How often each English word occurs in pyspellchecker's corpus (built from film subtitles).

    Spelling repair uses it to leave real words alone: without it, a question about anything else is
    'repaired' into the knowledge's words ("who wrote pride and prejudice" into "price"). Rare real
    words stay repairable: "manger" is a slip for "manager".
    """
    return dict(SpellChecker(language="en").word_frequency.dictionary)


# Short words a question is built from: a three-letter slip near one of them is that word.
_QUESTION_WORDS = tuple(
    """what who how why when where which does did you your the and for are can need know with about all any
    was has have not our they them this that than then there their his her him will would should could must
    she its out get""".split()
)


_SOUNDS_ALIKE = {"s": "c", "k": "c", "c": "k"}
"""First letters a word spelled by ear may get wrong ("sertification", "komunication"): repaired when the
word is no English word at all."""


class SpellingRepair:
    """Correct words the knowledge does not know to the nearest word it does (rapidfuzz edit distance).

    Short words may be one edit off (a transposition counts as one), words of eight letters or more two.
    Ties go to the word the knowledge uses most, so "mangr" becomes "manager", not "manga".
    `long_only` words are targets only for words of `long_only_length` letters or more: everyday words
    from the synonym map sit one edit from too many ordinary ones ("right" is not a typo of "fight").
    With `english` word counts, a common English word is repaired only to a far more common one.
    """

    def __init__(
        self,
        vocabulary: Mapping[str, int] | Iterable[str],
        *,
        long_only: Iterable[str] = (),
        long_only_length: int = 7,
        english: Mapping[str, int] | None = None,
    ) -> None:
        counts = dict(vocabulary) if isinstance(vocabulary, Mapping) else {w: 1 for w in vocabulary}
        self.frequency = counts
        self.long_only = frozenset(long_only)
        self.long_only_length = long_only_length
        self.english = english or {}
        self.vocabulary = frozenset(counts)
        self._choices = sorted(w for w in self.vocabulary if len(w) >= 3)
        self._cache: dict[str, str] = {}

    @staticmethod
    def max_edits(word: str) -> int:
        return 2 if len(word) >= 8 else 1

    def correct(self, word: str) -> str:
        """Return the known word closest to `word`, or `word` itself when nothing is close enough."""
        if word in self.vocabulary or word in STOPWORDS or len(word) < 3 or word.isdigit():
            return word
        if len(word) == 3:
            return self._correct_short(word)
        if word in self._cache:
            return self._cache[word]
        edits = self.max_edits(word)
        found = process.extract(word, self._choices, scorer=OSA.distance, score_cutoff=edits, limit=8)
        if len(word) < self.long_only_length:
            found = [f for f in found if f[0] not in self.long_only]
        # Typing slips rarely hit the first letter; ordinary words one edit from a known word usually
        # differ there ("stop"/"top", "bits"/"its", "getting"/"setting").
        seen = self.english.get(word, 0)
        found = [f for f in found if f[0][0] == word[0] or (not seen and _SOUNDS_ALIKE.get(word[0]) == f[0][0])]
        if seen >= COMMON_WORD_COUNT:
            found = [f for f in found if self.english.get(f[0], 0) * REAL_WORD_SLIP > seen]
        corrected = word
        if found:
            best = min(found, key=lambda f: (f[1], -self.frequency.get(f[0], 0), f[0]))
            corrected = best[0]
        self._cache[word] = corrected
        return corrected

    def _correct_short(self, word: str) -> str:
        """A three-letter slip is only repaired to a question word ("yuo", "kno", "teh"): to a content word,
        one edit is too little evidence ("car" is no slip for "cat"), and a word people use stays as typed."""
        if self.english.get(word, 0) >= COMMON_WORD_COUNT:
            return word
        found = process.extract(word, _QUESTION_WORDS, scorer=OSA.distance, score_cutoff=1, limit=8)
        found = [f for f in found if f[0][0] == word[0]]
        if not found:
            return word
        return min(found, key=lambda f: (f[1], -self.english.get(f[0], 0), f[0]))[0]

    def learn(self, counts: Mapping[str, int]) -> None:
        """Add words (with how often the knowledge uses them) as correction targets."""
        for word, count in counts.items():
            self.frequency[word] = self.frequency.get(word, 0) + count
        self.long_only = self.long_only - set(counts)
        self.vocabulary = frozenset(self.frequency)
        self._choices = sorted(w for w in self.vocabulary if len(w) >= 3)
        self._cache.clear()

    def correct_text(self, normalized: str) -> str:
        return " ".join(self.correct(w) for w in normalized.split())


class SynonymMap:
    """Add the knowledge's own term beside an everyday phrasing: 'help desk' -> 'technical support'.

    Phrasings match on word stems, so "bosses" meets "boss" and "careers" meets "career".
    """

    def __init__(self, synonyms: Mapping[str, Iterable[str]]) -> None:
        pairs: list[tuple[re.Pattern[str], str, str, str]] = []
        for term, phrases in synonyms.items():
            for phrase in phrases:
                key = normalize(phrase)
                if key:
                    stems = " ".join(stem(w) for w in key.split())
                    first = re.match(r"\w+", stems)
                    pairs.append((re.compile(rf"\b{re.escape(stems)}\b"), normalize(term), key, first[0] if first else ""))
        # Longer phrases first, so "outsourcing partner" is read before "partner".
        pairs.sort(key=lambda pair: -len(pair[0].pattern))
        self._pairs = pairs

    def expand(self, normalized: str) -> str:
        """Return the text with the canonical term of every phrase it contains appended.

        Longer phrases are read first and use up their words, so "people who care about the project"
        means stakeholders only, not also "care about" (focus).
        """
        stems = " ".join(stem(w) for w in normalized.split())
        # A phrase can only match where its first word is one of the text's words: skip the rest unsearched.
        present = set(re.findall(r"\w+", stems))
        added: list[str] = []
        for regex, term, _, first in self._pairs:
            if first and first not in present:
                continue
            if regex.search(stems):
                added.append(term)
                stems = regex.sub("|", stems)
        added = list(dict.fromkeys(added))
        return " ".join([normalized, *added]) if added else normalized

    def words(self) -> set[str]:
        """Every word on either side of the map: all of them count as known to the knowledge."""
        found: set[str] = set()
        for _, term, phrase, _ in self._pairs:
            found.update(term.split())
            found.update(phrase.split())
        return found


_STRONG_COMPARE = re.compile(
    r"\b(?:vs|versus|compare|compared|compares|comparing|comparison|differ|differs|differed|difference|"
    r"differences|different|differently|distinguish|distinguishes|contrast|apart|similar|similarity|"
    r"similarities|alike|diff|both|stack up|stacks up|measure up|measures up|two roles|2 roles|each role|which role|each of them|each one|each of the two|each job|which one|two jobs|the two|them both|same job|same thing|"
    r"side by side|each path|each career|each option|both paths|both careers|either path|"
    r"(?<!that )(?<!this )(?<!for the )(?<!in the )same role|same as|one and the same|also the one|same person|same people)\b"
)
# Whether the two are different jobs at all, rather than how they differ on something: "two different kinds of
# tech boss, is that true?", "are they the same job?", "why would a company need two different people?"
_WHETHER_DIFFERENT = re.compile(
    r"\b(?:different|another|separate|distinct) (?:kinds? of |types? of |sorts? of )?(?:role|roles|job|jobs|people|"
    r"person|positions?|titles?|bosses|tech bosses|careers?|professions?|occupations?)\b|"
    r"\b(?<!that )(?<!this )same (?:person|title|job|role|thing|people|position)\b|\bone and the same\b|"
    r"\b(?:two|2) (?:different |separate |distinct )?(?:kinds|types|sorts) of\b|"
    r"\b(?:two|2) different (?:people|jobs|roles|positions|titles)\b|"
    r"\bdifference between (?:these|those|the) (?:two|2) (?:jobs|roles|positions|titles)\b(?! in| on| when)|"
    r"\b(?:nearly|almost|basically) (?:identical|the same)\b|\bwhat separates\b|\b(?:real|any|overall|main|key|big|biggest) difference\b|"
    r"\bsame (?:kind|sort|type) of (?:work|job|role)\b|\bdifferent (?:names|titles|labels)\b|\bswap\b"
)
# Where the asker works, not what anyone studied: "the head of tech at our university" ("a university degree" stays).
_WORKPLACE = re.compile(
    r"\b(at|our|my|the|this|that|their|his|her|a|an) (?:primary |secondary |high |local |big |small )?"
    r"(?:university|college|school|uni)\b(?! (?:degree|degrees|diploma|education|course|courses|studies|study|report|project|projects|assignment|homework|"
    r"essay|paper|presentation|student|students|kid|kids))"
)
# How to say it, not what about: "what's her job in plain words?"
_PLAINLY = re.compile(r"\bin (?:plain|simple|layman s|laymans|everyday|normal) (?:words|terms|english|language)\b")
# An aside that drops the last question: "ok never mind. what does an IT PM do then?"
_ASIDE = re.compile(r"\b(?:never mind|nevermind|forget that|forget it|scratch that)\b")
# The gist of how they differ, when they are set side by side: "sum up in plain terms how...", "tl;dr please".
_GIST = re.compile(
    r"\b(?:sum up|sum it up|summed up|tl dr|tldr|gist|nutshell|bottom line|short version|in plain terms|in short)\b"
)
# Why people take one for the other: what the article's introduction is about.
_MIXED_UP = re.compile(
    r"\binterchangeabl\w*\b|\bmix(?:es|ing)? (?:\w+ ){0,3}?up\b|\bmixed up\b|\btwo names for\b|"
    r"\bconfus(?:e|es|ed|ing) (?:them|the two|these|those|the roles|the jobs|one with)\b|\bget confused\b"
)
_OTHER_ROLE = re.compile(r"\b(?:other one|other role|other job|other position|the other|opposite role)\b")
# Words that point back at a role already talked about.
_POINTERS = (
    r"they|their|them|theirs|he|she|his|her|that role|this role|that job|this job|that person|this person|"
    r"that guy|this guy|that woman|that man|that lady"
)
_PRONOUN = re.compile(rf"\b(?:{_POINTERS})\b")
# Advice to one person: "what should she be doing differently?" compares nothing.
_ADVICE_DIFFERENTLY = re.compile(r"\b(?:should|could|would|must|can|ought to|need to|needs to)\b.*\bdifferently\b")
# One person: "what should she be doing differently?" compares nothing, unless a role is named beside her.
_ONE_PERSON = re.compile(r"\b(?:he|she|him|her|his|hers)\b")
# "the person who heads IT" describes someone; only a "who" that follows no such noun asks who.
_RELATIVE_AFTER = (
    "person guy gal woman lady man one someone somebody people folks colleague colleagues boss friend contractor "
    "staff team crew manager lead leader employee employees member members those anyone everyone everybody anybody"
).split()
_NOT_RELATIVE = "".join(rf"(?<!\b{word} )" for word in _RELATIVE_AFTER)
_ASKS_WHO = re.compile(
    rf"{_NOT_RELATIVE}\b(?:who|whose)\b|^(?:(?:ok|okay|so|and|but|then)\s)*(?:which role|which of them|which one)\b"
)
_OPENER = r"^(?:and|also|what about|how about|same|ok and|okay and|what of|and what about|and how about)\b"
_FOLLOW_UP = re.compile(rf"{_OPENER}|\b(?:{_POINTERS}|those)\b")


# Question forms the knowledge can never answer, whatever their words: step-by-step how-tos for tools,
# product picks, and prices. (It describes two roles; it has no procedures, products or figures.)
_DECLINE = re.compile(
    r"^(?:how (?:do|can|should|would) (?:i|we|you) |how to |steps to |help me )"
    r"(?:set up|setup|install|configure|reset|connect|cook|bake|draw(?! up)|format|export|import|delete|recover|calculate|compute|"
    r"back up|backup|restore|migrate my|encrypt|"
    r"upgrade my|update my|fix my|fix this|fix the|(?:organise|organize|plan|throw|run) an? (?:\w+ ){0,2}?(?:day|party|"
    r"event|offsite|retreat|celebration|lunch|dinner)|(?:make|create|build) an? (?:\w+ )?(?:chart|board|table|"
    r"spreadsheet|graph|diagram|website|web site|app|video|pivot|formula|macro|script|database|server))\b|"
    r"(?:\b(?:best|top|cheapest|recommended|free) (?:\w+ ){0,3}?|"
    # "a good fit for running software rollouts", "good with computers": a person, not a product
    r"\b(?:good|great|decent) (?:(?!(?:fit|with|as|at|for|in|to|enough|about)\b)\w+ ){0,2}?)"
    r"(?:software|tool|tools|app|apps|laptop|laptops|computer|computers|phone|phones|platform|platforms|brand|"
    r"brands|course|courses|bootcamp|bootcamps|book|books|website|websites|vendor for|crm|erp|university|universities|"
    r"college|colleges|degree program|degree programs|degree programme|degree programmes)\b"
    r"(?! (?:department|dept|team|side|people|staff|section|unit|crew|folks|guy|person|boss|head|manager|science|"
    r"sciences|skills|literacy)\b)|"
    r"\bhow much (?:does|do|is|are|would|will|did) (?:\w+ ){0,5}?(?:cost|costs|charge|charges|earn|earns|make|"
    r"makes|pay|paid|get paid)\b|\b(?:price|prices|pricing|salary|salaries|wage|wages) of\b|"
    r"\bhow many (?:\w+ ){0,4}?(?:are there|exist)\b|"
    # The asker's own career moves and job hunt: promotions, raises, openings, "is it too late for me".
    r"\b(?:i|me|my|myself) (?:\w+ ){0,4}?(?:get promoted|be promoted|getting promoted|promotion)\b|"
    r"\bpromot(?:ed|ion) from\b|\b(?:visa|visas|work permit|work permits|immigration|immigrate|green card)\b|\bwhich (?:\w+ )?(?:university|universities|college|colleges|school|schools|uni)\b(?! (?:degree|degrees|course|courses))|"
    # Predictions for a year to come ("what will tech jobs look like in 2035?") and how to run a team ritual.
    r"\b(?:in|by) 20[3-9][0-9]\b|\bbest way to (?:run|hold|do|facilitate) an? (?:\w+ )?(?:stand up|standup|"
    r"retro|retrospective|sprint|scrum|meeting|workshop)\b|"
    # Workplace advice about the asker's own boss or colleague, and security or purchase how-tos.
    r"\bhow (?:do|can|should) i (?:deal|cope|work|get along) with (?:a|my|our) (?:\w+ )?(?:boss|manager|coworker|"
    r"co worker|colleague|teammate)\b|"
    r"\bhow (?:do|can|should) (?:i|we) (?:stop|block|prevent|filter|detect|remove|get rid of) (?:\w+ ){0,2}?"
    r"(?:phishing|spam|malware|virus|viruses|ransomware|hackers|attacks|scam|scams)\b|"
    r"\bwhich (?:\w+ ){1,3}?(?:should|do|can|could) (?:i|we|you|our \w+|my \w+) (?:buy|purchase|order)\b|\b(?:path|route|progression|ladder|step|jump|move|progress) (?:\w+ ){0,5}?(?:to|into) "
    r"(?:a |an |the )?(?:cio|cto|ceo|ciso|coo|cfo|vp|vice president|chief \w+ officer|it director|director|"
    r"the board|c suite|executive)\b|"
    r"\b(?:career path|career paths|next step|next steps|next move|next role|next job) (?:\w+ ){0,2}?after\b|"
    r"\b(?:pay rise|a raise|too late for me|too old|job openings|"
    r"vacancies|vacancy)\b|\b(?:which|what) (?:companies|employers|firms) (?:are )?hiring\b|"
    # Contact details and interview questions: "what's their email address", "common interview questions".
    r"\b(?:email address|e mail address|phone number|contact details|mobile number|opening hours|dress code)\b|"
    r"\binterview questions?\b|\b(?:buy or lease|lease or buy|rent or buy|buy or rent)\b|"
    # An MBA (the article never mentions one), age limits, and what the asker's own office's policy says.
    r"\bmbas?\b|\b(?:minimum|maximum) age\b|\bage limits?\b|\bwhat (?:s|is|are) (?:our|my) (?:\w+ )?polic(?:y|ies) (?:on|for|about)\b|"
    r"\b(?:what does|does) (?:the )?gdpr (?:require|say|mean)\b|\bunder (?:the )?gdpr\b|"
    # Rankings of schools: "which universities have the best MBA programs?"
    r"\b(?:which|best|top|good|cheapest) (?:\w+ )?(?:universities|colleges|schools|business schools|programs|"
    r"programmes)\b|"
    # A product to buy: "which antivirus should our company buy?"
    r"\b(?:which|what) (?:\w+ ){0,3}?(?:should|do|would|can) (?:i|we|you|my company|our company|the company|"
    r"our team|my team) (?:buy|purchase|install|subscribe to|go with)\b|"
    # Facts about the world and how people feel in a job: "who is the CEO of Microsoft", "are they happy".
    r"\bwho (?:is|s|was) the (?:ceo|cfo|cto|cio|founder|president|owner|chairman|prime minister) of\b|"
    r"\bwho (?:founded|cofounded|co founded|invented|discovered)\b|\b(?:tell|know|got) (?:me |us )?(?:a |any |another )?(?:\w+ )?jokes?\b|"
    # Exam logistics: "what are the eligibility requirements to sit the PMP exam?"
    r"\beligib\w*\b|\bexam (?:fee|fees|cost|costs|price|date|dates|format|results|centre|center|voucher)\b"
    r"(?! (?:system|systems|app|software|platform|portal|website|tool)\b)|"
    r"\b(?:retake|reschedule|register for) (?:the |my |an? )?(?:\w+ )?exam\b|"
    r"\bhow many people (?:work|are employed|are working)\b|\bhappy (?:in|with) (?:their|the|his|her|my) jobs?\b|"
    r"\bjob satisfaction\b|"
    # HR policies and safety advice: "parental leave", "do they reimburse", "is it safe to use public wifi".
    r"\b(?:parental|maternity|paternity|sick|annual|compassionate|unpaid) leave\b|\bleave policy\b|"
    r"\bsick (?:pay|days)\b|\breimburse\w*\b|\bexpense (?:claim|claims|policy)\b|\bis it safe to\b|"
    # Law, tax, statistics, budgets' figures and building safety: "what are the GDPR fines", "the burnout rate".
    r"\b(?:tax rates?|taxes|income tax|fines|gdpr fine|penalty|penalties|notice period|legally|is it legal|"
    r"legal requirements?|statistics|percentage of|fire drills?|fire safety|fire alarms?|health and safety|first aid|"
    r"refunds?|warrant(?:y|ies)|money back)\b|"
    r"\b(?:burnout|failure|success|pass|dropout|unemployment) rates?\b|\b(?:ratio|ratios|benchmark|benchmarks|per employee)\b|"
    r"\b(?:law|laws|legal|rules|regulations) (?:\w+ ){0,5}?in (?:the )?(?:uk|us|usa|eu|europe|germany|france|canada|"
    r"australia|india)\b|"
    r"\bhow much (?:should|do|would|will) (?:i|we|you) (?:budget|spend|set aside)\b|"
    r"\bwill (?:ai|automation|robots|chatgpt) (?:\w+ )?(?:replace|take over)\b|"
    r"\b(?:ai|automation|robots|chatgpt) (?:will|going to|gonna) (?:\w+ )?(?:replace|take over)\b|"
    # About the bot itself: "do you ever get bored?"
    r"^(?:do|are|can|have|did|will|would) you (?:ever )?(?:get bored|get tired|feel|sleep|dream|eat|have feelings|"
    r"have a name|have friends|like me|love me)\b|"
    # Reporting lines: who the roles answer to is not in the knowledge.
    r"\breports? (?:directly )?(?:to|into) (?:the |a |an )?(?:ceo|cfo|cio|cto|coo|board|director|directors|vp|"
    r"vice president|owner|founder|president|md|managing director)\b|"
    r"\b(?:who|whom) (?:\w+ ){0,5}?reports? (?:directly )?(?:to|into)$|\breporting lines?\b|\breports? to whom\b|"
    r"\bhow many (?:people|staff|employees|reports) (?:\w+ ){0,2}?report\b|\bdirect reports\b|"
    # The job market and how long things take: figures the knowledge does not give.
    r"\bjob (?:outlook|market|prospects)\b|\bjobs? (?:open|available|out there)\b|"
    r"\b(?:lots of|many|any) (?:\w+ ){0,3}jobs\b|\bdemand for\b|\bhow long (?:does|will|would|did) it take\b|"
    # Tasks, not questions: "summarize this email", "can you draft a risk register".
    r"^(?:please |pls |can you |could you |would you |will you )?(?:write|draft|generate|"
    r"translate|schedule|book|send|remind|calculate|compute|proofread|rewrite|make me|create me|build me|"
    r"design me|fill in|fill out|order)\b|"
    r"^(?:please |pls |can you |could you )?(?:open|raise|log|file|submit) (?:a |an |my |the )?"
    r"(?:ticket|request|case|incident)\b"
)

# A word spelled as it sounds, told apart by what follows: "the roll of an IT manager" is its role.
_HOMOPHONES = ((re.compile(r"\broll(s?)\b(?= (?:of|in|as|for|and|description|descriptions)\b)"), r"role\1"),)


def _sound_out(text: str) -> str:
    for pattern, replacement in _HOMOPHONES:
        text = pattern.sub(replacement, text)
    return text


# "What is X?", "explain how X works": a definition, which the knowledge gives only of its own terms.
_DEFINITION = re.compile(
    r"^(?:so |ok |okay |and |but |hey |hi )?(?:(?:can|could) you )?(?:please )?"
    r"(?:what (?:is|s|are|re) (?:a |an |the )?|whats (?:a |an |the )?|define |definition of |meaning of |"
    r"explain (?:what |how )?(?:a |an |the )?|walk me through |tell me (?:what|about) )"
    r"|\bhow (?:does|do) (?:a |an |the )?(?:\w+ ){1,3}work\b"
)


# The asker's own broken thing: "my password expired and now I'm locked out", a support request, when no role
# is asked about ("my laptop keeps crashing, does the IT manager handle that?" asks about the role).
_MY_TECH_PROBLEM = re.compile(
    r"\b(?:my|i m|i am|i ve|i)\b (?:\w+ ){0,4}?(?:locked out|expired|broken|crashed|not working|stopped working|"
    r"won t (?:start|turn on|connect|print|load|open)|keeps (?:crashing|freezing|disconnecting|dropping))\b|"
    r"\b(?:keeps (?:crashing|freezing|disconnecting|dropping)|stopped working|not working) (?:\w+ ){0,2}?(?:on my|my|for me)\b"
)


# "Summarize this email" is a task; "summarize how the two roles differ" is what the knowledge is for.
_SUMMARIZE = re.compile(r"^(?:please |pls |can you |could you |would you |will you )?(?:summarize|summarise)\b")


# Jobs other than the two roles, and questions about such a job itself: "what does a UX designer do",
# "qualifications of a nurse", "how do I become a solutions architect". The knowledge describes two roles.
_OTHER_JOB = (
    r"(?:(?:software|web|data|network|security|cybersecurity|cyber security|infosec|cloud|devops|qa|ux|ui|solution|"
    r"solutions|business|systems|junior|senior|principal|registered|certified|chartered|help desk|helpdesk|desktop|"
    r"enterprise|database|site reliability|machine learning|ai|game|graphic|mobile|frontend|backend|full stack|head|"
    r"assistant|deputy) )?"
    r"(?:developer|developers|programmer|programmers|engineer|engineers|designer|designers|architect|architects|"
    r"analyst|analysts|scientist|scientists|administrator|administrators|sysadmin|sysadmins|tester|testers|"
    r"nurse|nurses|doctor|doctors|teacher|teachers|lawyer|lawyers|accountant|accountants|consultant|"
    r"consultants|recruiter|recruiters|technician|technicians|scrum master|scrum masters|product owner|"
    r"product owners|product manager|product managers|cto|cio|ceo|cfo|coo|ciso|dba|dbas|coordinator|"
    r"coordinators|specialist|specialists|pilot|pilots|chef|chefs)"
)
# Words that hint at a role without naming it: a one-off piece of work, or the standing department.
_PROJECT_HINT = re.compile(
    rf"\b(?:{_PROJECT_WORK}|projects|one off|one time|deadline|deadlines|go live|goes live|kickoff|kick off|delivery)\b|"
    # Hired for a while, to get one thing going: "took someone on for one year only", "a short-term crew".
    r"\b(?:for|on) (?:a |one |two |three |six |nine |\d+ )?(?:year|years|month|months) only\b|"
    r"\b(?:short term|fixed term|temporary|temp) (?:contract|hire|role|job|crew|team|post|position)\b|"
    r"\b(?:get|gets|getting|got) (?:[a-z0-9]+ ){1,5}?(?:up and running|live)\b|"
    # Putting a new thing in place: "the crew building our new website", "moving our lab onto new sample software".
    r"\b(?:building|build|moving|move|putting|installing|launching|rolling|switching|onto|into) (?:[a-z0-9]+ ){0,5}?new "
    r"(?:[a-z0-9]+ )?(?:system|systems|software|website|platform|app|portal|tool|crm|erp)\b"
)
_DEPARTMENT_HINT = re.compile(
    rf"\b(?:{_IT_UNIT}|tech department|whole company|company wide|servers|network|help desk|helpdesk|service desk|"
    rf"day to day operations|infrastructure)\b"
)
# Work of the two roles, named without the role: "do I need to be a programmer to run IT projects?"
_ROLE_WORK = re.compile(rf"\b(?:{_PROJECT_WORK}|projects|{_IT_UNIT})\b")
_JOB = re.compile(rf"\b{_OTHER_JOB}\b")
# Words that set one thing beside another ("the same as", "different from"), not "do it differently".
_SET_BESIDE = re.compile(
    r"\b(?:same as|vs|versus|difference between|different from|differ from|differs from|compared (?:to|with)|"
    r"compare|than)\b"
)
_ABOUT_OTHER_JOB = re.compile(
    rf"\b(?:become|becoming|be) (?:a |an )?(?:[a-z]+ ){{0,2}}?{_OTHER_JOB}\b|"
    rf"\b(?:role|job|duties|responsibilities|salary|pay|skills|qualifications|career|day|work) (?:of|for) "
    rf"(?:a |an |the )?{_OTHER_JOB}\b|"
    rf"\b(?:a|an|the|do|does|should|must) {_OTHER_JOB} (?:actually |really |usually |typically )?(?:do|does|need|needs|earn|earns|make|makes|require|"
    rf"requires|have|know)\b|"
    rf"\b{_OTHER_JOB} s? (?:role|job|duties|responsibilities|salary|skills|qualifications|career|typical day|day|week|"
    rf"routine)\b"
)


_BOTH_ROLES_WORDS = frozenset("two both roles jobs positions them these those".split())
# Words that describe one of the roles rather than a third thing: "leading a project vs leading a department".
_ROLE_SIDE_WORDS = frozenset("project projects department departments team teams operations role roles job jobs".split())


def _role_hint(text: str) -> str | None:
    project, department = bool(_PROJECT_HINT.search(text)), bool(_DEPARTMENT_HINT.search(text))
    return PM if project and not department else ITM if department and not project else None


# "which is better / which should I pick": with "X or Y" around it, a pick between two things.
_PICK = re.compile(
    r"\bwhich\b.*\b(?:better|best|prefer|choose|pick|recommend|go with)\b|\b(?:better|best)\b.*\bwhich\b"
)


_CHOOSING = re.compile(r"\b(?:choose|choosing|decide|deciding|pick|picking|torn|prefer|changed|change)\b")


def _is_thing(word: str) -> bool:
    return word not in STOPWORDS and word not in _ROLE_SIDE_WORDS and not word.isdigit()


def compares_other_things(remainder: str, roles: Sequence[str]) -> bool:
    """Whether a question sets something other than the two roles side by side.

    "agile vs waterfall", "IT manager vs CTO", "difference between an IT manager and a CIO": with role
    mentions already taken out, a word left beside "vs" or inside "between ... and ..." is a third thing,
    and the knowledge compares only the two roles. A question naming both roles never counts.
    """
    if len(roles) >= 2:
        return False
    words = remainder.split()
    if _PICK.search(remainder):  # "Jira or Asana, which is better?": a pick between two other things
        for i, word in enumerate(words[1:-1], start=1):
            if word == "or" and all(_is_thing(w) for w in (words[i - 1], words[i + 1])):
                return True
    if _ROLE_SIDE_WORDS.intersection(words):
        return False  # the question is about the roles, whatever else it sets beside them

    def side(found: Iterable[str]) -> bool:
        for word in list(found)[:3]:
            if word in ("and", "vs", "versus", "or"):
                return False
            if word not in STOPWORDS and not word.isdigit():
                return True
        return False

    # "between the kickoff and the wrap-up" is a stretch of time: only a difference or a choice sets two apart.
    weighs = bool(_STRONG_COMPARE.search(remainder) or _PICK.search(remainder) or _CHOOSING.search(remainder))
    for i, word in enumerate(words):
        if word in ("vs", "versus") and (side(reversed(words[:i])) or side(words[i + 1 :])):
            return True
        if word == "between" and "and" in words[i + 1 : i + 5] and weighs:
            j = words.index("and", i + 1)
            if _BOTH_ROLES_WORDS.intersection(words[i + 1 : j]):
                continue  # "between the two roles and ...".
            if side(words[i + 1 : j]) or side(words[j + 1 :]):
                return True
    return False


@dataclass(frozen=True)
class Reading:
    """What the engine reads from a question before it looks anything up."""

    original: str
    normalized: str
    corrected: str
    roles: tuple[str, ...]
    remainder: str
    expanded: str
    content: tuple[str, ...]
    known: tuple[str, ...]
    compare_cue: bool
    other_role: bool
    follow_up_cue: bool
    repaired: frozenset[str] = frozenset()
    """Words that spelling repair produced (the corrected forms)."""
    decline_cue: bool = False
    """The question asks for a how-to, a product pick or a price: nothing the knowledge holds."""
    compares_other: bool = False
    """The question compares something other than the two roles ("agile vs waterfall")."""
    asks_who: bool = False
    """The question asks which role does something ("who handles vendors?"), not about one already named
    ("who do they report to?"): the answer may be either role, so none is inherited from the conversation."""
    role_hint: str | None = None
    """The role the question's work points to when it names none: PM for a rollout, ITM for the department."""
    other_job: bool = False
    """The question is about another job and names neither role ("what does a UX designer do")."""
    whether_different: bool = False
    """The question asks whether the two are different jobs at all, not how they differ on one thing."""
    mixed_up: bool = False
    """...or why people take one for the other ("why do people mix them up?")."""
    asks_definition: bool = False
    """The question asks what a thing is, with no role, no comparison and no work of either role in it
    ("what is technical debt?", "explain how a Kanban board works")."""

    @property
    def unknown(self) -> tuple[str, ...]:
        return tuple(w for w in self.content if w not in self.known)

    @property
    def known_ratio(self) -> float:
        """Share of the content words the knowledge knows; a word known only after repair counts half."""
        if not self.content:
            return 0.0
        repaired = sum(1 for w in self.known if w in self.repaired)
        return (len(self.known) - 0.5 * repaired) / len(self.content)


class QuestionReader:
    """Turn raw text into a Reading: repair spelling, find roles, add synonyms, mark known words."""

    def __init__(
        self, vocabulary: Mapping[str, int], synonyms: SynonymMap, *, extra_spellings: Iterable[str] = ()
    ) -> None:
        """`vocabulary` is what the knowledge knows; `extra_spellings` are words only worth spelling right."""
        self.synonyms = synonyms
        counts = dict(vocabulary)
        for word in synonyms.words() | CHAT_WORDS:
            counts.setdefault(word, 1)
        self.known_stems = frozenset(stem(w) for w in counts)
        for word in [*extra_spellings, *ROLE_WORDS]:
            counts.setdefault(word, 0)
        self.spelling = SpellingRepair(
            counts, long_only=set(counts) - set(vocabulary), english=english_word_counts()
        )
        self._readings: dict[str, Reading] = {}

    def learn(self, texts: Iterable[str]) -> None:
        """Know the words of new knowledge: spell toward them and count them as known."""
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(tokens(text))
        self.spelling.learn(counts)
        self.known_stems = self.known_stems | {stem(w) for w in counts}
        self._readings = {}  # readings depend on what the knowledge knows

    def read(self, text: str) -> Reading:
        """Read a text; the same text is read once (a question passes retrieval, classifier and planning)."""
        reading = self._readings.get(text)
        if reading is None:
            if len(self._readings) >= 8192:
                self._readings.clear()
            reading = self._readings[text] = self._read(text)
        return reading

    def _read(self, text: str) -> Reading:
        normalized = _WORKPLACE.sub(r"\1 workplace", normalize(spell_out_the_department(text)))
        corrected = _sound_out(self.spelling.correct_text(normalized))
        mentions = find_roles(corrected)
        remainder = _LEAD_THE_WORK.sub("run", _ASIDE.sub(" ", _PLAINLY.sub(" ", mentions.remainder)))
        mentions = RoleMentions(mentions.roles, " ".join(remainder.split()))
        expanded = self.synonyms.expand(mentions.remainder)
        content = tuple(content_words(mentions.remainder.split()))
        if not content and expanded != mentions.remainder:
            # Only a phrase the synonym map knows ("what should that person be good at?"): its term is the topic.
            content = tuple(content_words(expanded[len(mentions.remainder) :].split()))
        known = tuple(w for w in content if stem(w) in self.known_stems)
        return Reading(
            original=text,
            normalized=normalized,
            corrected=corrected,
            roles=mentions.roles,
            remainder=mentions.remainder,
            expanded=expanded,
            content=content,
            known=known,
            compare_cue=bool(_STRONG_COMPARE.search(_ADVICE_DIFFERENTLY.sub(" ", corrected)))
            and bool(mentions.roles or not _ONE_PERSON.search(corrected)),
            other_role=bool(_OTHER_ROLE.search(corrected)),
            follow_up_cue=bool(_FOLLOW_UP.search(corrected)),
            repaired=frozenset(c for n, c in zip(normalized.split(), corrected.split()) if n != c),
            decline_cue=bool(_DECLINE.search(normalized))
            or bool(not mentions.roles and _MY_TECH_PROBLEM.search(normalized) and not _ASKS_WHO.search(normalized))
            or bool(_SUMMARIZE.search(normalized) and not mentions.roles and not _STRONG_COMPARE.search(corrected)),
            # "is a product manager the same as a project manager?": a role set beside another job.
            compares_other=compares_other_things(mentions.remainder, mentions.roles)
            or (len(mentions.roles) == 1 and bool(_SET_BESIDE.search(corrected)) and bool(_JOB.search(mentions.remainder))),
            asks_who=bool(_ASKS_WHO.search(corrected)) and not _PRONOUN.search(corrected),
            role_hint=_role_hint(corrected) if not mentions.roles else None,
            whether_different=bool(
                _WHETHER_DIFFERENT.search(corrected)
                or _MIXED_UP.search(corrected)
                or (_GIST.search(corrected) and (len(mentions.roles) == 2 or _STRONG_COMPARE.search(corrected)))
            )
            and not re.search(_OPENER, corrected)
            and not _ASKS_WHO.search(corrected),
            mixed_up=bool(_MIXED_UP.search(corrected)),
            asks_definition=(
                not mentions.roles
                and bool(_DEFINITION.search(corrected))
                and not re.search(r"\blike\b", corrected)  # "what's a typical week like?" describes work
                and len(content_words(mentions.remainder.split())) <= 4
                and not _STRONG_COMPARE.search(corrected)
                and not _ROLE_WORK.search(corrected)
                and not _PROJECT_HINT.search(corrected)
                and not _DEPARTMENT_HINT.search(corrected)
                and not _FOLLOW_UP.search(corrected)
            ),
            other_job=(
                not mentions.roles
                and not _ROLE_WORK.search(corrected)
                and bool(_ABOUT_OTHER_JOB.search(corrected))
            ),
        )
