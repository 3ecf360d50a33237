"""Co-listening: what a person's own library says about which songs go together.

Most of a real person's songs have neither audio features nor a genre anywhere, yet every one
of them sits in the person's playlists, liked songs or listening sessions next to other songs.
A vector per song learned from that company (`contexts`: playlists in order, liked songs in the
order they were liked, sessions of plays) places songs the person puts and plays together close
to each other — the same idea music services learn taste with, here from one person's export.

Two well-known methods (`methods`): PPMI of windowed co-occurrence counts reduced by a truncated
SVD (scipy), and skip-gram word2vec over the same sequences (gensim). `fit.fit_colistening`
trains both on part of the person's playlist memberships, keeps the one that places the
held-back members closer to their playlists, and trains it again on everything it is allowed
to see (never a held-out membership of the evaluation: the caller passes training members).
"""
