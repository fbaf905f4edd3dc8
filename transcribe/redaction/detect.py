"""Find payment data and personal numbers in a sequence of words, by checksum and by context.

Words come with the stream (speaker) that said them: a number is read by one person, maybe
across Whisper segments and around the other party's "mm-hmm", so runs are built per stream;
the cue that says what a short number is ("and the security code?") is often the other party's,
so context is read across streams, backwards from the number.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import phonenumbers

from transcribe.redaction.addresses import postal_addresses
from transcribe.redaction.birth_dates import birth_dates
from transcribe.redaction.checksums import (
    IBAN_LENGTHS,
    IBAN_MAX,
    IBAN_MIN,
    bsn_valid,
    card_number_valid,
    expiry_valid,
    iban_valid,
    ssn_shape_valid,
)
from transcribe.redaction.entities import EntityType, Finding, RedactionOptions
from transcribe.redaction.spoken import EDGE_PUNCTUATION, CodeRun, code_runs

# Cues, matched at the start of a word in the lower-cased words before a number (English and
# Dutch); a trailing space asks for the whole word.
CUES: dict[EntityType, tuple[str, ...]] = {
    "CARD": ("card", "kaart", "visa", "mastercard", "amex", "american express", "maestro"),
    "IBAN": ("iban", "i ban"),
    "PHONE": ("phone", "telephone", "mobile", "cell", "telefoon", "mobiel", "06-nummer", "bel "),
    "CVC": (
        "cvc", "cvv", "cv2", "security code", "three digit", "3 digit",
        "three-digit", "3-digit", "back of the card", "card verification", "beveiligingscode",
        "controlecode", "verificatiecode", "achterkant",
    ),
    "EXPIRY": (
        "expir", "exp ", "valid until", "valid thru", "valid through", "end date", "vervaldatum",
        "verloopt", "verloop", "geldig tot", "vervalt",
    ),
    "BSN": ("bsn", "burgerservicenummer", "burger service nummer", "sofinummer", "sofi", "citizen service"),
    "SSN": ("social security", "ssn ", "social "),
    "BANK_ACCOUNT": ("bank", "rekening", "routing", "sort code", "account number"),
}  # fmt: skip
_CUE_PATTERNS = {
    entity: re.compile(r"\b(?:" + "|".join(re.escape(cue) for cue in cues) + ")")
    for entity, cues in CUES.items()
}
# How many words the other party may say inside a number without ending it ("yes, got that").
BACKCHANNEL_WORDS = 3
# Digits asked for as a card number, an IBAN or a phone number but failing its check: ASR drops or
# mishears a digit (or an IBAN's letters) of a number read out fast, and what is left is still
# most of it. Fewer than this is a card's last four or a house number.
CUED_MIN_DIGITS = 8
# A run of this many digits is a card even with no cue heard and its check failed: ASR drops or
# mishears a digit of a card read out, and its cue with it ("part number"); no phone number is
# that long (0031 6 1234 5678 has 13), and missing a card is the costly error.
CARD_SHAPED_DIGITS = (14, 21)
# A code of this many characters read out, with a letter and at least this many digits among them,
# is an IBAN whose letters ASR misheard (``_spelled_account``): the shortest IBANs have 10 digits
# after the country and bank code (NL: 2 check digits + 10), the longest 34 characters.
SPELLED_ACCOUNT_CHARS = (12, IBAN_MAX)
SPELLED_ACCOUNT_DIGITS = 10
# The letters of a bank code in an IBAN (NL RABO, GB NWBK, IE AIBK).
BANK_CODE_LETTERS = 4
# ...unless it was announced as a number of another kind.
_OTHER_NUMBER = re.compile(
    r"\b(?:reference|order|invoice|tracking|ticket|case|customer number|contract|"
    r"referentie|kenmerk|bestel|factuur|klantnummer|dossier)"
)
AT_WORDS = frozenset({"at", "@", "apenstaartje", "apestaartje", "apenstaart"})
DOT_WORDS = frozenset({"dot", "punt", "period"})
# Words that say "at" in a sentence rather than in an address ("call me at", "look at").
NOT_LOCAL_PARTS = frozenset(
    {"me", "us", "you", "him", "her", "them", "it", "look", "is", "are", "was", "mij", "ons"}
)
# "not": how ASR hears a "dot" between two names ("Sophie not Peter at ...").
JOIN_WORDS = frozenset({"dot", "not", "punt", "underscore", "dash", "hyphen", "streepje", "min", "minus"})
TOP_LEVEL_DOMAINS = frozenset(
    {"com", "net", "org", "nl", "be", "de", "uk", "eu", "io", "info", "fr", "es", "us", "co", "biz", "edu"}
)
_WRITTEN_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", re.UNICODE)
_WRITTEN_DOMAIN = re.compile(r"[\w-]+(\.[\w-]+)*\.([a-z]{2,6})")


@dataclass(frozen=True, slots=True)
class SaidWord:
    """A word's text and the stream (speaker, or one message) it belongs to."""

    text: str
    stream: str


