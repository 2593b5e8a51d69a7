import pytest
from bench_doubles import colour_cases as make_colour_cases


@pytest.fixture
def colour_cases():
    return make_colour_cases()
