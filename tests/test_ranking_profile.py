"""The profile format read from TOML/JSON (DESIGN section 8) and its edges."""

from __future__ import annotations

import pytest

from digest.ranking import Profile


def test_comma_separated_strings_and_lists_both_work():
    profile = Profile.from_mapping(
        {
            "id": "alice",
            "keywords": "diffusion, LoRA ,",
            "categories": ["cs.CV", " cs.LG "],
            "liked": "2501.00001v2",
            "trending_weight": "0.5",
            "max_papers": 5,
        }
    )
    assert profile.keywords == ["diffusion", "LoRA"]
    assert profile.categories == ["cs.CV", "cs.LG"]
    assert profile.liked == ["2501.00001v2"]
    assert (profile.trending_weight, profile.max_papers) == (0.5, 5)


def test_missing_keys_take_the_defaults_and_the_given_id():
    profile = Profile.from_mapping({}, default_id="line-3")
    assert profile == Profile("line-3")
    assert profile.is_empty


def test_liked_ids_key_is_accepted_as_an_alias():
    assert Profile.from_mapping({"liked_ids": ["2501.1"]}).liked == ["2501.1"]


def test_trending_weight_is_kept_between_zero_and_one():
    assert Profile.from_mapping({"trending_weight": 3}).trending_weight == 1.0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"min_score": "high"}, "min_score must be a number"),
        ({"category_mode": "only"}, "category_mode must be 'boost' or 'filter'"),
    ],
)
def test_bad_values_are_named_in_the_error(data, message):
    with pytest.raises(ValueError, match=message):
        Profile.from_mapping(data)