def says_cue(text: str) -> bool:
    """Whether ``text`` asks for or announces a number redaction looks for ("card", "IBAN", ...)."""
    lowered = text.lower()
    return any(pattern.search(lowered) for pattern in _CUE_PATTERNS.values())


def find_entities(words: Sequence[SaidWord], options: RedactionOptions) -> tuple[Finding, ...]:
    """Every enabled entity said in ``words``, each with the indices of the words that said it."""
    texts = [word.text for word in words]
    lowered = [text.strip().lower().strip(EDGE_PUNCTUATION) for text in texts]
    findings: list[Finding] = []
    phrases: list[Finding] = []  # dates of birth and postal addresses: numbers among words
    for stream in dict.fromkeys(word.stream for word in words):
        said = [i for i, word in enumerate(words) if word.stream == stream]
        runs = code_runs(_with_turn_breaks(said, words), options.languages)
        in_runs = [finding for run in runs for finding in _in_run(run, lowered, options)]
        findings.extend(_prevailing(in_runs, _ibans_around_bank_words(runs, said, lowered)))
        if "EMAIL" in options.entities:
            findings.extend(_emails(said, words, lowered, options.context_words))
        if "DOB" in options.entities:
            phrases.extend(birth_dates(said, lowered, options.context_words, options.languages))
        if "ADDRESS" in options.entities:
            phrases.extend(postal_addresses(said, texts, lowered, options.context_words))
    findings = _checksummed_across_streams(words, options, findings)
    # Their digits are not another number ("05/03/1982" is no phone number, "90210" no code).
    in_phrases = {index for phrase in phrases for index in phrase.words}
    findings = [f for f in findings if in_phrases.isdisjoint(f.words)] + phrases
    wanted = [f for f in findings if f.entity in options.entities]
    return tuple(sorted(wanted, key=lambda f: f.words))


def _checksummed_across_streams(
    words: Sequence[SaidWord], options: RedactionOptions, found: Sequence[Finding]
) -> list[Finding]:
    """``found`` with the IBANs and cards whose words the diarization gave to two speakers (a
    mono call's "NL71 ABNA" to the agent, the rest to the caller): only a checksum vouches for a
    number read across speakers. Such a number replaces the findings that lie within it (the
    caller's half, taken for an account number by its cue) and yields to any it cuts through."""
    across: list[Finding] = []
    for run in code_runs(list(enumerate(word.text for word in words)), options.languages):
        claims: list[tuple[EntityType, int, int]] = [*_ibans(run.chars)]
        for start, end in _free_digit_stretches(run.chars, claims):
            claims.extend(_cards(run, start, end))
        for entity, start, end in claims:
            said = run.words_saying(start, end)
            if len({words[i].stream for i in said}) > 1:
                across.append(Finding(entity, said))
    return _prevailing(found, across)


def _prevailing(found: Sequence[Finding], checksummed: Sequence[Finding]) -> list[Finding]:
    """``found`` with each of ``checksummed`` in place of the findings that lie within it; one
    that cuts through another finding yields to it."""
    kept = list(found)
    for finding in checksummed:
        inside = [f for f in kept if set(f.words) <= set(finding.words)]
        if all(set(f.words).isdisjoint(finding.words) for f in kept if f not in inside):
            kept = [f for f in kept if f not in inside] + [finding]
    return kept


