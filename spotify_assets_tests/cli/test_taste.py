"""`search` with a query naming your songs: --person is needed, and a missing library is said."""

from spotify_assets.cli import main
from spotify_assets.cli.taste import names_reference


def test_a_query_naming_your_songs_without_user_is_refused_in_one_line(capsys):
    assert main(["search", "emo songs I like"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: “I like” means a person's songs: add --person NAME")
    assert err.count("\n") == 1


def test_an_unknown_user_is_said_with_the_remedy(capsys):
    assert main(["search", "rock songs I like", "--user", "nobody"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == (
        "error: nothing is stored for person 'nobody': import their export with "
        "`spotify-assets import PATH --person nobody`"
    )


def test_user_without_a_reference_phrase_is_a_plain_search_with_a_warning(capsys):
    assert not names_reference("dark techno with high energy", "e")
    assert "--person is used only when the query names your songs" in capsys.readouterr().err
    assert names_reference("dark techno I like", None)
    assert capsys.readouterr().err == ""
