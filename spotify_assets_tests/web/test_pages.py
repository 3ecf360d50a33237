"""The web app over real data (two people, one database), through Starlette's test client:
what each page shows, decisions stored per person and fed to the next sorting run, apply
against the local Spotify fake, and one person's data never on another's pages."""

from __future__ import annotations

import csv
import io
import re

import psycopg
from starlette.testclient import TestClient

from spotify_assets.lib.store import Database
from spotify_assets.web.app import AppContext, create_app
from spotify_assets_tests.dagster_helpers import materialization_metadata as meta
from spotify_assets_tests.fake_spotify import FakePlaylist, FakeSpotify, make_track
from spotify_assets_tests.web.world import BUNDLE, match


def client_for(world, embedder, spotify=None) -> TestClient:
    ctx = AppContext(Database(world.database_url), BUNDLE, embedder, None, spotify)
    return TestClient(create_app(ctx))


def sort_page_forms(html: str) -> list[dict[str, str]]:
    """(track_id, playlist_id) of every accept form on a sort page."""
    forms = re.findall(
        r'name="track_id" value="([^"]+)">\s*<input type="hidden" name="playlist_id" '
        r'value="([^"]+)">\s*<input type="hidden" name="score" value="([^"]+)">', html
    )
    return [{"track_id": t, "playlist_id": p, "score": s} for t, p, s in forms]


def decisions(database_url: str, person: str) -> list[tuple]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(
            "SELECT track_id, playlist_id, decision FROM sort_decisions WHERE person = %s "
            "ORDER BY track_id, playlist_id", (person,),
        ).fetchall()  # fmt: skip


def test_home_and_search_with_removable_chips(world, embedder):
    client = client_for(world, embedder)
    home = client.get("/")
    assert home.status_code == 200 and 'href="/p/ana"' in home.text and 'href="/p/ben"' in home.text
    page = client.get("/search", params={"q": "fast energetic songs"})
    assert page.status_code == 200
    assert page.text.count('class="result"') == 10
    chips = re.findall(r'<li class="chip">“([^”]+)” → ', page.text)
    assert chips, "the understood words are shown as chips"
    remove = re.search(r'<a href="([^"]+)" aria-label="remove “' + re.escape(chips[0]), page.text)
    again = client.get(remove.group(1).replace("&amp;", "&"))
    assert again.status_code == 200 and f"“{chips[0]}” → " not in again.text
    assert "removed: “" in again.text
    # more like this: the first result's neighbours, not itself
    first = re.search(r'href="/like/([^"?]+)', page.text).group(1)
    like = client.get(f"/like/{first}")
    assert like.status_code == 200 and like.text.count('class="result"') == 10
    assert f'href="/like/{first}"' not in like.text
    # bad input: one clear line, status 400
    bad = client.get("/search", params={"q": "x" * 3000})
    assert bad.status_code == 400 and 'class="error"' in bad.text


def test_a_person_search_relative_to_their_liked_songs(world, embedder):
    client = client_for(world, embedder)
    page = client.get("/search", params={"q": "songs I like", "person": "ana"})
    assert page.status_code == 200
    assert "relative to ana&#39;s liked songs" in page.text or "relative to ana's liked songs" in page.text
    assert "closest to your liked song" in page.text
    shown = set(re.findall(r'href="/like/([^"?]+)', page.text))
    assert shown and not shown & set(world.liked["ana"])  # their own songs are left out