def _ibans_around_bank_words(
    runs: Sequence[CodeRun], said: Sequence[int], lowered: Sequence[str]
) -> list[Finding]:
    """IBANs whose bank code was said as a word between the country and check digits and the
    account number ("NL44 Rabo 0123 4567 89", "N L vier vier rabobank nul een ..."): the Dutch
    banks' codes RABO, KNAB, BUNQ and TRIO are names people say, and a name breaks a run of code
    characters. The word's first four letters are taken for the code where the IBAN's checksum
    then holds (a word that is no bank code passes it one time in 97)."""
    position = {index: p for p, index in enumerate(said)}
    found: list[Finding] = []
    for before, after in zip(runs, runs[1:], strict=False):
        between = said[position[before.words[-1]] + 1 : position[after.words[0]]]
        word = lowered[between[0]] if len(between) == 1 else ""
        if not (word.isascii() and word.isalpha() and len(word) >= BANK_CODE_LETTERS):
            continue
        bank = word[:BANK_CODE_LETTERS].upper()
        chars = before.chars + bank + after.chars
        account_start = len(before.chars) + len(bank)
        for _, start, end in _ibans(chars):
            if start < len(before.chars) and end > account_start:
                spoken = {*before.words_saying(start, len(before.chars)), *between}
                spoken.update(after.words_saying(0, end - account_start))
                found.append(Finding("IBAN", tuple(sorted(spoken))))
    return found


def _with_turn_breaks(said: Sequence[int], words: Sequence[SaidWord]) -> list[tuple[int, str] | None]:
    """One stream's words, with a break wherever the others said more than a backchannel in
    between: a number goes on around "mm-hmm, yes", not around the next question."""
    out: list[tuple[int, str] | None] = []
    for previous, index in zip([None, *said], said, strict=False):
        if previous is not None and index - previous - 1 > BACKCHANNEL_WORDS:
            out.append(None)
        out.append((index, words[index].text))
    return out


def _in_run(run: CodeRun, lowered: Sequence[str], options: RedactionOptions) -> list[Finding]:
    """Claim the run's characters strongest evidence first: checksums (IBAN, card), then
    numbers whose cue is near, then card-length digits, then phone numbers (valid in a region)."""
    claims: list[tuple[EntityType, int, int]] = [*_ibans(run.chars)]
    claims.extend(_iban_shapes(run, claims))
    for start, end in _free_digit_stretches(run.chars, claims):
        claims.extend(_cards(run, start, end))
    for start, end in _free_digit_stretches(run.chars, claims):
        after_card = any(entity == "CARD" and claim_end <= start for entity, _, claim_end in claims)
        claims.extend(_cued(run.chars, start, end, _said_before(run, start, lowered, options), after_card))
    lowest, highest = CARD_SHAPED_DIGITS
    for start, end in _free_digit_stretches(run.chars, claims):
        if lowest <= end - start <= highest and not _OTHER_NUMBER.search(
            _said_before(run, start, lowered, options)
        ):
            claims.append(("CARD", start, end))
    for start, end in _free_stretches(run.chars, claims):
        if _spelled_account(run.chars[start:end]) and not _OTHER_NUMBER.search(
            _said_before(run, start, lowered, options)
        ):
            claims.append(("IBAN", start, end))
    if "PHONE" in options.entities:
        for start, end in _free_digit_stretches(run.chars, claims, plus=True):
            if _phone_valid(run.chars[start:end], options.phone_regions):
                claims.append(("PHONE", start, end))
    return [Finding(entity, run.words_saying(start, end)) for entity, start, end in claims]


def _said_before(run: CodeRun, start: int, lowered: Sequence[str], options: RedactionOptions) -> str:
    """The words said (by anyone) in the ``context_words`` before the run's character ``start``."""
    first = run.owners[start]
    return " ".join(lowered[max(0, first - options.context_words) : first]) + " "


