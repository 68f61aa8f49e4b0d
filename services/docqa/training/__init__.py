"""Fine-tuning the embedder and the reranker on your own data.

``pairs`` reads and writes training pairs (SQuAD-shaped files, JSONL, user feedback); ``synth``
asks the generator for questions about stored chunks; ``finetune`` trains, on ``loop`` (the
bounded training loop and the model directory it writes), ``batching`` and ``negatives`` (hard
negatives from a keyword index). Only ``finetune``, ``loop`` and ``batching`` import torch.
"""
