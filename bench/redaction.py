"""Redaction on synthetic calls: recall and precision by type, and what the redacted audio still
gives away when it is transcribed again.

    .venv/bin/python -m bench.redaction [--calls-per-type 4] [--seed 0] [--dutch] [--hotwords "IBAN"]

Each call has an agent asking for one thing and a customer reading it out (flite and espeak-ng
voices; Debian packages ``flite`` and ``espeak-ng``): a card number, a security code, an IBAN, a
phone number, an e-mail address, a date of birth or a postal address, numbers in a speaking style
drawn per call (digits one by one, in groups of four, with "double" and "oh"), stereo or mono, at
16 or 8 kHz. The embedded models transcribe it (tiny.en for English, base for Dutch with
--dutch), redaction runs with every type on, and a finding counts when its type is right, it
starts after the agent's question and overlaps the customer's answer. Negative calls follow: the
agent asks and the customer refuses, asks back or defers ("it's on the card I used last time"),
or a card is mentioned and nothing asked; whatever is redacted in them is false. Each call is
redacted twice from the same hearing, with the answer cover (``transcribe.redaction.answers``)
off and on; precision counts the false findings of a type in every call, and "over s/call" the
seconds covered outside the customer's answer (on a negative call: all of them). "Leaked" counts
the calls whose right findings, their stretches transcribed again, still give part of the entity
away (``transcribe.redaction.verify``). Goals: recall >= 99 % on cards, >= 95 % on the other
numeric types, precision >= 90 %.
"""

from __future__ import annotations

import argparse
import random
import string
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

from bench.spoken_calls import SpokenLine, write_call
from transcribe import audio, pipeline
from transcribe.models import load_whisper
from transcribe.redaction.answers import AnswerCoverParams
from transcribe.redaction.audio import redacted_samples
from transcribe.redaction.checksums import luhn_valid
from transcribe.redaction.entities import ENTITY_TYPES
from transcribe.redaction.rehear import RehearParams, hear_numbers_again
from transcribe.redaction.stage import RedactedSpan, redact_transcript
from transcribe.redaction.verify import verify_redaction
from transcribe.types import TranscribeOptions

DIGITS = {
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
    "nl": ["nul", "een", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen"],
}
ASK = {
    "en": {
        "CARD": "Can I have your card number please?",
        "CVC": "And the security code on the back of the card?",
        "IBAN": "What is your IBAN?",
        "PHONE": "On which phone number can we reach you?",
        "EMAIL": "What is your e-mail address?",
        "DOB": "Can you confirm your date of birth?",
        "ADDRESS": "And what is your address?",
    },
    "nl": {
        "CARD": "Mag ik uw kaartnummer?",
        "CVC": "En de beveiligingscode op de achterkant?",
        "IBAN": "Wat is uw IBAN?",
        "PHONE": "Op welk telefoonnummer kunnen we u bereiken?",
        "EMAIL": "Wat is uw e-mailadres?",
        "DOB": "Wat is uw geboortedatum?",
        "ADDRESS": "En wat is uw adres?",
    },
}
ANSWER = {"en": "Sure, it is {}.", "nl": "Ja, dat is {}."}
THANKS = {"en": "Thank you.", "nl": "Dank u."}
VOICES = {"en": (("rms", "slt"), ("kal", "f3"), ("awb", "m3")), "nl": (("nl_m", "nl_f"),)}
MODELS = {"en": "tiny.en", "nl": "base"}  # the embedded models: English only, and multilingual
NAMES = ("jan", "anna", "peter", "sophie", "tom", "emma")
DOMAINS = ("example", "mailbox", "telecom")
MONTHS = {
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
    "nl": ("januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september",
           "oktober", "november", "december"),
}  # fmt: skip
STREETS = {
    "en": ("Baker Street", "Church Road", "Mill Lane", "Station Road"),
    "nl": ("Kerkstraat", "Stationsweg", "Dorpsstraat", "Molenlaan"),
}
CITIES = {"en": ("London", "Leeds", "Bristol"), "nl": ("Utrecht", "Leiden", "Delft")}


@dataclass(frozen=True)
class Case:
    entity: str
    language: str
    value: str  # what is read out, as characters
    spoken: str  # the customer's words
    stereo: bool
    rate: int
    voices: tuple[str, str]


def card(rng: random.Random) -> str:
    while True:
        number = rng.choice("45") + "".join(rng.choice(string.digits) for _ in range(15))
        if luhn_valid(number):
            return number


def iban_nl(rng: random.Random) -> str:
    bank = rng.choice(("ABNA", "INGB", "RABO"))
    account = "".join(rng.choice(string.digits) for _ in range(10))
    rearranged = "".join(str(ord(c) - 55) if c.isalpha() else c for c in bank + account + "NL00")
    return f"NL{98 - int(rearranged) % 97:02d}{bank}{account}"


def date_of_birth(language: str, rng: random.Random) -> str:
    day, month, year = rng.randint(1, 28), rng.choice(MONTHS[language]), rng.randint(1940, 2005)
    if language == "nl":
        return f"{day} {month} {year}"
    return rng.choice((f"the {day}{_suffix(day)} of {month}, {year}", f"{month} {day}{_suffix(day)}, {year}"))


def _suffix(day: int) -> str:
    return "th" if 10 < day < 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def address(language: str, rng: random.Random) -> str:
    number, street, city = rng.randint(1, 250), rng.choice(STREETS[language]), rng.choice(CITIES[language])
    if language == "nl":
        letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(2))
        postcode = f"{rng.randint(1000, 9999)} {letters}"
        return f"{street} {number}, {postcode} {city}"
    return f"{number} {street}, {city}"


