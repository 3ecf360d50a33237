"""co_listening: a person's co-listening vectors, learned from their own library."""
