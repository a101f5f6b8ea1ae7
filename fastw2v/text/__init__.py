"""Text in: reading a corpus, counting its vocabulary, encoding it to ids."""