def spoken_digits(value: str, language: str, style: str) -> str:
    """``value`` read out: one by one, in groups of four, or with "double"/"oh" (English)."""
    words = DIGITS[language]
    said: list[str] = []
    i = 0
    while i < len(value):
        c = value[i]
        if c.isalpha():
            said.append(c)
        elif style == "double" and language == "en" and i + 1 < len(value) and value[i + 1] == c:
            said.append(f"double {words[int(c)]}")
            i += 1
        else:
            said.append("oh" if style == "double" and language == "en" and c == "0" else words[int(c)])
        i += 1
        if style in ("groups", "double") and i % 4 == 0 and i < len(value):
            said[-1] += ","
    return " ".join(said)


def make_case(entity: str, language: str, rng: random.Random) -> Case:
    style = rng.choice(("single", "groups", "double"))
    if entity == "CARD":
        value = card(rng)
    elif entity == "CVC":
        value = "".join(rng.choice(string.digits) for _ in range(3))
    elif entity == "IBAN":
        value = iban_nl(rng)
    elif entity == "PHONE":
        value = "06" + "".join(rng.choice(string.digits) for _ in range(8))
    elif entity == "DOB":
        value = date_of_birth(language, rng)
    elif entity == "ADDRESS":
        value = address(language, rng)
    else:
        value = f"{rng.choice(NAMES)}.{rng.choice(NAMES)}@{rng.choice(DOMAINS)}.com"
    if entity in ("DOB", "ADDRESS"):
        spoken = value  # the voices read digits, ordinals and years as people say them
    elif entity == "EMAIL":
        local, domain = value.split("@")
        dot, at = ("dot", "at") if language == "en" else ("punt", "apenstaartje")
        spoken = f" {dot} ".join(local.split(".")) + f" {at} " + f" {dot} ".join(domain.split("."))
    else:
        spoken = spoken_digits(value, language, style)
    return Case(
        entity,
        language,
        value,
        spoken,
        stereo=rng.random() < 0.5,
        rate=rng.choice((16000, 8000)),
        voices=rng.choice(VOICES[language]),
    )


# Calls where the agent asks and the customer's answer is not the data, and calls where a card is
# mentioned and nothing is asked: (kind, agent's line, customer's line). Whatever is redacted
# in them is a false finding.
NEGATIVES = {
    "en": (
        ("refusal", ASK["en"]["CARD"], "Sorry, I don't have it with me right now."),
        ("question", ASK["en"]["CVC"], "Which card do you mean, the old one or the new one?"),
        ("deferral", ASK["en"]["IBAN"], "It's on the card I used last time."),
        ("mention", "I see that your card was declined yesterday.", "Yes, my card was declined at the shop."),
        ("phone-deferral", ASK["en"]["PHONE"], "Just use the number you already have for me."),
    ),
    "nl": (
        ("refusal", ASK["nl"]["CARD"], "Sorry, die heb ik nu niet bij me."),
        ("question", ASK["nl"]["CVC"], "Welke kaart bedoelt u, de oude of de nieuwe?"),
        ("deferral", ASK["nl"]["IBAN"], "Die heeft u al, van de vorige keer."),
        (
            "mention",
            "Ik zie dat uw kaart gisteren is geweigerd.",
            "Ja, mijn kaart werd geweigerd in de winkel.",
        ),
        ("phone-deferral", ASK["nl"]["PHONE"], "Dat nummer heeft u al, van de vorige keer."),
    ),
}
VARIANTS = {"before": AnswerCoverParams(entities=frozenset()), "after": AnswerCoverParams()}


