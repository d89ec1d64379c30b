"""LaTeX in titles reads as Unicode in an email client."""

from __future__ import annotations

import pytest

from digest.latex import latex_to_text


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        (r"$\mathcal{B}$-Coder: Value-Based RL", "𝓑-Coder: Value-Based RL"),
        (r"$\alpha$-skew Jensen divergence", "α-skew Jensen divergence"),
        (r"\textbf{Bold} claims, \emph{careful} proofs", "Bold claims, careful proofs"),
        (r"Sorting in $O(n\log n)$", "Sorting in O(n log n)"),
        (r"Embeddings in $\mathbb{R}^d$", "Embeddings in ℝᵈ"),
        (r"$x_{i}^{2}$ and $2^{n-1}$", "xᵢ² and 2ⁿ⁻¹"),
        (r"Scaling $k$-NN to 10\% of $\ell_p$ balls", "Scaling k-NN to 10% of ℓₚ balls"),
        (r"$\tilde{O}(\sqrt{T})$ regret", "Õ(√T) regret"),
        (r"$\left(\frac{a}{b+1}\right)$", "(a/(b+1))"),
        (r"$\epsilon$-greedy and $\Delta$-gaps", "ϵ-greedy and Δ-gaps"),
        (r"Q\&A with $\geq 3$ hops $\to$ answers", "Q&A with ≥ 3 hops → answers"),
        (r"$\mathfrak{g}$-modules", "𝖌-modules"),
    ],
)
def test_common_title_latex_is_shown_readably(source: str, shown: str) -> None:
    assert latex_to_text(source) == shown


def test_unknown_commands_degrade_to_their_argument_or_name() -> None:
    assert latex_to_text(r"\unknowncmd{Word} and $\weird x$ by \LaTeX") == "Word and x by LaTeX"


def test_unbalanced_braces_and_dollars_do_not_raise() -> None:
    assert latex_to_text(r"Broken {group and $open math") == "Broken group and open math"
    assert latex_to_text(r"stray } brace \\ and trailing \\") == "stray brace and trailing"


def test_text_without_latex_is_returned_unchanged() -> None:
    title = "Plain title: with punctuation (and 3 numbers) - fine"
    assert latex_to_text(title) is title


def test_tex_typography_and_citations_read_naturally() -> None:
    assert latex_to_text("Vision--Language Models---a Survey") == "Vision–Language Models—a Survey"
    assert latex_to_text("``Attention'' is enough") == "“Attention” is enough"
    assert latex_to_text(r"Results \cite{smith2020} hold") == "Results hold"
    assert latex_to_text(r"See \href{https://example.org}{our site}") == "See our site"
