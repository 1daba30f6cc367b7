"""The answer engine: one call, `Engine.ask(text, conversation) -> Answer`, shared by every channel."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Sequence

from bot.classifier import MAX_LABELS, OUT_OF_SCOPE, PassageClassifier
from bot.intents import Intent, IntentMatch, IntentMatcher, check_references, load_intents
from bot.knowledge import ROLES, KnowledgeBase, Passage, load_knowledge, topic_title
from bot.language import (
    COMPARE_WORDS,
    ITM,
    PM,
    SETTING,
    QuestionReader,
    Reading,
    SynonymMap,
    content_words,
    normalize,
    stem,
    tokens,
)
from bot.retrieval import Hit, Retriever

KINDS = ("intent", "retrieval", "comparison", "smalltalk", "fallback")
BOTH_ROLES = (PM, ITM)

# Filler words that still tell an out-of-scope question apart: asking for a product pick, a number, a price.
DECLINE_CUES = frozenset("best better good much many make".split())


def _passage_texts(passages: Iterable[Passage]) -> Iterable[str]:
    """Every text the knowledge speaks in: passage bodies and their alternate questions."""
    return (text for passage in passages for text in (passage.text, *passage.questions))


@dataclass(frozen=True)
class Thresholds:
    """The engine's decision points. Defaults were tuned on the `dev` question split only."""

    min_score: float = 0.12
    """Below this best-passage score the answer is a fallback."""
    weak_score: float = 0.30
    """Below this score, a question whose words the knowledge mostly does not know is a fallback."""
    min_known_ratio: float = 0.5
    """Share of a question's content words the knowledge must know, when the score is weak."""
    smalltalk_cutoff: float = 86.0
    """rapidfuzz score (0-100) a message needs to count as small talk."""
    intent_cutoff: float = 88.0
    """rapidfuzz score (0-100) a question needs to be routed by an intent."""
    min_negative_score: float = 0.3
    """An out-of-scope example must match at least this well to decline a question."""
    negative_margin: float = 1.15
    """...and better than the best passage times this..."""
    negative_agreement: float = 0.25
    """...and the classifier's out-of-scope probability must reach this times its best passage's."""
    low_confidence: float = 0.5
    """Answers below this confidence carry "did you mean" suggestions."""
    pair_ratio: float = 0.85
    """With no role named, show both roles when the second scores this close to the first."""
    other_role_factor: float = 0.7
    """Score multiplier for a passage about the role the question did not name."""
    inherited_role_factor: float = 0.85
    """Score multiplier for the other role when the role only comes from the conversation."""
    paired_topic_ratio: float = 0.75
    """A comparison whose best topic lacks one role's passage moves to the best topic with both, if it scores
    at least this share of the first."""
    both_roles_factor: float = 0.85
    """Score multiplier for a passage about both roles (the conclusion) when the question is about one."""
    coverage_power: float = 0.5
    """Before the fallback checks, the best score is scaled by (known share of the question) ** this."""
    classifier_weight: float = 0.3
    """Each passage's score gains this times the classifier's probability for it."""
    max_out_of_scope: float = 0.25
    """A question the classifier gives at least this out-of-scope probability is a fallback..."""
    role_agreement: float = 0.5
    """...if it names no role; one that does needs this share of the classifier's best passage probability too."""
    min_own_share: float = 0.5
    """A question with less than this share of its topic words in the passages' texts or the synonym map..."""
    unfamiliar_out_of_scope: float = 0.1
    """...is a fallback when the classifier gives out of scope this much."""
    min_trained_questions: int = 3
    """The classifier's out-of-scope vote counts only when the best passage has this many alternate questions."""
    hinted_role_factor: float = 0.7
    """With no role named, passages for the role the question's work does not point to are scaled by this."""
    sure_vote: float = 0.5
    """A classifier probability this high for a passage (and `sure_vote_margin` times out of scope)..."""
    sure_vote_margin: float = 4.0
    """...keeps a question mostly in unfamiliar words from falling back for that alone."""
    named_topic_ratio: float = 0.5
    """A passage whose topic the question names word for word wins over a better-scoring one it does not name,
    if it scores at least this share of it."""
    follow_up_topic_factor: float = 1.3
    """Score multiplier, in a follow-up ("how do they pick one?"), for passages on the conversation's topic."""
    named_topic_over_both_ratio: float = 0.3
    """...or this share, when the better-scoring passage is one about both roles (the overview, the conclusion)."""


_SKILLS = stem("skills")


@dataclass(frozen=True)
class Source:
    """Where an answer came from: a passage and how well it matched."""

    id: str
    role: str | None
    topic: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "role": self.role, "topic": self.topic, "score": round(self.score, 4)}


