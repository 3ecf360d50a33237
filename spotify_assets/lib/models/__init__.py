"""Model runners (embedding, later emotions and reranking) behind local and Modal backends."""
