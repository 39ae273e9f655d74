"""Sentiment and aspects of a comment: the ONNX model (model.py), the comment scorer over its parts
(comment_parts.py, comment_sentiment.py), the scorer protocol and its loading (scoring.py), and the
aspect extractor (aspects.py, aspect_lexicon.py). Pure: no database, no bus."""
