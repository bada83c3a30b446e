from pat_manager import tokens

KEY = tokens.derive_token_key("k" * 40)


def make():
    public_id, seed = tokens.new_public_id(), tokens.new_seed()
    return public_id, seed, tokens.assemble(KEY, public_id, seed)


def test_format_is_prefixed_fixed_length_and_url_safe():
    _, _, token = make()
    assert token.startswith("cvf_")
    assert len(token) == tokens.TOKEN_LEN == 54
    assert all(ch.isalnum() or ch == "_" for ch in token)


def test_parse_round_trips_and_matches_its_seed():
    public_id, seed, token = make()
    parsed = tokens.parse(token)
    assert parsed.public_id == public_id
    assert tokens.secret_matches(KEY, parsed, seed)


def test_assemble_is_deterministic_so_reveal_returns_the_same_token():
    public_id, seed, token = make()
    assert tokens.assemble(KEY, public_id, seed) == token


def test_secret_depends_on_server_key():
    public_id, seed, token = make()
    other_key = tokens.derive_token_key("x" * 40)
    assert tokens.assemble(other_key, public_id, seed) != token
    assert not tokens.secret_matches(other_key, tokens.parse(token), seed)


def test_every_single_character_typo_is_rejected_before_lookup():
    _, _, token = make()
    for i in range(len("cvf_"), len(token)):
        replacement = "A" if token[i] != "A" else "B"
        typo = token[:i] + replacement + token[i + 1 :]
        assert tokens.parse(typo) is None, f"typo at {i} accepted"


def test_malformed_tokens_are_rejected():
    _, _, token = make()
    for bad in [
        "",
        "cvf_",
        token[:-1],
        token + "a",
        "ghp_" + token[4:],
        token.replace("cvf_", "CVF_"),
        token[:10] + "-" + token[11:],
        " " + token[1:],
        token[:20] + "é" + token[21:],
    ]:
        assert tokens.parse(bad) is None, bad


def test_wrong_secret_with_valid_checksum_does_not_match():
    public_id, seed, _ = make()
    _, other_seed, _ = make()
    forged = tokens.assemble(KEY, public_id, other_seed)
    assert tokens.parse(forged) is not None
    assert not tokens.secret_matches(KEY, tokens.parse(forged), seed)


def test_display_hint_shows_no_secret():
    public_id, _, token = make()
    hint = tokens.display_hint(public_id)
    assert hint.startswith("cvf_") and len(hint) < 12
    assert token[16:] not in hint
