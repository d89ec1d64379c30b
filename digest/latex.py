"""Show the LaTeX that authors put in titles and abstracts as readable Unicode text.

Email clients render no math, so `$\\mathcal{B}$-Coder` becomes `𝓑-Coder` and `$\\alpha$` becomes
`α`. Anything not understood degrades to its plain argument rather than to backslashes.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_GREEK = (
    "alpha α beta β gamma γ delta δ epsilon ϵ varepsilon ε zeta ζ eta η theta θ vartheta ϑ "
    "iota ι kappa κ lambda λ mu μ nu ν xi ξ pi π varpi ϖ rho ρ varrho ϱ sigma σ varsigma ς "
    "tau τ upsilon υ phi ϕ varphi φ chi χ psi ψ omega ω Gamma Γ Delta Δ Theta Θ Lambda Λ Xi Ξ "
    "Pi Π Sigma Σ Upsilon Υ Phi Φ Psi Ψ Omega Ω"
)
_SYMBOLS = (
    "times × cdot · to → rightarrow → leftarrow ← Rightarrow ⇒ leftrightarrow ↔ mapsto ↦ "
    "leq ≤ le ≤ geq ≥ ge ≥ neq ≠ ne ≠ approx ≈ sim ∼ simeq ≃ equiv ≡ propto ∝ pm ± mp ∓ "
    "infty ∞ partial ∂ nabla ∇ sum ∑ prod ∏ int ∫ in ∈ notin ∉ subset ⊂ subseteq ⊆ cup ∪ "
    "cap ∩ forall ∀ exists ∃ neg ¬ land ∧ lor ∨ oplus ⊕ otimes ⊗ circ ∘ star ⋆ ast ∗ "
    "ell ℓ hbar ℏ emptyset ∅ varnothing ∅ ldots … cdots ⋯ dots … prime ′ dagger † "
    "langle ⟨ rangle ⟩ lceil ⌈ rceil ⌉ lfloor ⌊ rfloor ⌋ sqrt √ surd √ top ⊤ bot ⊥ "
    "log log exp exp sin sin cos cos max max min min arg arg det det lim lim"
)
_WORDS: dict[str, str] = {}
for _table in (_GREEK, _SYMBOLS):
    _pairs = _table.split()
    _WORDS.update(zip(_pairs[::2], _pairs[1::2], strict=True))
# Operators and relations read better with space around them.
_SPACED = set(
    "log exp sin cos max min arg det lim leq le geq ge neq ne approx sim simeq equiv propto to "
    "rightarrow leftarrow Rightarrow leftrightarrow mapsto in notin subset subseteq".split()
)
_ESCAPES = {"%": "%", "&": "&", "_": "_", "#": "#", "$": "$", "{": "{", "}": "}", ",": " ",
            ";": " ", ":": " ", "!": "", " ": " ", "\\": " "}  # fmt: skip
_SUPER = str.maketrans(
    "0123456789+-=()abcdefghijklmnoprstuvwxyzTN", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻᵀᴺ"
)
_SUB = str.maketrans("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")
# Accents over one letter become combining marks; over longer arguments they are dropped.
_ACCENTS = {"hat": "\u0302", "widehat": "\u0302", "tilde": "\u0303", "widetilde": "\u0303",
            "bar": "\u0304", "overline": "\u0304", "vec": "\u20d7", "dot": "\u0307"}  # fmt: skip
# Text typography outside math: dashes and TeX quotes.
_TYPOGRAPHY = (("---", "—"), ("--", "–"), ("``", "“"), ("''", "”"))


def _alphabet(upper: int, lower: int | None = None) -> dict[str, str]:
    table = {chr(65 + i): chr(upper + i) for i in range(26)}
    if lower is not None:
        table.update({chr(97 + i): chr(lower + i) for i in range(26)})
    return table


# Bold script and bold fraktur have no holes in Unicode's mathematical block; double-struck
# capitals take their few letter-like symbols where the block has holes.
_DOUBLE_STRUCK = {"C": "ℂ", "H": "ℍ", "N": "ℕ", "P": "ℙ", "Q": "ℚ", "R": "ℝ", "Z": "ℤ"}
_FONTS: dict[str, dict[str, str]] = {
    "mathcal": _alphabet(0x1D4D0, 0x1D4EA),
    "mathscr": _alphabet(0x1D4D0, 0x1D4EA),
    "mathbb": {**_alphabet(0x1D538), **_DOUBLE_STRUCK},
    "mathfrak": _alphabet(0x1D56C, 0x1D586),
}
# Commands whose argument is shown as plain text.
_PLAIN = set(
    "mathrm mathbf mathit mathsf mathtt textbf textit textrm texttt textsf textsc emph text mbox "
    "operatorname boldsymbol bm mathnormal textnormal underline mathds textsuperscript".split()
)
# Commands whose argument is not for a reader of the title.
_DROPPED = set("cite citep citet ref eqref label footnote thanks".split())

_TOKEN = re.compile(r"\\([A-Za-z]+)\s*|\\(.)|([\^_])|(\{)|(\})|(\$\$?)|(.)", re.S)


@lru_cache(maxsize=8192)
def latex_to_text(text: str) -> str:
    """Return `text` with inline LaTeX turned into plain Unicode (cached: titles repeat)."""
    if not any(mark in text for mark in ("\\", "$", "^", "--", "``")):
        return text
    tokens = list(_TOKEN.finditer(text))
    out, _ = _convert(tokens, 0, math=False, stop_at_brace=False)
    for tex, shown in _TYPOGRAPHY:
        out = out.replace(tex, shown)
    return unicodedata.normalize("NFC", re.sub(r"[ \t]{2,}", " ", out).strip())


def _convert(
    tokens: list[re.Match[str]], i: int, math: bool, stop_at_brace: bool
) -> tuple[str, int]:
    """Convert tokens from index i until the end or a closing brace; return text and next index."""
    parts: list[str] = []
    while i < len(tokens):
        command, escaped, script, opening, closing, dollar, plain = tokens[i].groups()
        i += 1
        if closing:
            if stop_at_brace:
                return "".join(parts), i
            continue
        if dollar:
            math = not math
        elif plain:
            parts.append(plain)
        elif escaped:
            parts.append(_ESCAPES.get(escaped, escaped))
        elif opening:
            inner, i = _convert(tokens, i, math, stop_at_brace=True)
            parts.append(inner)
        elif script:
            arg, i = _argument(tokens, i, math)
            parts.append(_script(script, arg) if math else script + arg)
        else:
            word, i = _command(command, tokens, i, math)
            parts.append(word)
    return "".join(parts), i


def _argument(tokens: list[re.Match[str]], i: int, math: bool) -> tuple[str, int]:
    """Read one argument: a braced group, a command, or a single character."""
    if i >= len(tokens):
        return "", i
    command, escaped, _, opening, _, _, plain = tokens[i].groups()
    if opening:
        return _convert(tokens, i + 1, math, stop_at_brace=True)
    if command:
        return _command(command, tokens, i + 1, math)
    if plain:
        return plain, i + 1
    return _ESCAPES.get(escaped, escaped or ""), i + 1


def _command(name: str, tokens: list[re.Match[str]], i: int, math: bool) -> tuple[str, int]:
    """Translate one control word, consuming its argument when it takes one."""
    if name == "frac":
        top, i = _argument(tokens, i, math)
        bottom, i = _argument(tokens, i, math)
        return f"{_group(top)}/{_group(bottom)}", i
    if name in _DROPPED or name == "href":
        _, i = _argument(tokens, i, math)
        return _argument(tokens, i, math) if name == "href" else ("", i)
    if name in _FONTS or name in _PLAIN or name in _ACCENTS or name == "sqrt":
        arg, i = _argument(tokens, i, math)
        if name in _FONTS:
            return "".join(_FONTS[name].get(ch, ch) for ch in arg), i
        if name in _ACCENTS:
            return (arg + _ACCENTS[name] if len(arg) == 1 else arg), i
        return ("√" + _group(arg) if name == "sqrt" else arg), i
    word = _WORDS.get(name)
    if word is None:
        # An unknown command with an argument keeps the argument (\textsuperscript{th} -> th).
        takes_argument = i < len(tokens) and tokens[i][4] is not None
        return ("" if math or takes_argument else name), i
    return (f" {word} " if name in _SPACED else word), i


def _group(text: str) -> str:
    """Parenthesize a multi-character operand so a/b and √x stay unambiguous."""
    return text if len(text) <= 1 or text.isalnum() else f"({text})"


def _script(kind: str, arg: str) -> str:
    """Render ^x / _x with Unicode super/subscripts when every character has one."""
    table = _SUPER if kind == "^" else _SUB
    converted = arg.translate(table)
    if all(ch != orig or ch in " " for ch, orig in zip(converted, arg, strict=True)):
        return converted
    return kind + (arg if len(arg) == 1 else f"({arg})")
