"""Reading questions: normalization, role mentions, spelling repair, synonyms and stemming."""

from __future__ import annotations

import pytest

from bot.language import (
    ITM,
    PM,
    QuestionReader,
    SpellingRepair,
    SynonymMap,
    compares_other_things,
    english_word_counts,
    content_words,
    find_roles,
    normalize,
    stem,
    tokens,
)

VOCABULARY = """
an it project manager oversees planning execution and delivery of projects vendors contracts budget
negotiate suppliers stakeholders leadership technical knowledge infrastructure responsibilities
""".split()


@pytest.fixture(scope="module")
def reader() -> QuestionReader:
    synonyms = SynonymMap({"vendor": ["supplier", "outsourcing partner"], "budget": ["money"]})
    return QuestionReader({word: 1 for word in VOCABULARY}, synonyms)


# -- normalization -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("What does an IT PM do?", "what does an it pm do"),
        ("  Vendors,\tcontracts...\nand   budgets!! ", "vendors contracts and budgets"),
        ("IT-manager/PM", "it manager pm"),
        ("What’s the PM’s job?", "what s the pm s job"),  # curly apostrophes, as phones type them
        ("ＩＴ　ＰＭ", "it pm"),  # full-width letters and space fold to ASCII
        ("", ""),
        ("?!...", ""),
    ],
)
def test_normalize(text: str, normalized: str) -> None:
    assert normalize(text) == normalized


@pytest.mark.parametrize(
    ("text", "normalized"),
    [("Café résumé", "cafe resume"), ("naïve", "naive"), ("Ångström", "angstrom"), ("Straße", "strasse")],
)
def test_normalize_folds_accents(text: str, normalized: str) -> None:
    assert normalize(text) == normalized


def test_tokens_are_normalized_words() -> None:
    assert tokens("Who negotiates with Vendors?") == ["who", "negotiates", "with", "vendors"]


def test_content_words_drop_stop_words_filler_digits_and_single_letters() -> None:
    assert content_words("what does a pm really do with 3 vendors x".split()) == ["pm", "vendors"]


@pytest.mark.parametrize(
    ("words", "same"),
    [
        (("vendors", "vendor"), True),
        (("negotiating", "negotiate"), True),
        (("responsibilities", "responsibility"), True),
        (("budget", "vendor"), False),
        (("duties", "duty"), True),  # -ies meets -y
        (("policies", "policy"), True),
        (("activities", "activity"), True),  # -ities as before
    ],
)
def test_stem_lets_word_forms_meet(words: tuple[str, str], same: bool) -> None:
    assert (stem(words[0]) == stem(words[1])) is same


# -- role mentions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "roles"),
    [
        ("PM", (PM,)),
        ("what does a pm do", (PM,)),
        ("IT PM", (PM,)),
        ("project manager", (PM,)),
        ("IT project manager", (PM,)),
        ("project managers", (PM,)),
        ("IT manager", (ITM,)),
        ("IT managers", (ITM,)),
        ("head of IT", (ITM,)),
        ("PM vs IT manager", (PM, ITM)),
        ("IT manager vs PM", (ITM, PM)),
        ("what is it about", ()),  # "it" alone is a pronoun, not the IT in "IT manager"
        ("who handles vendors", ()),
        ("moving into IT project management", (PM,)),  # the career field
        ("what does project management involve", ()),  # a topic, not a role
        ("how should the person delivering the new parent portal talk to teachers?", (PM,)),
        ("the lead on our bank's app relaunch", (PM,)),
        ("we're bringing in someone to lead the switch to a new payments platform", (PM,)),
        ("who picks the contractor for a new app build?", ()),  # the contractor is the vendor
        ("is being a sharp problem-solver important for the person in charge of a council's computer systems?", (ITM,)),
        ("the man heading up our school library's new system", (PM,)),
        ("the one running a single rollout or the one running the whole tech department?", (PM, ITM)),
        ("a woman who was brought in to lead the new permits system", (PM,)),
        ("she wants to be the person who runs new tech launches", (PM,)),
        ("replacing the retiring head of the computer section", (ITM,)),
        ("the person who'll run its whole tech team", (ITM,)),
        ("who runs the new servers?", ()),
        ("what makes a good boss for the folks who fix our laptops?", (ITM,)),
        ("I look after the people who keep our network running", (ITM,)),
        ("I'm the person who keeps the IT department running", (ITM,)),
        ("our sysadmin boss", (ITM,)),
        ("I manage the small IT team at a clinic", (ITM,)),
        ("I'm the one getting our online ordering thing live", (PM,)),
        ("whoever is turning our paper order forms into an app", (PM,)),
        ("whoever is rolling out new tills across our shops", (PM,)),
        ("the guy who gets new software launches over the finish line", (PM,)),
        ("the guy running our police department's records-software rollout", (PM,)),
        ("the person who fixes our laptops", ()),  # doing the support work is no role of the two
    ],
)
def test_find_roles(text: str, roles: tuple[str, ...]) -> None:
    assert find_roles(normalize(text)).roles == roles


