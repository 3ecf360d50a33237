"""Song → playlist matching: stage-1 signals, learned ranker, reranking, caching, evaluation."""
