"""Svarstyper: the ten answer types — catalog parameter check, cleaning of an answer into its
stored value, and automatic evaluation with a Swedish sentence that explains it (FORMAT.md).
"""

from __future__ import annotations

import datetime as dt

from checklists.answers.base import (
    DAY_NAMES,
    DAYS,
    HSA_ID_RE,
    MAX_COMMENT,
    MAX_TEXT,
    SHA256_RE,
    AnswerError,
    Context,
    Evaluation,
    ParamError,
    Status,
    clean_text,
    fmt_number,
    fmt_percent,
    need_param,
    only_params,
    parse_mmdd,
    parse_number,
    parse_time,
)
from checklists.models import AnswerType


class Spec:
    """Base of an answer type: params check, value cleaning, evaluation."""

    type: AnswerType
    automatic = True

    def check_params(self, params: dict) -> None:
        only_params(params, set())

    def clean(self, params: dict, raw: dict) -> dict:
        raise NotImplementedError

    def evaluate(self, params: dict, value: dict | None, ctx: Context) -> Evaluation:
        raise NotImplementedError

    def describe_rule(self, params: dict) -> str | None:
        """The automatic rule in Swedish, or None when a reviewer judges."""
        return None


class YesNo(Spec):
    """Ja/nej med kommentar."""

    type = AnswerType.YES_NO

    def check_params(self, params):
        only_params(params, {"expected"})
        if params.get("expected", "yes") not in ("yes", "no"):
            raise ParamError("expected", "expected ska vara yes eller no")

    def clean(self, params, raw):
        answer = str(raw.get("answer") or "").strip().lower()
        answer = {"ja": "yes", "nej": "no"}.get(answer, answer)
        if answer not in ("yes", "no"):
            raise AnswerError("Välj ja eller nej.", "answer")
        return {"answer": answer}

    def evaluate(self, params, value, ctx):
        expected = params.get("expected", "yes")
        answer = value["answer"]
        word = {"yes": "ja", "no": "nej"}
        if answer == expected:
            return Evaluation(
                Status.COMPLIANT,
                f"Hälsocentralen svarar {word[answer]}, vilket uppfyller kravet {ctx.ref}.",
            )
        return Evaluation(
            Status.NON_COMPLIANT,
            f"Hälsocentralen svarar {word[answer]} — kravet är {word[expected]} {ctx.ref}.",
        )

    def describe_rule(self, params):
        return "Svaret ska vara " + ("ja." if params.get("expected", "yes") == "yes" else "nej.")


class NamedPerson(Spec):
    """Namngiven person: namn, titel och eventuellt HSA-id."""

    type = AnswerType.NAMED_PERSON

    def check_params(self, params):
        only_params(params, {"role_title", "min_persons", "require_hsa_id"})
        need_param(params, "role_title")
        minimum = params.get("min_persons", 1)
        if not isinstance(minimum, int) or isinstance(minimum, bool) or minimum < 1:
            raise ParamError("min_persons", "min_persons ska vara ett heltal, minst 1")
        if not isinstance(params.get("require_hsa_id", False), bool):
            raise ParamError("require_hsa_id", "require_hsa_id ska vara true eller false")

    def clean(self, params, raw):
        persons = []
        for index, person in enumerate(raw.get("persons") or [], start=1):
            name = clean_text(
                person.get("name"), f"persons-{index}-name", required=False, limit=200
            )
            title = clean_text(
                person.get("title"), f"persons-{index}-title", required=False, limit=200
            )
            hsa_id = clean_text(
                person.get("hsa_id"), f"persons-{index}-hsa_id", required=False, limit=50
            ).upper()
            if not (name or title or hsa_id):
                continue  # an empty row in the form
            if not name:
                raise AnswerError("Ange personens namn.", f"persons-{index}-name")
            if hsa_id and not HSA_ID_RE.match(hsa_id):
                raise AnswerError(
                    "HSA-id ska ha formen SE2321000222-abc1: SE, tio siffror, bindestreck och "
                    "ett eller flera tecken.",
                    f"persons-{index}-hsa_id",
                )
            if params.get("require_hsa_id") and not hsa_id:
                raise AnswerError("HSA-id krävs för denna funktion.", f"persons-{index}-hsa_id")
            persons.append({"name": name, "title": title, "hsa_id": hsa_id})
        if not persons:
            raise AnswerError("Ange minst en person.", "persons-1-name")
        return {"persons": persons}

    def evaluate(self, params, value, ctx):
        role = params["role_title"]
        minimum = params.get("min_persons", 1)
        persons = value["persons"]
        names = ", ".join(p["name"] + (f" ({p['title']})" if p["title"] else "") for p in persons)
        if len(persons) >= minimum:
            return Evaluation(Status.COMPLIANT, f"{role}: {names} {ctx.ref}.")
        return Evaluation(
            Status.NON_COMPLIANT,
            f"{len(persons)} namngivna ({names}) — kravet är minst {minimum} {ctx.ref}.",
        )

    def describe_rule(self, params):
        minimum = params.get("min_persons", 1)
        return f"Minst {minimum} namngiven person ({params['role_title']})."