@dataclass(frozen=True)
class Section:
    """One titled block of an answer: a passage's text under its role and topic."""

    title: str
    text: str
    passage_id: str | None = None


@dataclass(frozen=True)
class Answer:
    """A complete reply: what to say, what kind of answer it is, and where it came from."""

    question: str
    kind: str
    sections: tuple[Section, ...]
    confidence: float
    sources: tuple[Source, ...] = ()
    suggestions: tuple[str, ...] = ()
    intent: str | None = None
    note: str | None = None
    topic: str | None = None
    roles: tuple[str, ...] = ()
    candidates: tuple[Source, ...] = ()

    @property
    def text(self) -> str:
        """The answer as plain text, without the source line."""
        parts = []
        if self.note:
            parts.append(self.note)
        for section in self.sections:
            parts.append(f"{section.title}\n{section.text}" if section.title else section.text)
        if self.suggestions:
            parts.append("You could ask:\n" + "\n".join(f"- {s}" for s in self.suggestions))
        return "\n\n".join(parts)

    @property
    def citation(self) -> str:
        """A one-line source line: which passages, by role and topic."""
        if not self.sources:
            return ""
        cited = [f"{s.id} ({ROLES.get(s.role or '', 'both roles')}, {topic_title(s.topic)})" for s in self.sources]
        return "Source: " + "; ".join(cited)

    @property
    def low_confidence(self) -> bool:
        return self.kind == "fallback" or bool(self.suggestions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "kind": self.kind,
            "confidence": round(self.confidence, 4),
            "sources": [s.to_dict() for s in self.sources],
            "suggestions": list(self.suggestions),
        }


# Words that frame a comparison of the two roles without naming what to compare them on.
_NO_TOPIC = frozenset("nutshell short brief quick quickly simple simply main basic basically real really".split())


@dataclass
class Conversation:
    """What the engine remembers between turns of one chat: the topic and roles last answered."""

    topic: str | None = None
    roles: tuple[str, ...] = ()
    last: Answer | None = None
    turns: int = 0
    history: list[Answer] = field(default_factory=list)

    def remember(self, answer: Answer) -> None:
        self.turns += 1
        self.last = answer
        self.history = [*self.history[-19:], answer]
        if answer.topic is not None:
            self.topic = answer.topic
            self.roles = answer.roles
        elif answer.roles:  # "we're hiring our first IT manager." fell back, but "their scope?" is about that role
            self.roles = answer.roles

    def reset(self) -> None:
        self.topic, self.roles, self.last, self.turns, self.history = None, (), None, 0, []


@dataclass(frozen=True)
class _Plan:
    """What the engine decided to answer, before it is written out."""

    topic: str | None
    roles: tuple[str, ...]
    compare: bool = False
    intent: IntentMatch | None = None
    follow_up: bool = False


