"""Redaction on synthetic calls: recall and precision by type, and what the redacted audio still
gives away when it is transcribed again.

    .venv/bin/python -m bench.redaction [--calls-per-type 4] [--seed 0] [--dutch]

Each call has an agent asking for one thing and a customer reading it out (flite and espeak-ng
voices; Debian packages ``flite`` and ``espeak-ng``): a card number, a security code, an IBAN, a
phone number, an e-mail address, a date of birth or a postal address, numbers in a speaking style
drawn per call (digits one by one, in groups of four, with "double" and "oh"), stereo or mono, at
16 or 8 kHz. The embedded models transcribe it (tiny.en for English, base for Dutch with
--dutch), redaction runs with every type on, and a finding counts when its type is right and it
lies in the customer's answer. "Leaked" counts the findings whose covered stretch, transcribed
again, still gives part of the entity away (``transcribe.redaction.verify``). Goals: recall
>= 99 % on cards, >= 95 % on the other numeric types, precision >= 90 %.
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
from transcribe.redaction.audio import redacted_samples
from transcribe.redaction.checksums import luhn_valid
from transcribe.redaction.entities import ENTITY_TYPES
from transcribe.redaction.rehear import RehearParams, redact_call
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


@dataclass
class Tally:
    calls: int = 0
    found: int = 0
    false: int = 0
    leaked: int = 0


def run_case(case: Case, folder: Path, cache_dir: Path, rehear: RehearParams) -> tuple[bool, int, bool, str]:
    """(found, false findings, leaked, what ASR heard of the answer) for one call."""
    lines = (
        SpokenLine(0, case.voices[0], ASK[case.language][case.entity]),
        SpokenLine(1, case.voices[1], ANSWER[case.language].format(case.spoken)),
        SpokenLine(0, case.voices[0], "Thank you." if case.language == "en" else "Dank u."),
    )
    path = folder / "call.wav"
    timed = write_call(path, lines, stereo=case.stereo, rate=case.rate)
    decoded = audio.decode(path)
    model_name = MODELS[case.language]
    options = TranscribeOptions(
        model=model_name,
        language=case.language,
        diarization="channels" if case.stereo else "auto",
        redact=ENTITY_TYPES,
    )
    heard = pipeline.run(decoded, options, cache_dir=cache_dir)
    model = load_whisper(model_name, cache_dir, "cpu", "int8")
    redaction = redact_call(model, decoded.samples, replace(heard, options=options), rehear)
    answer = timed[1]
    right = [
        s
        for s in redaction.spans
        if s.entity == case.entity and answer.start - 0.5 <= s.start <= answer.end + 0.5
    ]
    false = len(redaction.spans) - len(right)
    leaked = False
    if right:
        covered = redacted_samples(decoded.samples, [(s.start, s.end) for s in redaction.spans])
        leaked = any(not check.verified for check in verify_redaction(model, covered, right, options))
    said = " ".join(
        w.text.strip()
        for u in heard.utterances
        for w in u.words
        if answer.start - 0.5 <= w.start <= answer.end + 0.5
    )
    return bool(right), false, leaked, said


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls-per-type", type=int, default=4)
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
    args = parser.parse_args()
    rehear = RehearParams(prompt=args.rehear_prompt or None)
    rng = random.Random(args.seed)
    languages = ("en", "nl") if args.dutch else ("en",)
    tallies: dict[tuple[str, str], Tally] = {}
    conditions: Counter[str] = Counter()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        for language in languages:
            for entity in ("CARD", "CVC", "IBAN", "PHONE", "EMAIL", "DOB", "ADDRESS"):
                tally = tallies.setdefault((language, entity), Tally())
                for _ in range(args.calls_per_type):
                    case = make_case(entity, language, rng)
                    found, false, leaked, said = run_case(case, Path(workdir), args.cache_dir, rehear)
                    conditions[f"{'stereo' if case.stereo else 'mono'} {case.rate // 1000} kHz"] += 1
                    tally.calls += 1
                    tally.found += found
                    tally.false += false
                    tally.leaked += leaked
                    if not found:
                        print(f"  missed {language} {entity}: {case.spoken!r}, heard {said!r}")
    print(
        f"\n{sum(t.calls for t in tallies.values())} calls in {time.perf_counter() - started:.0f} s; "
        + ", ".join(f"{n} {c}" for c, n in sorted(conditions.items()))
    )
    print(f"{'lang':<5}{'model':<8}{'type':<7}{'calls':>6}{'recall':>9}{'precision':>11}{'leaked':>8}")
    for (language, entity), t in tallies.items():
        precision = t.found / (t.found + t.false) if t.found + t.false else float("nan")
        print(
            f"{language:<5}{MODELS[language]:<8}{entity:<7}{t.calls:>6}{t.found / t.calls:>9.0%}"
            f"{precision:>11.0%}{t.leaked:>8}"
        )


if __name__ == "__main__":
    main()