def _ratio_requirement(rule: dict) -> tuple[str, float, str]:
    if "more_than" in rule:
        threshold = float(rule["more_than"])
        text = "mer än hälften" if threshold == 0.5 else f"mer än {fmt_percent(threshold)}"
        return "more_than", threshold, text
    threshold = float(rule["at_least"])
    text = "samtliga" if threshold == 1.0 else f"minst {fmt_percent(threshold)}"
    return "at_least", threshold, text


class CountRatio(Spec):
    """Antal och andel: "övervägande delen" (mer än hälften) or "samtliga" — or, without a
    rule, a reported figure such as beläggning that a reviewer judges; numerator and denominator
    are kept so that county figures can be summed."""

    type = AnswerType.COUNT_RATIO

    def check_params(self, params):
        only_params(
            params,
            {
                "subject",
                "predicate",
                "numerator_label",
                "denominator_label",
                "rule",
                "allow_zero",
                "allow_over",
            },
        )
        for flag in ("allow_zero", "allow_over"):
            if not isinstance(params.get(flag, False), bool):
                raise ParamError(flag, f"{flag} ska vara true eller false")
        for name in ("subject", "predicate", "numerator_label", "denominator_label"):
            need_param(params, name)
        if "rule" not in params:
            return  # a reported figure (beläggning): the reviewer judges it
        rule = need_param(params, "rule", dict)
        if len(rule) != 1 or not ({"more_than", "at_least"} & set(rule)):
            raise ParamError("rule", "rule ska ha precis en av more_than och at_least")
        threshold = next(iter(rule.values()))
        if not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
            raise ParamError("rule", "tröskeln ska vara ett tal mellan 0 och 1")

    def clean(self, params, raw):
        numerator = parse_number(raw.get("numerator"), "numerator", integer=True)
        denominator = parse_number(raw.get("denominator"), "denominator", integer=True)
        if denominator == 0 and not params.get("allow_zero"):
            raise AnswerError(f"{params['denominator_label']} måste vara minst 1.", "denominator")
        if numerator > denominator and not params.get("allow_over"):
            raise AnswerError(
                f"{params['numerator_label']} kan inte vara fler än "
                f"{params['denominator_label'].lower()}.",
                "numerator",
            )
        return {"numerator": int(numerator), "denominator": int(denominator)}

    def evaluate(self, params, value, ctx):
        numerator, denominator = value["numerator"], value["denominator"]
        if denominator == 0:  # "0 av 0": nothing of the kind during the period (allow_zero)
            return Evaluation(
                Status.NOT_APPLICABLE,
                f"0 av 0 {params['subject']} — inget att redovisa under perioden {ctx.ref}.",
            )
        ratio = numerator / denominator
        if "rule" not in params:
            return Evaluation(
                Status.TO_REVIEW,
                f"{numerator} av {denominator} {params['subject']} ({fmt_percent(ratio)}) "
                f"{params['predicate']} — bedöms av granskare {ctx.ref}.",
            )
        mode, threshold, requirement = _ratio_requirement(params["rule"])
        ok = ratio > threshold if mode == "more_than" else ratio >= threshold
        text = (
            f"{numerator} av {denominator} {params['subject']} ({fmt_percent(ratio)}) "
            f"{params['predicate']} — kravet är {requirement} {ctx.ref}."
        )
        return Evaluation(Status.COMPLIANT if ok else Status.NON_COMPLIANT, text)

    def describe_rule(self, params):
        if "rule" not in params:
            return None
        _, _, requirement = _ratio_requirement(params["rule"])
        return f"Andelen {params['subject']} som {params['predicate']} ska vara {requirement}."


