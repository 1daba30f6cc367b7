"""The engine on the real knowledge: each kind of answer the product promises, and the Answer value."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.engine import KINDS, Answer, Conversation, Engine, load_engine
from bot.intents import Intent
from bot.knowledge import KnowledgeError, Passage, load_knowledge

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PM = "it-project-manager"
ITM = "it-manager"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return load_engine(PROJECT_ROOT / "knowledge", PROJECT_ROOT / "intents")


def ids(answer: Answer) -> list[str]:
    return [source.id for source in answer.sources]


def converse(engine: Engine, *questions: str) -> list[Answer]:
    conversation = Conversation()
    return [engine.ask(question, conversation) for question in questions]


# -- one role, one topic -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "passage_id"),
    [
        ("What does an IT project manager do?", "pm-responsibilities"),
        ("What does a PM do?", "pm-responsibilities"),
        ("What does an IT PM do?", "pm-responsibilities"),
        ("What does a project manager do?", "pm-responsibilities"),
        ("what does a projct managr do?", "pm-responsibilities"),
        ("What does an IT manager do?", "itm-responsibilities"),
        ("what does an IT managr do?", "itm-responsibilities"),
        ("Who handles vendors?", "pm-vendor-management"),
        ("i wanna be an IT managr, wut would my job be like", "itm-responsibilities"),  # texting words
        ("whats the roll of an IT manager", "itm-responsibilities"),  # spelled as it sounds
        ("My uncle runs the computer department at the city council. What are his main duties?", "itm-responsibilities"),
        (  # mostly words the knowledge lacks, but the classifier is sure
            "The printer on the third floor jams every single morning. Who in the company is supposed to sort this kind"
            " of thing out?",
            "itm-responsibilities",
        ),
    ],
)
def test_role_question_answers_from_the_right_passage(engine: Engine, question: str, passage_id: str) -> None:
    answer = engine.ask(question)
    assert answer.kind in ("intent", "retrieval")
    assert ids(answer)[0] == passage_id


def test_answer_names_role_and_topic_and_cites_its_passage(engine: Engine) -> None:
    answer = engine.ask("What does an IT manager do?")
    passage = engine.knowledge.by_id("itm-responsibilities")
    assert passage is not None
    assert answer.sections[0].title == "IT Manager · Responsibilities"
    assert answer.sections[0].text == passage.text
    assert answer.text.startswith(f"IT Manager · Responsibilities\n{passage.text}")
    first = answer.sources[0]
    assert (first.id, first.role, first.topic) == ("itm-responsibilities", ITM, "responsibilities")
    assert answer.citation.startswith("Source: itm-responsibilities (IT Manager, Responsibilities)")


# -- comparison --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("what sets the two apart on scope?", "scope-of-work"),
        ("IT PM vs IT manager: qualifications", "qualifications-and-skills"),
    ],
)
def test_comparison_cites_both_roles_on_the_topic(engine: Engine, question: str, topic: str) -> None:
    answer = engine.ask(question)
    assert answer.kind == "comparison"
    assert sorted((s.role, s.topic) for s in answer.sources) == [(ITM, topic), (PM, topic)]
    titles = [section.title for section in answer.sections]
    assert any(title.startswith("IT Project Manager · ") for title in titles)
    assert any(title.startswith("IT Manager · ") for title in titles)


def test_engine_compares_a_topic_on_request(engine: Engine) -> None:
    answer = engine.compare("leadership")
    assert answer is not None and answer.kind == "comparison"
    assert sorted(ids(answer)) == ["itm-leadership", "pm-leadership"]
    assert engine.compare("no-such-topic") is None


# -- follow-ups --------------------------------------------------------------------------------


def test_follow_up_switches_role_and_keeps_topic(engine: Engine) -> None:
    first, follow_up = converse(engine, "What are the responsibilities of a PM?", "and for the IT manager?")
    assert ids(first)[0] == "pm-responsibilities"
    assert follow_up.kind != "fallback"
    assert ids(follow_up)[0] == "itm-responsibilities"


def test_in_the_other_roles_case_keeps_the_topic(engine: Engine) -> None:
    _, follow_up = converse(engine, "How does an IT manager talk to executives?", "what about in a PM's case?")
    assert ids(follow_up) == ["pm-communication-skills"]


@pytest.mark.parametrize(
    ("opening", "role"),
    [("What are the responsibilities of a PM?", PM), ("What are the responsibilities of an IT manager?", ITM)],
)
def test_what_about_budgets_keeps_the_role_and_changes_topic(engine: Engine, opening: str, role: str) -> None:
    first, follow_up = converse(engine, opening, "what about budgets?")
    assert first.sources[0].role == role
    assert follow_up.kind != "fallback"
    assert follow_up.sources[0].role == role
    assert follow_up.sources[0].topic != "responsibilities"
    assert "budget" in follow_up.text.lower()


def test_budgets_after_the_role_switch_stays_with_the_it_manager(engine: Engine) -> None:
    *_, budgets = converse(
        engine, "What are the responsibilities of a PM?", "and for the IT manager?", "what about budgets?"
    )
    assert budgets.kind != "fallback"
    assert budgets.sources[0].role == ITM
    assert budgets.sources[0].topic != "responsibilities"


def test_one_role_after_an_answer_about_both_is_that_roles_responsibilities(engine: Engine) -> None:
    overview, follow_up = converse(engine, "how is an IT manager different from an IT PM?", "ok and the PM?")
    assert overview.kind == "comparison"
    assert ids(follow_up) == ["pm-responsibilities"]


def test_a_role_asked_about_is_remembered_when_the_answer_covers_both(engine: Engine) -> None:
    conversation = Conversation()
    engine.ask("what is the bottom line for an IT manager?", conversation)
    assert conversation.topic == "conclusion"
    assert conversation.roles == (ITM,)


def test_the_role_without_a_passage_on_the_topic_gets_the_passage_about_both(engine: Engine) -> None:
    vendors, follow_up = converse(engine, "how does an IT project manager manage vendors?", "and the IT manager?")
    assert ids(vendors) == ["pm-vendor-management"]
    assert ids(follow_up) == ["conclusion"]  # "resource and vendor management are essential for both roles"
    assert follow_up.note is not None and "no IT Manager passage on vendor management" in follow_up.note


def test_a_comparison_on_a_topic_one_role_lacks_lets_that_roles_closest_passage_stand_in(engine: Engine) -> None:
    answer = engine.ask("Does an IT manager handle vendor management too, or is that only for project managers?")
    assert answer.kind == "comparison"
    assert ids(answer) == ["conclusion", "pm-vendor-management"]  # the role asked about first
    assert answer.note is not None and "no IT Manager passage on vendor management" in answer.note


@pytest.mark.parametrize(
    ("question", "declined"),
    [
        ("What is technical debt?", True),  # "debt": a word the knowledge never uses
        ("Explain how a Kanban board works", True),
        ("what is vendor management?", False),  # the knowledge's own term
        ("what's a typical week like running a system changeover?", False),  # describes the work, defines nothing
    ],
)
def test_a_definition_of_a_thing_the_knowledge_never_names_is_declined(
    engine: Engine, question: str, declined: bool
) -> None:
    assert (engine.ask(question).kind == "fallback") is declined


def test_a_declined_definition_gets_the_plain_fallback_not_a_near_examples_reply(engine: Engine) -> None:
    answer = engine.ask("What is technical debt?")
    assert answer.kind == "fallback" and answer.intent is None
    assert "job" not in answer.sections[0].text.split(".")[0]  # not "I don't know about that job"


@pytest.mark.parametrize(
    ("question", "first"),
    [
        ("why would one company need two different people in charge of computer stuff??", "conclusion"),
        ("My dad was told there are two different kinds of tech boss. Is that true?", "conclusion"),
        ("Do IT managers and IT project managers communicate with different people in different ways?",
         "communication-skills"),  # how they differ on one thing
        ("Why do people mix up IT project managers and IT managers so often?", "overview"),  # the introduction
        ("At our firm one person keeps the computers running and a contractor sets up the new filing system. "
         "My colleagues say they do the same job. Is that right?", "conclusion"),  # "they" is no follow-up here
        ("I keep confusing them. Contrast the core duties of an IT manager with those of an IT project manager.",
         "responsibilities"),  # duties: the responsibilities, by the synonym map
        ("Two job ads look nearly identical to me: one to run the tech department, one to lead a software rollout.",
         "conclusion"),
    ],
)
def test_whether_the_two_are_different_jobs_at_all_is_the_bottom_line(engine: Engine, question: str, first: str) -> None:
    answer = engine.ask(question)
    assert answer.kind == "comparison"
    assert answer.sources[0].topic == first


def test_that_person_points_back_at_the_role_talked_about(engine: Engine) -> None:
    _, follow_up = converse(engine, "what does an IT manager do day to day?", "what should that person be good at?")
    assert follow_up.kind != "fallback" and follow_up.sources[0].role == "it-manager"


def test_a_comparison_puts_the_role_just_asked_about_first(engine: Engine) -> None:
    _, follow_up = converse(engine, "how does an IT project manager communicate?", "what about the IT manager, same thing?")
    assert follow_up.kind == "comparison"
    assert ids(follow_up) == ["itm-communication-skills", "pm-communication-skills"]


@pytest.mark.parametrize(
    "question", ["agile vs waterfall, which is better?", "what's the difference between an IT manager and a CTO?"]
)
def test_comparing_something_other_than_the_two_roles_falls_back(engine: Engine, question: str) -> None:
    assert engine.ask(question).kind == "fallback"


def test_naming_a_role_takes_a_firmer_out_of_scope_vote(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    votes = Engine(engine.knowledge, engine.intents)
    # The classifier: 0.3 out of scope (over the 0.25 bar), 0.7 for its best passage.
    monkeypatch.setattr(votes, "_out_of_scope", lambda query: (0.3, 0.7))
    assert ids(votes.ask("what certifications does an IT manager need?")) == ["itm-qualifications-and-skills"]
    assert votes.ask("what certifications are needed?").kind == "fallback"  # no role named: the bar alone


def test_asking_whether_the_two_are_one_job_gets_the_passage_about_both(engine: Engine) -> None:
    answer = engine.ask("in a nutshell, is whoever leads our ERP rollout also the one who heads the IT department?")
    assert ids(answer) == ["conclusion"]


def test_a_question_mostly_in_words_the_passages_never_use_needs_only_a_small_out_of_scope_vote(
    engine: Engine,
) -> None:
    question = "what clauses should go in an IT manager's employment contract?"  # 'clauses', 'employment'
    assert engine.ask(question).kind == "fallback"
    lenient_thresholds = dataclasses.replace(engine.thresholds, min_own_share=0.0)
    lenient = Engine(engine.knowledge, engine.intents, thresholds=lenient_thresholds)
    assert lenient.ask(question).kind != "fallback"


@pytest.mark.parametrize(
    "question",
    [
        "Who maps out the steps and the timeline before a new system goes live?",
        "What makes someone good at steering a team through a one-off build?",
        "What skills does someone need for a one-off build?",
    ],
)
def test_the_work_described_points_to_a_role(engine: Engine, question: str) -> None:
    assert engine.ask(question).sources[0].role == "it-project-manager"  # a go-live, a one-off build


def test_without_the_hint_the_work_described_would_go_to_the_other_role(engine: Engine) -> None:
    question = "What skills does someone need for a one-off build?"
    plain = dataclasses.replace(engine.thresholds, hinted_role_factor=1.0)
    assert Engine(engine.knowledge, engine.intents, thresholds=plain).ask(question).sources[0].role == "it-manager"


def test_a_passage_added_without_alternate_questions_is_not_declined_by_the_classifier(engine: Engine) -> None:
    text = "Quarterly supplier security reviews check every vendor's controls and flag gaps older than 30 days."
    grown = Engine(engine.knowledge, engine.intents)  # the module's engine stays as shipped
    grown.add_passages([Passage("itm-supplier-reviews", "supplier-reviews", "it-manager", text)])
    assert ids(grown.ask("how often are supplier security reviews done?")) == ["itm-supplier-reviews"]


def test_an_out_of_scope_example_needs_a_firmer_vote_to_decline_a_question_naming_a_role(engine: Engine) -> None:
    # "how do i tell my boss i want to move into project management" is an out-of-scope example
    assert ids(engine.ask("projct managment for it project manger")) == ["pm-project-management"]


def test_a_role_and_its_topic_named_outright_are_in_scope(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    votes = Engine(engine.knowledge, engine.intents)
    monkeypatch.setattr(votes, "_out_of_scope", lambda query: (0.6, 0.3))  # the classifier says out of scope
    assert ids(votes.ask("what does project management involve for an IT project manager?")) == [
        "pm-project-management"
    ]
    assert votes.ask("how does an IT project manager handle budgets?").kind == "fallback"  # no topic named
    # A word the knowledge never uses keeps the vote too.
    assert votes.ask("project management jokes for an IT project manager").kind == "fallback"
    # Both roles named, side by side, in the knowledge's own words.
    assert votes.ask("is communicating any different for an IT PM than for an IT manager?").kind == "comparison"
    assert votes.ask("IT PM vs IT manager: which one earns more?").kind == "fallback"  # 'earns' is no word of its


def test_asking_who_does_something_is_not_tied_to_the_role_talked_about(engine: Engine) -> None:
    conversation = Conversation()
    engine.ask("what is an IT manager responsible for?", conversation)
    assert ids(engine.ask("ok, so who negotiates with the vendors then?", conversation)) == ["pm-vendor-management"]
    engine.ask("and the IT manager?", conversation)
    answer = engine.ask("when we switch to a new payroll system, who maps out the steps?", conversation)
    assert answer.sources[0].role == "it-project-manager"
    engine.ask("what does an IT manager focus on?", conversation)
    answer = engine.ask("who do they have to talk to?", conversation)  # "they": the IT manager still
    assert answer.sources[0].role == "it-manager"


def test_a_comparison_goes_to_a_topic_with_a_passage_per_role(engine: Engine) -> None:
    answer = engine.ask("skills comparison between an IT PM and an IT manager")
    assert answer.kind == "comparison"
    assert sorted(ids(answer)) == ["itm-qualifications-and-skills", "pm-qualifications-and-skills"]


def test_a_follow_up_keeps_the_role_over_the_passage_about_both(engine: Engine) -> None:
    conversation = Conversation()
    engine.ask("what certs does an IT project manager need", conversation)
    assert ids(engine.ask("and which skills?", conversation)) == ["pm-qualifications-and-skills"]


def test_a_question_about_another_job_falls_back_unless_a_conversation_is_about_the_roles(engine: Engine) -> None:
    assert engine.ask("what skills does a frontend developer need?").kind == "fallback"
    conversation = Conversation()
    engine.ask("what does an IT PM do?", conversation)
    assert engine.ask("do they need to be an engineer?", conversation).kind != "fallback"


def test_the_classifier_votes_for_passages_and_for_out_of_scope(engine: Engine) -> None:
    votes = engine.classifier.probabilities("who keeps the wifi and the printers working")
    assert max(votes, key=votes.__getitem__) == "itm-responsibilities"
    votes = engine.classifier.probabilities("what is the capital of australia")
    assert max(votes, key=votes.__getitem__) == ""  # OUT_OF_SCOPE


def test_a_question_without_a_conversation_remembers_nothing(engine: Engine) -> None:
    conversation = Conversation()
    engine.ask("What are the responsibilities of a PM?")
    assert conversation.turns == 0 and conversation.topic is None


def test_conversation_remembers_and_resets(engine: Engine) -> None:
    conversation = Conversation()
    answer = engine.ask("What does an IT manager do?", conversation)
    assert (conversation.turns, conversation.last, conversation.topic, conversation.roles) == (
        1,
        answer,
        "responsibilities",
        (ITM,),
    )
    conversation.reset()
    assert (conversation.turns, conversation.last, conversation.topic, conversation.roles) == (0, None, None, ())


@pytest.mark.parametrize("question", ["IT PM vs IT manager - who does what?", "PM or IT manager, who does what"])
def test_who_does_what_compares_the_two_roles_duties(engine: Engine, question: str) -> None:
    assert ids(engine.ask(question)) == ["pm-responsibilities", "itm-responsibilities"]


def test_a_topic_named_word_for_word_wins_over_a_close_neighbour(engine: Engine) -> None:
    question = "day-to-day focus: ITM vs ITPM"  # 'day to day' is read as operations: the duties
    assert ids(engine.ask(question)) == ["itm-focus", "pm-focus"]
    plain = dataclasses.replace(engine.thresholds, named_topic_ratio=10.0)
    assert ids(Engine(engine.knowledge, engine.intents, thresholds=plain).ask(question))[0] == "itm-responsibilities"


def test_a_role_named_in_a_turn_that_falls_back_is_remembered(engine: Engine) -> None:
    conversation = Conversation()
    assert engine.ask("We're a small accounting firm hiring our first IT manager.", conversation).kind == "fallback"
    assert (conversation.topic, conversation.roles) == (None, (ITM,))
    assert ids(engine.ask("what would their scope of work include?", conversation)) == ["itm-scope-of-work"]


# -- fallback ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    ["how do I renew my passport?", "What's the weather in Paris tomorrow?", "recipe for chocolate cake"],
)
def test_uncovered_question_falls_back_honestly(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert answer.kind == "fallback"
    assert answer.sources == ()
    assert "don't know" in answer.text
    assert 2 <= len(answer.suggestions) <= 3


def test_fallback_suggests_questions_it_can_answer(engine: Engine) -> None:
    answer = engine.ask("how do I renew my passport?")
    for suggestion in answer.suggestions:
        assert engine.ask(suggestion).kind != "fallback", suggestion


# -- small talk --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "intent"),
    [
        ("hello", "greeting"),
        ("Thanks!", "thanks"),
        ("what can you do?", "capabilities"),
        ("help", "help"),
        ("Are you a REAL person??", "identity"),
        ("that's not what I asked", "complaint"),
        ("tell me a joke!", "chitchat"),
    ],
)
def test_small_talk(engine: Engine, message: str, intent: str) -> None:
    answer = engine.ask(message)
    assert answer.kind == "smalltalk"
    assert answer.intent == intent
    assert answer.sources == ()
    assert answer.text


@pytest.mark.parametrize("message", ["", "   "])
def test_empty_message_gets_help_not_an_error(engine: Engine, message: str) -> None:
    answer = engine.ask(message)
    assert answer.kind == "smalltalk"
    assert answer.text


@pytest.mark.parametrize("message", ["?!", "👍", "12345"])
def test_message_without_words_cites_nothing(engine: Engine, message: str) -> None:
    answer = engine.ask(message)
    assert answer.kind in ("smalltalk", "fallback")
    assert answer.sources == ()


# -- every answer ------------------------------------------------------------------------------

QUESTIONS = [
    "What does an IT manager do?",
    "Who handles vendors?",
    "How technical does a PM need to be?",
    "IT PM vs IT manager: leadership",
    "how do I renew my passport?",
    "hello",
    "asdf qwerty",
]


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_answer_has_a_kind_sources_and_confidence_in_range(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert answer.kind in KINDS
    assert 0.0 <= answer.confidence <= 1.0
    for source in answer.sources:
        assert 0.0 <= source.score <= 1.0
        passage = engine.knowledge.by_id(source.id)
        assert passage is not None and (passage.role, passage.topic) == (source.role, source.topic)
    if answer.kind in ("intent", "retrieval", "comparison"):
        assert answer.sources, "answers about the roles always cite their passage"
    else:
        assert answer.sources == ()


def test_answer_is_frozen(engine: Engine) -> None:
    answer = engine.ask("What does an IT manager do?")
    with pytest.raises(dataclasses.FrozenInstanceError):
        answer.kind = "fallback"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        answer.sources[0].score = 0.0  # type: ignore[misc]
    assert isinstance(answer.sources, tuple) and isinstance(answer.suggestions, tuple)


def test_answer_as_json_shape(engine: Engine) -> None:
    data = engine.ask("What does an IT manager do?").to_dict()
    assert list(data) == ["question", "answer", "kind", "confidence", "sources", "suggestions"]
    assert data["question"] == "What does an IT manager do?"
    assert list(data["sources"][0]) == ["id", "role", "topic", "score"]


# -- changing knowledge ------------------------------------------------------------------------

REMOTE = Passage(
    "itm-remote-work",
    "remote-work",
    ITM,
    "An IT Manager sets the remote work policy: VPN access, laptop security and home office equipment.",
)


def test_added_passage_on_a_new_topic_is_answerable_at_once() -> None:
    engine = load_engine(PROJECT_ROOT / "knowledge", PROJECT_ROOT / "intents")
    engine.add_passages([REMOTE])
    answer = engine.ask("Who sets the remote work policy?")
    assert answer.kind != "fallback"
    assert ids(answer)[0] == "itm-remote-work"


def test_engine_refuses_intents_that_point_at_missing_knowledge() -> None:
    knowledge = load_knowledge(PROJECT_ROOT / "knowledge")
    with pytest.raises(KnowledgeError, match="unknown passage 'nope'"):
        Engine(knowledge, [Intent("broken", ("x",), passages=("nope",))])


def test_a_second_passage_for_the_same_role_and_topic_is_not_a_comparison() -> None:
    engine = load_engine(PROJECT_ROOT / "knowledge", PROJECT_ROOT / "intents")
    extra = Passage(
        "pm-cutover", "project-management", PM,
        "An IT Project Manager rehearses the cutover weekend before go-live with the whole team.",
    )
    engine.add_passages([extra])
    answer = engine.ask("who rehearses the cutover weekend before go-live?")
    assert (answer.kind, ids(answer)) == ("retrieval", ["pm-cutover"])
    compared = engine.ask("IT PM vs IT manager: project management")
    assert len([s for s in compared.sources if s.role == PM]) == 1


def test_a_short_phrase_of_the_article_word_for_word_is_never_declined(engine: Engine) -> None:
    # "technical support" half meets an out-of-scope example about support jobs; the article says it word for word.
    answer = engine.ask("technical support")
    assert answer.kind != "fallback"
    assert answer.sources[0].role == "it-manager"
    assert engine.ask("technical support python").kind == "fallback"  # not the article's phrase any more


def test_a_role_named_and_two_words_of_its_passages_in_a_row_are_in_scope(engine: Engine) -> None:
    # The classifier half agrees with out-of-scope examples about support and security; the article says these.
    assert ids(engine.ask("IT MANAGR GIVE TECHNICAL SUPORT TO EMPLOYES?")) == ["itm-responsibilities"]
    assert engine.ask("Is the IT manager the one responsible for network security?").kind == "retrieval"
    assert engine.ask("give technical support to employees in python").kind != "retrieval"  # no role named


def test_a_named_topic_beats_the_conclusion_more_easily(engine: Engine) -> None:
    question = (
        "I'm torn between two career paths: delivering IT projects or running an IT department. "
        "What skills and qualifications does each path need?"
    )
    assert ids(engine.ask(question)) == ["pm-qualifications-and-skills", "itm-qualifications-and-skills"]
    strict = dataclasses.replace(engine.thresholds, named_topic_over_both_ratio=engine.thresholds.named_topic_ratio)
    assert ids(Engine(engine.knowledge, engine.intents, thresholds=strict).ask(question)) == ["conclusion"]


def test_communication_alone_names_the_communication_skills_topic(engine: Engine) -> None:
    answer = engine.ask("Why does communication matter so much for an IT project manager?")
    assert ids(answer) == ["pm-communication-skills"]


def test_a_follow_up_leans_towards_the_topic_being_talked_about(engine: Engine) -> None:
    conversation = Conversation()
    first = engine.ask("who picks the outside firm for our software project?", conversation)
    assert ids(first) == ["pm-vendor-management"]
    assert ids(engine.ask("how do they keep that firm in line?", conversation)) == ["pm-vendor-management"]
    plain = dataclasses.replace(engine.thresholds, follow_up_topic_factor=1.0)
    fresh, other = Engine(engine.knowledge, engine.intents, thresholds=plain), Conversation()
    fresh.ask("who picks the outside firm for our software project?", other)
    assert ids(fresh.ask("how do they keep that firm in line?", other)) != ["pm-vendor-management"]