def _ibans(chars: str) -> list[tuple[EntityType, int, int]]:
    found: list[tuple[EntityType, int, int]] = []
    start = 0
    while start + IBAN_MIN <= len(chars):
        country = chars[start : start + 2]
        lengths = [IBAN_LENGTHS[country]] if country in IBAN_LENGTHS else range(IBAN_MAX, IBAN_MIN - 1, -1)
        length = next((n for n in lengths if iban_valid(chars[start : start + n])), None)
        if length is None:
            start += 1
        else:
            found.append(("IBAN", start, start + length))
            start += length
    return found


def _iban_shapes(
    run: CodeRun, claims: Sequence[tuple[EntityType, int, int]]
) -> list[tuple[EntityType, int, int]]:
    """IBANs whose checksum ASR broke (a letter of the bank code lost, "NL72, RAB7343157458"), by
    their shape: a word that begins with an IBAN country and its two check digits, and the
    account's digits after it (at least ``CUED_MIN_DIGITS``), up to the country's IBAN length."""
    taken = {i for _, start, end in claims for i in range(start, end)}
    chars = run.chars
    found: list[tuple[EntityType, int, int]] = []
    start = 0
    while start + 4 <= len(chars):
        country = chars[start : start + 2]
        if country not in IBAN_LENGTHS or not chars[start + 2 : start + 4].isdigit() or start in taken:
            start += 1
            continue
        limit = min(len(chars), start + IBAN_LENGTHS[country] + 2)  # ASR adds a digit now and then
        end = next(
            (
                e
                for e in range(limit, start + 4, -1)
                if run.word_edge(start, e) and taken.isdisjoint(range(start, e))
            ),
            None,
        )
        if end is not None and _digit_count(chars[start + 4 : end]) >= CUED_MIN_DIGITS:
            found.append(("IBAN", start, end))
            start = end
        else:
            start += 1
    return found


def _digit_count(chars: str) -> int:
    return sum(char.isdigit() for char in chars)


def _cards(run: CodeRun, stretch_start: int, end: int) -> list[tuple[EntityType, int, int]]:
    """Card numbers in a stretch of digits, longest first at each position, left to right; a
    card begins and ends with a word (one in ten digit strings passes Luhn, so a window cutting
    through "twelve" would find cards nobody said)."""
    found: list[tuple[EntityType, int, int]] = []
    start = stretch_start
    while start + 13 <= end:
        lengths = range(min(19, end - start), 12, -1)
        length = next(
            (
                n
                for n in lengths
                if run.word_edge(start, start + n) and card_number_valid(run.chars[start : start + n])
            ),
            None,
        )
        if length is None:
            start += 1
        else:
            found.append(("CARD", start, start + length))
            start += length
    return [_with_stray_digits(card, run, stretch_start, end) for card in found]


def _with_stray_digits(
    card: tuple[EntityType, int, int], run: CodeRun, stretch_start: int, stretch_end: int
) -> tuple[EntityType, int, int]:
    """A card with the one or two digits of the same stretch next to it: no entity is that short,
    and they are what is left of a digit ASR added or split ("4 519 ..." read as "45 19")."""
    entity, start, end = card
    if 0 < start - stretch_start <= 2:
        start = stretch_start
    if 0 < stretch_end - end <= 2:
        end = stretch_end
    return entity, start, end


def _cued(
    chars: str, start: int, end: int, cue_text: str, after_card: bool
) -> list[tuple[EntityType, int, int]]:
    """Numbers that only their cue identifies: the nearest cue that the number can answer decides
    (a caller asked for the expiry and then the code answers both in turn; "the security code on
    the bank of the card", as ASR heard it, asks for three digits, which no card or account has),
    and a card said just before stands for a cue of expiry then code (callers read them in that
    order)."""
    for cue in _cues_nearest_first(cue_text):
        found = _as_cued(cue, chars, start, end, after_card)
        if found:
            return found
    return _expiry_or_code(chars[start:end], start, end, None) if after_card else []


