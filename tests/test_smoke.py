def test_landing_page_is_german(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="de">' in html
    assert "Gemeinsam die Nachbarschaft stärken" in html
