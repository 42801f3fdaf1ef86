import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskplan.domain import credit_code

# Codes as printed in public registrations; their check characters are known good.
KNOWN_VALID = ["91350100M000100Y43", "91110000600037341L"]


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_known_codes_pass(code):
    assert credit_code.is_valid(code)


@pytest.mark.parametrize("code", KNOWN_VALID)
def test_changed_check_character_fails(code):
    wrong = credit_code.ALPHABET[(credit_code.ALPHABET.index(code[17]) + 1) % 31]
    assert not credit_code.is_valid(code[:17] + wrong)


def test_alphabet_excludes_ambiguous_letters():
    assert len(credit_code.ALPHABET) == 31
    assert not set("IOZSV") & set(credit_code.ALPHABET)


def test_ids_without_code_form_are_not_checked():
    assert not credit_code.has_code_form("E0001")
    assert not credit_code.has_code_form("91350100M000100Y4")  # 17 characters
    assert not credit_code.has_code_form("91350100M000100YI3")  # I is not in the alphabet


@given(st.text(alphabet=credit_code.ALPHABET, min_size=17, max_size=17))
def test_made_codes_validate_and_any_single_substitution_is_caught(body):
    code = credit_code.make_code(body)
    assert credit_code.is_valid(code)
    # GB 32100's mod-31 check catches every single-character substitution in the body.
    for pos in (0, 8, 16):
        c = body[pos]
        other = credit_code.ALPHABET[(credit_code.ALPHABET.index(c) + 7) % 31]
        assert not credit_code.is_valid(body[:pos] + other + body[pos + 1:] + code[17])


def test_bad_body_is_refused():
    with pytest.raises(ValueError):
        credit_code.check_character("SHORT")