class Engine:
    """Answer questions from a knowledge base: intents first, then TF-IDF retrieval, then fallback."""

    def __init__(
        self,
        knowledge: KnowledgeBase,
        intents: Sequence[Intent] = (),
        *,
        thresholds: Thresholds = Thresholds(),
        model_cache: Path | None = None,
    ) -> None:
        """`model_cache` is a folder where fitted classifiers are kept, so a new process need not refit."""
        check_references(intents, knowledge)
        self.thresholds = thresholds
        self.model_cache = model_cache
        self.intents = tuple(intents)
        self._lock = threading.RLock()
        self._build(knowledge)

    def _build(self, knowledge: KnowledgeBase) -> None:
        synonyms = SynonymMap(knowledge.synonyms)
        vocabulary: Counter[str] = Counter()
        for text in _passage_texts(knowledge.passages):
            vocabulary.update(tokens(text))
        declined: set[str] = set()
        for intent in self.intents:
            for example in intent.examples:
                (declined if intent.out_of_scope else vocabulary).update(tokens(example))
        reader = QuestionReader(vocabulary, synonyms, extra_spellings=declined)
        smalltalk = [i for i in self.intents if i.is_smalltalk]
        routes = [i for i in self.intents if i.is_route]
        self.knowledge = knowledge
        self.reader = reader
        self._asked = self._alternate_questions(knowledge.passages)
        # The words the passages themselves and the synonym map use (not the alternate questions): a
        # question mostly in other words needs only a small out-of-scope vote to be declined.
        self._own_words = {stem(w) for w in synonyms.words()} | self._text_stems(knowledge.passages)
        self._phrases = [f" {normalize(p.text)} " for p in knowledge.passages]
        self._rankings: dict[str, tuple[list[Hit], dict[str, float]]] = {}
        # Words of the topics' titles that name a topic ("leadership", "vendor"), not the work in general.
        self._title_stems = {
            stem(w) for p in knowledge.passages for w in content_words(p.topic.split("-"))
        } - {stem(w) for w in ("work", "project", "management", "overview", "conclusion")}
        # ...and the words the synonym map files beside a whole title ("duties" beside "responsibilities").
        titles = [{stem(w) for w in content_words(p.topic.split("-"))} & self._title_stems for p in knowledge.passages]
        for term in knowledge.synonyms:
            stems = {stem(w) for w in content_words(term.split())}
            if any(title & stems for title in titles):  # "qualifications education degree certifications"
                self._title_stems |= stems - {stem(w) for w in ("work", "project", "management")}
        self.classifier = self._classifier(knowledge.passages)
        self.retriever = Retriever(
            knowledge.passages,
            prepare=lambda text: reader.read(text).expanded,
            prepare_body=lambda text: reader.read(text).remainder,
        )
        # Out-of-scope examples are indexed like passages, so "what does a CTO pay" meets them, not a passage.
        self.out_of_scope = {i.name: i for i in self.intents if i.out_of_scope}
        self.negatives = Retriever(
            [Passage(i.name, "out-of-scope", None, " ", questions=i.examples) for i in self.out_of_scope.values()],
            prepare=lambda text: reader.read(text).remainder,
            question_weight=1.0,
            title_weight=0.0,
            ignore_unseen=False,
            keep_words=DECLINE_CUES,
        )
        self.smalltalk = IntentMatcher(smalltalk, score_cutoff=self.thresholds.smalltalk_cutoff)
        self.routes = IntentMatcher(
            routes,
            prepare=lambda text: reader.read(text).remainder,
            score_cutoff=self.thresholds.intent_cutoff,
        )

    def _classifier(self, passages: Iterable[Passage]) -> PassageClassifier:
        """Train the second vote on each passage's text and alternate questions, and the out-of-scope examples."""
        passages = list(passages)
        if len(passages) + 1 > MAX_LABELS:
            return PassageClassifier(())  # abstains: a large knowledge base is served by retrieval alone
        reader = self.reader

        def fits(question: str, passage: Passage) -> bool:
            # The classifier never sees role names, so "IT manager vendor management" filed under the
            # conclusion (no IT manager passage on vendors) would teach it that "vendor management" means
            # the conclusion. Such a question still serves retrieval, which reads roles apart.
            roles = reader.read(question).roles
            if passage.role is None:
                return len(roles) != 1
            return not roles or passage.role in roles

        examples = [(p.text, p.id) for p in passages]
        examples += [(q, p.id) for p in passages for q in p.questions if fits(q, p)]
        examples += [(e, OUT_OF_SCOPE) for i in self.intents if i.out_of_scope for e in i.examples]

        def prepare(text: str) -> str:
            # Comparison words say how to answer, not what about: "vs" must not pull towards the conclusion.
            words = reader.read(text).remainder.split()
            return reader.synonyms.expand(" ".join(w for w in words if w not in COMPARE_WORDS))

        return PassageClassifier(examples, prepare=prepare, cache_dir=self.model_cache)

    @staticmethod
    def _text_stems(passages: Iterable[Passage]) -> set[str]:
        return {stem(w) for p in passages for w in tokens(p.text)}

    def _own_share(self, reading: Reading) -> float:
        """The share of a question's topic words that the passages' texts or the synonym map use."""
        words = [w for w in reading.content if w not in SETTING]
        return sum(stem(w) in self._own_words for w in words) / len(words) if words else 1.0

    @staticmethod
    def _alternate_questions(passages: Iterable[Passage]) -> dict[str, Passage]:
        """Map each alternate question, normalized, to its passage; a question two passages share maps to neither."""
        owners: dict[str, list[Passage]] = {}
        for passage in passages:
            for question in passage.questions:
                owners.setdefault(normalize(question), []).append(passage)
        return {q: found[0] for q, found in owners.items() if q and len({p.id for p in found}) == 1}

    # -- changing knowledge -------------------------------------------------------------------

    def add_passages(self, passages: Iterable[Passage]) -> None:
        """Make new passages answerable at once, without rebuilding the index."""
        new = tuple(passages)
        with self._lock:
            self.knowledge = replace(self.knowledge, passages=self.knowledge.passages + new)
            self.reader.learn(_passage_texts(new))
            self._asked = self._alternate_questions(self.knowledge.passages)
            self._own_words |= self._text_stems(new)
            self._phrases += [f" {normalize(p.text)} " for p in new]
            self.retriever.add(new)
            self.classifier = self._classifier(self.knowledge.passages)
            self._rankings = {}

    def replace_knowledge(self, knowledge: KnowledgeBase) -> None:
        """Swap in a whole new knowledge base (after an edit or removal); questions wait only for the swap."""
        fresh = Engine(knowledge, self.intents, thresholds=self.thresholds, model_cache=self.model_cache)
        with self._lock:
            self.__dict__.update({k: v for k, v in fresh.__dict__.items() if k != "_lock"})

    # -- answering ----------------------------------------------------------------------------

    def ask(self, text: str, conversation: Conversation | None = None) -> Answer:
        """Answer one message; remember it in the conversation when one is given."""
        with self._lock:
            answer = self._answer(text, conversation or Conversation())
        if conversation is not None:
            conversation.remember(answer)
        return answer

    def _answer(self, text: str, conversation: Conversation) -> Answer:
        question = text.strip()
        reading = self.reader.read(question)
        if not reading.normalized:
            return self._smalltalk_reply(question, "help") if not question else self._fallback(question, reading)
        small = self.smalltalk.match(reading.normalized)
        if small is not None and not reading.roles:
            return Answer(
                question=question,
                kind="smalltalk",
                sections=(Section("", small.intent.reply or ""),),
                confidence=small.score,
                intent=small.intent.name,
            )
        plan = self._plan(reading, conversation)
        if plan is None:
            return self._fallback(question, reading)
        if isinstance(plan, Intent):
            return self._fallback(question, reading, declined=plan)
        return self._write(question, reading, plan)

    def _plan(self, reading: Reading, conversation: Conversation) -> _Plan | Intent | None:
        """Decide the topic and roles to answer; None or a matched out-of-scope intent for a fallback."""
        t = self.thresholds
        asked = self._asked.get(reading.normalized)
        if asked is not None:
            # Word for word an alternate question (a promoted one, say): that passage, nothing else.
            return _Plan(asked.topic, (asked.role,) if asked.role else ())
        declined = self.negatives.search(reading.remainder, limit=1)
        # A definition of a thing in words the passages never use: the knowledge defines only its own terms.
        defines_other = reading.asks_definition and bool(reading.unknown)
        if (
            reading.decline_cue
            or reading.compares_other
            or defines_other
            or (reading.other_job and not conversation.roles)
        ):
            # A definition asked for gets the plain fallback, not the reply of whatever example it half meets
            # ("what is technical debt?" is no question about another job).
            near = declined and declined[0].score >= t.min_negative_score / 2 and not defines_other
            return self.out_of_scope[declined[0].passage.id] if near else None
        roles = reading.roles
        if reading.other_role and not roles and len(conversation.roles) == 1:
            roles = tuple(r for r in BOTH_ROLES if r not in conversation.roles)
        compare = len(roles) == 2 or ((reading.compare_cue or reading.whether_different) and len(roles) <= 1)

        route = self.routes.match(reading.remainder) if not reading.unknown else None
        if route is not None and route.intent.needs_role and not (roles or conversation.roles):
            route = None
        if route is not None:
            topic = route.intent.topic
            if route.intent.passages:
                first = self.knowledge.by_id(route.intent.passages[0])
                topic = first.topic if first else topic
            role = route.intent.role
            chosen = (role,) if role else roles
            return _Plan(topic, chosen, compare=route.intent.compare or len(chosen) == 2, intent=route)

        # "the boss of all the computer people at a company": where the asker works is no topic.
        # A synonym met ("what does the job involve?": responsibilities) names a topic too.
        said = set(self.reader.read(conversation.last.question).content) if conversation.last else set()
        # "and if I was hiring someone for a rollout instead?": words said in the last turn are no new topic.
        topical = any(w not in SETTING and not (reading.follow_up_cue and w in said) for w in reading.content)
        if len(reading.roles) == 2:  # "in a nutshell, how is the guy who runs our servers different from...": no topic
            topical = any(w in reading.known and w not in SETTING and w not in _NO_TOPIC for w in reading.content)
        # A follow-up that names no topic of its own: keep the conversation's topic.
        if not topical and conversation.topic is not None and (roles or reading.follow_up_cue or compare):
            if compare and reading.whether_different:  # "...ok so what's the overall difference between them?"
                return _Plan("overview" if reading.mixed_up else "conclusion", BOTH_ROLES, compare=True)
            if roles and len(roles) == 1 and not self._has_roles(conversation.topic):
                return _Plan("responsibilities", roles)  # after the overview, "and the PM?": what the role does
            if roles:
                return _Plan(conversation.topic, roles, compare=compare, follow_up=True)
            if compare:  # "compare them on that"
                return _Plan(conversation.topic, BOTH_ROLES, compare=True, follow_up=True)
            return _Plan(conversation.topic, conversation.roles, compare=len(conversation.roles) == 2, follow_up=True)

        if not topical:
            if len(roles) == 2 and reading.whether_different:  # "why do they mix up the one who... with the one who..."
                return _Plan("overview" if reading.mixed_up else "conclusion", BOTH_ROLES, compare=True)
            if roles and not reading.compare_cue:
                return _Plan("responsibilities", roles)  # "IT manager?" alone: what the role is
            if reading.compare_cue:
                return _Plan("conclusion", (), compare=True)
            return None
        inherited = False
        if not roles and conversation.roles and not reading.asks_who:
            roles = conversation.roles
            inherited = True
            compare = compare or len(roles) == 2
        hits = self._ranked(reading.remainder) if reading.known else []
        best_score = hits[0].score * reading.known_ratio**t.coverage_power if hits else 0.0
        # "project management for an IT PM": a role and its topic in the knowledge's own words are in scope.
        # (the best passage about the role named: "qualifications for an IT manager" may score the PM's a bit higher)
        own = next((h.passage for h in hits if h.passage.role in reading.roles), hits[0].passage) if hits else None
        named = own is not None and (self._names_role_and_topic(reading, own) or self._quotes_the_knowledge(reading))
        # A question that meets an out-of-scope example better than any passage gets that example's reply.
        if (
            declined
            and not named
            and declined[0].score >= t.min_negative_score
            and declined[0].score > best_score * t.negative_margin
        ):
            out_of_scope, in_scope = self._trusted_votes(reading, hits)
            agreement = t.role_agreement if reading.roles else t.negative_agreement
            if out_of_scope >= agreement * in_scope:  # the classifier agrees, at least a little
                return self.out_of_scope[declined[0].passage.id]
        # "Two different kinds of tech boss, is that true?": whether the roles differ at all, not on one thing.
        bottom_line = compare and reading.whether_different and not self._names_a_title_word(reading)
        bottom = "overview" if reading.mixed_up else "conclusion"  # why people mix them up: the introduction
        if bottom_line and reading.roles:
            return _Plan(bottom, BOTH_ROLES, compare=True)  # a role named: in scope, however few words match
        if not hits or best_score < t.min_score:
            return None
        out_of_scope, in_scope = self._trusted_votes(reading, hits) if not named else (0.0, 0.0)
        # A question naming a role needs the classifier to back out of scope at least half as much as a passage.
        if out_of_scope >= t.max_out_of_scope and (not reading.roles or out_of_scope >= t.role_agreement * in_scope):
            return None
        # A passage the classifier is sure of outweighs a question told mostly in words the knowledge lacks
        # ("the printer on the third floor jams every single morning: who sorts this out?").
        sure = in_scope >= t.sure_vote and in_scope >= t.sure_vote_margin * out_of_scope
        if not sure and out_of_scope >= t.unfamiliar_out_of_scope and self._own_share(reading) < t.min_own_share:
            return None
        if not sure and best_score < t.weak_score and reading.known_ratio < t.min_known_ratio:
            return None
        # "how do they keep that firm in line?": a follow-up leans towards the topic being talked about.
        kept = conversation.topic if reading.follow_up_cue and not self._names_a_title_word(reading) else None
        ranked = self._rank_for_roles(hits, roles, inherited=inherited and not reading.follow_up_cue, topic=kept)
        if not roles and reading.role_hint:  # "who arranges freelancers for a short rollout": the PM
            hinted = (reading.role_hint, None)
            factor = t.hinted_role_factor
            ranked = sorted(hits, key=lambda h: -h.score * (1.0 if h.passage.role in hinted else factor))
        top = ranked[0]
        if not self._names_topic(reading, top.passage.topic):  # "day-to-day focus: ITM vs ITPM": focus
            named_topic = next((h for h in ranked[:5] if self._names_topic(reading, h.passage.topic)), None)
            # The overview and conclusion touch every topic: one the question names beats them more easily.
            ratio = t.named_topic_ratio if top.passage.role is not None else t.named_topic_over_both_ratio
            if named_topic is not None and named_topic.score >= ratio * top.score:
                top = named_topic
        if bottom_line:
            return _Plan(bottom, BOTH_ROLES, compare=True)
        if compare:
            topic = top.passage.topic
            if not self._has_both_roles(topic):
                # A comparison needs a passage per role: the best such topic, when it scores nearly as well.
                paired = next((h for h in ranked if self._has_both_roles(h.passage.topic)), None)
                if paired is not None and paired.score >= t.paired_topic_ratio * top.score:
                    topic = paired.passage.topic
            return _Plan(topic, BOTH_ROLES, compare=True, follow_up=inherited)
        if not roles:
            return _Plan(top.passage.topic, (top.passage.role,) if top.passage.role else (), follow_up=False)
        return _Plan(top.passage.topic, roles, follow_up=inherited)

    def _names_role_and_topic(self, reading: Reading, passage: Passage) -> bool:
        """Whether a question names both roles, or a role and, word for word, the topic of its best passage
        about that role, in nothing but the knowledge's own words: such a question is in scope."""
        if not reading.roles or passage.role not in reading.roles or self._own_share(reading) < 1.0:
            return False
        if len(reading.roles) == 2:
            return True  # the two roles set side by side, in the knowledge's own words: what it is for
        return self._names_topic(reading, passage.topic)

    def _quotes_the_knowledge(self, reading: Reading) -> bool:
        """Whether a question is a phrase of the passages' own text word for word ("technical support"), or names
        a role and says two content words of its passages in a row ("is the IT manager the one responsible for
        network security?"), in words the knowledge knows."""
        words = reading.remainder.split()
        if 2 <= len(words) <= 4 and len(reading.content) == len(words):
            phrase = f" {' '.join(words)} "
            return any(phrase in text for text in self._phrases)
        if not reading.roles or self._own_share(reading) < 1.0:
            return False
        content = set(reading.content)
        pairs = {f" {a} {b} " for a, b in zip(words, words[1:]) if a in content and b in content}
        return any(pair in text for pair in pairs for text in self._phrases)

    def _names_a_title_word(self, reading: Reading) -> bool:
        """Whether a question uses a word of a topic's title in any form ("communicate", "leaders")."""
        words = {stem(w) for w in reading.content}
        return any(w.startswith(t) for w in words for t in self._title_stems)

    @staticmethod
    def _names_topic(reading: Reading, topic: str) -> bool:
        """Whether a question says a topic's title word for word ("scope of work", "focus")."""
        title = {stem(w) for w in content_words(topic.split("-"))}
        if len(title) > 1:
            title.discard(_SKILLS)  # "communication" names communication skills
        return bool(title) and title <= {stem(w) for w in reading.content}

    def _has_both_roles(self, topic: str) -> bool:
        """Whether a topic has a passage about each role, so the two can be set side by side."""
        return {p.role for p in self.knowledge.in_topic(topic)} >= set(BOTH_ROLES)

    def _has_roles(self, topic: str) -> bool:
        """Whether a topic has passages about a particular role (not only ones about both, like the overview)."""
        return any(p.role is not None for p in self.knowledge.in_topic(topic))

    def _rank_for_roles(
        self, hits: list[Hit], roles: tuple[str, ...], *, inherited: bool, topic: str | None = None
    ) -> list[Hit]:
        """Rank passages for the roles asked about, and towards `topic` (the conversation's, in a follow-up)."""
        if len(roles) != 1 and topic is None:
            return hits
        t = self.thresholds
        factor = t.inherited_role_factor if inherited else t.other_role_factor

        def weight(hit: Hit) -> float:
            kept = t.follow_up_topic_factor if hit.passage.topic == topic else 1.0
            if len(roles) != 1:
                return kept
            if hit.passage.role is None:
                return t.both_roles_factor * kept
            return (1.0 if hit.passage.role == roles[0] else factor) * kept

        return sorted(hits, key=lambda h: -h.score * weight(h))

    def _ranked(self, query: str) -> list[Hit]:
        """Rank every passage for a query, once: planning, scoring, candidates and suggestions share it."""
        return self._search(query)[0]

    def _out_of_scope(self, query: str) -> tuple[float, float]:
        """The classifier's out-of-scope probability for a query, and its best passage's (0, 0 if it abstains)."""
        votes = self._search(query)[1]
        best = max((p for label, p in votes.items() if label != OUT_OF_SCOPE), default=0.0)
        return votes.get(OUT_OF_SCOPE, 0.0), best

    def _trusted_votes(self, reading: Reading, hits: list[Hit]) -> tuple[float, float]:
        """The classifier's out-of-scope vote, or none when the best passage is one it was hardly trained on.

        A passage added without alternate questions is one example among thousands: the classifier
        cannot vouch for it, and must not decline a question that retrieval finds it answers.
        """
        if hits and len(hits[0].passage.questions) < self.thresholds.min_trained_questions:
            return 0.0, 0.0
        return self._out_of_scope(reading.remainder)

    def _search(self, query: str) -> tuple[list[Hit], dict[str, float]]:
        found = self._rankings.get(query)
        if found is None:
            if len(self._rankings) >= 64:
                self._rankings.clear()
            hits = self.retriever.search(query, limit=len(self.retriever))
            votes = self.classifier.probabilities(query)
            weight = self.thresholds.classifier_weight
            if votes and weight:
                hits = [replace(h, score=h.score + weight * votes.get(h.passage.id, 0.0)) for h in hits]
                hits.sort(key=lambda h: -h.score)
            found = self._rankings[query] = (hits, votes)
        return found

    # -- writing answers ----------------------------------------------------------------------

    def _scores(self, reading: Reading, topic: str | None = None) -> dict[str, float]:
        """Score every passage for the question; a question with no words of its own is scored by its topic."""
        query = reading.remainder if reading.content or topic is None else topic.replace("-", " ")
        return {h.passage.id: h.score for h in self._ranked(query)}

    def _write(self, question: str, reading: Reading, plan: _Plan) -> Answer:
        topic = plan.topic or "overview"
        scores = self._scores(reading, topic)
        in_topic = self.knowledge.in_topic(topic)
        note = None
        about_both = bool(in_topic) and not self._has_roles(topic)  # overview, conclusion
        if plan.compare and about_both:
            chosen = sorted(in_topic, key=lambda p: -scores.get(p.id, 0.0))[:1]
        elif plan.compare:
            # One passage per role, the best-matching one when a topic holds several for the same role.
            chosen = [top for r in BOTH_ROLES if (top := self._best(in_topic, scores, role=r))] or in_topic[:1]
            chosen.sort(key=lambda p: -scores.get(p.id, 0.0))
            missing = [r for r in BOTH_ROLES if all(p.role != r for p in in_topic)]
            if missing and chosen:
                # "Does an IT manager handle vendors too?": the role's closest passage stands in for its side.
                near, note = self._nearest_for_role(topic, missing[0], reading, in_topic, scores)
                chosen += [p for p in near if p not in chosen]
            # The role the question is about comes first ("what about the IT manager, same?"); asked which of the
            # two does something ("who writes the policies, the PM or the IT manager?"), the better match does.
            if reading.roles and not (reading.asks_who and len(reading.roles) == 2):
                stand_in = missing[0] if missing else None
                chosen.sort(key=lambda p: (p.role or stand_in) != reading.roles[0])
        else:
            wanted = plan.roles[0] if plan.roles else None
            mine = self._best(in_topic, scores, role=wanted)
            chosen = [mine] if mine else []
            if not chosen and wanted is not None:
                # The topic has no passage for this role: say so, and give the role's closest passage.
                chosen, note = self._nearest_for_role(topic, wanted, reading, in_topic, scores)
                note = None if about_both else note  # nothing is missing from a passage about both roles
            if not chosen:
                chosen = sorted(in_topic, key=lambda p: -scores.get(p.id, 0.0))[:1]
            if not plan.roles and not plan.intent and len(chosen) == 1 and chosen[0].role:
                pair = [p for p in in_topic if p.role in BOTH_ROLES and p.id != chosen[0].id]
                if pair and scores.get(pair[0].id, 0.0) >= self.thresholds.pair_ratio * scores.get(chosen[0].id, 0.0):
                    chosen = chosen + pair[:1]
        if not chosen:
            return self._fallback(question, reading)
        is_pair = len(chosen) > 1
        kind = "comparison" if plan.compare or is_pair else ("intent" if plan.intent else "retrieval")
        sections = tuple(self._section(p, titled=True) for p in chosen)
        best = max(scores.get(p.id, 0.0) for p in chosen)
        confidence = self._confidence(best, reading, plan)
        sources = tuple(Source(p.id, p.role, p.topic, scores.get(p.id, 0.0)) for p in chosen)
        suggestions: tuple[str, ...] = ()
        if confidence < self.thresholds.low_confidence:
            suggestions = self._suggestions(reading, exclude={p.id for p in chosen})
        roles = tuple(r for r in (p.role for p in chosen) if r) if kind != "comparison" else BOTH_ROLES
        if not roles and not plan.compare:
            roles = plan.roles  # an answer about both roles to a question about one: remember the one
        if plan.follow_up and not plan.compare and plan.roles:
            roles = plan.roles
        return Answer(
            question=question,
            kind=kind,
            sections=sections,
            confidence=confidence,
            sources=sources,
            suggestions=suggestions,
            intent=plan.intent.intent.name if plan.intent else None,
            note=note,
            topic=topic,
            roles=roles,
            candidates=self._candidates(reading),
        )

    @staticmethod
    def _best(passages: list[Passage], scores: dict[str, float], *, role: str | None) -> Passage | None:
        """Return the best-scoring passage about `role` (file order breaks ties), or None."""
        mine = [p for p in passages if p.role == role]
        return max(mine, key=lambda p: scores.get(p.id, 0.0)) if mine else None

    def _nearest_for_role(
        self, topic: str, role: str, reading: Reading, in_topic: list[Passage], scores: dict[str, float]
    ) -> tuple[list[Passage], str]:
        missing = f"The knowledge has no {ROLES[role]} passage on {topic_title(topic).lower()}"
        query = f"{topic.replace('-', ' ')} {reading.remainder}"
        near = self.retriever.search(query, limit=1, roles=[role, None])  # a passage on both roles counts
        if near and near[0].score >= self.thresholds.min_score:
            return [near[0].passage], f"{missing}; the closest it has is {near[0].passage.topic_title.lower()}."
        fallback = sorted(in_topic, key=lambda p: -scores.get(p.id, 0.0))[:1]
        other = fallback[0].role_name if fallback and fallback[0].role else "both roles"
        return fallback, f"{missing}; here is what it says for the {other}."

    def _section(self, passage: Passage, *, titled: bool) -> Section:
        title = f"{passage.role_name} · {passage.topic_title}" if passage.role else passage.topic_title
        return Section(title if titled else "", passage.text, passage.id)

    def _confidence(self, score: float, reading: Reading, plan: _Plan) -> float:
        if plan.intent is not None:
            return round(plan.intent.score, 4)
        if plan.follow_up and not reading.known:
            return 0.8
        evidence = min(1.0, score / 0.45)
        known = reading.known_ratio if reading.content else 1.0
        return round(max(0.0, min(1.0, evidence * (0.6 + 0.4 * known))), 4)

    def _candidates(self, reading: Reading) -> tuple[Source, ...]:
        hits = self._ranked(reading.remainder)[:5]
        return tuple(Source(h.passage.id, h.passage.role, h.passage.topic, h.score) for h in hits)

    def _suggestions(self, reading: Reading, *, exclude: Iterable[str] = (), limit: int = 3) -> tuple[str, ...]:
        """Pick questions the knowledge can answer, near what was asked when anything was near."""
        excluded = set(exclude)
        hits = self._ranked(reading.remainder)
        roles = set(reading.roles)
        preferred = [h.passage for h in hits if h.score > 0 and (not roles or h.passage.role in roles)]
        rest = [h.passage for h in hits]
        suggestions: list[str] = []
        topics: set[str] = set()
        for passage in preferred + rest:
            if passage.id in excluded or passage.topic in topics or not passage.questions:
                continue
            topics.add(passage.topic)
            suggestions.append(passage.questions[0])
            if len(suggestions) >= limit:
                break
        return tuple(suggestions)

    def _fallback(self, question: str, reading: Reading, *, declined: Intent | None = None) -> Answer:
        hits = self._ranked(reading.remainder)[:5]
        best = hits[0].score if hits else 0.0
        reply = (declined.reply if declined else None) or (
            "Sorry, I don't know that. I only know about the IT Project Manager and IT Manager roles "
            "as described in my knowledge base, and nothing there answers this."
        )
        return Answer(
            question=question,
            kind="fallback",
            sections=(Section("", reply),),
            confidence=round(min(best, 0.3), 4),
            intent=declined.name if declined else None,
            roles=reading.roles,
            suggestions=self._suggestions(reading),
            candidates=tuple(Source(h.passage.id, h.passage.role, h.passage.topic, h.score) for h in hits),
        )

    def _smalltalk_reply(self, question: str, name: str) -> Answer:
        for intent in self.intents:
            if intent.name == name and intent.reply:
                return Answer(question, "smalltalk", (Section("", intent.reply),), 1.0, intent=name)
        return Answer(question, "smalltalk", (Section("", "Ask me about IT project managers and IT managers."),), 1.0)

    # -- answers that skip the question -------------------------------------------------------

    def compare(self, topic: str) -> Answer | None:
        """Return the side-by-side answer for a topic, or None when the topic is unknown."""
        with self._lock:
            if topic not in self.knowledge.topics():
                return None
            plan = _Plan(topic, BOTH_ROLES, compare=True)
            reading = self.reader.read(topic.replace("-", " "))
            answer = self._write(f"compare {topic}", reading, plan)
        # The topic was picked, not guessed: nothing to be unsure about.
        return replace(answer, confidence=1.0, suggestions=())

    def topic_answer(self, topic: str) -> Answer | None:
        """Return every passage on a topic, both roles side by side."""
        return self.compare(topic)


def load_engine(
    knowledge_dir: Path,
    intents_dir: Path,
    *,
    thresholds: Thresholds = Thresholds(),
    model_cache: Path | None = None,
) -> Engine:
    """Load and validate knowledge and intents, and build the engine; raise KnowledgeError if invalid."""
    knowledge = load_knowledge(knowledge_dir)
    intents = load_intents(intents_dir)
    return Engine(knowledge, intents, thresholds=thresholds, model_cache=model_cache)