@dataclass
class Tally:
    calls: int = 0
    found: int = 0
    false: int = 0  # false findings of this type, in any call
    leaked: int = 0
    over_s: float = 0.0  # seconds covered outside the customer's answer (all of them: negatives)


@dataclass(frozen=True)
class Outcome:
    """What one redaction of a call gave: whether the entity was found, the types of the false
    findings, whether a right one still leaks, and the seconds covered where no entity was said."""

    found: bool
    false: tuple[str, ...]
    leaked: bool
    over_s: float


def run_call(
    case: Case | None,
    lines: tuple[SpokenLine, ...],
    language: str,
    stereo: bool,
    rate: int,
    folder: Path,
    cache_dir: Path,
    rehear: RehearParams,
    hotwords: str | None = None,
) -> tuple[dict[str, Outcome], str]:
    """Each variant's outcome for one call (``case`` None: a negative call, nothing to find), and
    what ASR heard of the customer's answer."""
    path = folder / "call.wav"
    timed = write_call(path, lines, stereo=stereo, rate=rate)
    decoded = audio.decode(path)
    model_name = MODELS[language]
    options = TranscribeOptions(
        model=model_name,
        language=language,
        diarization="channels" if stereo else "auto",
        redact=ENTITY_TYPES,
        hotwords=hotwords,
    )
    heard = replace(pipeline.run(decoded, options, cache_dir=cache_dir), options=options)
    model = load_whisper(model_name, cache_dir, "cpu", "int8")
    again = hear_numbers_again(model, decoded.samples, heard, rehear)
    answer = timed[1]
    outcomes: dict[str, Outcome] = {}
    seen: dict[tuple[RedactedSpan, ...], Outcome] = {}  # the same spans: the same outcome, heard once
    for variant, cover in VARIANTS.items():
        redaction = redact_transcript(heard, again, cover)
        if redaction.spans in seen:
            outcomes[variant] = seen[redaction.spans]
            continue
        right = [
            s
            for s in redaction.spans
            if case is not None
            and s.entity == case.entity
            and timed[0].end - 0.5 <= s.start <= answer.end + 0.5  # after the request, in the answer
            and s.end >= answer.start
        ]
        leaked = False
        if right:
            covered = redacted_samples(decoded.samples, [(s.start, s.end) for s in redaction.spans])
            leaked = any(not check.verified for check in verify_redaction(model, covered, right, options))
        inside = (answer.start - 0.5, answer.end + 0.5) if case is not None else (0.0, 0.0)
        outcomes[variant] = Outcome(
            bool(right),
            tuple(s.entity for s in redaction.spans if s not in right),
            leaked,
            sum(_outside(s.start, s.end, inside) for s in redaction.spans),
        )
        seen[redaction.spans] = outcomes[variant]
    said = " ".join(
        w.text.strip()
        for u in heard.utterances
        for w in u.words
        if answer.start - 0.5 <= w.start <= answer.end + 0.5
    )
    return outcomes, said


