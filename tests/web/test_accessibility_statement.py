"""The tillgänglighetsredogörelse (lag (2018:1937)) is public, linked from every page, and
names where to report problems."""


def test_statement_is_public_and_linked_from_the_login_page(client):
    login_page = client.get("/logga-in").get_data(as_text=True)
    assert 'href="/tillganglighet"' in login_page
    response = client.get("/tillganglighet")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Tillgänglighetsredogörelse för Hälsoval uppföljning" in page
    assert "lagen (2018:1937)" in page and "delvis förenlig" in page
    assert "Myndigheten för digital förvaltning (Digg)" in page
    assert "Kontakta Beställarenheten för Hälsoval i Region Västerbotten." in page


def test_configured_contact_is_shown(app, client):
    app.config["ACCESSIBILITY_CONTACT"] = "tillganglighet@example.org"
    page = client.get("/tillganglighet").get_data(as_text=True)
    assert '<a href="mailto:tillganglighet@example.org">' in page