class DateDeadline(Spec):
    """Datum mot sista dag (t.ex. patientsäkerhetsberättelsen senast 1 mars): the date must
    fall in the follow-up year, on or before the deadline."""

    type = AnswerType.DATE_DEADLINE

    def check_params(self, params):
        only_params(params, {"deadline"})
        try:
            parse_mmdd(need_param(params, "deadline"))
        except ValueError:
            raise ParamError("deadline", "deadline ska vara MM-DD, t.ex. 03-01") from None

    def clean(self, params, raw):
        text = str(raw.get("date") or "").strip()
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise AnswerError(
                "Ange datumet som ÅÅÅÅ-MM-DD, till exempel 2025-02-28.", "date"
            ) from None
        return {"date": day.isoformat()}

    def evaluate(self, params, value, ctx):
        month, day = parse_mmdd(params["deadline"])
        deadline = dt.date(ctx.year, month, day)
        given = dt.date.fromisoformat(value["date"])
        if given.year != ctx.year:
            # Last year's (or a future) date is not this year's submission, however early.
            return Evaluation(
                Status.NON_COMPLIANT,
                f"Datum {given.isoformat()} ligger inte i uppföljningsåret {ctx.year} — "
                f"sista dag är {deadline.isoformat()} {ctx.ref}.",
            )
        if given <= deadline:
            return Evaluation(
                Status.COMPLIANT,
                f"Datum {given.isoformat()}, senast {deadline.isoformat()} {ctx.ref}.",
            )
        late = (given - deadline).days
        return Evaluation(
            Status.NON_COMPLIANT,
            f"Datum {given.isoformat()}, {late} dagar efter sista dag "
            f"{deadline.isoformat()} {ctx.ref}.",
        )

    def describe_rule(self, params):
        month, day = parse_mmdd(params["deadline"])
        months = [
            "januari",
            "februari",
            "mars",
            "april",
            "maj",
            "juni",
            "juli",
            "augusti",
            "september",
            "oktober",
            "november",
            "december",
        ]
        return f"Senast {day} {months[month - 1]} uppföljningsåret."


class WeeklySchedule(Spec):
    """Veckoschema: öppettider per veckodag med undantag."""

    type = AnswerType.WEEKLY_SCHEDULE

    def check_params(self, params):
        only_params(params, {"required"})
        required = need_param(params, "required", dict)
        days = required.get("days")
        if not isinstance(days, list) or not days or set(days) - set(DAYS):
            raise ParamError("required", "required.days ska vara en lista av mon … sun")
        try:
            opens = parse_time(required.get("open"), "open")
            closes = parse_time(required.get("close"), "close")
        except AnswerError:
            raise ParamError("required", "required.open/close ska vara tider tt:mm") from None
        if opens >= closes:
            raise ParamError("required", "required.open ska vara före close")

    def clean(self, params, raw):
        days = {}
        for code in DAYS:
            entry = (raw.get("days") or {}).get(code)
            if not entry or not (entry.get("open") or entry.get("close")):
                days[code] = None
                continue
            opens = parse_time(entry.get("open"), f"{code}-open")
            closes = parse_time(entry.get("close"), f"{code}-close")
            if opens >= closes:
                raise AnswerError(
                    f"Stängningstiden på {DAY_NAMES[code]} måste vara efter öppningstiden.",
                    f"{code}-close",
                )
            days[code] = {"open": opens, "close": closes}
        if not any(days.values()):
            raise AnswerError("Ange öppettider för minst en dag.", "mon-open")
        exceptions = clean_text(
            raw.get("exceptions"), "exceptions", required=False, limit=MAX_COMMENT
        )
        return {"days": days, "exceptions": exceptions}

    def evaluate(self, params, value, ctx):
        required = params["required"]
        need_open = parse_time(required["open"], "open")
        need_close = parse_time(required["close"], "close")
        short = []
        for code in required["days"]:
            hours = value["days"].get(code)
            if hours is None:
                short.append(f"{DAY_NAMES[code]} (stängt)")
            elif hours["open"] > need_open or hours["close"] < need_close:
                short.append(f"{DAY_NAMES[code]} ({_t(hours['open'])}–{_t(hours['close'])})")
        wanted = f"{_t(need_open)}–{_t(need_close)}"
        if not short:
            return Evaluation(
                Status.COMPLIANT, f"Öppet minst {wanted} alla krävda dagar {ctx.ref}."
            )
        status = (
            Status.NON_COMPLIANT if len(short) == len(required["days"]) else Status.PARTLY_COMPLIANT
        )
        return Evaluation(status, f"Täcker inte {wanted} på: {', '.join(short)} {ctx.ref}.")

    def describe_rule(self, params):
        required = params["required"]
        days = required["days"]
        span = (
            f"{DAY_NAMES[days[0]]}–{DAY_NAMES[days[-1]]}" if len(days) > 1 else DAY_NAMES[days[0]]
        )
        return (
            f"Öppet {span} {_t(parse_time(required['open'], 'open'))}–"
            f"{_t(parse_time(required['close'], 'close'))}."
        )