def _outside(start: float, end: float, inside: tuple[float, float]) -> float:
    overlap = max(0.0, min(end, inside[1]) - max(start, inside[0]))
    return end - start - overlap


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls-per-type", type=int, default=4)
    parser.add_argument(
        "--negatives-per-kind", type=int, help="calls of each negative kind (default: --calls-per-type)"
    )
    parser.add_argument(
        "--types",
        default="CARD,CVC,IBAN,PHONE,EMAIL,DOB,ADDRESS",
        help="the types whose calls are run (the others' are still drawn: the same seed, the same calls)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dutch", action="store_true", help="Dutch calls too (the base model)")
    parser.add_argument(
        "--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "earshot-bench-models"
    )
    parser.add_argument(
        "--rehear-prompt",
        default=RehearParams.prompt,
        help="the second hearing's prompt (RehearParams.prompt); an empty one: none",
    )
    parser.add_argument("--hotwords", help="words Whisper is told to expect (the settings' hotwords)")
    args = parser.parse_args()
    negatives = args.calls_per_type if args.negatives_per_kind is None else args.negatives_per_kind
    rehear = RehearParams(prompt=args.rehear_prompt)
    rng = random.Random(args.seed)
    languages = ("en", "nl") if args.dutch else ("en",)
    tallies: dict[tuple[str, str, str], Tally] = {}
    conditions: Counter[str] = Counter()
    started = time.perf_counter()

    def count(language: str, kind: str, outcomes: dict[str, Outcome]) -> None:
        for variant, outcome in outcomes.items():
            tally = tallies.setdefault((variant, language, kind), Tally())
            tally.calls += 1
            tally.found += outcome.found
            tally.leaked += outcome.leaked
            tally.over_s += outcome.over_s
            for entity in outcome.false:
                tallies.setdefault((variant, language, entity), Tally()).false += 1

    with tempfile.TemporaryDirectory() as workdir:
        for language in languages:
            for entity in ("CARD", "CVC", "IBAN", "PHONE", "EMAIL", "DOB", "ADDRESS"):
                for _ in range(args.calls_per_type):
                    case = make_case(entity, language, rng)
                    if entity not in args.types.split(","):
                        continue
                    lines = (
                        SpokenLine(0, case.voices[0], ASK[language][entity]),
                        SpokenLine(1, case.voices[1], ANSWER[language].format(case.spoken)),
                        SpokenLine(0, case.voices[0], THANKS[language]),
                    )
                    outcomes, said = run_call(
                        case,
                        lines,
                        language,
                        case.stereo,
                        case.rate,
                        Path(workdir),
                        args.cache_dir,
                        rehear,
                        args.hotwords,
                    )
                    conditions[f"{'stereo' if case.stereo else 'mono'} {case.rate // 1000} kHz"] += 1
                    count(language, entity, outcomes)
                    print(
                        f"  {language} {entity} {_summary(outcomes)}: {case.spoken!r}, heard {said!r}",
                        flush=True,
                    )
            # Drawn after every positive case, so that those stay the calls of earlier runs.
            for kind, ask, reply in NEGATIVES[language]:
                for _ in range(negatives):
                    stereo, rate, voices = (
                        rng.random() < 0.5,
                        rng.choice((16000, 8000)),
                        rng.choice(VOICES[language]),
                    )
                    lines = (
                        SpokenLine(0, voices[0], ask),
                        SpokenLine(1, voices[1], reply),
                        SpokenLine(0, voices[0], THANKS[language]),
                    )
                    outcomes, said = run_call(
                        None,
                        lines,
                        language,
                        stereo,
                        rate,
                        Path(workdir),
                        args.cache_dir,
                        rehear,
                        args.hotwords,
                    )
                    conditions[f"{'stereo' if stereo else 'mono'} {rate // 1000} kHz"] += 1
                    count(language, f"no:{kind}", outcomes)
                    print(f"  {language} no:{kind} {_summary(outcomes)}: heard {said!r}", flush=True)
    print(
        f"\n{sum(t.calls for k, t in tallies.items() if k[0] == 'before')} calls"
        f" in {time.perf_counter() - started:.0f} s; "
        + ", ".join(f"{n} {c}" for c, n in sorted(conditions.items()))
    )
    for variant in VARIANTS:
        print(f"\nanswer cover {'off' if variant == 'before' else 'on'} ({variant})")
        print(
            f"{'lang':<5}{'model':<8}{'type':<12}{'calls':>6}{'recall':>9}{'false':>7}{'precision':>11}"
            f"{'leaked':>8}{'over s/call':>13}"
        )
        for (v, language, kind), t in tallies.items():
            if v != variant:
                continue
            negative = kind.startswith("no:")
            recall = "" if negative or not t.calls else f"{t.found / t.calls:.0%}"
            precision = f"{t.found / (t.found + t.false):.0%}" if t.found + t.false else ""
            over = f"{t.over_s / t.calls:.2f}" if t.calls else ""
            print(
                f"{language:<5}{MODELS[language]:<8}{kind:<12}{t.calls:>6}{recall:>9}{t.false:>7}"
                f"{precision:>11}{t.leaked:>8}{over:>13}"
            )


def _summary(outcomes: dict[str, Outcome]) -> str:
    return " ".join(
        f"{variant}={'found' if o.found else 'missed'}{'+false:' + ','.join(o.false) if o.false else ''}"
        f"{' leaked' if o.leaked else ''} over={o.over_s:.1f}s"
        for variant, o in outcomes.items()
    )


if __name__ == "__main__":
    main()
