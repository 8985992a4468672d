"""Env rendering round-trips through Node's dotenv (the parser Dokploy runs), and our port agrees with it."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.dokploy.dotenv import EnvFormatError, parse, render
from tests.dokploy.node_dotenv import NodeDotenv

# Characters that matter to dotenv: quotes, comment, separators, escapes, line breaks, JS whitespace.
_TRICKY = "'\"`#=:\\ \t\n\r\x0b\x0c\u00a0\u2028\u2029\ufeff\u3000$}{nr"
_value_chars = st.one_of(st.sampled_from(_TRICKY), st.characters(codec="utf-8", exclude_categories=["Cs"]))
_reference = st.builds(
    lambda scope, key: "${{" + (f"{scope}." if scope else "") + key + "}}",
    st.sampled_from(["project", "environment", ""]),
    st.from_regex(r"[A-Z_][A-Z0-9_]{0,8}", fullmatch=True),
)
values = st.one_of(
    st.text(_value_chars, max_size=24),
    st.text(st.sampled_from("'\"`#\n =\\ab"), max_size=12),  # dense in the characters that need quoting
    st.lists(st.one_of(_reference, st.text(_value_chars, max_size=6)), max_size=4).map("".join),
)
keys = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True).filter(lambda k: k != "__proto__")
mappings = st.dictionaries(keys, values, max_size=8)

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.lists(mappings, min_size=1, max_size=25))
def test_rendered_env_reads_back_identically_in_node(node_dotenv: NodeDotenv, batch: list[dict[str, str]]) -> None:
    rendered: list[tuple[dict[str, str], str]] = []
    rejected: list[tuple[str, str]] = []
    for env in batch:
        try:
            rendered.append((env, render(env)))
        except EnvFormatError as exc:
            key = str(exc).split(":")[0].removeprefix("env ")
            assert env[key] not in str(exc) or len(env[key]) < 3  # the message names the key, not the value
            rejected.append((key, env[key]))
    # One Node call per batch: every rendering, plus every candidate encoding of every rejected value.
    parsed = node_dotenv.parse_many([text for _, text in rendered])
    for (env, text), by_node in zip(rendered, parsed, strict=True):
        assert by_node == env, text
        assert parse(text) == env
        assert render(env) == text  # deterministic
    # A value is refused only when neither literal quoting ('...' or `...`) could carry it.
    for _key, value in rejected:
        awkward = "\r" in value or value.endswith("\\")
        assert ("'" in value or awkward) and ("`" in value or awkward), repr(value)


_fragments = st.sampled_from(
    ["A", "b_2", "x.y", "K-1", "=", ":", ": ", " = ", "export ", "'", '"', "`", "#", " # c", "\n", "\r\n", "\r",
     "\\n", "\\", " ", "\t", "\u00a0", "\u2028", "\ufeff", "v", "${{p.K}}", "''", '""', "é"]
)  # fmt: skip


@SETTINGS
@given(st.lists(st.lists(_fragments, max_size=30).map("".join), min_size=1, max_size=40))
def test_python_port_matches_node_on_arbitrary_text(node_dotenv: NodeDotenv, texts: list[str]) -> None:
    assert [parse(t) for t in texts] == node_dotenv.parse_many(texts)


def test_examples_dokploy_users_write(node_dotenv: NodeDotenv) -> None:
    env = {
        "DATABASE_URL": "postgresql://u:p%40ss@db:5432/app?sslmode=disable",
        "JSON": '{"a": "it\'s", "b": [1, 2]}',
        "HASHED": "abc#def",
        "MULTILINE": "-----BEGIN KEY-----\nAAA=\n-----END KEY-----",
        "REF": "${{project.BASE}}/x",
        "EMPTY": "",
    }
    text = render(env)
    assert node_dotenv.parse_many([text]) == [env]
    assert text.splitlines()[0] == "DATABASE_URL=postgresql://u:p%40ss@db:5432/app?sslmode=disable"


@pytest.mark.parametrize("key", ["1A", "A-B", "A.B", "", "__proto__", "A B"])
def test_bad_keys_are_refused(key: str) -> None:
    with pytest.raises(EnvFormatError):
        render({key: "v"})


def test_unrepresentable_value_is_refused_without_echoing_it() -> None:
    secret = "s3cr3t ' \" ` # \n tail"
    with pytest.raises(EnvFormatError) as info:
        render({"TOKEN": secret})
    assert "TOKEN" in str(info.value) and "s3cr3t" not in str(info.value)
