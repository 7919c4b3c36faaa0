"""Ärendetyper: what each kind of case carries, who decides it, and its dates.

Every kind is one :class:`CaseType`: the rulebook's own sentences it implements (verbatim from
*Uppdrag och regler 2025*), whether it is a notice the purchaser takes note of (anmälan →
noterat) or an application it grants or refuses (ansökan → beviljat/avslaget), who decides
and whether the decision needs a diarienummer, the period it concerns, the fields and the
documents. Labels are Swedish, like the machine's (they are the domain's words).

:meth:`CaseType.clean` turns typed values into what is stored (refusing what cannot be, with a
Swedish message per field); :meth:`CaseType.missing` says what must still be filled in before
the case can be submitted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

from audit.text import text_problem
from workflows.cases.models import CaseKind, DocumentKind

K = CaseKind
D = DocumentKind

# Field kinds: a line, a text, a whole number, a date, a box to tick, one of a few choices,
# several of a few choices, and the units the case names (stored as CasePartner rows).
LINE, TEXT, NUMBER, DATE, CONFIRM, FLAG, CHOICE, CHOICES, UNITS = (
    "line",
    "text",
    "number",
    "date",
    "confirm",
    "flag",
    "choice",
    "choices",
    "units",
)
LINE_MAX, TEXT_MAX = 200, 4000
NUMBER_MAX = 1_000_000


@dataclasses.dataclass(frozen=True)
class Field:
    """One field of a case type: its name in ``details``, Swedish label and help."""

    name: str
    label: str
    kind: str = TEXT
    required: bool = True
    help: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    later: bool = False  # filled in after the decision (IVO's decision in a Lex Maria case)

    @property
    def max_length(self) -> int:
        return LINE_MAX if self.kind == LINE else TEXT_MAX


@dataclasses.dataclass(frozen=True)
class Document:
    """A document the type asks for; ``later`` ones come after the decision."""

    kind: DocumentKind
    label: str
    required: bool = False
    later: bool = False


@dataclasses.dataclass(frozen=True)
class CaseType:
    """Ärendetyp: fields, documents, decision and dates of one kind of case."""

    kind: CaseKind
    label: str
    sections: tuple[str, ...]
    rulebook: tuple[str, ...]  # the rulebook's sentences this type implements, verbatim
    application: bool  # ansökan (beviljas/avslås), else anmälan (noteras)
    decided_by: str
    needs_diarienummer: bool
    period_from_label: str
    period_to_label: str | None = None  # None: the case concerns one day (or a start)
    period_to_required: bool = False
    period_help: str = ""
    max_months: int | None = None
    ongoing: bool = False  # without an end date it goes on (a co-operation, a branch)
    fields: tuple[Field, ...] = ()
    documents: tuple[Document, ...] = ()
    private_only: bool = False
    end_reminder_days: int | None = None  # reminder this many working days before the end
    notice_in_good_time: bool = False  # §2.7.5 "i god tid": shown, not enforced
    filed_before_start: bool = False  # a notice before the change takes effect (§3.1.1)
    decided_before_start: bool = False  # an approval before the change (§3.3, §3.8)
    limit_label: str | None = None  # the number a decision sets (listningstak)

    @property
    def section_label(self) -> str:
        return " och ".join(f"§{s}" for s in self.sections)

    @property
    def outcome_word(self) -> str:
        return "ansökan" if self.application else "anmälan"

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def document(self, kind: DocumentKind) -> Document | None:
        return next((d for d in self.documents if d.kind == kind), None)

    @property
    def partner_field(self) -> Field | None:
        return next((f for f in self.fields if f.kind == UNITS), None)

    # --- values --------------------------------------------------------------------------

    def clean(self, values: dict, *, later: bool = False) -> tuple[dict, dict[str, str]]:
        """The storable ``details`` from typed values (dates as dates, numbers as ints, lists
        for choices), and a Swedish error per field that cannot be stored. Fields are not
        required here (a draft may be incomplete); :meth:`missing` says what is. With
        ``later`` only the fields filled in after the decision are taken."""
        details: dict = {}
        errors: dict[str, str] = {}
        for field in self.fields:
            if field.kind == UNITS or field.later != later:
                continue
            value = values.get(field.name)
            problem = None
            if field.kind in (LINE, TEXT):
                value = str(value or "").strip()
                problem = text_problem(value, field.max_length)
            elif field.kind == NUMBER:
                if value not in (None, ""):
                    if not isinstance(value, int) or isinstance(value, bool):
                        problem = "Ange ett heltal."
                    elif not 0 <= value <= NUMBER_MAX:
                        problem = f"Ange ett heltal mellan 0 och {NUMBER_MAX:,}.".replace(",", " ")
                else:
                    value = None
            elif field.kind == DATE:
                if value not in (None, "") and not isinstance(value, dt.date):
                    problem = "Ange datum som ÅÅÅÅ-MM-DD."
                value = value.isoformat() if isinstance(value, dt.date) else None
            elif field.kind in (CONFIRM, FLAG):
                value = bool(value)
            elif field.kind == CHOICE:
                allowed = {c for c, _label in field.choices}
                value = value or None
                if value is not None and value not in allowed:
                    problem = "Välj ett av alternativen."
            elif field.kind == CHOICES:
                allowed = {c for c, _label in field.choices}
                value = [v for v in (value or []) if v]
                if any(v not in allowed for v in value):
                    problem = "Välj bland alternativen."
                value = sorted(set(value), key=[c for c, _label in field.choices].index)
            if problem:
                errors[field.name] = problem
            else:
                details[field.name] = value
        return details, errors

    def missing(self, case) -> list[str]:
        """The labels of what must still be filled in or attached before submitting (for the
        later fields and documents: before closing)."""
        return self._missing(case, later=False)

    def missing_later(self, case) -> list[str]:
        return self._missing(case, later=True)

    def _missing(self, case, *, later: bool) -> list[str]:
        details = case.details or {}
        missing = []
        if not later:
            if case.period_from is None:
                missing.append(self.period_from_label)
            if self.period_to_required and case.period_to is None:
                missing.append(self.period_to_label)
        for field in self.fields:
            if field.later != later or not field.required:
                continue
            if field.kind == UNITS:
                if not case.partners:
                    missing.append(field.label)
                continue
            value = details.get(field.name)
            if value in (None, "", [], False):
                missing.append(field.label)
        present = {d.kind for d in case.current_documents}
        for document in self.documents:
            if document.later == later and document.required and document.kind not in present:
                missing.append(document.label)
        return missing

    def problems(self, case) -> list[str]:
        """What the rulebook does not allow in what was filled in (beyond missing fields)."""
        found = []
        start, end = case.period_from, case.period_to
        if self.max_months and start and end and end > months_after(start, self.max_months):
            found.append(
                f"{self.label} är tidsbegränsat till högst {self.max_months} månader: sista dag "
                f"kan vara senast {months_after(start, self.max_months).isoformat()} "
                f"({self.section_label})."
            )
        details = case.details or {}
        if self.kind == K.OPENING_RESTRICTED:
            channels = set(details.get("patient_information") or [])
            if channels and channels != {"answering_machine", "contact_card"}:
                found.append(
                    "Patienterna ska informeras både via telefonsvarare och via kontaktkortet "
                    "på 1177.se (§2.7.5)."
                )
        if self.kind == K.SERVICE_RESTRICTED and details.get("coordinated_part"):
            if not case.partners:
                found.append(
                    "Planen ska ange med vilken hälsocentral samordningen ska ske (§2.7.6)."
                )
        if self.kind == K.SUBCONTRACTOR and details.get("change") == "replacement":
            if not details.get("replaces"):
                found.append("Ange vilken underleverantör som ersätts.")
        return found


def months_after(day: dt.date, months: int) -> dt.date:
    """The last day of a period of ``months`` months from ``day``: the day before the same
    date ``months`` later (1 March + 3 months: 31 May), or the last day of that month when it
    has no such date (30 November + 3 months: the end of February), as lag (1930:173) counts
    months."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    try:
        return dt.date(year, month, day.day) - dt.timedelta(days=1)
    except ValueError:
        first_of_next = dt.date(year + month // 12, month % 12 + 1, 1)
        return first_of_next - dt.timedelta(days=1)


_WRITTEN = Document(D.APPLICATION, "Skriftlig ansökan (undertecknad kopia, om den finns)")
_OTHER = Document(D.OTHER, "Övrig handling")

TYPES: dict[CaseKind, CaseType] = {
    t.kind: t
    for t in [
        CaseType(
            kind=K.OPENING_RESTRICTED,
            label="Begränsat öppethållande enstaka dagar",
            sections=("2.7.5",),
            rulebook=(
                "Vid behov av begränsat öppethållande enstaka dagar vid t.ex. planeringsdag har "
                "Hälsocentralen ansvar för att de egna listade patienterna har tillgång till "
                "vård genom samordning med annan hälsocentral inom Hälsoval.",
                "Hälsocentralen ska informera Beställarenheten om begränsat öppethållande i god "
                "tid.",
                "Hälsocentralen ska via telefonsvarare och sitt kontaktkort på 1177.se, "
                "informera patienterna om begränsat öppethållande i god tid.",
                "Hälsocentralen får inte ersätta hänvisning till annan hälsocentral med "
                "hänvisning till 1177.",
            ),
            application=False,
            decided_by="Beställarenheten",
            needs_diarienummer=False,
            period_from_label="Första dagen med begränsat öppethållande",
            period_to_label="Sista dagen",
            period_to_required=True,
            notice_in_good_time=True,
            fields=(
                Field("reason", "Skäl", LINE, help="Till exempel planeringsdag."),
                Field(
                    "hours",
                    "Begränsade tider",
                    LINE,
                    required=False,
                    help="Om hälsocentralen inte är stängd hela dagarna.",
                ),
                Field(
                    "partners",
                    "Hälsocentral som patienterna hänvisas till",
                    UNITS,
                    help="Samordning med annan hälsocentral inom Hälsoval; hänvisning till "
                    "1177 ersätter den inte.",
                ),
                Field(
                    "patient_information",
                    "Hur patienterna informeras",
                    CHOICES,
                    choices=(
                        (
                            "answering_machine",
                            "Telefonsvararen säger vilken hälsocentral de hänvisas till",
                        ),
                        ("contact_card", "Kontaktkortet på 1177.se"),
                    ),
                ),
            ),
            documents=(_OTHER,),
        ),
        CaseType(
            kind=K.SERVICE_RESTRICTED,
            label="Begränsat utbud",
            sections=("2.7.6",),
            rulebook=(
                "Om hälsocentralen under en kortare period inte klarar att upprätthålla "
                "verksamheten och bedömer att utbudet till någon del måste begränsas ska "
                "hälsocentralen upprätta en plan för att säkerställa att de egna listade "
                "patienterna har tillgång till vård.",
                "I hälsocentralens plan för hur behoven ska tillgodoses ska det framgå aktuella "
                "åtgärder för att täcka behoven, vilken del av utbudet som ska samordnas och med "
                "vilken hälsocentral samordning ska ske.",
                "Vid begränsningar av utbud ska tillgång till specialistläkare i allmänmedicin "
                "säkerställas.",
                "Vidare ska det i planen framgå om ev. restid för patienter kan påverkas och hur "
                "patienter/allmänheten informeras om begränsningen.",
                "Hälsocentralen ska upprätta en risk och konsekvensanalys kring patientsäkerheten.",
                "Beslut om utbudsbegränsningen görs av vårdgivaren och Beställarenheten "
                "informeras om plan och beslut.",
                "Om hälsocentralens utbudsbegränsning innebär att öppettiderna begränsas till "
                "mer än enstaka dagar kan Regionstyrelsen besluta om neddragning av "
                "kapiteringsersättningen för motsvarande tid.",
            ),
            application=False,
            decided_by="Beställarenheten (informeras om plan och beslut)",
            needs_diarienummer=False,
            period_from_label="Begränsningen gäller från",
            period_to_label="Begränsningen gäller till och med",
            period_to_required=True,
            period_help="Begränsat utbud gäller en kortare period.",
            end_reminder_days=3,
            fields=(
                Field(
                    "provider_decided_on", "Datum för vårdgivarens beslut om begränsningen", DATE
                ),
                Field("restricted_part", "Vilken del av utbudet som begränsas"),
                Field("measures", "Aktuella åtgärder för att täcka behoven"),
                Field("coordinated_part", "Vilken del av utbudet som samordnas", required=False),
                Field(
                    "partners",
                    "Hälsocentral som samordning sker med",
                    UNITS,
                    required=False,
                    help="Vid samplanering ska minsta möjliga avstånd till hänvisad "
                    "hälsocentral beaktas.",
                ),
                Field(
                    "gp_access", "Hur tillgång till specialistläkare i allmänmedicin säkerställs"
                ),
                Field("travel_time", "Hur restiden för patienterna kan påverkas"),
                Field("patient_information", "Hur patienterna och allmänheten informeras"),
                Field(
                    "opening_hours_reduced",
                    "Öppettiderna begränsas till mer än enstaka dagar",
                    FLAG,
                    required=False,
                    help="Då kan Regionstyrelsen besluta om neddragning av "
                    "kapiteringsersättningen för motsvarande tid.",
                ),
            ),
            documents=(
                Document(
                    D.RISK_ANALYSIS,
                    "Risk- och konsekvensanalys kring patientsäkerheten",
                    required=True,
                ),
                Document(D.PLAN, "Planen som dokument (om den finns)"),
                _OTHER,
            ),
        ),
        CaseType(
            kind=K.LIST_CAP,
            label="Listningstak",
            sections=("4.9.1",),
            rulebook=(
                "På begäran av vårdgivare inom Hälsoval primärvård kan Region Västerbotten för "
                "en viss tidperiod besluta att begränsa det antal patienter som får vara "
                "listade hos utföraren, så kallat listningstak.",
                "Region Västerbotten kan avslå begäran helt eller delvis om det finns särskilda "
                "skäl.",
                "Ansökan om listningstak ska ske skriftligt och skickas till Region Västerbotten.",
                "Hälsocentral som beviljats listningstak, och uppnått taket, ansvarar för att "
                "informera enskilda att listning inte är möjlig.",
            ),
            application=True,
            decided_by="Region Västerbotten",
            needs_diarienummer=True,
            period_from_label="Listningstak från",
            period_to_label="Till och med",
            period_to_required=True,
            end_reminder_days=10,
            decided_before_start=True,
            limit_label="Tak: högsta antal listade",
            fields=(
                Field("cap", "Tak: högsta antal listade som söks", NUMBER),
                Field("listed_now", "Antal listade i dag", NUMBER, required=False),
                Field("reasons", "Skäl för ansökan"),
                Field(
                    "information",
                    "Hur enskilda informeras om att listning inte är möjlig när taket är nått",
                ),
            ),
            documents=(_WRITTEN, _OTHER),
        ),
        CaseType(
            kind=K.LIST_STOP,
            label="Listningsstopp",
            sections=("4.9.2",),
            rulebook=(
                "Vårdgivare inom Hälsoval primärvård kan ansöka om listningsstopp under en "
                "begränsad period.",
                "Listningsstopp är tidsbegränsat till maximalt 3 månader.",
                "Ansökan om listningsstopp ska ske skriftligt och skickas till Region "
                "Västerbotten.",
                "Hälsocentral som beviljats listningsstopp ansvarar för att informera enskilda "
                "att hälsocentralen har listningsstopp och när det är möjligt att lista sig hos "
                "dem igen.",
            ),
            application=True,
            decided_by="Region Västerbotten",
            needs_diarienummer=True,
            period_from_label="Listningsstopp från",
            period_to_label="Till och med",
            period_to_required=True,
            period_help="Listningsstopp är tidsbegränsat till högst tre månader.",
            max_months=3,
            end_reminder_days=10,
            decided_before_start=True,
            fields=(
                Field("reasons", "Skäl för ansökan"),
                Field(
                    "information",
                    "Hur enskilda informeras om listningsstoppet och om när "
                    "det går att lista sig igen",
                ),
            ),
            documents=(_WRITTEN, _OTHER),
        ),
        CaseType(
            kind=K.HEAD_CHANGE,
            label="Byte av verksamhetschef",
            sections=("3.1.1",),
            rulebook=(
                "Hälsocentralen ska ha utsedd, namngiven verksamhetschef för en eller flera "
                "hälsocentraler, som ska vara väl förtrogen med de lagar, förordningar, "
                "föreskrifter, riktlinjer, råd och rekommendationer som gäller för hälso- och "
                "sjukvården.",
                "Vid byte av verksamhetschef ska skriftlig information lämnas till "
                "Beställarenheten innan förändringen träder i kraft.",
            ),
            application=False,
            decided_by="Beställarenheten",
            needs_diarienummer=False,
            period_from_label="Bytet träder i kraft",
            filed_before_start=True,
            fields=(
                Field("new_head", "Ny verksamhetschef (namn)", LINE),
                Field(
                    "new_head_title",
                    "Den nya verksamhetschefens yrke eller titel",
                    LINE,
                    required=False,
                ),
                Field("previous_head", "Tidigare verksamhetschef", LINE, required=False),
            ),
            documents=(_OTHER,),
        ),
        CaseType(
            kind=K.COOPERATION,
            label="Samarbete mellan hälsocentraler",
            sections=("2.13.1",),
            rulebook=(
                "Hälsocentraler kan samarbeta om uppdrag i syfte att förbättra kvalitet.",
                "Samarbetet ska utformas på ett sätt som tillgodoser god tillgänglighet för "
                "patienterna och utgår från patientens perspektiv.",
                "Samarbete om vård och uppdrag ska anmälas till och godkännas av Beställarenheten.",
                "Gemensam verksamhet ska kunna redovisas vad gäller produktion per Hälsocentral.",
            ),
            application=True,
            decided_by="Beställarenheten",
            needs_diarienummer=False,
            period_from_label="Samarbetet börjar",
            period_to_label="Samarbetet upphör (om det är bestämt)",
            ongoing=True,
            decided_before_start=True,
            fields=(
                Field("partners", "Hälsocentraler som samarbetet gäller", UNITS),
                Field("scope", "Vilken vård eller vilka uppdrag samarbetet gäller"),
                Field("quality", "Hur samarbetet förbättrar kvaliteten"),
                Field("accessibility", "Hur god tillgänglighet för patienterna tillgodoses"),
                Field("production", "Hur produktionen redovisas per hälsocentral"),
            ),
            documents=(_OTHER,),
        ),
        CaseType(
            kind=K.BRANCH,
            label="Filialmottagning",
            sections=("3.9",),
            rulebook=(
                "Med filial avses en underavdelning till hälsocentralens huvudmottagning och "
                "som bedrivs i annan lokal än där huvudmottagningen finns.",
                "En filial ska alltid vara knuten till en huvudmottagning.",
                "Verksamhetschefen på huvudmottagningen ska vara verksamhetschef också för "
                "filialen.",
                "En filial ska drivas av samma organisation/företag som driver "
                "huvudmottagningen, och kan inte drivas av en underentreprenör.",
                "Hälsocentralen ansvarar för att det tydligt framgår för invånarna att filialen "
                "är en underavdelning till huvudmottagningen.",
            ),
            application=True,
            decided_by="Region Västerbotten",
            needs_diarienummer=True,
            period_from_label="Planerad start",
            ongoing=True,
            decided_before_start=True,
            fields=(
                Field("branch_name", "Filialens namn", LINE),
                Field("premises", "Lokal (adress) där filialen ska bedrivas", LINE),
                Field("purpose", "Syfte med filialen"),
                Field("benefit", "Nytta för patienterna"),
                Field(
                    "services",
                    "Vårdutbud på filialen, och hur patienter får det som saknas "
                    "där på huvudmottagningen",
                ),
                Field(
                    "opening_hours",
                    "Öppettider, och hur patienter erbjuds vård på "
                    "huvudmottagningen när filialen har stängt",
                ),
                Field(
                    "signage",
                    "Hur det framgår för invånarna att filialen är en "
                    "underavdelning till huvudmottagningen",
                ),
                Field(
                    "same_organisation",
                    "Filialen drivs av samma organisation som "
                    "huvudmottagningen, inte av en underentreprenör",
                    CONFIRM,
                ),
                Field(
                    "same_head",
                    "Huvudmottagningens verksamhetschef är verksamhetschef även för filialen",
                    CONFIRM,
                ),
            ),
            documents=(_WRITTEN, _OTHER),
        ),
        CaseType(
            kind=K.RELOCATION,
            label="Flytt av verksamheten (ändrad lokalisering)",
            sections=("3.3", "3.8"),
            rulebook=(
                "Eventuell ändring av lokalisering av hälsocentralen ska godkännas av Region "
                "Västerbotten.",
                "Hälsocentralen ska vid förändringar avseende lokalisering skriftligen informera "
                "sin egen listade befolkning.",
                "Om Hälsocentralen avser att förändra hälsocentralens lokalisering i någon form "
                "ska detta ske i samråd med Region Västerbotten för att säkerställa den listade "
                "befolkningens behov av primärvård.",
                "Förändringen ska godkännas av Beställarenheten.",
            ),
            application=True,
            decided_by="Beställarenheten (Region Västerbotten)",
            needs_diarienummer=True,
            period_from_label="Planerad flyttdag",
            decided_before_start=True,
            fields=(
                Field("new_address", "Ny lokalisering (adress)", LINE),
                Field("reason", "Skäl till förändringen"),
                Field("consultation", "Samråd med Region Västerbotten (när och med vem)"),
                Field(
                    "information_to_listed", "Hur den listade befolkningen informeras skriftligen"
                ),
            ),
            documents=(Document(D.INFORMATION, "Skriftlig information till de listade"), _OTHER),
        ),
        CaseType(
            kind=K.SUBCONTRACTOR,
            label="Underleverantör",
            sections=("3.20",),
            rulebook=(
                "Hälsocentralen ansvarar mot Beställaren för underleverantörs arbete som för "
                "eget arbete.",
                "Vid tillkommande av, eller byte av underleverantör ska Beställaren meddelas.",
            ),
            application=False,
            decided_by="Beställaren",
            needs_diarienummer=False,
            period_from_label="Underleverantören börjar",
            ongoing=True,
            fields=(
                Field(
                    "change",
                    "Förändring",
                    CHOICE,
                    choices=(
                        ("new", "Tillkommande underleverantör"),
                        ("replacement", "Byte av underleverantör"),
                    ),
                ),
                Field("subcontractor", "Underleverantör (företag eller organisation)", LINE),
                Field(
                    "replaces",
                    "Underleverantör som ersätts",
                    LINE,
                    required=False,
                    help="Vid byte.",
                ),
                Field("work", "Vad underleverantören ska utföra"),
            ),
            documents=(_OTHER,),
        ),
        CaseType(
            kind=K.LEX_MARIA,
            label="Lex Maria (privat hälsocentral)",
            sections=("2.6",),
            rulebook=(
                "Privata hälsocentraler som ingår i Hälsoval primärvård Västerbotten ska anmäla "
                "allvarliga avvikelser enligt Lex Maria och tillhandahålla de resurser som "
                "krävs för en snabb utredning och handläggning av dessa ärenden.",
                "I händelse av Lex Maria som enbart berör den privata vårdgivaren ska kopia av "
                "anmälan, utredningsmaterial och åtgärder skickas till Region Västerbotten för "
                "kännedom.",
                "Handlingarna ska vara avidentifierade.",
                "Beslut av Inspektionen för vård och omsorg i ärendet ska tillställas Region "
                "Västerbotten.",
            ),
            application=False,
            decided_by="Region Västerbotten (för kännedom)",
            needs_diarienummer=False,
            period_from_label="Datum för anmälan till IVO",
            private_only=True,
            fields=(
                Field("ivo_reference", "IVO:s diarienummer", LINE, required=False),
                Field("summary", "Kort beskrivning av händelsen, utan personuppgifter"),
                Field("measures", "Åtgärder"),
                Field("only_private", "Händelsen berör enbart den privata vårdgivaren", CONFIRM),
                Field(
                    "deidentified",
                    "Handlingarna är avidentifierade",
                    CONFIRM,
                    help="Inga namn, personnummer eller andra uppgifter som pekar ut en patient.",
                ),
                Field("ivo_decided_on", "Datum för IVO:s beslut", DATE, later=True),
            ),
            documents=(
                Document(D.REPORT, "Kopia av anmälan till IVO", required=True),
                Document(D.INVESTIGATION, "Utredningsmaterial", required=True),
                Document(D.MEASURES, "Åtgärder (dokument)"),
                Document(D.IVO_DECISION, "IVO:s beslut", required=True, later=True),
                _OTHER,
            ),
        ),
    ]
}


def case_type(kind: CaseKind | str) -> CaseType:
    return TYPES[CaseKind(kind)]


def kinds_for(unit) -> Iterable[CaseType]:
    """The case types a unit may file: Lex Maria cases only private units (§2.6)."""
    from audit.models import Operator

    return [t for t in TYPES.values() if not t.private_only or unit.operator == Operator.PRIVAT]
