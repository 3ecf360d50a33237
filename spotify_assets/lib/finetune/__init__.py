"""Fine-tune a bundle's embedding model on the person's own playlists (issue 15).

pairs: (anchor, positive) texts, held-out members excluded; train: in-batch negatives;
bundle: the artifact key and the learned bundle that points at it; gate: promote or not.
"""