def _t(hhmm: str) -> str:
    return hhmm.replace(":", ".")


class Selection(Spec):
    """Val ur en fast lista med en obligatorisk delmängd (t.ex. 1177:s basutbud)."""

    type = AnswerType.SELECTION

    def check_params(self, params):
        only_params(params, {"options", "required"})
        options = need_param(params, "options", list)
        if not options or len(set(options)) != len(options):
            raise ParamError("options", "options ska vara en lista utan dubbletter")
        required = params.get("required", options)
        if not isinstance(required, list) or set(required) - set(options):
            raise ParamError("required", "required ska vara en delmängd av options")

    def clean(self, params, raw):
        selected = raw.get("selected") or []
        if isinstance(selected, str):
            selected = [selected]
        unknown = [s for s in selected if s not in params["options"]]
        if unknown:
            raise AnswerError(f"”{unknown[0]}” finns inte bland alternativen.", "selected")
        # Keep the catalog's order, whatever order the form sent.
        return {"selected": [o for o in params["options"] if o in set(selected)]}

    def evaluate(self, params, value, ctx):
        required = params.get("required", params["options"])
        missing = [o for o in required if o not in value["selected"]]
        have = len(required) - len(missing)
        if not missing:
            return Evaluation(
                Status.COMPLIANT, f"Alla {len(required)} obligatoriska alternativ finns {ctx.ref}."
            )
        status = Status.NON_COMPLIANT if have == 0 else Status.PARTLY_COMPLIANT
        return Evaluation(
            status,
            f"{have} av {len(required)} obligatoriska alternativ finns; "
            f"saknas: {', '.join(missing)} {ctx.ref}.",
        )

    def describe_rule(self, params):
        required = params.get("required", params["options"])
        return f"Alla dessa ska finnas: {', '.join(required)}."


class Document(Spec):
    """Dokument som bevis (rutiner, planer, rapporter); bedöms av granskare."""

    type = AnswerType.DOCUMENT
    automatic = False

    def check_params(self, params):
        only_params(params, {"documents"})
        documents = need_param(params, "documents", (str, list))
        if isinstance(documents, list) and (
            not documents or not all(isinstance(d, str) and d.strip() for d in documents)
        ):
            raise ParamError("documents", "documents ska vara en text eller en lista av texter")

    @staticmethod
    def wanted(params) -> str:
        """What to upload, as one Swedish phrase."""
        documents = params["documents"]
        if isinstance(documents, str):
            return documents
        return (
            documents[0]
            if len(documents) == 1
            else (", ".join(documents[:-1]) + " och " + documents[-1])
        )

    def clean(self, params, raw):
        files = []
        for index, item in enumerate(raw.get("files") or [], start=1):
            sha = str(item.get("sha256") or "")
            name = clean_text(item.get("filename"), f"files-{index}", required=True, limit=255)
            size = item.get("size")
            if not SHA256_RE.match(sha) or not isinstance(size, int) or size < 0:
                raise AnswerError("Filuppgifterna är ofullständiga.", f"files-{index}")
            files.append({"sha256": sha, "filename": name, "size": size})
        if not files:
            wanted = self.wanted(params)
            raise AnswerError(f"Ladda upp {wanted[:1].lower()}{wanted[1:]}.", "files")
        return {"files": files}

    def describe_rule(self, params):
        return None

    def evaluate(self, params, value, ctx):
        count = len(value["files"])
        noun = "fil" if count == 1 else "filer"
        return Evaluation(
            Status.TO_REVIEW, f"{count} {noun} uppladdade — bedöms av granskare {ctx.ref}."
        )