@pytest.mark.parametrize(
    ("text", "roles"),
    [
        ("what's a normal day like for the person heading up IT at an office?", (ITM,)),
        ("my cousin runs tech for a chain of restaurants", (ITM,)),
        ("the person who runs all the computers at my school", (ITM,)),
        ("who is in charge of it?", ()),  # a small "it" points at something else
        ("who runs IT projects?", ()),  # projects, not the department
        ("who runs tech support?", ()),
    ],
)
def test_the_department_said_in_one_word_names_the_it_manager(reader: QuestionReader, text: str, roles: tuple[str, ...]) -> None:
    assert reader.read(text).roles == roles


def test_find_roles_cuts_the_mentions_out() -> None:
    assert find_roles(normalize("What does an IT project manager do?")).remainder == "what does an do"
    assert find_roles(normalize("it manager vs pm: budgets")).remainder == "vs budgets"


@pytest.mark.parametrize(
    ("text", "roles"),
    [
        ("what does a projct managr do", (PM,)),
        ("what does a project manger do", (PM,)),
        ("what does an IT managr do", (ITM,)),
        ("what does an it manger do", (ITM,)),
        ("IT PM vs IT managr", (PM, ITM)),
    ],
)
def test_reader_finds_roles_through_typos(reader: QuestionReader, text: str, roles: tuple[str, ...]) -> None:
    assert reader.read(text).roles == roles


# -- spelling repair ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "corrected"),
    [
        ("vendros", "vendors"),
        ("negotiat", "negotiate"),
        ("stakeholdrs", "stakeholders"),
        ("infrastucture", "infrastructure"),
        ("budget", "budget"),  # a known word stays
        ("the", "the"),  # stop words are never "repaired"
        ("asdf", "asdf"),  # nothing close: left alone
        ("passport", "passport"),
    ],
)
def test_spelling_repair(word: str, corrected: str) -> None:
    assert SpellingRepair(VOCABULARY).correct(word) == corrected


def test_spelling_repair_corrects_whole_text() -> None:
    repair = SpellingRepair(VOCABULARY)
    assert repair.correct_text("who negotiat with vendros") == "who negotiate with vendors"


@pytest.mark.parametrize(
    ("word", "corrected"),
    [
        ("pride", "pride"),  # a common word, not a slip for "price"
        ("coat", "coat"),  # not "cost"
        ("dose", "does"),  # a common word, but "does" is a hundred times as common
        ("manger", "manager"),  # a rare word: a slip
        ("budjet", "budget"),
        ("sertification", "certification"),  # spelled by ear: the first letter may slip when no word is made
        ("sell", "sell"),  # a word: not "cell"
    ],
)
def test_spelling_repair_leaves_real_english_words_alone(word: str, corrected: str) -> None:
    vocabulary = ["price", "cost", "does", "manager", "budget", "certification", "cell"]
    repair = SpellingRepair(vocabulary, english=english_word_counts())
    assert repair.correct(word) == corrected


@pytest.mark.parametrize(
    ("word", "corrected"), [("teh", "the"), ("yuo", "you"), ("kno", "know"), ("car", "car"), ("crm", "crm")]
)
def test_a_three_letter_slip_is_repaired_only_to_a_question_word(word: str, corrected: str) -> None:
    repair = SpellingRepair(["cat", "crime", "the", "you", "know"], english=english_word_counts())
    assert repair.correct(word) == corrected


def test_reader_repairs_spelling_before_it_looks(reader: QuestionReader) -> None:
    reading = reader.read("Who negotiats with vendros?")
    assert reading.normalized == "who negotiats with vendros"
    assert reading.corrected == "who negotiate with vendors"
    assert set(reading.known) == {"negotiate", "vendors"}


@pytest.mark.parametrize(
    "text, corrected",
    [
        ("whats the roll of an it manager", "whats the role of an it manager"),
        ("rolls and responsibilities of a pm", "roles and responsibilities of a pm"),
        ("who plans the roll out of new laptops", "who plans the roll out of new laptops"),  # a rollout stays
    ],
)
def test_reader_hears_a_word_spelled_as_it_sounds(reader: QuestionReader, text: str, corrected: str) -> None:
    assert reader.read(text).corrected == corrected


