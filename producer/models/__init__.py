"""The model side of the producer: tokenizer, constrained decoding and the unified model."""
