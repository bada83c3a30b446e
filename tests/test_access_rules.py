"""Scopes, allowed networks and allowed extension origin; the submissions list
API; requests for more PAT slots and the admin page."""

import pytest

from pat_manager import access_rules
from pat_manager.errors import ValidationError
from tests.conftest import Web, bearer

EXT = "chrome-extension://abcdefghijklmnopabcdefghijklmnop"


def outcomes(db, pat_id):
    return [
        r[0]
        for r in db.execute(
            "SELECT outcome FROM usage_events WHERE pat_id = ? ORDER BY id", (pat_id,)
        )
    ]


# --- Scopes -------------------------------------------------------------------


def test_a_read_only_pat_cannot_submit_and_a_write_only_pat_cannot_list(
    app, user_web, db
):
    reader_id, reader = user_web.new_token(
        "Analytics", scopes_sent="1", scopes="submissions:read"
    )
    writer_id, writer = user_web.new_token("Extension")
    client = app.test_client()

    refused = client.post(
        "/api/v1/submissions",
        json={"url": "https://jobs.example/1"},
        headers=bearer(reader),
    )
    assert refused.status_code == 403
    body = refused.get_json()
    assert body["error"] == "insufficient_scope"
    assert body["required_scopes"] == ["submissions:write"]
    assert "lacks the scope" in body["message"]

    listed = client.get("/api/v1/submissions", headers=bearer(writer))
    assert listed.status_code == 403
    assert listed.get_json()["required_scopes"] == ["submissions:read"]

    # Either scope may ask the duplicate check, and read /token.
    for token in (reader, writer):
        check = client.get(
            "/api/v1/submissions/check?url=https://jobs.example/1",
            headers=bearer(token),
        )
        assert check.status_code == 200
    info = client.get("/api/v1/token", headers=bearer(reader)).get_json()
    assert info["pat"]["scopes"] == ["submissions:read"]
    assert outcomes(db, reader_id)[0] == "insufficient_scope"
    assert outcomes(db, writer_id)[0] == "insufficient_scope"


def test_unticking_every_scope_is_refused_with_a_clear_message(user_web, db):
    response = user_web.create_pat("No scopes", scopes_sent="1")
    assert response.status_code == 422
    assert "Choose at least one scope" in response.get_data(as_text=True)
    bogus = user_web.create_pat("Bogus", scopes_sent="1", scopes="admin:all")
    assert bogus.status_code == 422 and "Unknown scope" in bogus.get_data(True)
    assert db.execute("SELECT COUNT(*) FROM pats").fetchone()[0] == 0