def test_texting_words_are_filler_not_unknown_topic_words(reader: QuestionReader) -> None:
    reading = reader.read("i wanna be an IT manager, wut would i do all day tbh")
    assert reading.roles == ("it-manager",)
    assert "wanna" not in reading.content and "wut" not in reading.content and "tbh" not in reading.content


# -- synonyms ----------------------------------------------------------------------------------


def test_synonyms_add_the_knowledge_term_beside_the_everyday_phrase() -> None:
    synonyms = SynonymMap({"vendor": ["supplier", "outsourcing partner"], "technical support": ["help desk"]})
    assert synonyms.expand("who pays the supplier") == "who pays the supplier vendor"
    assert synonyms.expand("who runs the help desk") == "who runs the help desk technical support"
    assert synonyms.expand("our outsourcing partner") == "our outsourcing partner vendor"
    assert synonyms.expand("nothing to add here") == "nothing to add here"


def test_synonyms_match_whole_words_only() -> None:
    assert SynonymMap({"vendor": ["sla"]}).expand("translate slack") == "translate slack"


def test_reader_expands_synonyms_after_cutting_roles(reader: QuestionReader) -> None:
    reading = reader.read("How does an IT manager handle money?")
    assert reading.roles == (ITM,)
    assert reading.expanded.endswith("budget")
    assert "manager" not in reading.expanded


# -- cues --------------------------------------------------------------------------------------


def test_reader_marks_comparisons_follow_ups_and_the_other_role(reader: QuestionReader) -> None:
    assert reader.read("IT PM vs IT manager: budget").compare_cue
    assert reader.read("what sets the two apart on scope?").compare_cue
    assert not reader.read("what does an IT manager do?").compare_cue
    assert reader.read("and for the IT manager?").follow_up_cue
    assert reader.read("what about budgets?").follow_up_cue
    assert reader.read("and the other role?").other_role
    assert reader.read("is the PM the same as the IT manager?").compare_cue
    assert not reader.read("the same for the IT manager?").compare_cue  # a follow-up, not a comparison
    assert not reader.read("and what about leadership for that same role?").compare_cue
    assert reader.read("is a product manager the same as a project manager?").compares_other  # another job
    assert not reader.read("is an IT manager the same as a project manager?").compares_other
    assert not reader.read("the head of our computer team talks in jargon to teachers, what should he do differently?").compares_other
    assert reader.read("what about the project guy?").roles == (PM,)
    assert not reader.read("our rollout lead never says much. what should she do differently?").compare_cue  # one person
    assert reader.read("does she lead differently from an IT manager?").compare_cue  # a role beside her
    assert reader.read("summarize this email for me").decline_cue  # a task
    assert not reader.read("summarize how the two roles differ").decline_cue  # what the knowledge is for
    assert reader.read("ok so who handles vendors then?").asks_who
    assert reader.read("when we switch payroll systems, who maps out the steps?").asks_who
    assert not reader.read("who do they report to?").asks_who  # about the role already talked about
    assert reader.read("who plans the steps before our CRM goes live?").role_hint == PM
    assert reader.read("who keeps the servers up?").role_hint == ITM
    assert reader.read("who plans moving our servers to the cloud in one big migration?").role_hint is None  # both
    assert reader.read("what does the PM do before go live?").role_hint is None  # a role named