def test_sort_review_decisions_are_the_persons_and_teach_the_next_run(world, embedder, instance):
    client = client_for(world, embedder)
    bens = decisions(world.database_url, "ben")  # what ana does must not change them
    page = client.get("/p/ana/sort")
    assert page.status_code == 200
    forms = sort_page_forms(page.text)
    assert len({f["track_id"] for f in forms}) >= 10
    for name in world.playlist_names["ben"]:  # nothing of ben's on ana's pages
        assert name not in page.text
    assert any(name in page.text for name in world.playlist_names["ana"])
    accept, reject = forms[0], next(f for f in forms if f["track_id"] != forms[0]["track_id"])
    for form, decision in ((accept, "accept"), (reject, "reject")):
        answer = client.post("/p/ana/decide", data={**form, "decision": decision},
                             follow_redirects=False)  # fmt: skip
        assert answer.status_code == 303 and answer.headers["location"].startswith("/p/ana/sort")
    none_song = next(f["track_id"] for f in forms
                     if f["track_id"] not in (accept["track_id"], reject["track_id"]))  # fmt: skip
    assert client.post("/p/ana/decide", data={"track_id": none_song, "decision": "none"},
                       follow_redirects=False).status_code == 303  # fmt: skip
    # twice is once (an upsert)
    client.post("/p/ana/decide", data={**accept, "decision": "accept"})
    stored = decisions(world.database_url, "ana")
    assert sorted(stored) == sorted([
        (accept["track_id"], accept["playlist_id"], "accept"),
        (reject["track_id"], reject["playlist_id"], "reject"),
        (none_song, "", "none"),
    ])  # fmt: skip
    assert decisions(world.database_url, "ben") == bens
    shown = client.get("/p/ana/sort").text
    assert "accepted" in shown and "rejected" in shown and "you said none of these fits" in shown
    if not bens:  # ben's page shows no decision of ana's
        assert 'class="state"' not in client.get("/p/ben/sort").text
    # a decision on another person's playlist, or from another site, is refused
    ben_form = sort_page_forms(client.get("/p/ben/sort").text)[0]
    assert client.post("/p/ana/decide", data={**ben_form, "decision": "accept"}).status_code == 400
    foreign = client.post("/p/ana/decide", data={**accept, "decision": "reject"},
                          headers={"origin": "http://evil.example"})  # fmt: skip
    assert foreign.status_code == 403
    assert decisions(world.database_url, "ana") == sorted(stored)
    # exported as CSV with names
    exported = list(csv.DictReader(io.StringIO(client.get("/p/ana/decisions.csv").text)))
    assert {(r["track_id"], r["decision"]) for r in exported} == {(t, d) for t, _, d in stored}
    assert all(r["track"] for r in exported)
    # the next sorting run: a new context (the decisions are part of it), the accepted song
    # a member of its playlist (not suggested there again), the rejected pair not suggested
    result = match(world.database_url, instance, "ana")
    assert meta(result, "match_results")["context_hit"] is False
    after = client.get("/p/ana/sort").text
    pairs = {(f["track_id"], f["playlist_id"]) for f in sort_page_forms(after)}
    assert (reject["track_id"], reject["playlist_id"]) not in pairs
    assert (accept["track_id"], accept["playlist_id"]) not in pairs


def test_apply_adds_accepted_songs_through_the_api_once(world, embedder):
    client = client_for(world, embedder)
    page = client.get("/p/ben/sort").text
    forms = sort_page_forms(page)
    chosen = forms[0]
    name = re.search(r'aria-label="accept [^"]+ in ([^"]+)"', page).group(1)
    client.post("/p/ben/decide", data={**chosen, "decision": "accept"})
    # without credentials: said, nothing sent
    said = client.post("/p/ben/apply", follow_redirects=True)
    assert "no Spotify credentials" in said.text
    track = dict(make_track(1), id=chosen["track_id"])
    with FakeSpotify(playlists=[FakePlaylist(name, [])], extra_tracks=[track]) as fake:
        client = client_for(world, embedder, spotify=fake.client)
        done = client.post("/p/ben/apply", follow_redirects=True)
        assert f"added 1 song to &#39;{name}&#39;" in done.text or f"added 1 song to '{name}'" in done.text
        assert [i["track"]["id"] for i in fake.playlists[0].items] == [chosen["track_id"]]
        again = client.post("/p/ben/apply", follow_redirects=True)
        assert "nothing to apply" in again.text
        assert len(fake.playlists[0].items) == 1
        assert fake.count(method="POST", path=f"/v1/playlists/{fake.playlists[0].id}/tracks") == 1


def test_person_page_coverage_and_unknown_people(world, embedder):
    client = client_for(world, embedder)
    page = client.get("/p/ana")
    assert page.status_code == 200 and "liked songs" in page.text and "playlist items" in page.text
    assert client.get("/p/nobody").status_code == 404
    assert client.get("/p/..%2Fetc").status_code == 404
    assert client.get("/p/ana/dashboard").status_code == 404  # not built: says how