def _as_cued(
    cue: EntityType, chars: str, start: int, end: int, after_card: bool
) -> list[tuple[EntityType, int, int]]:
    digits = chars[start:end]
    if cue in ("CARD", "IBAN", "PHONE"):
        if after_card:  # a card's cue still stands after it: what follows is its expiry and code
            return []
        with_plus = start - 1 if cue == "PHONE" and chars[start - 1 : start] == "+" else start
        return [(cue, with_plus, end)] if len(digits) >= CUED_MIN_DIGITS else []
    if cue in ("BSN", "SSN", "BANK_ACCOUNT"):
        valid = {"BSN": bsn_valid, "SSN": ssn_shape_valid, "BANK_ACCOUNT": _account_shape}[cue]
        return [(cue, start, end)] if valid(digits) else []
    if cue == "CVC" and len(digits) == 2:  # ASR lost a digit of the code asked for ("4 .6")
        return [("CVC", start, end)]
    return _expiry_or_code(digits, start, end, cue)


def _expiry_or_code(
    digits: str, start: int, end: int, cue: EntityType | None
) -> list[tuple[EntityType, int, int]]:
    if cue == "CVC" and len(digits) in (3, 4):
        return [("CVC", start, end)]
    if expiry_valid(digits) and (cue == "EXPIRY" or len(digits) == 4):
        return [("EXPIRY", start, end)]
    if len(digits) in (3, 4):
        return [("CVC", start, end)]
    for length in (4, 3, 6):  # expiry then code, said in one breath
        if expiry_valid(digits[:length]) and len(digits) - length in (3, 4):
            return [("EXPIRY", start, start + length), ("CVC", start + length, end)]
    return []


def _cues_nearest_first(cue_text: str) -> list[EntityType]:
    """The types cued in ``cue_text``, the one whose cue ends last first; of two ending together
    the longer cue comes first ("the code on the back of the card" asks for a security code)."""
    ends = {entity: _last_end(pattern, cue_text) for entity, pattern in _CUE_PATTERNS.items()}
    cued = [entity for entity, end in ends.items() if end > (-1, 0)]
    return sorted(cued, key=lambda entity: ends[entity], reverse=True)


def _last_end(pattern: re.Pattern[str], text: str) -> tuple[int, int]:
    """(end, length) of the match of ``pattern`` in ``text`` that ends last, else (-1, 0)."""
    return max(((m.end(), m.end() - m.start()) for m in pattern.finditer(text)), default=(-1, 0))


def _account_shape(digits: str) -> bool:
    return 6 <= len(digits) <= 17


def _spelled_account(code: str) -> bool:
    """Whether a code read out character by character has the make-up of an IBAN whose country,
    bank code or checksum ASR broke: ASR mishears letters said one by one far more often than digits
    ("N L seven zero I N G B six three ..." heard "L -M -0 -N -D -V -6 -3 -8 ..."), and a card or
    phone number has no letter among its digits (a code announced as an order or reference number
    is left to the other checks)."""
    shortest, longest = SPELLED_ACCOUNT_CHARS
    has_letter = any(char.isalpha() for char in code)
    return shortest <= len(code) <= longest and has_letter and _digit_count(code) >= SPELLED_ACCOUNT_DIGITS


def _free_stretches(chars: str, claims: Sequence[tuple[EntityType, int, int]]) -> list[tuple[int, int]]:
    """Maximal stretches of ``chars`` that no claim covers."""
    bounds = sorted((start, end) for _, start, end in claims)
    stretches, start = [], 0
    for claim_start, claim_end in [*bounds, (len(chars), len(chars))]:
        if claim_start > start:
            stretches.append((start, claim_start))
        start = max(start, claim_end)
    return stretches


def _free_digit_stretches(
    chars: str, claims: Sequence[tuple[EntityType, int, int]], *, plus: bool = False
) -> list[tuple[int, int]]:
    """Maximal stretches of digits (with a leading + when ``plus``) that no claim covers."""
    taken = [False] * len(chars)
    for _, claim_start, claim_end in claims:
        taken[claim_start:claim_end] = [True] * (claim_end - claim_start)
    stretches: list[tuple[int, int]] = []
    start: int | None = None
    for i, char in enumerate([*chars, " "]):
        free = (
            i < len(chars) and not taken[i] and (char.isdigit() or (plus and char == "+" and start is None))
        )
        if free and start is None:
            start = i
        elif not free and start is not None:
            stretches.append((start, i))
            start = None if char != "+" or not plus or i >= len(chars) or taken[i] else i
    return stretches


