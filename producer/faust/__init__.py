"""The Faust mix language: grammar, parser, validator and renderer."""
