"""The sample digest shown on the landing page: plain data, so the page needs no database."""

from __future__ import annotations

SAMPLE_DIGEST = [
    {
        "title": "Low-Rank Adapters Are Secretly Mixtures of Experts",
        "authors": "A. Rivera, K. Tanaka, M. Okafor",
        "reasons": "matches: LoRA, fine-tuning; 87 upvotes",
    },
    {
        "title": "Diffusion Models for Protein Backbone Design at Scale",
        "authors": "L. Chen, S. Müller",
        "reasons": "matches: diffusion; by a followed author",
    },
    {
        "title": "A Benchmark for Long-Context Retrieval in Scientific Text",
        "authors": "P. Singh, R. Duarte, E. Novak",
        "reasons": "like a paper you liked; trending in cs.CL",
    },
]
