import pytest
from hypothesis import given
from hypothesis import strategies as st

from riskplan.domain import credit_code

# Codes as printed in public registrations; their check characters are known good.
KNOWN_VALID = ["91350100M000100Y43", "91110000600037341L"]

# Real, published codes of large enterprises, chosen for their check character. Each was found
# in public text (cited) and passes GB 32100 here; none is made up or computed.
# Where each is published: "plm" = the supplier table of a public "plm_demo" MySQL dump on
# GitHub that lists real suppliers with their codes (stored-code index id 31354838946).
REAL_ENDING_Y = [
    "91110000100003495Y",  # 中国建材股份有限公司 (plm)
    "91340000610400837Y",  # 马鞍山钢铁股份有限公司 (plm)
    "91620000712767189Y",  # 大禹节水集团股份有限公司 (plm)
]
REAL_ENDING_0 = [
    "915300002919937260",  # 云南云天化股份有限公司 (plm)
    "913700001675754710",  # 通裕重工股份有限公司 (plm)
    "913200001347585460",  # 江苏金融租赁股份有限公司 (its own disclosure text: "统一社会信用代码为
                           # 913200001347585460 ... 股份代号为 600901", quoted in a public repository)
]
REAL_OTHER = [
    "91440300192317458F",  # 比亚迪股份有限公司 (plm; also a public customer-profile example)
    "914403001922038216",  # 华为技术有限公司 (quoted in several public repositories' test texts)
    "91420100568359390C",  # 武汉光庭信息技术股份有限公司 (a public LLM-agent prompt example)
    "91330000143125150B",  # 广宇集团股份有限公司 (a public web front-end page)
    "91100000100003962T",  # 国家电网有限公司 (a public test suite: "真实公示码：国家电网")
]


@pytest.mark.parametrize("code", REAL_ENDING_Y + REAL_ENDING_0 + REAL_OTHER)
def test_real_published_codes_pass(code):
    assert credit_code.has_code_form(code)
    assert credit_code.is_valid(code)
    assert credit_code.check_character(code[:17]) == code[17]


def test_the_real_codes_cover_the_check_characters_y_and_0():
    # Y is the last alphabet value (30) and 0 the first, the two ends of the mod-31 wrap-around.
    assert {c[17] for c in REAL_ENDING_Y} == {"Y"} and {c[17] for c in REAL_ENDING_0} == {"0"}
    assert credit_code.ALPHABET.index("Y") == 30 and credit_code.ALPHABET.index("0") == 0


@pytest.mark.parametrize("code,altered", [
    ("91110000100003495Y", "91110000100003495X"),   # 中国建材, check Y -> X
    ("915300002919937260", "915300002919937261"),   # 云天化, check 0 -> 1
    ("91440300192317458F", "91440300192317458E"),   # 比亚迪, check F -> E
])
def test_a_real_code_with_its_last_character_altered_fails(code, altered):
    assert credit_code.is_valid(code) and not credit_code.is_valid(altered)


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
