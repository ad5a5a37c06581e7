"""FaceCodec conformance suite: vectors, cards, the deterministic generator and the runner (see README.md)."""
