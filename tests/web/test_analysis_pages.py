"""The annual analysis's pages (§7.1.4): the purchaser starts, writes, reviews and publishes it;
the läsare finds it on the start page and reads it; a draft is hidden from readers; a
published analysis refuses changes through its routes; bad input is answered beside the field
with what was typed kept; the PDF's text holds the tables' figures and a draft says 'Utkast'
on every page; every chart has its text alternative."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from tests.analysis_world import YEAR, build_world
from tests.conftest import csrf_token, login
from tests.factories import PASSWORD
from web.analysis.routes import cell_text
from workflows.analysis import machine as am
from workflows.analysis.models import AnalysisState, AnnualAnalysis

PERSONNUMMER = "19121212-1212"  # Skatteverket's test number


@pytest.fixture
def world(db, tmp_path):
    return build_world(db, tmp_path)


def as_user(client, name: str):
    if client.get("/").status_code == 200:  # logged in: log out first
        client.post("/logga-ut", data={"csrf_token": csrf_token(client, "/")})
    assert login(client, name, PASSWORD).status_code == 302


def post(client, path: str, data: dict | None = None, page: str = "/"):
    return client.post(path, data={"csrf_token": csrf_token(client, page), **(data or {})})


def start_and_write(client) -> int:
    response = post(client, "/analys/ny", {"year": str(YEAR)}, "/analys/")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    analysis_id = int(response.location.rsplit("/", 1)[1])
    response = post(
        client,
        f"/analys/{analysis_id}/text",
        {
            "title": f"Samlad årlig analys {YEAR}",
            "introduction": "Året i korthet.",
            "conclusions": "Förslag till inriktning: satsa på tillgängligheten.",
            "text_heat_map": "Kompetens och bemanning är svagast.",
        },
        f"/analys/{analysis_id}",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    return analysis_id


def publish(client, analysis_id: int) -> None:
    page = f"/analys/{analysis_id}"
    assert post(client, f"{page}/atgard/submit_for_review", page=page).status_code == 302
    assert post(client, f"{page}/atgard/publish", page=page).status_code == 302


def test_purchaser_publishes_and_the_reader_reads_it(client, world, db):
    as_user(client, "analys.bo")
    analysis_id = start_and_write(client)
    page = client.get(f"/analys/{analysis_id}").get_data(as_text=True)
    assert "Kompetens och bemanning är svagast." in page
    assert 'name="text_heat_map"' in page and "Skicka för granskning" in page
    publish(client, analysis_id)
    analysis = db.get(AnnualAnalysis, analysis_id)
    assert analysis.status == AnalysisState.PUBLISHED and analysis.snapshot

    as_user(client, "analys.lasare")
    start = client.get("/").get_data(as_text=True)
    assert "Ingen samlad årlig analys har publicerats ännu" not in start
    assert f'href="/analys/{analysis_id}"' in start
    page = client.get(f"/analys/{analysis_id}").get_data(as_text=True)
    assert "Förslag till inriktning: satsa på tillgängligheten." in page
    assert "<textarea" not in page and "/atgard/" not in page
    assert "/ny-version" not in page and 'id="timeline-h"' not in page


def test_the_readers_start_page_says_when_nothing_is_published(client, world):
    as_user(client, "analys.lasare")
    assert "Ingen samlad årlig analys har publicerats ännu" in client.get("/").get_data(
        as_text=True
    )


def test_a_draft_is_hidden_from_readers(client, world, db):
    as_user(client, "analys.bo")
    analysis_id = start_and_write(client)
    for name in ("analys.lasare", "analys.granskare"):
        as_user(client, name)
        assert client.get(f"/analys/{analysis_id}").status_code == 404
        assert client.get(f"/analys/{analysis_id}/pdf").status_code == 404
        assert f"/analys/{analysis_id}" not in client.get("/analys/").get_data(as_text=True)
    as_user(client, "analys.vc")
    assert client.get("/analys/").status_code == 403


def test_only_the_purchaser_and_admin_write_and_publish(client, world, db):
    as_user(client, "analys.granskare")
    assert post(client, "/analys/ny", {"year": str(YEAR)}).status_code == 403
    as_user(client, "analys.admin")
    analysis_id = start_and_write(client)
    publish(client, analysis_id)
    as_user(client, "analys.lasare")
    page = f"/analys/{analysis_id}"
    assert post(client, f"{page}/ny-version").status_code == 403
    assert post(client, f"{page}/text", {"conclusions": "x"}).status_code == 403


def test_a_published_analysis_refuses_changes_through_its_routes(client, world, db):
    as_user(client, "analys.bo")
    analysis_id = start_and_write(client)
    publish(client, analysis_id)
    page = f"/analys/{analysis_id}"
    response = post(
        client,
        f"{page}/text",
        {"title": "Ändrad", "introduction": "Ändrad", "conclusions": "Ändrad"},
        page,
    )
    assert response.status_code == 409
    assert "En publicerad årlig analys kan inte ändras" in response.get_data(as_text=True)
    assert post(client, f"{page}/atgard/return_to_draft", page=page).status_code == 409
    db.expire_all()
    analysis = db.get(AnnualAnalysis, analysis_id)
    assert analysis.introduction == "Året i korthet." and analysis.title != "Ändrad"
    # A new version is drafted instead; both stay readable.
    response = post(client, f"{page}/ny-version", page=page)
    assert response.status_code == 302
    draft_id = int(response.location.rsplit("/", 1)[1])
    text = client.get(f"/analys/{draft_id}").get_data(as_text=True)
    assert "Versioner:" in text and f'href="/analys/{analysis_id}"' in text
    assert client.get(page).status_code == 200


def test_bad_year_is_answered_beside_the_field_and_kept(client, world):
    as_user(client, "analys.bo")
    response = post(client, "/analys/ny", {"year": "tjugo25"}, "/analys/")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="new-year-error"' in page and "fyra siffror" in page
    assert 'value="tjugo25"' in page and 'aria-invalid="true"' in page


def test_a_personnummer_in_the_text_is_refused_and_the_rest_is_kept(client, world, db):
    as_user(client, "analys.bo")
    analysis_id = start_and_write(client)
    page = f"/analys/{analysis_id}"
    response = post(
        client,
        f"{page}/text",
        {
            "title": "Rubrik",
            "introduction": "Ny inledning som ska finnas kvar.",
            "conclusions": "Slutsats.",
            "text_findings": f"Patienten {PERSONNUMMER} nämns.",
        },
        page,
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'id="text-findings-error"' in text
    assert "Ny inledning som ska finnas kvar." in text
    db.expire_all()
    assert db.get(AnnualAnalysis, analysis_id).introduction == "Året i korthet."


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("\u00a0", " "))


def test_the_pdf_holds_the_tables_figures(client, world, db):
    as_user(client, "analys.bo")
    analysis_id = start_and_write(client)
    publish(client, analysis_id)
    response = client.get(f"/analys/{analysis_id}/pdf")
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert reader.metadata.title == f"Samlad årlig analys {YEAR}"
    text = _flat("".join(page.extract_text() for page in reader.pages))
    assert "Utkast" not in text
    _as_of, tables = am.tables(db, db.get(AnnualAnalysis, analysis_id))
    checked = 0
    for table in tables:
        assert _flat(table.title) in text
        for row in table.rows[:5] + table.totals:
            for value in row:
                if value is None or value == 0:
                    continue
                assert _flat(cell_text(value)) in text, (table.key, value)
                checked += 1
    assert checked > 100
    assert _flat("Förslag till inriktning: satsa på tillgängligheten.") in text


def test_a_draft_pdf_says_utkast_on_every_page(client, world):
    as_user(client, "analys.bo")
    analysis_id = start_and_write(client)
    response = client.get(f"/analys/{analysis_id}/pdf")
    assert response.headers["Content-Disposition"].endswith('-utkast.pdf"')
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) > 1
    for page in reader.pages:
        assert "Utkast" in page.extract_text()


def test_every_chart_has_a_text_alternative_and_its_numbers_beside_it(client, world):
    as_user(client, "analys.bo")
    analysis_id = start_and_write(client)
    page = client.get(f"/analys/{analysis_id}").get_data(as_text=True)
    charts = re.findall(r"<svg [^>]*>", page)
    assert len(charts) == 3
    for tag in charts:
        assert 'role="img"' in tag
        title_id, desc_id = re.search(r'aria-labelledby="([^" ]+) ([^"]+)"', tag).groups()
        assert f'<title id="{title_id}">' in page and f'<desc id="{desc_id}">' in page
    for key in ("heat_map", "trends", "plans_over_time"):
        section = page.split(f'id="s-{key}"', 1)[1].split("</section>", 1)[0]
        assert section.index("<svg") < section.index("<table")  # the numbers follow it
    assert "style=" not in "".join(re.findall(r"<svg.*?</svg>", page, re.S))