def test_the_submissions_list_pages_newest_first_with_a_cursor(app, user_web):
    _, token = user_web.new_token(
        "Both", scopes_sent="1", scopes=["submissions:write", "submissions:read"]
    )
    client = app.test_client()
    for n in range(5):
        client.post(
            "/api/v1/submissions",
            json={"url": f"https://jobs.example/{n}", "title": f"Job {n}"},
            headers=bearer(token),
        )
    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(
            "/api/v1/submissions" + query, headers=bearer(token)
        ).get_json()
        seen += [s["title"] for s in page["submissions"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["Job 4", "Job 3", "Job 2", "Job 1", "Job 0"]
    first = client.get("/api/v1/submissions", headers=bearer(token)).get_json()
    assert first["submissions"][0]["template"]["name"] == "Technical roles"
    assert first["submissions"][0]["needs_template"] is False
    assert first["next_cursor"] is None


@pytest.mark.parametrize(
    "query, field",
    [
        ("?limit=0", "limit"),
        ("?limit=101", "limit"),
        ("?limit=ten", "limit"),
        ("?cursor=not-a-cursor", "cursor"),
        ("?cursor=", "cursor"),
        ("?cursor=" + "A" * 100, "cursor"),
    ],
)
def test_the_submissions_list_explains_a_bad_limit_or_cursor(
    app, user_web, query, field
):
    _, token = user_web.new_token("Reader", scopes_sent="1", scopes="submissions:read")
    response = app.test_client().get(
        "/api/v1/submissions" + query, headers=bearer(token)
    )
    assert response.status_code == 422
    assert field in response.get_json()["fields"]


def test_the_list_never_shows_another_accounts_submissions(app, user_web, other_web):
    _, ada = user_web.new_token("Ada", scopes_sent="1", scopes=["submissions:write"])
    app.test_client().post(
        "/api/v1/submissions",
        json={"url": "https://ada.example/1"},
        headers=bearer(ada),
    )
    other_web.register("bob@example.com")
    _, bob = other_web.new_token("Bob", scopes_sent="1", scopes="submissions:read")
    listed = (
        app.test_client().get("/api/v1/submissions", headers=bearer(bob)).get_json()
    )
    assert listed["submissions"] == []


# --- Networks -------------------------------------------------------------------


def test_a_request_from_outside_the_allowed_networks_is_403_and_logged(
    app, user_web, db
):
    pat_id, token = user_web.new_token(
        "Office only", allowed_networks="10.1.0.0/16\n2001:db8::/48"
    )
    client = app.test_client()
    refused = client.get("/api/v1/token", headers=bearer(token))
    assert refused.status_code == 403
    assert refused.get_json()["error"] == "ip_not_allowed"
    assert "127.0.0.1" in refused.get_json()["message"]

    for address in ("10.1.200.3", "2001:db8::42"):
        ok = client.get(
            "/api/v1/token",
            headers=bearer(token),
            environ_base={"REMOTE_ADDR": address},
        )
        assert ok.status_code == 200, address
    outside = client.post(
        "/api/v1/submissions",
        json={"url": "https://jobs.example/1"},
        headers=bearer(token),
        environ_base={"REMOTE_ADDR": "10.2.0.1"},
    )
    assert outside.status_code == 403
    assert outcomes(db, pat_id) == ["ip_not_allowed", "ok", "ok", "ip_not_allowed"]
    assert db.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0
    # A refused request is not a use.
    assert db.execute("SELECT last_used_ip FROM pats").fetchone()[0] == "2001:db8::42"


@pytest.mark.parametrize(
    "text, stored",
    [
        ("", ""),
        ("203.0.113.7", "203.0.113.7/32"),
        ("203.0.113.0/24, 10.0.0.0/8", "203.0.113.0/24,10.0.0.0/8"),
        ("2001:db8::/48\n2001:DB8::/48", "2001:db8::/48"),
        ("::ffff:127.0.0.1", "127.0.0.1/32"),
        ("::ffff:192.0.2.0/120", "192.0.2.0/24"),
        # The same entry many times is one entry, not too many.
        ("203.0.113.7\n" * 25, "203.0.113.7/32"),
    ],
)
def test_networks_are_normalised(text, stored):
    assert access_rules.clean_networks(text) == stored


@pytest.mark.parametrize(
    "text", ["10.0.0.0/33", "example.com", "1.2.3", "::g", "a" * 500]
)
def test_bad_networks_name_the_entry_to_fix(text):
    with pytest.raises(ValidationError) as caught:
        access_rules.clean_networks(text)
    assert "is not a network" in caught.value.fields["allowed_networks"]


@pytest.mark.parametrize(
    "text, message",
    [
        ("203.0.113.9/24", "Write 203.0.113.0/24 for the range, or 203.0.113.9 alone"),
        ("127.0.0.1/0", "mixes an address and a range"),
        ("0.0.0.0/0", "too broad (at most /8 for IPv4)"),
        ("0.0.0.0/1", "too broad"),
        ("::/0", "too broad (at most /16 for IPv6)"),
        ("fe80::1%eth0", "leave out the %zone part"),
        ("fe80::1%" + "x" * 200_000, "leave out the %zone part"),
        ("1" * 100, "is not a network"),
        ("::ffff:0:0/95", "mixes an address and a range"),
        ("::ffff:0.0.0.0/96", "too broad"),
        (",".join(f"10.0.{n}.0/24" for n in range(21)), "at most 20 networks"),
    ],
)
def test_ambiguous_or_too_broad_networks_are_refused(text, message):
    with pytest.raises(ValidationError) as caught:
        access_rules.clean_networks(text)
    assert message in caught.value.fields["allowed_networks"]


def test_a_bad_network_in_the_form_is_422_and_nothing_is_stored(user_web, db):
    response = user_web.create_pat("Typo", allowed_networks="10.0.0.0/8\n300.1.1.1")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "“300.1.1.1” is not a network" in page
    assert '<details class="advanced" open>' in page
    assert db.execute("SELECT COUNT(*) FROM pats").fetchone()[0] == 0


def test_an_ipv4_mapped_address_counts_as_its_ipv4_address():
    pat = {"allowed_networks": "192.0.2.0/24"}
    assert access_rules.network_allows(pat, "::ffff:192.0.2.5")
    assert not access_rules.network_allows(pat, "::ffff:198.51.100.5")
    assert not access_rules.network_allows(pat, None)


# --- Extension origin ---------------------------------------------------------------


def test_a_browser_request_from_another_extension_is_403(app, user_web, db):
    pat_id, token = user_web.new_token("One extension", allowed_origin=EXT)
    client = app.test_client()
    other = "chrome-extension://ponmlkjihgfedcbaponmlkjihgfedcba"
    refused = client.get("/api/v1/token", headers={**bearer(token), "Origin": other})
    assert refused.status_code == 403
    assert refused.get_json()["error"] == "origin_not_allowed"
    web_page = client.get(
        "/api/v1/token", headers={**bearer(token), "Origin": "https://evil.example"}
    )
    assert web_page.status_code == 403
    same = client.get("/api/v1/token", headers={**bearer(token), "Origin": EXT})
    assert same.status_code == 200
    assert same.headers["Access-Control-Allow-Origin"] == EXT
    # Scripts and servers send no Origin; the network list is what limits them.
    assert client.get("/api/v1/token", headers=bearer(token)).status_code == 200
    assert outcomes(db, pat_id)[:2] == ["origin_not_allowed", "origin_not_allowed"]


def test_an_allowed_origin_is_stored_in_lower_case_as_browsers_send_it():
    assert (
        access_rules.clean_origin(
            EXT.upper().replace("CHROME-EXTENSION", "chrome-extension")
        )
        == EXT
    )


@pytest.mark.parametrize(
    "origin", ["https://example.com", "chrome-extension://", "javascript:alert(1)"]
)
def test_an_allowed_origin_must_be_an_extension_origin(user_web, origin):
    response = user_web.create_pat("Bad origin", allowed_origin=origin)
    assert response.status_code == 422
    assert "extension origin like" in response.get_data(as_text=True)


def test_edit_sets_and_clears_the_limits_without_a_new_token(app, user_web, db):
    pat_id, token = user_web.new_token("Limits")
    user_web.post(
        f"/pats/{pat_id}/edit",
        {
            "scopes_sent": "1",
            "scopes": "submissions:read",
            "allowed_networks": "10.0.0.0/8",
        },
    )
    client = app.test_client()
    assert client.get("/api/v1/token", headers=bearer(token)).status_code == 403
    card = user_web.get("/pats/").get_data(as_text=True)
    assert "Only from" in card and "10.0.0.0/8" in card and "submissions:read" in card
    user_web.post(
        f"/pats/{pat_id}/edit",
        {"scopes_sent": "1", "scopes": "submissions:write", "allowed_networks": ""},
    )
    assert client.get("/api/v1/token", headers=bearer(token)).status_code == 200


# --- Slot requests and the admin page ------------------------------------------------


@pytest.fixture
def admin_and_member(app, user_web):
    """ada (the first account, an admin) and a member, bob, at his limit."""
    member = Web(app.test_client())
    member.register("bob@example.com")
    member.create_template("Bob's CV")
    for n in range(3):
        member.new_token(f"Bob {n}")
    return user_web, member


def test_at_the_limit_a_person_asks_for_more_and_an_admin_approves(
    admin_and_member, db
):
    admin, member = admin_and_member
    listing = member.get("/pats/").get_data(as_text=True)
    assert "request more PATs" in listing
    short = member.post("/pats/slots/", {"slots": "2", "reason": "more"})
    assert short.status_code == 422 and "Say in a sentence" in short.get_data(True)
    sent = member.post(
        "/pats/slots/", {"slots": "2", "reason": "One PAT per job board I use."}
    )
    assert sent.status_code == 302
    again = member.post(
        "/pats/slots/", {"slots": "1", "reason": "And one for my coach."}
    )
    assert again.status_code == 422
    assert "already have a request waiting" in again.get_data(as_text=True)
    assert db.execute("SELECT COUNT(*) FROM slot_requests").fetchone()[0] == 1
    assert "You asked for 2 more PATs" in member.get("/pats/slots/").get_data(True)

    page = admin.get("/admin/").get_data(as_text=True)
    assert "bob@example.com" in page and "One PAT per job board I use." in page
    assert "Request open" in page
    request_id = db.execute("SELECT id FROM slot_requests").fetchone()[0]
    approved = admin.post(
        f"/admin/requests/{request_id}",
        {"decision": "approve", "granted": "1", "answer": "One for now."},
    )
    assert approved.status_code == 302
    assert (
        db.execute(
            "SELECT extra_pat_slots FROM users WHERE email = 'bob@example.com'"
        ).fetchone()[0]
        == 1
    )
    assert member.create_pat("Bob 3").status_code == 302
    assert member.create_pat("Bob 4").status_code == 409
    alerts = member.get("/alerts/").get_data(as_text=True)
    assert "You can now have 1 more PAT" in alerts and "One for now." in alerts
    assert "approved: +1 PATs" in member.get("/pats/slots/").get_data(True)
    # Answered once: a second answer (another admin, a second click) says so.
    late = admin.post(f"/admin/requests/{request_id}", {"decision": "decline"})
    assert late.status_code == 422
    assert "This request was already approved." in late.get_data(as_text=True)
    assert db.execute("SELECT status FROM slot_requests").fetchone()[0] == "approved"
    # The admin was told of the request when it came in.
    assert "bob@example.com asks for 2 more PATs" in admin.get("/alerts/").get_data(
        True
    )


def test_an_admin_declines_and_the_person_is_told(admin_and_member, db):
    admin, member = admin_and_member
    member.post("/pats/slots/", {"slots": "3", "reason": "Testing many extensions."})
    request_id = db.execute("SELECT id FROM slot_requests").fetchone()[0]
    bad = admin.post(
        f"/admin/requests/{request_id}", {"decision": "approve", "granted": "0"}
    )
    assert bad.status_code == 422 and "from 1 to 10" in bad.get_data(True)
    admin.post(f"/admin/requests/{request_id}", {"decision": "decline"})
    assert db.execute("SELECT status FROM slot_requests").fetchone()[0] == "declined"
    assert "was declined" in member.get("/alerts/").get_data(True)
    assert (
        db.execute(
            "SELECT extra_pat_slots FROM users WHERE email = 'bob@example.com'"
        ).fetchone()[0]
        == 0
    )


def test_the_admin_page_lists_accounts_with_counts_and_limits(admin_and_member):
    admin, member = admin_and_member
    page = admin.get("/admin/").get_data(as_text=True)
    assert "No open requests" in page
    row = page.split("bob@example.com")[-1]
    assert '<td data-label="PAT slots used" class="num warn">3</td>' in row
    assert '<td data-label="Limit" class="num">3' in row


def test_members_cannot_see_or_use_the_admin_page(admin_and_member, db):
    admin, member = admin_and_member
    member.post("/pats/slots/", {"slots": "2", "reason": "I would like more please."})
    request_id = db.execute("SELECT id FROM slot_requests").fetchone()[0]
    assert member.get("/admin/").status_code == 404
    for htmx in (False, True):
        response = member.post(
            f"/admin/requests/{request_id}",
            {"decision": "approve", "granted": "10"},
            htmx=htmx,
        )
        assert response.status_code == 404
    assert db.execute("SELECT status FROM slot_requests").fetchone()[0] == "open"
    assert "Admin</a>" not in member.get("/pats/").get_data(True)
    assert "Admin</a>" in admin.get("/pats/").get_data(True)