def _phone_valid(candidate: str, regions: Sequence[str]) -> bool:
    """Valid in one of ``regions`` (or internationally, with + or 00), and dialled as people
    say phone numbers: with a trunk 0, or ten digits (North America); any nine digits are a
    valid number somewhere, and an order number is not a phone number."""
    digits = candidate.lstrip("+")
    if not 8 <= len(digits) <= 15 or not (candidate[0] in "+0" or len(digits) == 10):
        return False
    if candidate.startswith("00"):
        candidate = "+" + candidate[2:]
    for region in regions if not candidate.startswith("+") else (None,):
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return True
    return False


def _emails(
    indices: Sequence[int], words: Sequence[SaidWord], lowered: Sequence[str], context: int
) -> list[Finding]:
    """Written addresses, and spoken ones: "jan dot de vries at example dot com", also as Whisper
    writes them ("Peter Dot Peter at telecomm .com."); after a question about e-mail, also
    without the "at" that ASR ran into a word ("Jan .genettellercom .com.")."""
    labels = _EmailLabels(indices, lowered, {i for i in indices if words[i].text.strip().startswith(".")})
    found: list[Finding] = []
    position = 0
    while position < len(indices):
        index = indices[position]
        word = lowered[index]
        if _WRITTEN_EMAIL.fullmatch(word):
            found.append(Finding("EMAIL", (index,)))
        elif word in AT_WORDS and position > 0 and lowered[indices[position - 1]] not in NOT_LOCAL_PARTS:
            end = labels.domain_end(position + 1)
            if end is not None:
                start = labels.local_part_start(position - 1)
                found.append(Finding("EMAIL", tuple(indices[start : end + 1])))
                position = end
        elif labels.ends_address(position) and any(
            "mail" in cue for cue in lowered[max(0, index - context) : index]
        ):
            found.append(Finding("EMAIL", tuple(indices[labels.local_part_start(position) : position + 1])))
        position += 1
    return found


@dataclass(frozen=True, slots=True)
class _EmailLabels:
    """One stream's words read as the labels of an address: a label follows a dot word ("dot
    com") or is written with its dot (".com")."""

    indices: Sequence[int]
    lowered: Sequence[str]
    dotted: set[int]  # words written with a leading dot

    def dot_before(self, position: int) -> int:
        """How many words say the dot before the label at ``position`` (0: no dot)."""
        if self.indices[position] in self.dotted:
            return 1
        return 2 if position >= 2 and self.lowered[self.indices[position - 1]] in DOT_WORDS else 0

    def domain_end(self, position: int) -> int | None:
        """Where a spoken domain after "at" ends (its top-level domain), or None if none follows."""
        if position >= len(self.indices):
            return None
        written = _WRITTEN_DOMAIN.fullmatch(self.lowered[self.indices[position]])
        if written and written.group(2) in TOP_LEVEL_DOMAINS:
            return position
        end = None
        while True:
            if position + 1 < len(self.indices) and self.indices[position + 1] in self.dotted:
                position += 1
            elif position + 2 < len(self.indices) and self.lowered[self.indices[position + 1]] in DOT_WORDS:
                position += 2
            else:
                return end
            if self.lowered[self.indices[position]] in TOP_LEVEL_DOMAINS:
                end = position

    def ends_address(self, position: int) -> bool:
        """A top-level domain after a dot, with no further label or "at" after it."""
        if self.lowered[self.indices[position]] not in TOP_LEVEL_DOMAINS or not self.dot_before(position):
            return False
        following = position + 1
        if following >= len(self.indices):
            return True
        word = self.lowered[self.indices[following]]
        return self.indices[following] not in self.dotted and word not in DOT_WORDS | AT_WORDS

    def local_part_start(self, position: int) -> int:
        """The first word of the name that ends at ``position``: back over its dots and joins."""
        while True:
            dot = self.dot_before(position)
            if dot and position - dot >= 0:
                position -= dot
            elif position >= 2 and self.lowered[self.indices[position - 1]] in JOIN_WORDS:
                position -= 2
            else:
                return position
