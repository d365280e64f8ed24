"""Training: losses, batches, the single-process trainer and evaluation.

`UnifiedProducerTrainer` is re-exported lazily from the package root (`from producer import
UnifiedProducerTrainer`), so importing this package does not load torch models.
"""
