"""Track emotions: keep `track_emotions` in step with the embeddings (the model runners live in
`lib/models/emotions.py`)."""
