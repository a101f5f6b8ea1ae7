"""File formats: word2vec text and binary, fastw2v's native format, safe writes."""