@pytest.mark.parametrize(
    ("question", "declined"),
    [
        ("how do I set up a VPN on my laptop", True),
        ("what's a good project management software for a small team?", True),
        ("best laptops for developers", True),
        ("how much does an IT manager earn in Spain", True),
        ("can you write a status report for me", True),
        ("what makes a good IT manager?", False),  # a good leader is no product pick
        ("how does an IT PM pick tools for the team", False),
        ("who approves software purchases", False),
        ("open a ticket with the help desk for my broken monitor", True),
        ("who does an IT manager report to?", True),
        ("which antivirus should our company buy?", True),
        ("which certs should I get?", False),
        ("which universities have the best computer science courses?", True),
        ("what are common interview questions for an IT project manager?", True),
        ("what's the phone number of the IT department?", True),
        ("what university degree does an IT manager need?", False),
        ("who is the CEO of Microsoft?", True),
        ("what's the parental leave policy here?", True),
        ("are IT project managers happy in their jobs?", True),
        ("how should the PM report to stakeholders?", False),  # reporting progress, not a reporting line
        ("who do I raise a ticket with when my laptop breaks?", False),
        ("how long does it take to become an IT manager?", True),
        ("is the job market for IT project managers good right now?", True),
        ("who founded Microsoft?", True),
        ("how do I calculate earned value on a project?", True),
        ("how many people usually report to an IT manager?", True),  # a reporting line
        ("what are the GDPR fines if a hospital leaks patient data?", True),  # law
        ("what's the tax rate for self-employed contractors in Ireland?", True),
        ("is being an IT manager stressful? what's the burnout rate?", True),  # statistics
        ("how much should we budget for new tills across five shops?", True),  # a figure
        ("who is responsible for fire drills in our office building?", True),
        ("my password expired and now I'm locked out of the system, what do I do", True),  # a support request
        ("I forgot my password and I'm locked out, who helps me?", False),  # asks which role helps
        ("is it fine for the PM to be fuzzy on how the internet works?", False),
        ("how do I draw up a plan for our new system launch?", False),
        ("how do I get a refund from the supplier for a till that broke?", True),
        ("do you think AI will replace help desk jobs in the next five years?", True),
        ("how do I organise a team-building day for 20 people?", True),
        ("do you ever get bored?", True),  # about the bot itself
        ("wifi keeps disconnecting on my laptop every few minutes", True),  # a support request
        ("what are the opening hours of the IT service desk?", True),
        ("should we buy or lease our office laptops?", True),
        ("what does GDPR require when a customer asks us to delete their data?", True),  # law
        ("do you know what an IT manager does?", False),
        ("what's the usual career path after IT manager?", True),
        ("what comes after execution in a project's life?", False),  # the lifecycle, not a career
        ("is an MBA worth it for an IT manager?", True),  # the article never mentions one
        ("what's our office policy on bringing personal laptops?", True),
        ("who sets the IT policies?", False),
        ("tell me a joke about programmers", True),
        ("what are the eligibility requirements to sit the PMP exam?", True),
        ("how do I get promoted from IT project manager to IT manager?", True),  # the asker's own move
        ("nobody helps our tech staff learn new things or get promoted. whose job is that?", False),
    ],
)
def test_questions_the_knowledge_can_never_answer_are_noticed(
    reader: QuestionReader, question: str, declined: bool
) -> None:
    assert reader.read(question).decline_cue is declined


@pytest.mark.parametrize(
    ("question", "other"),
    [
        ("what does a network engineer do all day?", True),
        ("how would I become a game developer", True),
        ("what steps do I take to become a registered nurse", True),  # a word or two before the job
        ("what certifications does a cybersecurity analyst need", True),
        ("what does a data scientist actually do day to day", True),
        ("what's a data scientist's typical day like?", True),
        ("salary of a cloud architect", True),
        ("a scrum master's responsibilities", True),
        ("does an IT manager need to be an engineer?", False),  # about one of the roles
        ("do I need to be a programmer to run IT projects?", False),  # the project manager's work
        ("who manages the developers?", False),  # developers as a team, not the job asked about
    ],
)
def test_a_question_about_another_job_is_noticed(reader: QuestionReader, question: str, other: bool) -> None:
    assert reader.read(question).other_job is other


@pytest.mark.parametrize(
    ("question", "other"),
    [
        ("agile vs waterfall, which is better?", True),
        ("what's the difference between an IT manager and a CTO?", True),
        ("IT manager versus CIO", True),
        ("IT PM vs IT manager: leadership", False),
        ("difference between the two roles and their focus", False),
        ("leading a project team vs leading an IT department", False),
        ("IT manager vs the other one", False),
        ("how is the IT manager different?", False),
        ("Jira or Asana - which is better for tracking project tasks?", True),
        ("which is best for an IT PM, scrum or kanban?", True),
        ("PM or IT manager, which is better for me?", False),  # the two roles
        ("which is better, leading a project or running a department?", False),
        ("what keeps the PM busy between the kickoff meeting and the wrap-up party?", False),  # a stretch of time
        ("what changed between ITIL v3 and ITIL 4?", True),
    ],
)
def test_a_comparison_of_something_other_than_the_two_roles_is_noticed(question: str, other: bool) -> None:
    mentions = find_roles(normalize(question))
    assert compares_other_things(mentions.remainder, mentions.roles) is other


@pytest.mark.parametrize(
    ("question", "read_as"),
    [
        ("who leads a one off system upgrade project", "who run a one off system upgrade project"),
        ("what is the person leading it meant to do", "what is the person run it meant to do"),
        ("how does leading a project team compare with leading a department", None),  # leading people stays
    ],
)
def test_leading_the_work_is_running_it_not_leadership(reader: QuestionReader, question: str, read_as: str | None) -> None:
    assert reader.read(question).remainder == (read_as or reader.read(question).normalized)