class ServiceLevel(Spec):
    """Servicenivå, t.ex. svarstid i arbetsdagar (1177-ärenden inom tre vardagar)."""

    type = AnswerType.SERVICE_LEVEL
    UNITS = {
        "working_days": ("arbetsdagar", "arbetsdag"),
        "percent": ("%", "%"),
        "hours": ("timmar", "timme"),
    }

    def check_params(self, params):
        only_params(params, {"measure", "unit", "max", "min"})
        need_param(params, "measure")
        if params.get("unit") not in self.UNITS:
            raise ParamError("unit", f"unit ska vara en av {', '.join(self.UNITS)}")
        limits = {"max", "min"} & set(params)
        if len(limits) != 1:
            raise ParamError("max", "ange precis en av max och min")
        limit = params[limits.pop()]
        if not isinstance(limit, int | float) or isinstance(limit, bool) or limit < 0:
            raise ParamError("max", "gränsen ska vara ett icke-negativt tal")

    def clean(self, params, raw):
        value = parse_number(raw.get("value"), "value")
        if params["unit"] == "percent" and value > 100:
            raise AnswerError("En andel kan inte vara mer än 100 %.", "value")
        return {"value": float(value)}

    def _unit(self, params, value) -> str:
        plural, singular = self.UNITS[params["unit"]]
        return singular if value == 1 else plural

    def evaluate(self, params, value, ctx):
        number = value["value"]
        shown = f"{fmt_number(number)} {self._unit(params, number)}"
        if "max" in params:
            ok, limit = number <= params["max"], f"högst {fmt_number(params['max'])}"
        else:
            ok, limit = number >= params["min"], f"minst {fmt_number(params['min'])}"
        limit += f" {self._unit(params, params.get('max', params.get('min')))}"
        return Evaluation(
            Status.COMPLIANT if ok else Status.NON_COMPLIANT,
            f"{params['measure']}: {shown} — kravet är {limit} {ctx.ref}.",
        )

    def describe_rule(self, params):
        bound = "högst" if "max" in params else "minst"
        limit = params.get("max", params.get("min"))
        return f"{params['measure']}: {bound} {fmt_number(limit)} {self._unit(params, limit)}."


class Number(Spec):
    """Redovisat tal (antal, andel); bedöms automatiskt bara när min/max finns."""

    type = AnswerType.NUMBER

    def check_params(self, params):
        only_params(params, {"unit", "min", "max"})
        need_param(params, "unit")
        for name in ("min", "max"):
            if name in params and (
                not isinstance(params[name], int | float) or isinstance(params[name], bool)
            ):
                raise ParamError(name, f"{name} ska vara ett tal")

    def clean(self, params, raw):
        value = parse_number(raw.get("value"), "value", integer=params["unit"] == "antal")
        if params["unit"] == "percent" and value > 100:
            raise AnswerError("En andel kan inte vara mer än 100 %.", "value")
        return {"value": float(value)}

    def _shown(self, params, number) -> str:
        unit = params["unit"]
        if unit == "antal":  # a count needs no unit: "0 — kravet är minst 1"
            return fmt_number(number)
        return f"{fmt_number(number)} {'%' if unit == 'percent' else unit}"

    def evaluate(self, params, value, ctx):
        number = value["value"]
        shown = self._shown(params, number)
        if "min" not in params and "max" not in params:
            return Evaluation(
                Status.TO_REVIEW, f"Redovisat värde: {shown} — bedöms av granskare {ctx.ref}."
            )
        if "min" in params and number < params["min"]:
            return Evaluation(
                Status.NON_COMPLIANT,
                f"{shown} — kravet är minst {self._shown(params, params['min'])} {ctx.ref}.",
            )
        if "max" in params and number > params["max"]:
            return Evaluation(
                Status.NON_COMPLIANT,
                f"{shown} — kravet är högst {self._shown(params, params['max'])} {ctx.ref}.",
            )
        return Evaluation(Status.COMPLIANT, f"{shown} uppfyller kravet {ctx.ref}.")

    def describe_rule(self, params):
        parts = []
        if "min" in params:
            parts.append(f"minst {self._shown(params, params['min'])}")
        if "max" in params:
            parts.append(f"högst {self._shown(params, params['max'])}")
        return ("Värdet ska vara " + " och ".join(parts) + ".") if parts else None


class FreeText(Spec):
    """Fritext; bedöms av granskare."""

    type = AnswerType.FREE_TEXT
    automatic = False

    def clean(self, params, raw):
        return {"text": clean_text(raw.get("text"), "text", required=True, limit=MAX_TEXT)}

    def evaluate(self, params, value, ctx):
        return Evaluation(Status.TO_REVIEW, f"Fritextsvar — bedöms av granskare {ctx.ref}.")


ANSWER_TYPES: dict[AnswerType, Spec] = {
    spec.type: spec
    for spec in (
        YesNo(),
        NamedPerson(),
        CountRatio(),
        DateDeadline(),
        WeeklySchedule(),
        Selection(),
        Document(),
        ServiceLevel(),
        Number(),
        FreeText(),
    )
}
